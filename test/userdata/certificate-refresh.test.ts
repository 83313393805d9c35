/**
 * certificate-refresh run for real, as rendered (fake-node.ts: paths mapped into a temporary
 * directory), with fakes on PATH for the AWS CLI (secrets from files), crictl and systemctl
 * (each logs what it was asked to restart), curl (the ready probes: fake-node.ts FAKE_CURL)
 * and mv (logs each rename into place, then renames), all into one ordered $FAKE/events.log.
 * Certificates are real (openssl): fetch-secrets compares a certificate's public key with its
 * key's, issue-certificate reads the dates.
 */
import { spawnSync } from 'child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'fs';
import { join } from 'path';
import { CERTIFICATE_REFRESH_TIMER, CERTIFICATE_REFRESH_UNIT, certificateRefreshParts, issueCertificateCommand } from '../../userdata/certificate-refresh';
import { etcdConfig } from '../../userdata/etcd';
import { IgnitionConfig } from '../../userdata/ignition';
import { masterConfig, SELF_ISSUED_CERTIFICATES } from '../../userdata/master';
import { LEAF_CA_FILES, ROTATED_MESSAGE } from '../../userdata/secrets';
import { workerConfig } from '../../userdata/worker';
import { LOCAL_API_SERVER, POD_IDENTITY_WEBHOOK_PORT } from '../../userdata/network';
import { POD_IDENTITY_WEBHOOK_SERVING_ADDRESS } from '../../userdata/pod-identity-webhook';
import { setCertificates, StoredLeaf } from '../../lib/secrets/certificate-metric';
import { unitText } from './config-files';
import { FAKE_CURL, FakeNode } from './fake-node';
import { etcdInput, masterInput, workerInput } from './fixtures';

/** crictl: `ps` lists a container id-NAME when $FAKE/running/NAME exists; `stop` logs the ids to events.log. */
const FAKE_CRICTL = `#!/bin/bash
echo "crictl $*" >>"$FAKE/crictl.log"
command=''
name=''
while [ $# -gt 0 ]; do
  case $1 in
    ps | stop) command=$1 ;;
    --name) name=\${2#^}; name=\${name%\\$}; shift ;;
    --timeout | --runtime-endpoint | --state | --label) shift ;;
    --quiet) ;;
    *) [ "$command" = stop ] && echo "stop $1" >>"$FAKE/events.log" ;;
  esac
  shift
done
if [ "$command" = ps ] && [ -e "$FAKE/running/$name" ]; then echo "id-$name"; fi
`;
const FAKE_SYSTEMCTL = `#!/bin/bash
echo "systemctl $*" >>"$FAKE/events.log"
`;
/** mv: logs `mv NAME` (the target's file name), then renames with the real mv. */
const FAKE_MV = `#!/bin/bash
echo "mv \${*: -1}" | sed 's|mv .*/|mv |' >>"$FAKE/events.log"
PATH=\${PATH#"$(dirname "$0"):"} exec mv "$@"
`;

const openssl = (args: string[]): string => {
  const result = spawnSync('openssl', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
};

/** A certificate authority, and leaf certificates it signs for any validity window (openssl ca -startdate/-enddate). */
class TestCa {
  readonly crt: string;
  readonly key: string;
  private serial = 1;

  constructor(private readonly dir: string, readonly name: string) {
    mkdirSync(join(dir, 'newcerts'), { recursive: true });
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(
      join(dir, 'ca.cnf'),
      '[ca]\ndefault_ca = test\n[test]\ndatabase = index.txt\nnew_certs_dir = newcerts\ndefault_md = sha256\npolicy = any\nunique_subject = no\nserial = serial\n[any]\ncommonName = supplied\n',
    );
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}`, '-days', '3650', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt')]);
    this.crt = readFileSync(join(dir, 'ca.crt'), 'utf8');
    this.key = readFileSync(join(dir, 'ca.key'), 'utf8');
  }

  /** A new key and a certificate for CN `cn`, valid from `fromDays` to `toDays` days from now. */
  leaf(cn: string, fromDays = 0, toDays = 730): { crt: string; key: string } {
    const base = join(this.dir, `leaf-${this.serial}`);
    openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${base}.key`, '-out', `${base}.csr`]);
    const date = (days: number) => new Date(Date.now() + days * 86400_000).toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
    const signed = spawnSync('openssl', ['ca', '-batch', '-config', 'ca.cnf', '-cert', 'ca.crt', '-keyfile', 'ca.key', '-rand_serial', '-notext', '-in', `${base}.csr`, '-out', `${base}.crt`, '-startdate', date(fromDays), '-enddate', date(toDays)], { cwd: this.dir, encoding: 'utf8' });
    if (signed.status !== 0) throw new Error(`openssl ca: ${signed.stderr}`);
    this.serial += 1;
    return { crt: readFileSync(`${base}.crt`, 'utf8'), key: readFileSync(`${base}.key`, 'utf8') };
  }
}

