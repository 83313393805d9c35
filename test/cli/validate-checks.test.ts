import { checkAddons, checkApiService, checkDaemonSet, checkDeployment } from '../../lib/cli/validate/addon-check';
import { checkApiServer } from '../../lib/cli/validate/api-server-check';
import { certificateAuthorities, checkCertificates, expectedCertificates } from '../../lib/cli/validate/certificate-check';
import { allPassed, formatResult, pass, warn } from '../../lib/cli/validate/check-result';
import { parseDuration } from '../../lib/cli/validate/duration';
import { ExpectedObject, addonNamespaces, expectedObjects, objectsOf } from '../../lib/cli/validate/expected-objects';
import { checkNodeGroups, instanceIdOf, NodeGroupInventory } from '../../lib/cli/validate/node-group-check';
import { EXIT_USAGE } from '../../lib/cli/errors';
import { ADDONS } from '../../manifests/addons/registry';
import { CONTEXT } from '../manifests/addons/addon-fixtures';
import { READYZ_ETCD_DOWN, READYZ_OK, apiService, daemonSet, deployment, node } from './fixtures/cluster';

// The checks as pure functions of what was read, on objects in the API's own shapes
// (test/cli/fixtures/cluster.ts cites them).

describe('api-server', () => {
  test('ready: PASS naming the etcd checks', () => {
    expect(checkApiServer({ status: 200, body: READYZ_OK })).toEqual(pass('api-server', '/readyz ok (etcd ok, etcd-readiness ok)'));
  });

  test('etcd down: FAIL naming the failed checks', () => {
    expect(checkApiServer({ status: 500, body: READYZ_ETCD_DOWN })).toMatchObject({ status: 'FAIL', detail: '/readyz not ready, failed: etcd, etcd-readiness (etcd failed, etcd-readiness failed)' });
  });

  test('a 200 whose body does not end with "readyz check passed" fails (not the API server\'s verbose answer); another status fails with its first line', () => {
    expect(checkApiServer({ status: 200, body: 'ok' })).toMatchObject({ status: 'FAIL', detail: '/readyz not ready, HTTP 200 without its last line "readyz check passed" (not the API server\'s answer?): "ok" (no etcd checks listed)' });
    expect(checkApiServer({ status: 200, body: '<html>Welcome</html>\n' })).toMatchObject({ status: 'FAIL' });
    expect(checkApiServer({ status: 200, body: READYZ_OK.replace('readyz check passed\n', '') })).toMatchObject({ status: 'FAIL' });
    expect(checkApiServer({ status: 200, body: 'readyz check passed\n' })).toMatchObject({ status: 'PASS' });
    expect(checkApiServer({ status: 403, body: '{"message":"forbidden"}\nmore' })).toMatchObject({ status: 'FAIL', detail: '/readyz not ready, HTTP 403: {"message":"forbidden"} (no etcd checks listed)' });
  });

  test('no answer: FAIL with the reason', () => {
    expect(checkApiServer({ error: 'no answer within 1s' })).toMatchObject({ status: 'FAIL', detail: '/readyz: no answer within 1s' });
  });
});

