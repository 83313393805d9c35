/** The small shared builders: units, files, data URLs, and the config assembler's guards. */
import { envFile, dataUrl, decodeDataUrl, directory, file, remoteFile, script } from '../../userdata/files';
import { ignitionConfig } from '../../userdata/ignition';
import { command, renderUnit, unit } from '../../userdata/units';
import { toml } from '../../userdata/containerd';
import { KUBELET, KUBECTL, ETCD_TARBALL, CNI_PLUGINS_TARBALL, ECR_CREDENTIAL_PROVIDER } from '../../userdata/versions';

describe('unit builder', () => {
  test('renders sections in order, repeats keys for lists, yes/no for booleans', () => {
    expect(renderUnit({ Install: { WantedBy: 'multi-user.target' }, Unit: { After: ['a.service', 'b.service'] }, Service: { RemainAfterExit: true } })).toBe(
      '[Unit]\nAfter=a.service\nAfter=b.service\n\n[Service]\nRemainAfterExit=yes\n\n[Install]\nWantedBy=multi-user.target\n',
    );
  });

  test('enables a unit that has an [Install] section, and refuses bad names and multi-line values', () => {
    expect(unit('a.service', { Service: { ExecStart: '/bin/true' }, Install: { WantedBy: 'multi-user.target' } }).enabled).toBe(true);
    expect(unit('a.service', { Service: { ExecStart: '/bin/true' } }).enabled).toBe(false);
    expect(() => unit('a b.service', {})).toThrow(/not a valid systemd unit file name/);
    expect(() => renderUnit({ Service: { ExecStart: 'a\nb' } })).toThrow(/Service\.ExecStart: value must be one line/);
  });

  test('command() refuses arguments that would need quoting', () => {
    expect(command('/bin/echo', ['a', 'b'])).toBe('/bin/echo a b');
    expect(() => command('/bin/echo', ['a b'])).toThrow(/would need quoting/);
  });
});

describe('file builders', () => {
  test('data URLs round-trip, picking the shorter encoding', () => {
    for (const text of ['plain text\n', '#!/bin/bash\necho "$x" | jq \'.\'\n', 'ünïcødé\n']) {
      expect(decodeDataUrl(dataUrl(text))).toBe(text);
    }
    expect(dataUrl('abc')).toBe('data:,abc');
  });

  test('files carry mode and owner; scripts are 0755 and need a #! line', () => {
    expect(file('/etc/x', 'y', { mode: 0o600 })).toEqual({
      path: '/etc/x',
      overwrite: true,
      mode: 0o600,
      user: { name: 'root' },
      group: { name: 'root' },
      contents: { source: 'data:,y' },
    });
    expect(script('/opt/bin/x', '#!/bin/bash\n').mode).toBe(0o755);
    expect(() => script('/opt/bin/x', 'echo')).toThrow(/must start with a '#!' line/);
    expect(directory('/etc/x', 0o700)).toMatchObject({ path: '/etc/x', mode: 0o700 });
    expect(() => file('etc/x', '')).toThrow(/must be absolute/);
  });

  test('remote files need a well-formed verification hash', () => {
    expect(() => remoteFile('/opt/x', 'https://example.org/x', 'sha256-abc')).toThrow(/verification hash/);
  });

  test('env files hold only values that need no quoting', () => {
    expect(decodeDataUrl(envFile('/etc/x.env', { A: 'b', N: 3 }).contents.source)).toBe('A=b\nN=3\n');
    expect(() => envFile('/etc/x.env', { A: 'has space' })).toThrow(/value of A 'has space'/);
  });

  test('toml writes flat tables', () => {
    expect(toml({ version: 3 }, { 'a.b': { s: 'x', l: ['y'], t: true } })).toBe('version = 3\n\n[a.b]\n  s = "x"\n  l = ["y"]\n  t = true\n');
  });
});

describe('ignitionConfig guards', () => {
  test('refuses two entries for one path', () => {
    expect(() => ignitionConfig({ directories: [], files: [file('/etc/x', 'a'), file('/etc/x', 'b')], units: [] })).toThrow(/duplicate file or directory path '\/etc\/x'/);
  });

  test('refuses a PEM private key anywhere in the config', () => {
    const key = '-----BEGIN EC PRIVATE KEY-----\nMHc...\n-----END EC PRIVATE KEY-----\n';
    expect(() => ignitionConfig({ directories: [], files: [file('/etc/x', key)], units: [] })).toThrow(/contains a PEM private key/);
  });
});

describe('pinned versions', () => {
  test('every downloaded binary has a sha256 from a cited checksum list', () => {
    for (const pinned of [KUBELET, KUBECTL, ETCD_TARBALL, CNI_PLUGINS_TARBALL, ECR_CREDENTIAL_PROVIDER]) {
      expect(pinned.hash).toMatch(/^sha256-[0-9a-f]{64}$/);
      expect(pinned.url).toMatch(/^https:\/\//);
      expect(pinned.url).toContain(pinned.version);
    }
  });
});
