import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { V1SubjectAccessReviewSpec, V1SubjectAccessReviewStatus } from '@kubernetes/client-node';
import { expectedObjects } from '../../lib/cli/validate/expected-objects';
import { AuthorizationPolicy, authorize } from '../../webhook/authorizer';
import { iamRoleGroup } from '../../webhook/identities';
import { parseSubjectAccessReview } from '../../webhook/subject-access-review';
import { masterStack } from './cli-fixtures';
import { FakeE2eCluster, FakeE2eScenario, VOLUME_ID, startFakeE2eCluster, startFakeLoadBalancer } from './fake-e2e-cluster';
import { CLUSTER, CLUSTER_GROUP, HEALTHY_NODES } from './fixtures/cluster';
import { NODE_METRICS, systemPods } from './fixtures/e2e/objects';

// `kube-aws e2e` as users run it, in a child process (where Node loads the ESM-only Kubernetes
// client), through the production wiring (lib/cli/e2e/e2e-command.ts) but for the load
// balancer's URL, against a stateful fake API server; AWS is mocked in the child by
// aws-scenario-preload.js. One run per behaviour, each a few seconds: objects get ready after
// two reads, looked at every 50 ms.

jest.setTimeout(60_000);
const CHILD_TIMEOUT_MS = 45_000;
const ROOT = path.join(__dirname, '..', '..');
const EXPECTED = expectedObjects({ clusterName: CLUSTER, region: 'eu-central-1', account: '123456789012', partition: 'aws', clusterGroup: CLUSTER_GROUP });
const ELB = 'a0b1c2d3e4f5-123456789.eu-central-1.elb.amazonaws.com';
const NGINX_PAGE = '<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n</head><body><h1>Welcome to nginx!</h1></body></html>\n';
const READ_ONLY = iamRoleGroup('ReadOnly');
const POWER_USER = iamRoleGroup('PowerUser');

/** The groups the webhook's policy maps to roles on a cluster with IAM sign-in and no token-info groups (webhook/iam-authenticator.ts rolesWithIamGroups). */
const POLICY: AuthorizationPolicy = { clusterGroup: CLUSTER_GROUP, roles: { ReadOnly: [READ_ONLY], PowerUser: [POWER_USER], Administrator: [iamRoleGroup('Administrator')] } };

/**
 * The authorizers as they decide for a person: the project's own webhook (parse the review as the
 * API server sends it on, then the matrix), whose denial is final for people
 * (userdata/apiserver-authorization.ts).
 */
function webhookDecision(spec: V1SubjectAccessReviewSpec): V1SubjectAccessReviewStatus {
  const parsed = parseSubjectAccessReview({ apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec });
  if (!parsed.ok) throw new Error(parsed.message);
  const decision = authorize(parsed.request, POLICY);
  return { allowed: decision.allowed, denied: decision.denied, reason: decision.reason };
}

const HEALTHY_PODS = systemPods(EXPECTED, ['headlamp']);
const HEALTHY: FakeE2eScenario = {
  systemPods: HEALTHY_PODS,
  nodes: HEALTHY_NODES,
  loadBalancer: { hostname: ELB },
  access: webhookDecision,
  metrics: NODE_METRICS,
};

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The summary rows: stdout lines starting with PASS or FAIL. */
  readonly rows: string[];
}

let server: FakeE2eCluster | undefined;
let closeLb: (() => Promise<void>) | undefined;
afterEach(async () => {
  await server?.close();
  await closeLb?.();
  server = undefined;
  closeLb = undefined;
});

/**
 * Serves `scenario`, stands a local HTTP server in for the load balancer, and runs
 * `e2e kube-aws-test 1 --interval 50ms <args>`; `whileRunning` may act on the child (Ctrl-C).
 */
