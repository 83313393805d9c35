/**
 * The etcd-format script run for real against disk images (regular files: blkid and
 * mkfs.ext4 work on them, no loop device or root needed): a blank volume is formatted once,
 * a formatted one is kept as it is, and a foreign filesystem is refused.
 */
import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { etcdConfig } from '../../userdata/etcd';
import { fileText } from './config-files';
import { etcdInput } from './fixtures';

const haveTools = ['/usr/sbin/mkfs.ext4', '/sbin/mkfs.ext4'].some(existsSync) && ['/usr/sbin/blkid', '/sbin/blkid'].some(existsSync);
const PATH = `/usr/sbin:/sbin:${process.env.PATH ?? ''}`;

// Under CI the tools are installed by .ci/run: run, and fail loudly if one is missing.
(haveTools || process.env.CI ? describe : describe.skip)('etcd-format on a disk image', () => {
  let dir: string;
  let script: string;
  let image: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'etcd-format-'));
    image = join(dir, 'volume.img');
    writeFileSync(image, Buffer.alloc(16 * 1024 * 1024));
    const env = join(dir, 'etcd-member.env');
    writeFileSync(env, `ETCD_DATA_DEVICE=${image}\nETCD_VOLUME=vol-0123456789abcdef0\n`);
    // The script as rendered, reading this test's env file; udevadm is stubbed (no udev here).
    script = join(dir, 'etcd-format');
    writeFileSync(script, fileText(etcdConfig(etcdInput), '/opt/bin/etcd-format').replace('/run/kubernetes-on-aws/etcd-member.env', env), { mode: 0o755 });
    writeFileSync(join(dir, 'udevadm'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const run = () => spawnSync(script, [], { encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${PATH}` } });
  const probe = (tag: string) => spawnSync('blkid', ['-p', '-o', 'value', '-s', tag, image], { encoding: 'utf8', env: { ...process.env, PATH } }).stdout.trim();

  test('formats a blank volume once, then keeps the filesystem on every later boot', () => {
    // WHEN the first boot sees a blank volume
    const first = run();
    // THEN it is ext4 labelled etcd-data
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('is blank; creating ext4');
    expect(probe('TYPE')).toBe('ext4');
    expect(probe('LABEL')).toBe('etcd-data');
    const uuid = probe('UUID');
    // WHEN a replacement instance boots with the same volume
    const second = run();
    // THEN the filesystem is the same one (not reformatted)
    expect(second.status).toBe(0);
    expect(second.stdout).toContain('already has its filesystem; keeping it');
    expect(probe('UUID')).toBe(uuid);
  });

  test('refuses a volume that holds another filesystem', () => {
    // GIVEN a volume formatted by someone else
    spawnSync('mkfs.ext4', ['-q', '-L', 'something-else', image], { env: { ...process.env, PATH } });
    const uuid = probe('UUID');
    // WHEN
    const result = run();
    // THEN it fails and leaves the volume alone
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("labelled 'something-else', not etcd-data; refusing");
    expect(probe('UUID')).toBe(uuid);
  });
});
