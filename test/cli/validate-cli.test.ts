import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { expectedCertificates } from '../../lib/cli/validate/certificate-check';
import { expectedObjects } from '../../lib/cli/validate/expected-objects';
import { masterStack } from './cli-fixtures';
import { FakeApiServer, FakeClusterState, startFakeApiServer } from './fake-api-server';
import { CLUSTER, CLUSTER_GROUP, HEALTHY_GROUPS, HEALTHY_NODES, READYZ_ETCD_DOWN, READYZ_OK, daemonSet, deployment, healthyAddons, node } from './fixtures/cluster';

// `kube-aws validate` as users run it: bin/kube-aws.js in a child process (where Node loads the
// ESM-only Kubernetes client), against a fake HTTPS API server, with the AWS SDK mocked in the
// child by aws-scenario-preload.cjs. Each run costs about a second: one per behaviour.

jest.setTimeout(60_000);
/** A child still running by then is hung: killed, so that the test fails on its output instead of leaving it behind. */
const CHILD_TIMEOUT_MS = 45_000;

const ROOT = path.join(__dirname, '..', '..');
const EXPECTED = expectedObjects({ clusterName: CLUSTER, region: 'eu-central-1', account: '123456789012', partition: 'aws', clusterGroup: CLUSTER_GROUP });
/** headlamp left out: an optional add-on turned off must not be required. */
const HEALTHY: FakeClusterState = { readyz: { status: 200, body: READYZ_OK }, nodes: HEALTHY_NODES, ...healthyAddons(EXPECTED, ['headlamp']) };
/** Every certificate of both sets (three etcd members, as HEALTHY_GROUPS), the etcd member 0 soonest to expire. */
// CAs live 10 years (warned a year ahead), leaves 2 (warned 30 days ahead).
const CERTIFICATES = expectedCertificates(CLUSTER, 3).map((certificate) => ({
  certificate,
  values: certificate === 'etcd/etcd-member-0/member.crt' ? [200] : certificate.endsWith('/ca.crt') ? [3000, 2999.5] : [300, 299.5],
}));

interface Scenario {
  readonly autoScalingGroups?: readonly AutoScalingGroup[];
  readonly autoScalingError?: { name: string; message: string };
  readonly certificates?: readonly { certificate: string; values: readonly number[] }[];
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly lines: string[];
}

let server: FakeApiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Serves `states`, mocks AWS with `scenario`, runs `kube-aws validate kube-aws-test 1 <args>`. */
async function validate(states: readonly FakeClusterState[], scenario: Scenario = {}, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  server = await startFakeApiServer(states);
  const dir = mkdtempSync(path.join(tmpdir(), 'validate-'));
  const scenarioFile = path.join(dir, 'scenario.json');
  writeFileSync(scenarioFile, JSON.stringify({ describeStacks: masterStack(server.url), autoScalingGroups: HEALTHY_GROUPS, certificates: CERTIFICATES, ...scenario }));
  return run(['-r', path.join(__dirname, 'aws-scenario-preload.cjs'), 'bin/kube-aws.js', 'validate', 'kube-aws-test', '1', ...args], {
    NODE_EXTRA_CA_CERTS: server.caFile,
    KUBE_AWS_TEST_SCENARIO: scenarioFile,
    AWS_REGION: 'eu-central-1',
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    ...env,
  });
}

/** `node <args>` in the repository with only `env` (and PATH), so no real AWS profile leaks in. */
async function run(args: readonly string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const home = mkdtempSync(path.join(tmpdir(), 'validate-home-'));
  try {
    const { stdout, stderr } = await promisify(execFile)('node', [...args], {
      cwd: ROOT,
      timeout: CHILD_TIMEOUT_MS,
      killSignal: 'SIGKILL',
      env: { PATH: process.env.PATH, HOME: home, AWS_EC2_METADATA_DISABLED: 'true', ...env },
    });
    return { code: 0, stdout, stderr, lines: stdout.split('\n').filter(Boolean) };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr, lines: e.stdout.split('\n').filter(Boolean) };
  }
}

