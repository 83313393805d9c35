/**
 * The boot scripts run for real, as rendered, against a fake AWS CLI and a fake IMDS
 * (fake-node.ts). Needs bash and jq (both in Flatcar and in this machine's image).
 */
import { spawnSync } from 'child_process';
import { createServer, Server } from 'http';
import { createServer as createTlsServer, request as httpsRequest } from 'https';
import { AddressInfo } from 'net';
import { checkServerIdentity } from 'tls';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { join } from 'path';
import { masterConfig } from '../../userdata/master';
import { workerConfig } from '../../userdata/worker';
import { fileText } from './config-files';
import { FakeNode } from './fake-node';
import { masterInput, workerInput } from './fixtures';

const haveJq = existsSync('/usr/bin/jq');

// Under CI the tools are installed by .ci/run: run, and fail loudly if one is missing.
(haveJq || process.env.CI ? describe : describe.skip)('boot scripts against a fake AWS', () => {
  let node: FakeNode;
  beforeEach(() => {
    node = new FakeNode(workerConfig(workerInput));
  });
  afterEach(() => node.remove());

  describe('fetch-secrets', () => {
    const SECRET = { 'ca.crt': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', 'admin-token': 'tOkEn-value-never-logged' };

    test('writes every key of the secret as a file, mode 0600, in a 0700 directory, printing no value', () => {
      // GIVEN
      node.write('fake/secrets/kubernetes-on-aws_kube-aws-test-1_admin.json', JSON.stringify(SECRET));
      const pki = join(node.root, 'pki');
      // WHEN
      const result = node.run('fetch-secrets', [pki, 'kubernetes-on-aws/kube-aws-test-1/admin:ca.crt,admin-token']);
      // THEN
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(readdirSync(pki).sort()).toEqual(['admin-token', 'ca.crt']);
      for (const [key, value] of Object.entries(SECRET)) {
        expect(readFileSync(join(pki, key), 'utf8')).toBe(value);
        expect(statSync(join(pki, key)).mode & 0o777).toBe(0o600);
      }
      expect(statSync(pki).mode & 0o777).toBe(0o700);
      expect(result.stdout).not.toContain('tOkEn');
      expect(result.stdout).toContain(`fetch-secrets: kubernetes-on-aws/kube-aws-test-1/admin: 2 files in ${pki}, 2 changed: admin-token ca.crt`);
    });

    test('fails when the secret lacks a file the role needs', () => {
      node.write('fake/secrets/kubernetes-on-aws_kube-aws-test-1_admin.json', JSON.stringify({ 'ca.crt': 'x' }));
      const result = node.run('fetch-secrets', [join(node.root, 'pki'), 'kubernetes-on-aws/kube-aws-test-1/admin:ca.crt,admin-token']);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain("has no key 'admin-token' (needed by this role)");
    });

    test('refuses a key that is not a plain file name', () => {
      node.write('fake/secrets/kubernetes-on-aws_kube-aws-test-1_worker.json', JSON.stringify({ '../evil': 'x' }));
      const result = node.run('fetch-secrets', [join(node.root, 'pki'), 'kubernetes-on-aws/kube-aws-test-1/worker:']);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain("refusing file name '../evil'");
    });
  });

  describe('node-identity', () => {
    const tags = (role: string) =>
      JSON.stringify({
        Tags: [
          { Key: 'kubernetes.io/cluster/kube-aws-test-1', Value: 'owned' },
          { Key: 'kubernetes-on-aws:role', Value: role },
          { Key: 'kubernetes-on-aws:cfn-stack', Value: 'kube-aws-test-1-worker' },
          { Key: 'kubernetes-on-aws:cfn-resource', Value: 'WorkersASG1234' },
        ].map((t) => ({ ...t, ResourceId: 'i-0123456789abcdef0', ResourceType: 'instance' })),
      });

    test('writes node.env from IMDSv2 and the instance tags', () => {
      node.write('fake/tags.json', tags('worker'));
      const result = node.run('node-identity');
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(node.read('etc/node.env')).toBe(
        [
          'INSTANCE_ID=i-0123456789abcdef0',
          'AVAILABILITY_ZONE=eu-central-1a',
          'PRIVATE_DNS_NAME=ip-10-0-1-23.eu-central-1.compute.internal',
          'PRIVATE_IP=10.0.1.23',
          'CFN_STACK=kube-aws-test-1-worker',
          'CFN_RESOURCE=WorkersASG1234',
          'ETCD_MEMBER=',
          '',
        ].join('\n'),
      );
      expect(node.read('fake/aws.log')).toContain('ec2 describe-tags --region eu-central-1 --filters Name=resource-id,Values=i-0123456789abcdef0');
    });

    test('refuses to run a config of another role', () => {
      node.write('fake/tags.json', tags('master'));
      const result = node.run('node-identity');
      expect(result.status).toBe(1);
      expect(result.stderr).toContain("tag kubernetes-on-aws:role is 'master', but this config is for role worker");
    });
  });

  describe('cfn-signal', () => {
    beforeEach(() => {
      node.write(
        'etc/node.env',
        'INSTANCE_ID=i-0123456789abcdef0\nCFN_STACK=kube-aws-test-1-worker\nCFN_RESOURCE=WorkersASG1234\nPRIVATE_DNS_NAME=ip-10-0-1-23.eu-central-1.compute.internal\n',
      );
    });
    const runSignal = (healthy: boolean) => {
      node.write('bin/node-health-check', `#!/bin/bash\nexit ${healthy ? 0 : 1}\n`, 0o755);
      return node.run('cfn-signal', [], { HEALTH_DEADLINE_SECONDS: '2', HEALTH_INTERVAL_SECONDS: '1' });
    };

    test('signals SUCCESS for this instance once the health check passes', () => {
      const result = runSignal(true);
      expect(result.status).toBe(0);
      expect(node.read('fake/signals').trim()).toBe(
        'cloudformation signal-resource --region eu-central-1 --stack-name kube-aws-test-1-worker --logical-resource-id WorkersASG1234 --unique-id i-0123456789abcdef0 --status SUCCESS',
      );
      expect(existsSync(join(node.root, 'state/cfn-signalled'))).toBe(true);
    });

    test('signals FAILURE at the deadline and fails the unit', () => {
      const result = runSignal(false);
      expect(result.status).toBe(1);
      expect(node.read('fake/signals')).toContain('--status FAILURE');
    });
  });
});

/** An HTTP server on a free loopback port that answers every request with `status`, recording paths. */
class FakeHealthServer {
  status = 200;
  readonly paths: string[] = [];
  /** Kept after close(), so a test can point a client at a port nothing listens on. */
  private port = 0;
  /** The answer's body per path; `{}` for any other. */
  readonly bodies: Record<string, string> = {};
  private readonly server: Server = createServer((req, res) => {
    this.paths.push(req.url ?? '');
    res.writeHead(this.status).end(this.bodies[req.url ?? ''] ?? '{}');
  });

  static async start(): Promise<FakeHealthServer> {
    const fake = new FakeHealthServer();
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.port = (fake.server.address() as AddressInfo).port;
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * The fake kubectl: logs its arguments; prints the ClusterRoles, ClusterRoleBindings or
 * DaemonSets found from $FAKE/<kind> (or fails as an unreachable API would, when that file is
 * missing), else the node's "podCIDR|Ready" from $FAKE/node.
 */
const API_KINDS = ['clusterroles', 'clusterrolebindings', 'daemonsets'];
const FAKE_KUBECTL = `#!/bin/bash
echo "$*" >>"$FAKE/kubectl.log"
for kind in ${API_KINDS.join(' ')}; do
  case "$*" in
    *" -o name $kind "*)
      [ -f "$FAKE/$kind" ] || { echo 'The connection to the server was refused' >&2; exit 1; }
      cat "$FAKE/$kind"
      exit ;;
  esac
done
cat "$FAKE/node"
`;

/** Each Kubernetes role's own first check, the local endpoint it probes, and its complaint. */
const HEALTH_CHECKS = [
  { role: 'worker', config: () => workerConfig(workerInput), localEndpoint: 'http://127.0.0.1:10248/', localPath: '/healthz', complaint: /the kubelet's healthz does not answer/ },
  { role: 'master', config: () => masterConfig(masterInput), localEndpoint: 'https://127.0.0.1:443/', localPath: '/readyz', complaint: /the local API server is not ready/ },
] as const;

(existsSync('/usr/bin/curl') || process.env.CI ? describe.each(HEALTH_CHECKS) : describe.skip.each(HEALTH_CHECKS))(
  'node-health-check ($role) against a fake local endpoint, kube-proxy, API and flannel',
  ({ role, config, localEndpoint, localPath, complaint }) => {
  const NODE_NAME = 'ip-10-0-1-23.eu-central-1.compute.internal';
  const SUBNET_ENV = 'run/flannel/subnet.env';
  /** What flanneld v0.27.3 writes for podCIDR 10.2.5.0/24 in the pod network 10.2.0.0/16. */
  const flannelLease = (subnet: string) => `FLANNEL_NETWORK=10.2.0.0/16\nFLANNEL_SUBNET=${subnet}\nFLANNEL_MTU=8951\nFLANNEL_IPMASQ=true\n`;
  let node: FakeNode;
  let local: FakeHealthServer;
  let kubeProxy: FakeHealthServer;
  /** kube-proxy's metrics, as a 1.35 kube-proxy prints them, after its first sync or before it. */
  const kubeProxyMetrics = (lastSync: string) =>
    '# HELP kubeproxy_sync_proxy_rules_last_timestamp_seconds [ALPHA] The last time proxy rules were successfully synced\n' +
    '# TYPE kubeproxy_sync_proxy_rules_last_timestamp_seconds gauge\n' +
    `kubeproxy_sync_proxy_rules_last_timestamp_seconds ${lastSync}\n` +
    'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds 1.7647e+09\n';

  beforeEach(async () => {
    // GIVEN a healthy node: its local endpoint (kubelet or API server) and kube-proxy answer,
    // the node is Ready with podCIDR 10.2.5.0/24, and flanneld holds that subnet.
    node = new FakeNode(config());
    local = await FakeHealthServer.start();
    kubeProxy = await FakeHealthServer.start();
    kubeProxy.bodies['/metrics'] = kubeProxyMetrics('1.7647e+09');
    node.write('etc/node.env', `PRIVATE_DNS_NAME=${NODE_NAME}\n`);
    node.write('bin/kubectl', FAKE_KUBECTL, 0o755);
    node.write('fake/node', '10.2.5.0/24|True');
    // A running cluster: its add-ons were delivered (the first object of cluster-bootstrap is
    // there), no shared node token's role, and its pod network's DaemonSets are there (what
    // `kubectl get -o name` prints).
    node.write('fake/clusterroles', '');
    node.write('fake/clusterrolebindings', 'clusterrolebinding.rbac.authorization.k8s.io/kubernetes-on-aws:apiserver-kubelet-client\n');
    node.write('fake/daemonsets', 'daemonset.apps/kube-proxy\ndaemonset.apps/kube-flannel\n');
    mkdirSync(join(node.root, 'run/flannel'), { recursive: true });
    node.write(SUBNET_ENV, flannelLease('10.2.5.1/24'));
  });
  afterEach(async () => {
    await Promise.all([local.close(), kubeProxy.close().catch(() => undefined)]);
    node.remove();
  });

  // The production endpoints, pointed at the fakes (install() fails if the script lacks one).
  const check = () =>
    node.runAsync('node-health-check', {
      [localEndpoint]: local.url,
      'http://127.0.0.1:10256/': kubeProxy.url,
      'http://127.0.0.1:10249/': kubeProxy.url,
    });

  test('passes when the local endpoint, the node and its pod network are up', async () => {
    // WHEN
    const result = await check();
    // THEN
    expect(result).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(local.paths).toEqual([localPath]);
    expect(kubeProxy.paths).toEqual(['/healthz', '/metrics']);
    expect(node.read('fake/kubectl.log')).toContain(`get node ${NODE_NAME} -o jsonpath={.spec.podCIDR}|{.status.conditions[?(@.type=="Ready")].status}`);
  });

  test.each<[string, () => unknown, RegExp]>([
    ['flanneld has not written its subnet file', () => rmSync(join(node.root, SUBNET_ENV)), /flanneld has not written .*\/run\/flannel\/subnet\.env yet/],
    ["flanneld holds another node's subnet", () => node.write(SUBNET_ENV, flannelLease('10.2.6.1/24')), /expected 10\.2\.0\.0\/16 and 10\.2\.5\.1\/24 \(podCIDR 10\.2\.5\.0\/24\)/],
    ['kube-proxy reports unhealthy', () => (kubeProxy.status = 503), /kube-proxy is not healthy/],
    ['kube-proxy is not running', () => kubeProxy.close(), /kube-proxy is not healthy/],
    // Its /healthz answers 200 while it starts, before it has written any rule.
    ['kube-proxy has not synced its rules yet', () => (kubeProxy.bodies['/metrics'] = kubeProxyMetrics('0')), /kube-proxy has not synced its service rules yet/],
    ['the node has no podCIDR yet', () => node.write('fake/node', '|True'), /this node has no podCIDR yet/],
    ['the node is not Ready', () => node.write('fake/node', '10.2.5.0/24|False'), /is not Ready \('False'\)/],
    ['the local endpoint is unhealthy', () => (local.status = 500), complaint],
  ])('fails when %s', async (_, breakIt, reason) => {
    // GIVEN
    await breakIt();
    // WHEN
    const result = await check();
    // THEN
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(reason);
  });

  if (role === 'master') {
    test('on a new cluster, before the add-ons are delivered, passes on the API server alone, saying why', async () => {
      // GIVEN nothing delivered yet: no cluster-bootstrap binding, no DaemonSet, the node not even registered, no flannel lease
      node.write('fake/clusterrolebindings', '');
      node.write('fake/daemonsets', '');
      node.write('fake/node', '');
      rmSync(join(node.root, SUBNET_ENV));
      // WHEN
      const result = await check();
      // THEN
      expect(result.status).toBe(0);
      expect(result.stderr).toMatch(/kube-proxy and flannel are not delivered yet \(a new cluster\)/);
      const get = `--kubeconfig ${node.root}/auth/admin.kubeconfig --request-timeout=10s get --ignore-not-found -o name`;
      expect(node.read('fake/kubectl.log').trim().split('\n')).toEqual([
        `${get} clusterroles kubernetes-on-aws:node-agent`,
        `${get} clusterrolebindings kubernetes-on-aws:apiserver-kubelet-client`,
      ]);
    });

    test('in a cluster whose nodes share one token (the release before per-node identity), fails, saying why and what to do', async () => {
      // Its kubelets hold the shared token, which this release's webhook refuses: CloudFormation must roll this master back.
      node.write('fake/clusterroles', 'clusterrole.rbac.authorization.k8s.io/kubernetes-on-aws:node-agent\n');
      const result = await check();
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/ClusterRole kubernetes-on-aws:node-agent exists: this cluster's nodes share one token, .*deploy a new cluster version/);
    });

    test('with the add-ons delivered but without the DaemonSets (a cluster from before they were add-ons), fails, saying why and what to do', async () => {
      node.write('fake/daemonsets', '');
      const result = await check();
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/add-ons were delivered but kube-proxy's and flannel's DaemonSets do not exist: .*deploy a new cluster version/);
      expect(node.read('fake/kubectl.log')).toContain('get --ignore-not-found -o name daemonsets --namespace kube-system kube-proxy kube-flannel');
    });

    test('once either DaemonSet is there, checks the pod network in full', async () => {
      node.write('fake/daemonsets', 'daemonset.apps/kube-proxy\n');
      rmSync(join(node.root, SUBNET_ENV));
      const result = await check();
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/flanneld has not written/);
    });

    test.each(API_KINDS)('fails, never skips, when the API cannot say whether the %s exist', async (kind) => {
      rmSync(join(node.root, `fake/${kind}`));
      node.write('fake/node', '|False');
      const result = await check();
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/connection to the server was refused/);
    });
  }
});

const haveOpenssl = existsSync('/usr/bin/openssl');

(haveOpenssl || process.env.CI ? describe : describe.skip)('control-plane-auth (master)', () => {
  let node: FakeNode;
  const openssl = (args: string[]) => spawnSync('openssl', args, { encoding: 'utf8' });

  /** A master of `input` with the fetched files: a throwaway cluster CA and the admin token (used only where accepted). */
  function masterWithSecrets(input: typeof masterInput): FakeNode {
    node = new FakeNode(masterConfig(input));
    // control-plane-auth signs this master's certificates with it.
    node.install('issue-certificate');
    mkdirSync(join(node.root, 'pki'), { mode: 0o700 });
    const pki = join(node.root, 'pki');
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=test-ca', '-days', '1', '-keyout', `${pki}/ca.key`, '-out', `${pki}/ca.crt`]);
    writeFileSync(join(pki, 'admin-token'), 'A'.repeat(43), { mode: 0o600 });
    serveAs(input.apiServerCertificateNames);
    node.write('etc/apiserver-names', fileText(masterConfig(input), '/etc/kubernetes-on-aws/apiserver-names'));
    return node;
  }
  beforeEach(() => {
    node = masterWithSecrets(masterInput);
  });
  afterEach(() => node.remove());

  /** An API server certificate for `names`, signed by the test CA. */
  function serveAs(names: readonly string[]): void {
    const pki = join(node.root, 'pki');
    const sans = names.map((n) => (/^[0-9.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
    writeFileSync(join(pki, 'apiserver.ext'), `subjectAltName=${sans}\n`);
    openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=kube-apiserver', '-keyout', `${pki}/apiserver.key`, '-out', `${pki}/apiserver.csr`]);
    openssl(['x509', '-req', '-in', `${pki}/apiserver.csr`, '-CA', `${pki}/ca.crt`, '-CAkey', `${pki}/ca.key`, '-CAcreateserial', '-days', '1', '-extfile', `${pki}/apiserver.ext`, '-out', `${pki}/apiserver.crt`]);
  }

  test('refuses an API server certificate that lacks a name its clients dial, naming it and the repair', () => {
    // GIVEN a certificate from before the internal endpoint's name
    serveAs(masterInput.apiServerCertificateNames.filter((name) => !name.startsWith('internal.')));
    // WHEN
    const result = node.run('control-plane-auth');
    // THEN
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('apiserver.crt does not cover internal.kube-aws-test-1.team.example.org');
    expect(result.stderr).toContain('deploy the master stack again');
  });

  test('writes the token file (random tokens of this master alone, no break-glass admin by default) and a kubelet-client certificate signed by the cluster CA, all 0600', () => {
    // WHEN
    const result = node.run('control-plane-auth');
    // THEN
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const auth = join(node.root, 'auth');
    const tokens = node.read('auth/tokens.csv').trim().split('\n');
    expect(tokens.map((line) => line.replace(/^[A-Za-z0-9_-]{43},/, '<random>,'))).toEqual([
      '<random>,kubernetes-on-aws:master,kubernetes-on-aws:master,"system:masters"',
      '<random>,system:kube-controller-manager,system:kube-controller-manager',
      '<random>,system:kube-scheduler,system:kube-scheduler',
      '<random>,kubernetes-on-aws:kubelet-serving-approver,kubernetes-on-aws:kubelet-serving-approver',
      '<random>,kubernetes-on-aws:pod-identity-webhook,kubernetes-on-aws:pod-identity-webhook',
    ]);
    expect(new Set(tokens.map((line) => line.split(',')[0])).size).toBe(tokens.length);
    expect(node.read('auth/tokens.csv')).not.toContain('A'.repeat(43));
    for (const f of readdirSync(auth)) expect({ f, mode: statSync(join(auth, f)).mode & 0o777 }).toEqual({ f, mode: 0o600 });
    const verify = openssl(['verify', '-CAfile', join(node.root, 'pki/ca.crt'), join(auth, 'apiserver-kubelet-client.crt')]);
    expect(verify.status).toBe(0);
    const text = openssl(['x509', '-in', join(auth, 'apiserver-kubelet-client.crt'), '-noout', '-subject', '-ext', 'extendedKeyUsage']).stdout;
    expect(text).toContain('CN = kube-apiserver-kubelet-client');
    expect(text).toContain('TLS Web Client Authentication');
  });

  test('signs the pod identity webhook a serving certificate for 127.0.0.1 alone, which a TLS client checking against the cluster CA accepts there and nowhere else', async () => {
    // WHEN
    expect(node.run('control-plane-auth').status).toBe(0);
    // THEN: serverAuth, one IP SAN, no DNS name
    const cert = join(node.root, 'auth/pod-identity-webhook.crt');
    expect(openssl(['verify', '-CAfile', join(node.root, 'pki/ca.crt'), cert]).status).toBe(0);
    const text = openssl(['x509', '-in', cert, '-noout', '-ext', 'subjectAltName,extendedKeyUsage']).stdout;
    expect(text).toMatch(/IP Address:127\.0\.0\.1\s/);
    expect(text).not.toContain('DNS:');
    expect(text).toContain('TLS Web Server Authentication');
    expect(text).not.toContain('Client Authentication');
    // and a real handshake, as the API server's client makes it (the address is checked against IP SANs)
    const server = createTlsServer({ cert: readFileSync(cert), key: readFileSync(join(node.root, 'auth/pod-identity-webhook.key')) }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const ca = readFileSync(join(node.root, 'pki/ca.crt'));
    const ask = (host: string) =>
      new Promise<string>((resolve) => {
        const req = httpsRequest({ host: '127.0.0.1', servername: host === '127.0.0.1' ? undefined : host, port, ca, path: '/', checkServerIdentity: (_h, c) => checkServerIdentity(host, c) }, (res) => res.resume().on('end', () => resolve(String(res.statusCode))));
        req.on('error', (error) => resolve(error.message));
        req.end();
      });
    try {
      expect(await ask('127.0.0.1')).toBe('200');
      expect(await ask('localhost')).toMatch(/does not match certificate's altnames: Host: localhost/);
    } finally {
      server.close();
    }
  });

  test('keeps the component tokens across reboots (the API server reads the file at start)', () => {
    node.run('control-plane-auth');
    const first = node.read('auth/tokens.csv');
    node.run('control-plane-auth');
    expect(node.read('auth/tokens.csv')).toBe(first);
  });

  test('with breakGlassAdminToken, the admin secret\'s token is the break-glass admin, first', () => {
    node.remove();
    node = masterWithSecrets({ ...masterInput, breakGlassAdminToken: true });
    expect(node.run('control-plane-auth').status).toBe(0);
    const tokens = node.read('auth/tokens.csv').trim().split('\n');
    expect(tokens[0]).toBe(`${'A'.repeat(43)},kubernetes-on-aws:admin,kubernetes-on-aws:admin,"system:masters"`);
    expect(tokens).toHaveLength(6);
    // and a malformed one is refused
    writeFileSync(join(node.root, 'pki/admin-token'), 'short');
    const result = node.run('control-plane-auth');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('admin-token must be one line of at least 32 token characters');
  });
});

describe('mark-control-plane (master)', () => {
  const NODE_NAME = 'ip-10-0-1-23.eu-central-1.compute.internal';
  let node: FakeNode;
  beforeEach(() => {
    node = new FakeNode(masterConfig(masterInput));
    node.write('etc/node.env', `PRIVATE_DNS_NAME=${NODE_NAME}\n`);
  });
  afterEach(() => node.remove());

  /** A kubectl that fails (the Node not registered yet) until its FAKE/failures count is used up. */
  const kubectlFailing = (times: number) => {
    node.write('fake/failures', String(times));
    node.write('bin/kubectl', `#!/bin/bash
echo "$*" >>"$FAKE/kubectl.log"
left=$(cat "$FAKE/failures")
if [ "$left" -gt 0 ]; then echo $((left - 1)) >"$FAKE/failures"; echo 'Error from server (NotFound): nodes "x" not found' >&2; exit 1; fi
`, 0o755);
  };
  // Three tries, no pause: the rendered script's 180 tries 10 s apart, shortened.
  const run = () => spawnSync(node.install('mark-control-plane', { 'attempts=180': 'attempts=3', 'sleep 10': 'sleep 0' }), [], { encoding: 'utf8', env: { ...process.env, FAKE: join(node.root, 'fake') } });

  test("labels its own Node with the control-plane label, as the break-glass admin, once the Node exists", () => {
    kubectlFailing(2);
    const result = run();
    expect(result.status).toBe(0);
    const calls = node.read('fake/kubectl.log').trim().split('\n');
    expect(calls).toHaveLength(3);
    expect(calls[2]).toBe(`--kubeconfig ${node.root}/auth/admin.kubeconfig --request-timeout=10s label node ${NODE_NAME} node-role.kubernetes.io/control-plane= --overwrite`);
    expect(result.stderr).toMatch(/not labelled yet \(attempt 1\/3\); its kubelet has not registered it yet/);
  });

  test('gives up after its tries with a failure, for systemd to start it again', () => {
    kubectlFailing(10);
    const result = run();
    expect(result.status).toBe(1);
    expect(node.read('fake/kubectl.log').trim().split('\n')).toHaveLength(3);
  });
});