async function e2e(scenario: FakeE2eScenario, args: readonly string[] = [], lb: { status: number; body: string; headers?: Record<string, string> } = { status: 200, body: NGINX_PAGE }, whileRunning?: (child: { kill(signal: NodeJS.Signals): void }) => Promise<void>): Promise<Run & { lbHits: number }> {
  server = await startFakeE2eCluster(scenario);
  const loadBalancer = await startFakeLoadBalancer(lb.status, lb.body, lb.headers);
  closeLb = loadBalancer.close;
  const scenarioFile = path.join(mkdtempSync(path.join(tmpdir(), 'e2e-')), 'scenario.json');
  writeFileSync(scenarioFile, JSON.stringify({ describeStacks: masterStack(server.url) }));
  const run = await node(
    ['-r', path.join(__dirname, 'aws-scenario-preload.cjs'), path.join(__dirname, 'fixtures', 'e2e', 'run-e2e.cjs'), 'kube-aws-test', '1', '--interval', '50ms', ...args],
    {
      NODE_EXTRA_CA_CERTS: server.caFile,
      KUBE_AWS_TEST_SCENARIO: scenarioFile,
      KUBE_AWS_E2E_TEST_LB_URL: loadBalancer.url,
      AWS_REGION: 'eu-central-1',
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    },
    whileRunning,
  );
  return { ...run, lbHits: loadBalancer.hits() };
}

/** `node <args>` in the repository with only `env` (and PATH), killed if it outlives CHILD_TIMEOUT_MS. */
function node(args: readonly string[], env: NodeJS.ProcessEnv, whileRunning?: (child: { kill(signal: NodeJS.Signals): void }) => Promise<void>): Promise<Run> {
  const home = mkdtempSync(path.join(tmpdir(), 'e2e-home-'));
  const child = spawn('node', [...args], { cwd: ROOT, env: { PATH: process.env.PATH, HOME: home, AWS_EC2_METADATA_DISABLED: 'true', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
  void whileRunning?.(child);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr, rows: stdout.split('\n').filter((line) => /^(PASS|FAIL) /.test(line)) });
    }),
  );
}

/** The row of `step`, without its seconds (they vary). */
function row(r: Run, step: string): string {
  const found = r.rows.find((line) => line.slice(6).startsWith(`${step} `));
  return (found ?? `no row for ${step} in:\n${r.stdout}\n${r.stderr}`).replace(/^(PASS|FAIL)  (\S+)\s+\d+s  /, '$1 $2: ');
}

/** The run made exactly one namespace kube-aws-e2e-<random>, deleted it, and asked only what the fake knows. */
function expectCleanedUp(): void {
  expect(server!.created).toEqual([expect.stringMatching(/^kube-aws-e2e-[a-z0-9]{6}$/)]);
  expect(server!.deleted).toEqual(server!.created);
  expect(server!.unhandled).toEqual([]);
}

const STEPS = ['system-pods', 'nginx-lb', 'ebs-volume', 'dns', 'access', 'metrics', 'cleanup'];