/** A leaf as the files `<name>.crt` and `<name>.key` of a secret. */
const pairOf = (leaf: { crt: string; key: string }, name: string): Record<string, string> => ({ [`${name}.crt`]: leaf.crt, [`${name}.key`]: leaf.key });

/**
 * A control-plane secret from these CAs; `generation` '' is the first, '-2' a rotation (new keys
 * and tokens, a new encryption key before the old one). No value may ever be printed.
 */
function controlPlaneOf(ca: TestCa, frontProxyCa: TestCa, generation = ''): Record<string, string> {
  return {
    'ca.crt': ca.crt,
    'ca.key': ca.key,
    ...pairOf(ca.leaf('apiserver'), 'apiserver'),
    'sa.key': `sa-private${generation}-never-printed`,
    'sa.pub': `sa-public${generation}`,
    'front-proxy-ca.crt': frontProxyCa.crt,
    ...pairOf(frontProxyCa.leaf('front-proxy-client'), 'front-proxy-client'),
    'admin-token': `admin-token${generation}-never-printed`,
    'encryption-config.yaml': generation === '' ? 'encryption-key-never-printed' : `encryption-key${generation}-and-encryption-key-never-printed`,
  };
}

/** The refresh's arguments exactly as its unit passes them (systemd expands ${ETCD_MEMBER}: member 0). */
function refreshArgs(node: FakeNode, config: IgnitionConfig): string[] {
  const execStart = /^ExecStart=(.*)$/m.exec(unitText(config, CERTIFICATE_REFRESH_UNIT))![1];
  return node.mapPaths(execStart).replaceAll('${ETCD_MEMBER}', '0').split(' ').slice(1);
}

const secretPath = (id: string) => `fake/secrets/${id.replaceAll('/', '_')}.json`;

/** Inode and mtime of each file: what "left alone" means. */
function stamps(dir: string, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => [name, `${statSync(join(dir, name)).ino}@${statSync(join(dir, name)).mtimeMs}`]));
}

function newFakeNode(config: IgnitionConfig): FakeNode {
  const node = new FakeNode(config);
  mkdirSync(join(node.root, 'fakebin'));
  mkdirSync(join(node.root, 'fake/running'));
  node.write('fakebin/crictl', FAKE_CRICTL, 0o755);
  node.write('fakebin/systemctl', FAKE_SYSTEMCTL, 0o755);
  node.write('fakebin/curl', FAKE_CURL, 0o755);
  node.write('fakebin/mv', FAKE_MV, 0o755);
  node.install('fetch-secrets');
  return node;
}

/** fetch-secrets' warning for a secret the refresh left alone: names only, priority warning (`<4>`). */
const rotatedLine = (secret: string, changed: readonly string[], why: string) =>
  `<4>fetch-secrets: ${secret}: kept every file as it was, ${changed.length} changed: ${changed.join(' ')} (${why}): ${ROTATED_MESSAGE}\n`;

/** What a value printed by mistake would look like: PEM, base64 DER, the fixtures' secrets. */
const VALUE = /BEGIN|MII|MHc|never-printed/;

const events = (node: FakeNode): string[] => (existsSync(join(node.root, 'fake/events.log')) ? node.read('fake/events.log').trim().split('\n') : []);
/** What the refresh restarted and the probes it waited on, in order (renames left out). */
const restarts = (node: FakeNode): string[] => events(node).filter((line) => !line.startsWith('mv '));

