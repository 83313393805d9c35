/**
 * An etcd member as a host: a root directory holding every file and unit of the members'
 * Ignition config as Ignition writes it, plus the member's certificates and node.env, run in
 * the member's network namespace through `chroot`. The member's scripts (etcd-snapshot,
 * etcd-restore, etcd-replace-member, ...) run there exactly as an operator runs them, at
 * their real paths, and etcd starts from its rendered unit through `systemctl`, so the
 * blank-data guard (ExecStartPre) decides whether it starts.
 *
 * Three things are stand-ins, and only these: `systemctl` (systemctl-stand-in.ts), the AWS
 * CLI (S3 in a directory all hosts share: test/fakes/aws-s3-cli.ts), and the etcd release's
 * directory (the release under test, mounted at the pinned release's path). `date` answers
 * `$TEST_UTC_MINUTE` for `+%M` when a test sets it (the defragmentation slots).
 *
 * The host's own directories (/usr, /dev, /proc, the etcd release, the shared S3 directory)
 * are bind-mounted for each command in a private mount namespace that ends with it (or with
 * the etcd it starts): nothing is mounted on this machine itself.
 */
import { execFile } from 'child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'fs';
import { dirname, join } from 'path';
import { ETCD_DATA_DIR, ETCD_DATA_MOUNT, ETCD_HOME, ETCD_UNIT } from '../../userdata/etcd-paths';
import { decodeDataUrl } from '../../userdata/files';
import { IgnitionConfig } from '../../userdata/ignition';
import { AWS } from '../../userdata/node-bootstrap';
import { ETCD_PKI_DIR, NODE_ENV } from '../../userdata/paths';
import { fakeAwsS3Cli } from '../fakes/aws-s3-cli';
import { SYSTEMCTL_STAND_IN } from './systemctl-stand-in';
import { tool } from './tools';