describe('nodes', () => {
  const group = (role: string, ids: string[], desired = ids.length, state: Record<string, Partial<{ lifecycleState: string; healthStatus: string }>> = {}): NodeGroupInventory => ({
    name: `g-${role}`,
    role,
    desiredCapacity: desired,
    instances: ids.map((instanceId) => ({ instanceId, lifecycleState: 'InService', healthStatus: 'Healthy', ...state[instanceId] })),
  });
  const TAG = 'kubernetes.io/cluster/c';

  test('every InService instance a Ready node, as many as desired: PASS', () => {
    expect(checkNodeGroups([group('worker', ['i-01', 'i-02'])], [node('a', 'i-01'), node('b', 'i-02')], TAG)).toEqual([pass('nodes', 'worker g-worker: 2/2 nodes Ready')]);
  });

  test('an instance without a node, a NotReady node, an Unknown one: FAIL naming each', () => {
    const [result] = checkNodeGroups([group('worker', ['i-01', 'i-02', 'i-03'])], [node('b', 'i-02', false), node('c', 'i-03', 'unknown')], TAG);
    expect(result).toMatchObject({
      status: 'FAIL',
      detail: 'worker g-worker: 0/3 nodes Ready; i-01 not registered as a node; i-02 (node b) NotReady: KubeletNotReady; i-03 (node c) NotReady: NodeStatusUnknown',
    });
  });

  test('fewer instances than desired, Pending ones: FAIL with the count', () => {
    const [result] = checkNodeGroups([group('worker', ['i-01', 'i-02'], 3, { 'i-02': { lifecycleState: 'Pending' } })], [node('a', 'i-01')], TAG);
    expect(result).toMatchObject({ status: 'FAIL', detail: 'worker g-worker: 1/3 nodes Ready; 1 InService instances, desired 3; i-02 Pending' });
  });

  test('a Ready node on an instance Auto Scaling marks Unhealthy: FAIL', () => {
    const [result] = checkNodeGroups([group('master', ['i-01'], 1, { 'i-01': { healthStatus: 'Unhealthy' } })], [node('a', 'i-01')], TAG);
    expect(result).toMatchObject({ status: 'FAIL', detail: 'master g-master: 0/1 nodes Ready; i-01 Unhealthy' });
  });

  test('etcd: instances only, never nodes (no kubelet)', () => {
    expect(checkNodeGroups([group('etcd', ['i-0e'])], [], TAG)).toEqual([pass('nodes', 'etcd g-etcd: 1/1 instances InService and Healthy (etcd members are not Kubernetes nodes)')]);
    expect(checkNodeGroups([group('etcd', ['i-0e'], 1, { 'i-0e': { lifecycleState: 'Terminating' } })], [], TAG)[0]).toMatchObject({
      status: 'FAIL',
      detail: 'etcd g-etcd: 0/1 instances InService and Healthy (etcd members are not Kubernetes nodes); 0 InService instances, desired 1; i-0e Terminating',
    });
  });

  test('an emptied group (desired 0) passes; no group at all fails', () => {
    expect(checkNodeGroups([group('worker', [], 0)], [], TAG)[0]).toMatchObject({ status: 'PASS' });
    expect(checkNodeGroups([], [], TAG)).toEqual([expect.objectContaining({ status: 'FAIL', detail: expect.stringContaining(`no Auto Scaling group tagged ${TAG}=owned`) })]);
  });

  test('providerID: the instance id is its last part (cloud-provider-aws MapToAWSInstanceID)', () => {
    expect(instanceIdOf('aws:///eu-central-1a/i-0123456789abcdef0')).toBe('i-0123456789abcdef0');
    expect(instanceIdOf('aws:////i-0123')).toBe('i-0123');
    expect(instanceIdOf('i-0abc')).toBe('i-0abc');
    expect(instanceIdOf('aws:///eu-central-1a/fargate-10.0.0.1')).toBeUndefined();
    expect(instanceIdOf(undefined)).toBeUndefined();
  });
});