describe('kube-aws e2e against a fake cluster', () => {
  test('a healthy cluster: every step PASSes, exit 0, the namespace deleted with its volume', async () => {
    const r = await e2e(HEALTHY);

    expect(r.code).toBe(0);
    expect(r.rows.map((line) => line.slice(0, 4))).toEqual(STEPS.map(() => 'PASS'));
    expect(r.rows.map((line) => line.slice(6).split(' ')[0])).toEqual(STEPS);
    const namespace = server!.created[0];
    expect(row(r, 'system-pods')).toMatch(new RegExp(`^PASS system-pods: ${HEALTHY_PODS.length} pods in headlamp, kube-system running and ready, no restarts since the run started at \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.000Z; not deployed, so taken as turned off \\(optional\\): headlamp$`));
    expect(row(r, 'nginx-lb')).toMatch(new RegExp(`^PASS nginx-lb: http://127\\.0\\.0\\.1:\\d+/ \\(${ELB.replace(/\./g, '\\.')}\\) served "Welcome to nginx!"$`));
    expect(row(r, 'ebs-volume')).toBe(`PASS ebs-volume: claim data-store-0 Bound in StorageClass gp3 (volume pvc-${namespace}); a new pod read the old pod's file after it was deleted`);
    expect(row(r, 'dns')).toBe('PASS dns: a pod resolved kubernetes.default and aws.amazon.com (Job dns Complete)');
    expect(row(r, 'access')).toBe(
      `PASS access: ReadOnly may list pods in ${namespace}; ReadOnly may not create apps/deployments in ${namespace}; PowerUser may create apps/deployments in ${namespace}; ` +
        'PowerUser may not create apps/deployments in kube-system; PowerUser may not get secrets in kube-system',
    );
    expect(row(r, 'metrics')).toBe(`PASS metrics: ${HEALTHY_NODES.length} nodes with cpu and memory usage in metrics.k8s.io/v1beta1`);
    expect(row(r, 'cleanup')).toBe(`PASS cleanup: namespace ${namespace} deleted, with its load balancer and volumes`);
    expect(r.stderr).toContain(`e2e ${CLUSTER}: PASSED: 7 passed, 0 failed`);
    expect(r.lbHits).toBeGreaterThan(0);
    expectCleanedUp();
    // Every test object in the run's namespace; the reviews name the cluster group and each role's group.
    const posts = server!.requests.filter((q) => q.method === 'POST');
    expect(posts.filter((q) => q.path.includes('/namespaces/')).every((q) => q.path.includes(`/namespaces/${namespace}/`))).toBe(true);
    const reviewGroups = posts.filter((q) => q.path.endsWith('/subjectaccessreviews')).map((q) => (q.body as { spec: V1SubjectAccessReviewSpec }).spec.groups);
    expect(reviewGroups).toEqual([[CLUSTER_GROUP, READ_ONLY], [CLUSTER_GROUP, READ_ONLY], [CLUSTER_GROUP, POWER_USER], [CLUSTER_GROUP, POWER_USER], [CLUSTER_GROUP, POWER_USER]]);
    // Signed in as the caller's IAM identity, aws-iam-authenticator's token format.
    expect(server!.requests.every((q) => /^Bearer k8s-aws-v1\.[A-Za-z0-9_-]+$/.test(q.authorization ?? ''))).toBe(true);
  });

  test('a system pod that restarts during the run: system-pods FAILs at once naming it, the other steps still run, exit 1', async () => {
    // Its last termination finished now, at each read: after the run's namespace was made.
    const restarting = () => systemPods(EXPECTED, ['headlamp'], (name) => (name === 'coredns' ? { restarts: 3, lastRestartAt: new Date() } : {}));

    const r = await e2e({ ...HEALTHY, systemPods: restarting });

    expect(r.code).toBe(1);
    expect(row(r, 'system-pods')).toMatch(/^FAIL system-pods: restarts: kube-system\/coredns-7d9c5b8f6-x\d+ container main restarted at \S+ \(Error exit 1; 3 restarts in all\)$/);
    expect(r.rows.filter((line) => line.startsWith('FAIL'))).toHaveLength(1);
    expect(r.stderr).toContain('FAILED: 6 passed, 1 failed');
    expectCleanedUp();
  });

  test('system pods restarted before the run (the masters\' daily certificate refresh): not counted, and the row says so', async () => {
    const refreshed = systemPods(EXPECTED, ['headlamp'], (name) => (name === 'kube-proxy' ? { restarts: 12 } : {}));

    const r = await e2e({ ...HEALTHY, systemPods: refreshed });

    expect(row(r, 'system-pods')).toMatch(/^PASS system-pods: \d+ pods .* no restarts since the run started at \S+ \(1 containers last restarted before it, e\.g\. by the masters' daily certificate refresh: not counted\)/);
    expect(r.code).toBe(0);
  });

  test.each([
    ['a hostname aimed at the metadata service', { loadBalancer: { hostname: '169.254.169.254/latest/meta-data/iam/security-credentials/#' } }, 'hostname "169.254.169.254/latest/meta-data/iam/security-credentials/#" is not an ELB name of region eu-central-1'],
    ['an ELB name of another region', { loadBalancer: { hostname: 'a0b1c2d3e4f5-123456789.us-east-1.elb.amazonaws.com' } }, 'hostname "a0b1c2d3e4f5-123456789.us-east-1.elb.amazonaws.com" is not an ELB name of region eu-central-1'],
    ['a link-local IP', { loadBalancerIp: '169.254.169.254' }, 'IP "169.254.169.254" is not a public unicast address'],
    ['a private IP', { loadBalancerIp: '10.0.1.10' }, 'IP "10.0.1.10" is not a public unicast address'],
  ])('a Service whose load balancer address is %s: nginx-lb FAILs before any request; cleaned up', async (_what, address, message) => {
    const r = await e2e({ ...HEALTHY, ...address });

    expect(r.code).toBe(1);
    expect(row(r, 'nginx-lb')).toContain(`FAIL nginx-lb: load balancer ${message}`);
    expect(row(r, 'nginx-lb')).toMatch(/: not requested$/);
    expect(r.lbHits).toBe(0);
    expectCleanedUp();
  });

  test('a load balancer that redirects: not followed (the answer is the redirect), nothing else requested', async () => {
    const elsewhere = await startFakeLoadBalancer(200, NGINX_PAGE);
    try {
      const r = await e2e(HEALTHY, ['--timeout', '1s'], { status: 302, body: '', headers: { location: elsewhere.url } });

      expect(row(r, 'nginx-lb')).toMatch(/^FAIL nginx-lb: timed out after 1s waiting for http:\/\/127\.0\.0\.1:\d+\/ to serve nginx's welcome page; last seen: HTTP 302: ""$/);
      expect(r.lbHits).toBeGreaterThan(0);
      expect(elsewhere.hits()).toBe(0);
    } finally {
      await elsewhere.close();
    }
  });

  test('a StorageClass that retains volumes: cleanup deletes the run\'s Released PersistentVolume and says which EBS volume stays in AWS', async () => {
    const r = await e2e({ ...HEALTHY, reclaimPolicy: 'Retain' });

    const namespace = server!.created[0];
    expect(r.code).toBe(0);
    expect(server!.deletedVolumes).toEqual([`pvc-${namespace}`]);
    expect(row(r, 'cleanup')).toBe(
      `PASS cleanup: namespace ${namespace} deleted, with its load balancer and volumes; PersistentVolume pvc-${namespace} had reclaim policy Retain: deleted, ` +
        `but its EBS volume ${VOLUME_ID} stays in AWS: delete it with aws ec2 delete-volume --region eu-central-1 --volume-id ${VOLUME_ID}`,
    );
    expectCleanedUp();
  });

  test('a namespace of that name made by someone else (409 AlreadyExists): namespace FAILs, and it is not deleted', async () => {
    const r = await e2e({ ...HEALTHY, existingNamespace: 'someone-elses' });

    expect(r.code).toBe(1);
    expect(r.rows.map((line) => line.slice(6).split(' ')[0])).toEqual(['namespace', 'cleanup']);
    expect(row(r, 'namespace')).toMatch(/^FAIL namespace: creating namespace kube-aws-e2e-\w+: HTTP 409: namespaces "kube-aws-e2e-\w+" already exists$/);
    expect(row(r, 'cleanup')).toMatch(/^PASS cleanup: namespace kube-aws-e2e-\w+ exists but this run did not make it \(no kubernetes-on-aws\/e2e-run annotation of its own\): left alone$/);
    expect(server!.deleted).toEqual([]);
    expect(server!.requests.filter((q) => q.method === 'DELETE')).toEqual([]);
  });

  test('a load balancer that never gets an address: nginx-lb FAILs after the timeout with what it saw; cleaned up', async () => {
    const r = await e2e({ ...HEALTHY, loadBalancer: 'never' }, ['--timeout', '2s']);

    expect(r.code).toBe(1);
    expect(row(r, 'nginx-lb')).toBe("FAIL nginx-lb: timed out after 2s waiting for Service web's load balancer address (status.loadBalancer.ingress); last seen: no ingress yet");
    expect(r.lbHits).toBe(0);
    expect(row(r, 'cleanup')).toMatch(/^PASS cleanup/);
    expectCleanedUp();
  });

  test('a load balancer that answers with something else: nginx-lb FAILs quoting the answer', async () => {
    const r = await e2e(HEALTHY, ['--timeout', '2s'], { status: 503, body: '<html>503 Service Unavailable</html>' });

    expect(row(r, 'nginx-lb')).toMatch(/^FAIL nginx-lb: timed out after 2s waiting for http:\/\/127\.0\.0\.1:\d+\/ to serve nginx's welcome page; last seen: HTTP 503: "<html>503 Service Unavailable<\/html>"$/);
    expect(r.code).toBe(1);
    expectCleanedUp();
  });

  test('a volume that loses its data across the pod restart: ebs-volume FAILs naming both pods', async () => {
    const r = await e2e({ ...HEALTHY, volumeKeepsData: false });

    expect(r.code).toBe(1);
    expect(row(r, 'ebs-volume')).toMatch(/^FAIL ebs-volume: the new pod \(uid (store-uid-\d+)\) did not find the old pod's file on volume pvc-kube-aws-e2e-\w+: its log lists \1, not uid store-uid-\d+ then its own$/);
    expectCleanedUp();
  });

  test('a DNS Job that fails: dns FAILs with the Job condition and its pod log', async () => {
    const r = await e2e({ ...HEALTHY, dnsJob: 'fail' });

    expect(r.code).toBe(1);
    expect(row(r, 'dns')).toBe(
      'FAIL dns: Job dns failed (BackoffLimitExceeded: Job has reached the specified backoff limit) resolving kubernetes.default and aws.amazon.com; ' +
        'pod dns-abcde log: "10.3.0.1          kubernetes.default.svc.cluster.local  kubernetes.default.svc.cluster.local"',
    );
    expectCleanedUp();
  });

  test('a PowerUser allowed into kube-system: access FAILs naming the question and the reason', async () => {
    const tooOpen = (spec: V1SubjectAccessReviewSpec) =>
      spec.groups?.includes(POWER_USER) && spec.resourceAttributes?.namespace === 'kube-system' ? { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "oops"' } : webhookDecision(spec);

    const r = await e2e({ ...HEALTHY, access: tooOpen });

    expect(r.code).toBe(1);
    expect(row(r, 'access')).toBe(
      `FAIL access: PowerUser (${POWER_USER}) ALLOWED create apps/deployments in kube-system, expected denied (RBAC: allowed by ClusterRoleBinding "oops"); ` +
        `PowerUser (${POWER_USER}) ALLOWED get secrets in kube-system, expected denied (RBAC: allowed by ClusterRoleBinding "oops")`,
    );
    expectCleanedUp();
  });

  test('a role group that grants nothing: access FAILs on the control question, saying which option to set', async () => {
    const r = await e2e(HEALTHY, ['--read-only-group', 'corp:k8s-readers']);

    expect(row(r, 'access')).toMatch(/^FAIL access: ReadOnly \(corp:k8s-readers\) denied list pods in kube-aws-e2e-\w+, expected allowed \(user "kube-aws-e2e-readonly" has none of the groups that grant a role \(ReadOnly, PowerUser, Administrator\)\) \(a role allowed nothing: is its group right\? --read-only-group, --power-user-group\)$/);
    expect(r.code).toBe(1);
    expectCleanedUp();
  });

  test('metrics missing: metrics FAILs after the timeout with the API error', async () => {
    const r = await e2e({ ...HEALTHY, metrics: { status: 503, message: 'service unavailable' } }, ['--timeout', '1s']);

    expect(r.code).toBe(1);
    expect(row(r, 'metrics')).toBe('FAIL metrics: timed out after 1s waiting for the metrics API to report every node; last seen: GET /apis/metrics.k8s.io/v1beta1/nodes: HTTP 503: service unavailable');
    expectCleanedUp();
  });

  test('a namespace that is not deleted in time: cleanup FAILs with what holds it and the command to finish by hand', async () => {
    const r = await e2e({ ...HEALTHY, namespaceDeletion: 'stuck' }, ['--cleanup-timeout', '1s']);

    expect(r.code).toBe(1);
    const namespace = server!.created[0];
    expect(row(r, 'cleanup')).toBe(
      `FAIL cleanup: timed out after 1s waiting for namespace ${namespace} to be gone; last seen: namespace Terminating: Some content in the namespace has finalizers remaining: ` +
        `service.kubernetes.io/load-balancer-cleanup in 1 resource instances; delete it by hand: kubectl delete namespace ${namespace}`,
    );
    expect(server!.deleted).toEqual([namespace]);
  });

  test('Ctrl-C: the waiting steps FAIL as interrupted, the namespace is deleted all the same, exit 130', async () => {
    const r = await e2e({ ...HEALTHY, loadBalancer: 'never' }, ['--timeout', '5m'], undefined, async (child) => {
      // Once the suite waits for the load balancer address (reading its Service), press Ctrl-C.
      while (!server!.requests.some((q) => q.method === 'GET' && q.path.endsWith('/services/web'))) await new Promise((resolve) => setTimeout(resolve, 20));
      child.kill('SIGINT');
    });

    expect(r.code).toBe(130);
    expect(row(r, 'nginx-lb')).toBe("FAIL nginx-lb: interrupted (Ctrl-C) while waiting for Service web's load balancer address (status.loadBalancer.ingress); last seen: no ingress yet");
    expect(row(r, 'cleanup')).toMatch(/^PASS cleanup: namespace kube-aws-e2e-\w+ deleted/);
    expect(r.stderr).toContain('interrupted: stopping, then deleting namespace');
    expectCleanedUp();
  });
});