const linesOf = (r: Run, status: string) => r.lines.filter((line) => line.startsWith(status));

describe('kube-aws validate against a fake API server', () => {
  test('a healthy cluster: every check PASSes, exit 0, signed in with an IAM token for the cluster group', async () => {
    const r = await validate([HEALTHY]);

    expect(r.stderr).toContain(`${CLUSTER}: valid`);
    expect(r.code).toBe(0);
    expect(linesOf(r, 'FAIL')).toEqual([]);
    expect(linesOf(r, 'WARN')).toEqual([]);
    expect(r.lines).toEqual(expect.arrayContaining([
      'PASS  api-server    /readyz ok (etcd ok, etcd-readiness ok)',
      `PASS  nodes         etcd ${CLUSTER}-etcd-Member0-A: 1/1 instances InService and Healthy (etcd members are not Kubernetes nodes)`,
      `PASS  nodes         master ${CLUSTER}-master-Group-D: 2/2 nodes Ready`,
      `PASS  nodes         worker ${CLUSTER}-worker-Group-E: 3/3 nodes Ready`,
      'PASS  deployment    kube-system/coredns: 2/2 available',
      'PASS  daemonset     kube-system/kube-proxy: 5/5 available',
      'PASS  apiservice    v1beta1.metrics.k8s.io: Available',
      'PASS  add-ons       not deployed, so taken as turned off (optional): headlamp',
      'PASS  certificates  9 certificates, the soonest to expire etcd/etcd-member-0/member.crt in 200 days',
    ]));
    // aws-iam-authenticator's format: k8s-aws-v1. + base64url(presigned STS URL) naming the cluster group.
    const authorization = server!.requests.find((req) => req.path === '/api/v1/nodes')?.authorization ?? '';
    expect(authorization).toMatch(/^Bearer k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    const presigned = new URL(Buffer.from(authorization.slice('Bearer k8s-aws-v1.'.length), 'base64url').toString('utf8'));
    expect(presigned.host).toBe('sts.eu-central-1.amazonaws.com');
    expect(presigned.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    expect(presigned.searchParams.get('X-Amz-Credential')).toMatch(/^AKIAIOSFODNN7EXAMPLE\//);
  });

  test('each kind of failure is its own FAIL line, exit 1', async () => {
    const addons = healthyAddons(EXPECTED, ['headlamp']);
    const broken: FakeClusterState = {
      readyz: { status: 500, body: READYZ_ETCD_DOWN },
      // worker c2 NotReady, c1 never registered
      nodes: [...HEALTHY_NODES.filter((n) => !/-2[12]\./.test(n.metadata!.name!)), node('ip-10-0-2-22.eu-central-1.compute.internal', 'i-0d0000000000000c2', false)],
      daemonSets: addons.daemonSets.filter((d) => d.metadata?.name !== 'kube-flannel'),
      deployments: addons.deployments.map((d) => (d.metadata?.name === 'coredns' ? deployment('kube-system', 'coredns', 2, { available: 1 }) : d)),
      apiServices: addons.apiServices.map((s) => ({ ...s, status: { conditions: [{ type: 'Available', status: 'False', reason: 'FailedDiscoveryCheck', message: 'no response' }] } })),
    };
    const groups = HEALTHY_GROUPS.map((g) => (g.AutoScalingGroupName?.includes('Member1') ? { ...g, Instances: g.Instances!.map((i) => ({ ...i, HealthStatus: 'Unhealthy' })) } : g));

    const r = await validate([broken], { autoScalingGroups: groups, certificates: CERTIFICATES.map((c) => (c.certificate === 'control-plane/control-plane/apiserver.crt' ? { ...c, values: [12] } : c)) });

    expect(r.code).toBe(1);
    expect(linesOf(r, 'FAIL')).toEqual([
      'FAIL  api-server    /readyz not ready, failed: etcd, etcd-readiness (etcd failed, etcd-readiness failed)',
      `FAIL  nodes         etcd ${CLUSTER}-etcd-Member1-B: 0/1 instances InService and Healthy (etcd members are not Kubernetes nodes); i-0e0000000000000a1 Unhealthy`,
      `FAIL  nodes         worker ${CLUSTER}-worker-Group-E: 1/3 nodes Ready; i-0d0000000000000c1 not registered as a node; i-0d0000000000000c2 (node ip-10-0-2-22.eu-central-1.compute.internal) NotReady: KubeletNotReady`,
      'FAIL  deployment    kube-system/coredns: 1/2 available',
      'FAIL  apiservice    v1beta1.metrics.k8s.io: not Available (FailedDiscoveryCheck: no response)',
      'FAIL  daemonset     kube-system/kube-flannel: missing (add-on flannel, which every cluster runs)',
    ]);
    expect(linesOf(r, 'WARN')).toEqual(['WARN  certificates  control-plane/control-plane/apiserver.crt: 12 days left, below 30 (its renewal is failing)']);
    expect(r.stderr).toContain(`${CLUSTER}: NOT valid`);
  });

  test('a hanging API server: FAIL lines after --request-timeout, not a hang', async () => {
    const r = await validate([{ ...HEALTHY, hang: true }], {}, ['--request-timeout', '1s']);

    expect(r.code).toBe(1);
    expect(linesOf(r, 'FAIL')).toEqual([
      'FAIL  api-server    /readyz: reading /readyz: no answer within 1s (--request-timeout)',
      'FAIL  nodes         listing nodes: no answer within 1s (--request-timeout)',
      expect.stringMatching(/^FAIL  add-ons       (listing|reading) .*: no answer within 1s \(--request-timeout\)$/),
    ]);
  });

  test('a token the cluster refuses: FAIL lines saying which IAM settings sign people in', async () => {
    const r = await validate([{ ...HEALTHY, unauthorized: true }]);

    expect(r.code).toBe(1);
    expect(linesOf(r, 'FAIL')).toEqual([
      "FAIL  api-server    /readyz: reading /readyz: 401 Unauthorized: the API server did not accept your AWS identity; is its role or user in one of the cluster's readOnlyRoleArns, powerUserRoleArns or administratorRoleArns settings?",
      "FAIL  nodes         listing nodes: 401 Unauthorized: the API server did not accept your AWS identity; is its role or user in one of the cluster's readOnlyRoleArns, powerUserRoleArns or administratorRoleArns settings?",
      expect.stringMatching(/^FAIL  add-ons       (listing|reading) .*: 401 Unauthorized: the API server did not accept your AWS identity/),
    ]);
  });

  test('--wait polls until the cluster passes, then prints the final lines only', async () => {
    const starting: FakeClusterState = { ...HEALTHY, readyz: { status: 500, body: READYZ_ETCD_DOWN }, nodes: HEALTHY_NODES.slice(0, 2) };

    const r = await validate([starting, starting, HEALTHY], {}, ['--wait', '1m', '--interval', '100ms']);

    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/round 1: 2 not passing \(api-server, nodes\); again in 0.1s\nround 2: 2 not passing \(api-server, nodes\)/);
    expect(r.stderr).toContain(`${CLUSTER}: valid: `);
    expect(r.stderr).toContain('after 3 rounds');
    expect(linesOf(r, 'FAIL')).toEqual([]);
    expect(r.lines[0]).toBe('PASS  api-server    /readyz ok (etcd ok, etcd-readiness ok)');
  });

  test('--wait gives up when the time is up, printing the last round', async () => {
    const starting: FakeClusterState = { ...HEALTHY, readyz: { status: 500, body: READYZ_ETCD_DOWN } };

    const r = await validate([starting], {}, ['--wait', '300ms', '--interval', '100ms']);

    expect(r.code).toBe(1);
    expect(linesOf(r, 'FAIL')).toEqual(['FAIL  api-server    /readyz not ready, failed: etcd, etcd-readiness (etcd failed, etcd-readiness failed)']);
    expect(r.stderr).toMatch(/NOT valid: .* after \d+ rounds/);
  });

  test('a secret set that never published its metric: WARN no data for each of its certificates, not a silent PASS', async () => {
    const r = await validate([HEALTHY], { certificates: CERTIFICATES.filter((c) => c.certificate.startsWith('control-plane/')) });

    expect(r.code).toBe(0);
    expect(linesOf(r, 'WARN')).toEqual(
      ['etcd/etcd-ca/ca.crt', 'etcd/etcd-member-0/member.crt', 'etcd/etcd-member-1/member.crt', 'etcd/etcd-member-2/member.crt', 'etcd/apiserver-etcd-client/apiserver-etcd-client.crt'].map(
        (name) => `WARN  certificates  ${name}: no data (no KubernetesOnAws/CertificateDaysLeft metric published for it; is its set's renewal running?)`,
      ),
    );
  });

  test('a 200 /readyz that is not the API server\'s verbose answer, an emptied DaemonSet, a Deployment at 0: FAIL each', async () => {
    const addons = healthyAddons(EXPECTED, ['headlamp']);
    const r = await validate([{
      ...HEALTHY,
      readyz: { status: 200, body: '<html>ok</html>' },
      daemonSets: addons.daemonSets.map((d) => (d.metadata?.name === 'kube-proxy' ? daemonSet('kube-system', 'kube-proxy', 0) : d)),
      deployments: addons.deployments.map((d) => (d.metadata?.name === 'coredns' ? deployment('kube-system', 'coredns', 0) : d)),
    }]);

    expect(r.code).toBe(1);
    expect(linesOf(r, 'FAIL').sort()).toEqual([
      'FAIL  api-server    /readyz not ready, HTTP 200 without its last line "readyz check passed" (not the API server\'s answer?): "<html>ok</html>" (no etcd checks listed)',
      'FAIL  deployment    kube-system/coredns: 0/0 available; scaled to 0 replicas: nothing runs',
      'FAIL  daemonset     kube-system/kube-proxy: 0/0 available; no node to run on (desiredNumberScheduled 0): nodeSelector, tolerations or taints?',
    ].sort());
  });

  test('an Auto Scaling read that is refused is a FAIL line naming the error', async () => {
    const r = await validate([HEALTHY], { autoScalingError: { name: 'AccessDenied', message: 'not authorized to perform: autoscaling:DescribeAutoScalingGroups' } });

    expect(r.code).toBe(1);
    expect(linesOf(r, 'FAIL')).toEqual(['FAIL  nodes         reading Auto Scaling groups: AccessDenied: not authorized to perform: autoscaling:DescribeAutoScalingGroups']);
  });
});

describe('kube-aws validate before any cluster read', () => {
  test('without AWS credentials: the sign-in message at once, exit 1 (real credential chain, nothing mocked)', async () => {
    const r = await run(['bin/kube-aws.js', 'validate', 'kube-aws-test', '1'], { AWS_REGION: 'eu-central-1' });

    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: No AWS credentials found\. Sign in first/);
    expect(r.stdout).toBe('');
  });

  test('without a region: the region message, exit 1', async () => {
    const r = await run(['bin/kube-aws.js', 'validate', 'kube-aws-test', '1'], { AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE', AWS_SECRET_ACCESS_KEY: 'x' });

    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: No AWS region set/);
  });

  test('a bad duration: a usage error naming the option, exit 2', async () => {
    const r = await run(['bin/kube-aws.js', 'validate', 'kube-aws-test', '1', '--wait', '10 minutes'], {});

    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: Invalid --wait "10 minutes": give a duration above zero such as 90s, 10m or 1m30s/);
    expect(r.stderr).toContain('Usage: kube-aws validate <stack> <version>');
  });
});