/** Where the stand-ins live in a host: first on PATH. */
const STAND_IN_DIR = '/opt/test-bin';
/** The shared S3 directory, inside a host ($FAKE of the AWS CLI stand-in). */
const FAKE_DIR = '/srv/fake';
/** PATH of every command: systemd's, plus /opt/bin as on Flatcar, behind the stand-ins. */
const PATH = `${STAND_IN_DIR}:/opt/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
/** Files a shell, etcd and etcdctl need from /etc (resolv.conf comes from the namespace). */
const HOST_ETC_FILES = ['passwd', 'group', 'hosts', 'nsswitch.conf', 'ld.so.cache'];

const DATE_STAND_IN = `#!/bin/bash
# date, except that "date -u +%M" prints $TEST_UTC_MINUTE when the test sets it.
if [ -n "\${TEST_UTC_MINUTE:-}" ] && [ "$*" = "-u +%M" ]; then echo "$TEST_UTC_MINUTE"; exit 0; fi
exec /usr/bin/date "$@"
`;

export interface MemberHostOptions {
  readonly index: number;
  /** The member's network namespace. */
  readonly namespace: string;
  /** The host's root directory (created). */
  readonly root: string;
  /** The members' Ignition config, as uploaded. */
  readonly ignition: IgnitionConfig;
  /** This member's certificate files (ca.crt, member.crt, member.key). */
  readonly pki: Readonly<Record<string, string>>;
  /** The snapshot bucket the scripts name (etcd.env), and the directory that holds it. */
  readonly bucket: string;
  readonly fakeDir: string;
  /** Holds etcd, etcdctl and etcdutl of the release under test. */
  readonly etcdBinDir: string;
}

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export class MemberHost {
  constructor(readonly options: MemberHostOptions) {
    this.materialize();
  }

  get index(): number {
    return this.options.index;
  }

  /** A path of the host, on this machine. */
  path(hostPath: string): string {
    return join(this.options.root, hostPath);
  }

  /** The data dir on this machine (what a blank volume empties). */
  get dataDir(): string {
    return this.path(ETCD_DATA_DIR);
  }

  /** The volume's root on this machine (the data dir and what scripts keep aside). */
  get volume(): string {
    return this.path(ETCD_DATA_MOUNT);
  }

  /**
   * Runs `command args` in the host, as root in its namespace; never throws for a non-zero
   * exit. `env` adds to the fixed environment (PATH, FAKE).
   */
  run(command: string, args: readonly string[] = [], env: Record<string, string> = {}, timeoutMs = 120000): Promise<CommandResult> {
    const root = this.options.root;
    const mounts = [
      `mount --rbind -o ro /usr ${root}/usr`,
      `mount --rbind /dev ${root}/dev`,
      `mount --rbind /proc ${root}/proc`,
      `mount --bind -o ro ${this.options.etcdBinDir} ${root}${ETCD_HOME}`,
      `mount --bind ${this.options.fakeDir} ${root}${FAKE_DIR}`,
    ];
    const environment = Object.entries({ PATH, FAKE: FAKE_DIR, ...env }).map(([k, v]) => `${k}=${v}`);
    const argv = [
      'netns', 'exec', this.options.namespace,
      'unshare', '--mount', '--propagation', 'private', '--',
      '/bin/sh', '-c', `set -e; ${mounts.join('; ')}; exec chroot ${root} /usr/bin/env -i "$@"`, 'sh',
      ...environment, command, ...args,
    ];
    return new Promise((resolve) => {
      execFile(tool('ip'), argv, { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr: error && code === -1 ? `${stderr}${error.message}` : stderr });
      });
    });
  }

  /** Like {@link run}, but throws with the output (and etcd's log) unless it exits 0. */
  async check(command: string, args: readonly string[] = [], env: Record<string, string> = {}): Promise<CommandResult> {
    const result = await this.run(command, args, env);
    if (result.code !== 0) {
      throw new Error(`etcd-${this.index}: ${command} ${args.join(' ')} exited ${result.code}:\n${result.stdout}${result.stderr}\n\n${this.journal()}`);
    }
    return result;
  }

  systemctl(...args: string[]): Promise<CommandResult> {
    return this.run('systemctl', args);
  }

  /** `systemctl start etcd.service`; throws if the start fails (e.g. the guard refuses). */
  async start(): Promise<void> {
    await this.check('systemctl', ['start', ETCD_UNIT]);
  }

  /** As the systemctl stand-in's `running`: the recorded process, not a zombie, and not another that got its pid since. */
  isRunning(): boolean {
    const recorded = (suffix: string) => {
      const file = this.path(`/run/test-systemd/${ETCD_UNIT}.${suffix}`);
      return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
    };
    const stat = `/proc/${recorded('pid')}/stat`;
    if (!existsSync(stat)) return false;
    // After the command name: state, then (field 22 of the whole line) the start time.
    const fields = readFileSync(stat, 'utf8').replace(/^.*\) /, '').split(' ');
    return fields[0] !== 'Z' && fields[19] === recorded('started');
  }

  /** etcd.service's output since the host was made (its journal). */
  log(): string {
    const file = this.path(`/var/log/${ETCD_UNIT}.log`);
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  /** The tail of every unit's log (etcd's last), for failure messages. */
  journal(): string {
    const logs = readdirSync(this.path('/var/log')).filter((f) => f.endsWith('.log') && f !== `${ETCD_UNIT}.log`);
    const tails = logs.map((f) => `${f}:\n${readFileSync(this.path(`/var/log/${f}`), 'utf8').split('\n').slice(-10).join('\n')}`);
    return [...tails, this.describe()].join('\n\n');
  }

  describe(): string {
    const tail = this.log().split('\n').slice(-15).join('\n');
    return `etcd-${this.index} (host, ${this.isRunning() ? 'running' : 'NOT running'}):\n${tail}`;
  }

  private materialize(): void {
    const { root, ignition } = this.options;
    for (const dir of ['usr', 'proc', 'dev', 'etc', 'run', 'var/log', ETCD_DATA_MOUNT, ETCD_HOME, FAKE_DIR]) {
      mkdirSync(join(root, dir), { recursive: true });
    }
    mkdirSync(join(root, 'tmp'), { mode: 0o1777 });
    chmodSync(join(root, 'tmp'), 0o1777);
    for (const link of ['bin', 'lib', 'lib64', 'sbin']) symlinkSync(`usr/${link}`, join(root, link));
    for (const file of HOST_ETC_FILES) if (existsSync(`/etc/${file}`)) copyFileSync(`/etc/${file}`, join(root, 'etc', file));
    // Debian's awk (and others) are symlinks through /etc/alternatives.
    cpSync('/etc/alternatives', join(root, 'etc/alternatives'), { recursive: true, verbatimSymlinks: true });
    // `ip netns exec` puts the namespace's resolv.conf (dnsmasq) over /etc/resolv.conf.
    copyFileSync(`/etc/netns/${this.options.namespace}/resolv.conf`, join(root, 'etc/resolv.conf'));

    for (const dir of ignition.storage?.directories ?? []) mkdirSync(join(root, dir.path), { recursive: true });
    for (const file of ignition.storage?.files ?? []) {
      if (!file.contents.source.startsWith('data:')) continue; // downloads (the etcd tarball): the release is mounted instead
      this.write(file.path, decodeDataUrl(file.contents.source), file.mode);
    }
    for (const unit of ignition.systemd?.units ?? []) if (unit.contents) this.write(`/etc/systemd/system/${unit.name}`, unit.contents);

    this.write(AWS, fakeAwsS3Cli(this.options.bucket), 0o755);
    this.write(`${STAND_IN_DIR}/systemctl`, SYSTEMCTL_STAND_IN, 0o755);
    this.write(`${STAND_IN_DIR}/date`, DATE_STAND_IN, 0o755);
    // What node-identity writes from IMDS and the instance's tags.
    const i = this.index;
    this.write(
      NODE_ENV,
      `INSTANCE_ID=i-0000000000000000${i}\nAVAILABILITY_ZONE=eu-central-1a\nPRIVATE_DNS_NAME=ip-10-0-0-${i}.internal\n` +
        `PRIVATE_IP=10.0.0.${i}\nCFN_STACK=test-etcd\nCFN_RESOURCE=Member${i}\nETCD_MEMBER=${i}\n`,
    );
    for (const [name, contents] of Object.entries(this.options.pki)) this.write(`${ETCD_PKI_DIR}/${name}`, contents, 0o600);
  }

  private write(hostPath: string, contents: string, mode = 0o644): void {
    const file = join(this.options.root, hostPath);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, contents, { mode });
    chmodSync(file, mode);
  }
}