/** The unit's Environment= (what systemd gives the script), with `override` on top. */
function unitEnvironment(config: IgnitionConfig, override: Record<string, string> = {}): Record<string, string> {
  const lines = [...unitText(config, CERTIFICATE_REFRESH_UNIT).matchAll(/^Environment=([A-Z_]+)=(.*)$/gm)];
  return { ...Object.fromEntries(lines.map((m) => [m[1], m[2]])), ...override };
}

/** The probes the refresh waits on, as the fake curl logs them: the master's own health check's, and the webhook's /healthz. */
const API_SERVER_READY = `probe ${LOCAL_API_SERVER}/readyz`;
const WEBHOOK_READY = `probe https://${POD_IDENTITY_WEBHOOK_SERVING_ADDRESS}:${POD_IDENTITY_WEBHOOK_PORT}/healthz`;

const haveTools = (existsSync('/usr/bin/jq') && existsSync('/usr/bin/openssl')) || !!process.env.CI;

(haveTools ? describe : describe.skip)('certificate-refresh on an etcd member', () => {
  const config = etcdConfig(etcdInput);
  const SECRET = 'kubernetes-on-aws/kube-aws-test-1/etcd-member-0';
  let node: FakeNode;
  let ca: TestCa;
  let pki: string;
  let member: { crt: string; key: string };
  const refresh = () => node.run('certificate-refresh', refreshArgs(node, config), { PATH: `${node.root}/fakebin:${process.env.PATH}` });
  const holds = (files: Record<string, string>) => node.write(secretPath(SECRET), JSON.stringify(files));

  beforeEach(() => {
    // GIVEN a member that fetched its secret at boot
    node = newFakeNode(config);
    ca = new TestCa(join(node.root, 'ca'), 'etcd-ca');
    member = ca.leaf('etcd-0');
    holds({ 'ca.crt': ca.crt, 'member.crt': member.crt, 'member.key': member.key });
    pki = join(node.root, 'etcd-pki');
    expect(node.run('fetch-secrets', refreshArgs(node, config)).status).toBe(0);
  });
  afterEach(() => node.remove());

  test('the unit fetches the same secret into the same directory as fetch-secrets.service', () => {
    expect(unitText(config, CERTIFICATE_REFRESH_UNIT)).toContain(`ExecStart=/opt/bin/certificate-refresh /etc/etcd/pki ${SECRET.replace('-0', '-${ETCD_MEMBER}')}:ca.crt,member.crt,member.key\n`);
    expect(unitText(config, 'fetch-secrets.service')).toContain(`ExecStart=/opt/bin/fetch-secrets /etc/etcd/pki ${SECRET.replace('-0', '-${ETCD_MEMBER}')}:ca.crt,member.crt,member.key\n`);
  });

  test('an unchanged secret leaves every file as it was (same inode, same mtime) and restarts nothing', () => {
    const before = stamps(pki, ['ca.crt', 'member.crt', 'member.key']);
    // WHEN
    const result = refresh();
    // THEN
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(stamps(pki, ['ca.crt', 'member.crt', 'member.key'])).toEqual(before);
    expect(result.stdout).toContain(`${SECRET}: 3 files in ${pki}, 0 changed\n`);
    expect(restarts(node)).toEqual([]);
  });

  test('a renewed member certificate replaces member.crt and member.key, leaves ca.crt alone, and restarts nothing (etcd reads them on every handshake), printing no value', () => {
    // GIVEN the secret renewed from the same CA
    const renewed = ca.leaf('etcd-0');
    holds({ 'ca.crt': ca.crt, 'member.crt': renewed.crt, 'member.key': renewed.key });
    const before = stamps(pki, ['ca.crt']);
    // WHEN
    const result = refresh();
    // THEN
    expect(result.status).toBe(0);
    expect(readFileSync(join(pki, 'member.crt'), 'utf8')).toBe(renewed.crt);
    expect(readFileSync(join(pki, 'member.key'), 'utf8')).toBe(renewed.key);
    expect(statSync(join(pki, 'member.key')).mode & 0o777).toBe(0o600);
    expect(stamps(pki, ['ca.crt'])).toEqual(before);
    expect(result.stdout).toContain(`${SECRET}: 3 files in ${pki}, 2 changed: member.crt member.key\n`);
    expect(restarts(node)).toEqual([]);
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/BEGIN|MII|MHc/);
  });

  test.each([
    {
      what: 'a rotation: a new CA and a member certificate of it',
      secret: (other: TestCa) => ({ 'ca.crt': other.crt, ...pairOf(other.leaf('etcd-0'), 'member') }),
      why: 'ca.crt is not a leaf certificate or its key',
    },
    {
      what: 'a member certificate of another CA beside the unchanged ca.crt',
      secret: (other: TestCa) => ({ 'ca.crt': ca.crt, ...pairOf(other.leaf('etcd-0'), 'member') }),
      why: "member.crt is not signed by this node's ca.crt",
    },
    {
      what: 'a key changed without its certificate (the same key, encoded anew)',
      secret: () => ({ 'ca.crt': ca.crt, 'member.crt': member.crt, 'member.key': openssl(['ec', '-in', join(pki, 'member.key')]) }),
      why: 'member.key changed without its certificate',
    },
  ])('$what: the refresh changes nothing, restarts nothing, succeeds and warns without a value; a boot takes it', ({ secret, why }) => {
    // GIVEN the secret changed by more than a renewal
    const files: Record<string, string> = secret(new TestCa(join(node.root, 'ca2'), 'etcd-ca-2'));
    holds(files);
    const changed = Object.keys(files).filter((name) => files[name] !== readFileSync(join(pki, name), 'utf8'));
    const before = stamps(pki, ['ca.crt', 'member.crt', 'member.key']);
    // WHEN the daily refresh runs
    const result = refresh();
    // THEN nothing of the secret changed, etcd was not restarted, and the journal has one warning
    expect(result.status).toBe(0);
    expect(result.stderr).toBe(rotatedLine(SECRET, changed, why));
    expect(stamps(pki, ['ca.crt', 'member.crt', 'member.key'])).toEqual(before);
    expect(restarts(node)).toEqual([]);
    expect(`${result.stdout}${result.stderr}`).not.toMatch(VALUE);
    // AND a boot (a replacement node, or this one rebooted) takes the whole secret
    expect(node.run('fetch-secrets', refreshArgs(node, config)).status).toBe(0);
    for (const [name, value] of Object.entries(files)) expect(readFileSync(join(pki, name), 'utf8')).toBe(value);
  });

  test("a member certificate of a CA in the system's trust directory is refused: only the node's ca.crt counts", () => {
    // GIVEN a CA that openssl's default certificate directory holds (SSL_CERT_DIR points openssl there)
    const other = new TestCa(join(node.root, 'system-ca'), 'system-ca');
    mkdirSync(join(node.root, 'system-certs'));
    writeFileSync(join(node.root, 'system-certs', 'system-ca.pem'), other.crt);
    openssl(['rehash', join(node.root, 'system-certs')]);
    holds({ 'ca.crt': ca.crt, ...pairOf(other.leaf('etcd-0'), 'member') });
    // WHEN
    const result = node.run('certificate-refresh', refreshArgs(node, config), { PATH: `${node.root}/fakebin:${process.env.PATH}`, SSL_CERT_DIR: join(node.root, 'system-certs') });
    // THEN
    expect(result.status).toBe(0);
    expect(result.stderr).toBe(rotatedLine(SECRET, ['member.crt', 'member.key'], "member.crt is not signed by this node's ca.crt"));
    expect(readFileSync(join(pki, 'member.crt'), 'utf8')).toBe(member.crt);
  });

  test('a renewed pair is renamed into place key first, then its certificate', () => {
    holds({ 'ca.crt': ca.crt, ...pairOf(ca.leaf('etcd-0'), 'member') });
    expect(refresh().status).toBe(0);
    expect(events(node)).toEqual(['mv member.key', 'mv member.crt']);
  });

  test('a refresh stopped between its two renames (the new key beside the old certificate) is completed by the next one', () => {
    // GIVEN the renewed key in place and the certificate not yet (the other order would leave a
    // changed key alone, which the refresh refuses as a rotation)
    const renewed = ca.leaf('etcd-0');
    holds({ 'ca.crt': ca.crt, ...pairOf(renewed, 'member') });
    writeFileSync(join(pki, 'member.key'), renewed.key, { mode: 0o600 });
    // WHEN
    const result = refresh();
    // THEN
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(readFileSync(join(pki, 'member.crt'), 'utf8')).toBe(renewed.crt);
  });

  test('a certificate that does not match its key replaces nothing of the secret and fails the unit, restarting nothing', () => {
    // GIVEN a renewed certificate beside the old key (a half-written secret)
    holds({ 'ca.crt': ca.crt, 'member.crt': ca.leaf('etcd-0').crt, 'member.key': member.key });
    const before = stamps(pki, ['ca.crt', 'member.crt', 'member.key']);
    // WHEN
    const result = refresh();
    // THEN
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${SECRET}: member.crt and member.key do not match (or do not parse); kept every file of ${SECRET} as it was`);
    expect(stamps(pki, ['ca.crt', 'member.crt', 'member.key'])).toEqual(before);
    expect(readFileSync(join(pki, 'member.crt'), 'utf8')).toBe(member.crt);
    expect(restarts(node)).toEqual([]);
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/BEGIN|MII|MHc/);
  });
});

(haveTools ? describe : describe.skip)('certificate-refresh on a master', () => {
  const config = masterConfig(masterInput);
  const CONTROL_PLANE = 'kubernetes-on-aws/kube-aws-test-1/control-plane';
  const ETCD_CLIENT = 'kubernetes-on-aws/kube-aws-test-1/apiserver-etcd-client';
  const RUNNING = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'pod-identity-webhook'];
  let node: FakeNode;
  /** The cluster CA, the front-proxy CA and the etcd CA: three, as bundles.ts makes them. */
  let ca: TestCa;
  let frontProxyCa: TestCa;
  let etcdCa: TestCa;
  let controlPlane: Record<string, string>;
  let etcdClient: Record<string, string>;
  const pki = () => join(node.root, 'pki');
  const auth = () => join(node.root, 'auth');
  const refresh = (env: Record<string, string> = {}) =>
    node.run('certificate-refresh', refreshArgs(node, config), { PATH: `${node.root}/fakebin:${process.env.PATH}`, ...unitEnvironment(config, env) });
  const issue = (file: string, fromDays: number, toDays: number) => {
    const { crt, key } = ca.leaf(file, fromDays, toDays);
    writeFileSync(join(auth(), `${file}.crt`), crt, { mode: 0o600 });
    writeFileSync(join(auth(), `${file}.key`), key, { mode: 0o600 });
  };
  const notBefore = (file: string) => new Date(openssl(['x509', '-noout', '-startdate', '-in', join(auth(), file)]).trim().split('=')[1]).getTime();

  beforeEach(() => {
    // GIVEN a master that fetched its secrets and issued its own certificates at boot
    node = newFakeNode(config);
    node.install('issue-certificate');
    ca = new TestCa(join(node.root, 'ca'), 'cluster-ca');
    frontProxyCa = new TestCa(join(node.root, 'front-proxy-ca'), 'front-proxy-ca');
    etcdCa = new TestCa(join(node.root, 'etcd-ca'), 'etcd-ca');
    controlPlane = controlPlaneOf(ca, frontProxyCa);
    etcdClient = { 'etcd-ca.crt': etcdCa.crt, ...pairOf(etcdCa.leaf('apiserver-etcd-client'), 'apiserver-etcd-client') };
    node.write(secretPath(CONTROL_PLANE), JSON.stringify(controlPlane));
    node.write(secretPath(ETCD_CLIENT), JSON.stringify(etcdClient));
    expect(node.run('fetch-secrets', refreshArgs(node, config)).status).toBe(0);
    for (const certificate of SELF_ISSUED_CERTIFICATES) {
      const [, ...args] = node.mapPaths(issueCertificateCommand(certificate, { ifDue: false })).split(' ');
      expect(node.run('issue-certificate', args).status).toBe(0);
    }
    for (const name of RUNNING) writeFileSync(join(node.root, 'fake/running', name), '');
  });
  afterEach(() => node.remove());

  test('nothing changed, nothing due: every file left alone, nothing restarted', () => {
    const files = ['apiserver-kubelet-client.crt', 'apiserver-kubelet-client.key', 'pod-identity-webhook.crt', 'pod-identity-webhook.key'];
    const before = stamps(auth(), files);
    const result = refresh();
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(stamps(auth(), files)).toEqual(before);
    expect(result.stdout).toContain('pod-identity-webhook.crt has more than a third of its lifetime left; kept');
    expect(restarts(node)).toEqual([]);
  });

  test('a self-issued certificate with less than a third of its lifetime left is re-issued by the same CA, and only the API server, which uses it, restarts', () => {
    // GIVEN a kubelet-client certificate of 365 days with 65 left
    issue('apiserver-kubelet-client', -300, 65);
    const caBefore = stamps(join(node.root, 'pki'), ['ca.crt', 'ca.key']);
    // WHEN
    const result = refresh();
    // THEN
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(notBefore('apiserver-kubelet-client.crt')).toBeGreaterThan(Date.now() - 3600_000);
    const verify = spawnSync('openssl', ['verify', '-CAfile', join(node.root, 'pki/ca.crt'), join(auth(), 'apiserver-kubelet-client.crt')], { encoding: 'utf8' });
    expect(verify.status).toBe(0);
    expect(openssl(['x509', '-noout', '-pubkey', '-in', join(auth(), 'apiserver-kubelet-client.crt')])).toBe(openssl(['pkey', '-pubout', '-in', join(auth(), 'apiserver-kubelet-client.key')]));
    expect(stamps(join(node.root, 'pki'), ['ca.crt', 'ca.key'])).toEqual(caBefore);
    expect(restarts(node)).toEqual(['stop id-kube-apiserver', API_SERVER_READY]);
    expect(node.read('fake/crictl.log')).toContain('stop --timeout 30 id-kube-apiserver');
  });

  test('a self-issued certificate with more than a third of its lifetime left is kept', () => {
    // GIVEN a webhook certificate of 365 days with 125 left
    issue('pod-identity-webhook', -240, 125);
    const before = stamps(auth(), ['pod-identity-webhook.crt', 'pod-identity-webhook.key']);
    const result = refresh();
    expect(result.status).toBe(0);
    expect(stamps(auth(), ['pod-identity-webhook.crt', 'pod-identity-webhook.key'])).toEqual(before);
    expect(restarts(node)).toEqual([]);
  });

  test.each([
    { leaf: 'apiserver', secret: CONTROL_PLANE, issuer: () => ca },
    { leaf: 'front-proxy-client', secret: CONTROL_PLANE, issuer: () => frontProxyCa },
    { leaf: 'apiserver-etcd-client', secret: ETCD_CLIENT, issuer: () => etcdCa },
  ])('a renewed $leaf certificate from its CA is taken, and the API server alone restarts (its single-file mounts keep the old inode), printing no value', ({ leaf, secret, issuer }) => {
    // GIVEN the secret with the leaf renewed from the same CA, every other file as it was
    const files = { ...(secret === CONTROL_PLANE ? controlPlane : etcdClient), ...pairOf(issuer().leaf(leaf), leaf) };
    node.write(secretPath(secret), JSON.stringify(files));
    const others = Object.keys(files).filter((name) => !name.startsWith(`${leaf}.`));
    const before = stamps(pki(), others);
    // WHEN
    const result = refresh();
    // THEN
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`${secret}: ${Object.keys(files).length} files in ${pki()}, 2 changed: ${leaf}.crt ${leaf}.key\n`);
    expect(readFileSync(join(pki(), `${leaf}.crt`), 'utf8')).toBe(files[`${leaf}.crt`]);
    expect(readFileSync(join(pki(), `${leaf}.key`), 'utf8')).toBe(files[`${leaf}.key`]);
    expect(stamps(pki(), others)).toEqual(before);
    expect(restarts(node)).toEqual(['stop id-kube-apiserver', API_SERVER_READY]);
    expect(result.stdout).not.toMatch(VALUE);
  });

  test.each([
    {
      what: 'a rotation (new CAs, leaves, keys, token, service-account key, an added encryption key)',
      change: (): Record<string, string> => {
        const newCa = new TestCa(join(node.root, 'ca-2'), 'cluster-ca-2');
        return controlPlaneOf(newCa, new TestCa(join(node.root, 'front-proxy-ca-2'), 'front-proxy-ca-2'), '-2');
      },
      why: 'admin-token is not a leaf certificate or its key',
    },
    { what: 'only a new token', change: () => ({ 'admin-token': 'admin-token-2-never-printed' }), why: 'admin-token is not a leaf certificate or its key' },
    { what: 'only a new encryption-config.yaml', change: () => ({ 'encryption-config.yaml': 'encryption-key-2-never-printed' }), why: 'encryption-config.yaml is not a leaf certificate or its key' },
    { what: 'only a new service-account key', change: () => ({ 'sa.key': 'sa-private-2-never-printed', 'sa.pub': 'sa-public-2' }), why: 'sa.key changed without its certificate' },
    {
      what: "a front-proxy client certificate of the cluster CA (not of the unchanged front-proxy-ca.crt)",
      change: () => pairOf(ca.leaf('front-proxy-client'), 'front-proxy-client'),
      why: "front-proxy-client.crt is not signed by this node's front-proxy-ca.crt",
    },
  ])('$what: the refresh changes nothing of the secret, restarts nothing, succeeds and warns without a value; a boot takes it all', ({ change, why }) => {
    // GIVEN the control-plane secret changed by more than a renewal
    const changes = change();
    const files = { ...controlPlane, ...changes };
    node.write(secretPath(CONTROL_PLANE), JSON.stringify(files));
    const before = stamps(pki(), Object.keys(files));
    // WHEN the daily refresh runs
    const result = refresh();
    // THEN
    expect(result.status).toBe(0);
    expect(result.stderr).toBe(rotatedLine(CONTROL_PLANE, Object.keys(changes).sort(), why));
    expect(stamps(pki(), Object.keys(files))).toEqual(before);
    expect(restarts(node)).toEqual([]);
    expect(`${result.stdout}${result.stderr}`).not.toMatch(VALUE);
    // AND a boot (a replacement master) takes the whole secret
    expect(node.run('fetch-secrets', refreshArgs(node, config)).status).toBe(0);
    for (const [name, value] of Object.entries(files)) expect(readFileSync(join(pki(), name), 'utf8')).toBe(value);
  });

  test('secrets are judged one by one: a renewed etcd client certificate is taken beside a rotated control-plane secret', () => {
    node.write(secretPath(CONTROL_PLANE), JSON.stringify({ ...controlPlane, 'admin-token': 'admin-token-2-never-printed' }));
    const renewed = etcdCa.leaf('apiserver-etcd-client');
    node.write(secretPath(ETCD_CLIENT), JSON.stringify({ ...etcdClient, ...pairOf(renewed, 'apiserver-etcd-client') }));
    const result = refresh();
    expect(result.status).toBe(0);
    expect(result.stderr).toBe(rotatedLine(CONTROL_PLANE, ['admin-token'], 'admin-token is not a leaf certificate or its key'));
    expect(readFileSync(join(pki(), 'admin-token'), 'utf8')).toBe(controlPlane['admin-token']);
    expect(readFileSync(join(pki(), 'apiserver-etcd-client.crt'), 'utf8')).toBe(renewed.crt);
    expect(restarts(node)).toEqual(['stop id-kube-apiserver', API_SERVER_READY]);
  });

  test('a re-issued certificate is renamed into place key first, then its certificate', () => {
    issue('apiserver-kubelet-client', -300, 65);
    expect(refresh().status).toBe(0);
    expect(events(node).filter((line) => line.startsWith('mv '))).toEqual(['mv apiserver-kubelet-client.key', 'mv apiserver-kubelet-client.crt']);
  });

  test("after restarting the API server the refresh waits until its local /readyz answers (the health check's probe, verified by the cluster CA), and only then restarts the next", () => {
    // GIVEN a renewed API server certificate, the webhook's certificate due, and an API server that refuses its first two probes
    node.write(secretPath(CONTROL_PLANE), JSON.stringify({ ...controlPlane, ...pairOf(ca.leaf('apiserver'), 'apiserver') }));
    issue('pod-identity-webhook', -330, 35);
    node.endpoint(`${LOCAL_API_SERVER}/readyz`, 2);
    // WHEN
    const result = refresh({ READY_INTERVAL_SECONDS: '0' });
    // THEN
    expect(result.status).toBe(0);
    expect(result.stderr).not.toContain('<3>');
    expect(restarts(node)).toEqual(['stop id-kube-apiserver', API_SERVER_READY, API_SERVER_READY, API_SERVER_READY, 'stop id-pod-identity-webhook', WEBHOOK_READY]);
    expect(result.stdout).toContain('certificate-refresh: kube-apiserver is ready\n');
    expect(node.read('fake/curl.log')).toContain(`--cacert ${pki()}/ca.crt ${LOCAL_API_SERVER}/readyz\n`);
    expect(node.read('fake/curl.log')).toContain(`--cacert ${pki()}/ca.crt https://${POD_IDENTITY_WEBHOOK_SERVING_ADDRESS}:${POD_IDENTITY_WEBHOOK_PORT}/healthz\n`);
  });

  test('an API server that never answers ready fails the unit with an error line naming it once READY_TIMEOUT_SECONDS have passed; the later restarts still happen', () => {
    // GIVEN the same changes, and an API server that does not come back with the new files
    node.write(secretPath(CONTROL_PLANE), JSON.stringify({ ...controlPlane, ...pairOf(ca.leaf('apiserver'), 'apiserver') }));
    issue('pod-identity-webhook', -330, 35);
    node.endpoint(`${LOCAL_API_SERVER}/readyz`, 'never');
    // WHEN
    const result = refresh({ READY_TIMEOUT_SECONDS: '1', READY_INTERVAL_SECONDS: '0' });
    // THEN the unit fails, saying which component and why, at priority err
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('<3>certificate-refresh: kube-apiserver did not answer ready within 1s of its restart with the new files (curl ');
    // AND it asked more than once before giving up, then restarted the webhook anyway
    const log = restarts(node);
    expect(log[0]).toBe('stop id-kube-apiserver');
    expect(log.slice(-2)).toEqual(['stop id-pod-identity-webhook', WEBHOOK_READY]);
    const probes = log.slice(1, -2);
    expect(probes.length).toBeGreaterThan(1);
    expect(new Set(probes)).toEqual(new Set([API_SERVER_READY]));
  });

  test('the pod identity webhook, when its certificate is re-issued, restarts alone', () => {
    issue('pod-identity-webhook', -330, 35);
    const result = refresh();
    expect(result.status).toBe(0);
    expect(restarts(node)).toEqual(['stop id-pod-identity-webhook', WEBHOOK_READY]);
  });
});