describe('workloads and APIServices', () => {
  test('a DaemonSet: available == desired and all updated passes; the API omits zero numberAvailable', () => {
    expect(checkDaemonSet(daemonSet('kube-system', 'kube-proxy', 3))).toEqual(pass('daemonset', 'kube-system/kube-proxy: 3/3 available'));
    const none = daemonSet('kube-system', 'kube-proxy', 3, { available: 0 });
    expect(none.status).not.toHaveProperty('numberAvailable');
    expect(checkDaemonSet(none)).toMatchObject({ status: 'FAIL', detail: 'kube-system/kube-proxy: 0/3 available' });
  });

  test('a DaemonSet with nothing scheduled (desired 0) or a Deployment scaled to 0: FAIL, nothing runs', () => {
    expect(checkDaemonSet(daemonSet('kube-system', 'kube-proxy', 0))).toMatchObject({
      status: 'FAIL',
      detail: 'kube-system/kube-proxy: 0/0 available; no node to run on (desiredNumberScheduled 0): nodeSelector, tolerations or taints?',
    });
    expect(checkDeployment(deployment('kube-system', 'coredns', 0))).toMatchObject({ status: 'FAIL', detail: 'kube-system/coredns: 0/0 available; scaled to 0 replicas: nothing runs' });
  });

  test('a DaemonSet mid-rollout (old pods available) or not yet observed fails', () => {
    expect(checkDaemonSet(daemonSet('kube-system', 'flannel', 3, { updated: 1 }))).toMatchObject({ status: 'FAIL', detail: 'kube-system/flannel: 3/3 available; 1/3 updated' });
    expect(checkDaemonSet(daemonSet('kube-system', 'flannel', 3, { generation: 4, observedGeneration: 3 }))).toMatchObject({
      status: 'FAIL',
      detail: 'kube-system/flannel: 3/3 available; generation 4 not yet observed (at 3)',
    });
  });

  test('a Deployment: unavailable, old replicas left, or spec.replicas left out (default 1)', () => {
    expect(checkDeployment(deployment('kube-system', 'coredns', 2, { available: 1 }))).toMatchObject({ status: 'FAIL', detail: 'kube-system/coredns: 1/2 available' });
    expect(checkDeployment(deployment('kube-system', 'coredns', 2, { total: 3 }))).toMatchObject({ status: 'FAIL', detail: 'kube-system/coredns: 2/2 available; 1 old replicas pending termination' });
    const defaulted = deployment('kube-system', 'x', 1);
    delete defaulted.spec!.replicas;
    expect(checkDeployment(defaulted)).toEqual(pass('deployment', 'kube-system/x: 1/1 available'));
    expect(checkDeployment({ ...defaulted, status: {} })).toMatchObject({ status: 'FAIL', detail: 'kube-system/x: 0/1 available; generation 3 not yet observed (at 0); 0/1 updated' });
  });

  test('an APIService: Available True passes, otherwise the reason', () => {
    expect(checkApiService(apiService('v1beta1.metrics.k8s.io'))).toEqual(pass('apiservice', 'v1beta1.metrics.k8s.io: Available'));
    expect(checkApiService(apiService('v1beta1.metrics.k8s.io', false))).toMatchObject({ status: 'FAIL', detail: expect.stringMatching(/^v1beta1\.metrics\.k8s\.io: not Available \(FailedDiscoveryCheck: failing/) });
    expect(checkApiService({ metadata: { name: 'v1.x' } })).toMatchObject({ status: 'FAIL', detail: 'v1.x: not Available (no Available condition yet)' });
  });

  const EXPECTED: ExpectedObject[] = [
    { addon: 'coredns', optional: false, kind: 'Deployment', namespace: 'kube-system', name: 'coredns' },
    { addon: 'metrics-server', optional: true, kind: 'Deployment', namespace: 'kube-system', name: 'metrics-server' },
    { addon: 'metrics-server', optional: true, kind: 'APIService', name: 'v1beta1.metrics.k8s.io' },
  ];
  const none = { daemonSets: [], deployments: [], apiServices: new Map() };

  test('a required add-on missing fails; an optional one with nothing deployed is taken as turned off', () => {
    expect(checkAddons(EXPECTED, none)).toEqual([
      expect.objectContaining({ status: 'FAIL', check: 'deployment', detail: 'kube-system/coredns: missing (add-on coredns, which every cluster runs)' }),
      pass('add-ons', 'not deployed, so taken as turned off (optional): metrics-server'),
    ]);
  });

  test('an optional add-on partly there is held to all its objects', () => {
    const results = checkAddons(EXPECTED, { ...none, deployments: [deployment('kube-system', 'coredns', 2), deployment('kube-system', 'metrics-server', 1)] });
    expect(results.filter((r) => r.status !== 'PASS')).toEqual([
      expect.objectContaining({ check: 'apiservice', detail: 'v1beta1.metrics.k8s.io: missing (add-on metrics-server, whose other objects exist)' }),
    ]);
  });

  test('a workload no add-on names (in their namespaces) is checked too', () => {
    const results = checkAddons(EXPECTED, { ...none, deployments: [deployment('kube-system', 'coredns', 2), deployment('kube-system', 'extra', 1, { available: 0 })] });
    expect(results).toContainEqual(expect.objectContaining({ status: 'FAIL', detail: 'kube-system/extra: 0/1 available' }));
  });
});

describe('expected objects', () => {
  test('read from the registry: every add-on workload and the metrics APIService, optional ones marked', () => {
    const expected = expectedObjects(CONTEXT);
    expect(expected).toContainEqual({ addon: 'coredns', optional: false, kind: 'Deployment', namespace: 'kube-system', name: 'coredns' });
    expect(expected).toContainEqual({ addon: 'flannel', optional: false, kind: 'DaemonSet', namespace: 'kube-system', name: 'kube-flannel' });
    expect(expected).toContainEqual({ addon: 'metrics-server', optional: true, kind: 'APIService', namespace: undefined, name: 'v1beta1.metrics.k8s.io' });
    expect(addonNamespaces(expected)).toEqual(['headlamp', 'kube-system']);
  });

  test("the CLI's placeholders for what it cannot know change no kind, name or namespace", () => {
    const real = { ...CONTEXT, workerPoolTaints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' as const }] };
    expect(expectedObjects(CONTEXT)).toEqual(objectsOf(ADDONS, real));
  });
});

describe('certificates', () => {
  test('all far from expiry: one PASS naming the soonest', () => {
    expect(checkCertificates([{ certificate: 'a', minimumDaysLeft: 300.4 }, { certificate: 'b', minimumDaysLeft: 45.9 }])).toEqual([pass('certificates', '2 certificates, the soonest to expire b in 45 days')]);
  });

  test('below the warning threshold: WARN; expired: FAIL; nothing in the window: WARN', () => {
    expect(checkCertificates([{ certificate: 'a', minimumDaysLeft: 29.9 }, { certificate: 'b', minimumDaysLeft: 30 }, { certificate: 'c', minimumDaysLeft: -1 }, { certificate: 'd' }])).toEqual([
      warn('certificates', 'd: no data in the last 2 days (is the renewal still publishing?)'),
      expect.objectContaining({ status: 'FAIL', detail: 'c: expired (-1 days left)' }),
      warn('certificates', 'a: 29 days left, below 30 (its renewal is failing)'),
    ]);
  });

  test('a CA warns a year ahead (it is rotated, not renewed); a leaf with as many days left passes', () => {
    const authorities = certificateAuthorities('c');
    expect([...authorities].sort()).toEqual(['control-plane/control-plane/ca.crt', 'control-plane/front-proxy-ca/ca.crt', 'etcd/etcd-ca/ca.crt']);
    expect(checkCertificates([
      { certificate: 'etcd/etcd-ca/ca.crt', minimumDaysLeft: 364.5 },
      { certificate: 'control-plane/control-plane/ca.crt', minimumDaysLeft: 365 },
      { certificate: 'etcd/etcd-member-0/member.crt', minimumDaysLeft: 200 },
    ], undefined, authorities)).toEqual([
      warn('certificates', 'etcd/etcd-ca/ca.crt: 364 days left, below 365: a CA is rotated, not renewed (lib/secrets/README.md, Rotation)'),
    ]);
  });

  test('each expected certificate ListMetrics does not list: WARN no data, the listed ones judged as before', () => {
    const expected = expectedCertificates('c', 1);
    const published = expected.filter((name) => name.startsWith('control-plane/')).map((certificate) => ({ certificate, minimumDaysLeft: 300 }));

    expect(checkCertificates(published, expected)).toEqual([
      ...['etcd/etcd-ca/ca.crt', 'etcd/etcd-member-0/member.crt', 'etcd/apiserver-etcd-client/apiserver-etcd-client.crt'].map((name) =>
        warn('certificates', `${name}: no data (no KubernetesOnAws/CertificateDaysLeft metric published for it; is its set's renewal running?)`),
      ),
    ]);
    expect(checkCertificates([], expected)).toHaveLength(expected.length);
    expect(checkCertificates(expected.map((certificate) => ({ certificate, minimumDaysLeft: 300 })), expected)).toEqual([pass('certificates', `${expected.length} certificates, the soonest to expire etcd/etcd-ca/ca.crt in 300 days`)]);
  });

  test('the expected names: every set\'s certificates, one etcd member certificate per member', () => {
    expect(expectedCertificates('c', 3).filter((name) => name.includes('member'))).toEqual(['etcd/etcd-member-0/member.crt', 'etcd/etcd-member-1/member.crt', 'etcd/etcd-member-2/member.crt']);
    expect(expectedCertificates('c', 3)).toEqual(expect.arrayContaining(['control-plane/control-plane/apiserver.crt', 'etcd/etcd-ca/ca.crt']));
  });

  test('no metric at all and nothing expected known: WARN no data yet', () => {
    expect(checkCertificates([])).toEqual([warn('certificates', 'no data yet: no KubernetesOnAws/CertificateDaysLeft metric for this cluster (published by the certificate renewal)')]);
  });
});

describe('lines and exit', () => {
  test('WARN passes unless strict; FAIL never', () => {
    expect(allPassed([pass('x', ''), warn('y', '')], false)).toBe(true);
    expect(allPassed([pass('x', ''), warn('y', '')], true)).toBe(false);
    expect(allPassed([{ status: 'FAIL', check: 'x', detail: '' }], false)).toBe(false);
  });

  test('text from the cluster cannot drive the terminal: control characters become ?', () => {
    expect(formatResult(pass('nodes', 'NotReady: \u001b]0;owned\u0007\nPASS  fake\u009b2J'))).toBe('PASS  nodes         NotReady: ?]0;owned??PASS  fake?2J');
  });
});

describe('durations', () => {
  test.each([['90s', 90_000], ['10m', 600_000], ['1m30s', 90_000], ['250ms', 250], ['1h', 3_600_000]])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text, '--wait', 'usage')).toBe(ms);
  });

  test.each(['10', '10 minutes', '1.5m', '-5s', '0s', '', 'm'])('%j is a usage error naming the option', (text) => {
    expect(() => parseDuration(text, '--wait', 'usage')).toThrow(expect.objectContaining({ exitCode: EXIT_USAGE, message: expect.stringContaining(`Invalid --wait "${text}"`) }));
  });
});