describe('certificate-refresh units', () => {
  test.each([
    ['etcd', () => etcdConfig(etcdInput)],
    ['master', () => masterConfig(masterInput)],
  ])('%s: a daily timer, at a random time per node, caught up after downtime, enabled', (_, render) => {
    const config = render();
    const timer = config.systemd!.units!.find((u) => u.name === CERTIFICATE_REFRESH_TIMER)!;
    expect(timer.enabled).toBe(true);
    expect(timer.contents).toContain('OnCalendar=daily\nRandomizedDelaySec=6h\nPersistent=yes\nUnit=certificate-refresh.service\n');
  });

  test("the refresh's leaves and their CA files are the secrets' (lib/secrets/certificate-metric.ts), each beside its key X.key", () => {
    const leaves = (['etcd', 'control-plane'] as const).flatMap((set) => setCertificates(set, 'test', 3)).filter((c): c is StoredLeaf => c.kind === 'leaf');
    for (const leaf of leaves) expect(leaf.keyFile).toBe(leaf.file.replace(/\.crt$/, '.key'));
    // The CA file the node trusts, as the renewal names it (lib/secrets/renewal.ts): the copy beside the leaf, else the CA of the same secret.
    const trusted = leaves.map((leaf) => [leaf.file, leaf.issuerCopyFile ?? (leaf.issuer.secret === leaf.secret ? leaf.issuer.file : undefined)]);
    expect(LEAF_CA_FILES).toEqual(Object.fromEntries(trusted));
  });

  test('workers have none (their secret is the cluster CA alone)', () => {
    expect(workerConfig(workerInput).systemd!.units!.map((u) => u.name)).not.toContain(CERTIFICATE_REFRESH_TIMER);
  });

  test('a restart none of whose files the refresh can change is an error naming it', () => {
    const props = { secrets: { dir: '/etc/etcd/pki', secrets: [] }, after: [], restarts: [{ restart: { unit: 'etcd.service' }, files: ['/etc/etcd/etcd.env'] }] };
    expect(() => certificateRefreshParts(props)).toThrow(/restart of etcd\.service lists no file the refresh changes \(\/etc\/etcd\/etcd\.env\)/);
  });
});
