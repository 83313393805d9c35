import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { accessQuestions } from '../../lib/cli/e2e/access';
import { e2e, E2eDeps } from '../../lib/cli/e2e/e2e';
import type { V1Namespace } from '@kubernetes/client-node';
import type { E2eCluster } from '../../lib/cli/e2e/e2e-cluster';
import { DEFAULT_ROLE_GROUPS } from '../../lib/cli/e2e/e2e-options';
import { nodesWithoutMetrics } from '../../lib/cli/e2e/node-metrics';
import { refreshingCluster } from '../../lib/cli/e2e/refreshing-cluster';
import { loadBalancerHost, loadBalancerUrl } from '../../lib/cli/e2e/load-balancer-address';
import { RUN_TOKEN_ANNOTATION } from '../../lib/cli/e2e/run-namespace';
import { judgeSystemPods } from '../../lib/cli/e2e/system-pods';
import { Clock, StepFailure, waitFor } from '../../lib/cli/e2e/wait';
import { expectedObjects } from '../../lib/cli/validate/expected-objects';
import { authorize } from '../../webhook/authorizer';
import { iamRoleGroup } from '../../webhook/identities';
import { captureOutput, masterStack } from './cli-fixtures';
import { CLUSTER, CLUSTER_GROUP, HEALTHY_NODES } from './fixtures/cluster';
import { NODE_METRICS, pod, systemPods } from './fixtures/e2e/objects';

// The suite's logic without a cluster: verdicts on what was read, the waits, the token refresh,
// and the command's own handling of bad options, a failed start and a second Ctrl-C. The whole
// suite against an API server is test/cli/e2e-cli.test.ts.

/** A run that started after the fixtures' restarts (2026-12-01T10:00:00Z). */
const RUN_START = new Date('2026-12-04T12:00:00Z');
const EXPECTED = expectedObjects({ clusterName: CLUSTER, region: 'eu-central-1', account: '123456789012', partition: 'aws', clusterGroup: CLUSTER_GROUP });

/** Time that moves only when waited on; `onSleep` runs at each sleep (to press Ctrl-C, say). */
function fakeClock(onSleep: (sleeps: number) => void = () => {}): Clock & { sleeps: () => number } {
  let now = 0;
  let sleeps = 0;
  return {
    now: () => now,
    sleeps: () => sleeps,
    sleep: async (ms, signal) => {
      onSleep(++sleeps);
      if (signal.aborted) throw new Error('aborted');
      now += ms;
    },
  };
}

describe('judgeSystemPods', () => {
  test('every add-on workload with a running, ready pod and no restarts: nothing to report', () => {
    const verdict = judgeSystemPods(systemPods(EXPECTED), EXPECTED, RUN_START);

    expect(verdict).toMatchObject({ notReady: [], restarted: [], missing: [], turnedOff: [] });
    expect(verdict.ready).toBe(verdict.total);
  });

  test('a restart since the run started is reported with its last termination, even on a ready pod', () => {
    const verdict = judgeSystemPods(systemPods(EXPECTED, [], (name) => (name === 'kube-proxy' ? { restarts: 2, lastRestartAt: new Date('2026-12-04T12:03:00Z') } : {})), EXPECTED, RUN_START);

    expect(verdict.restarted).toEqual([expect.stringMatching(/^kube-system\/kube-proxy-x\d+ container main restarted at 2026-12-04T12:03:00.000Z \(Error exit 1; 2 restarts in all\)$/)]);
    expect(verdict.notReady).toEqual([]);
  });

  test('restarts that finished before the run started (the daily certificate refresh) are not counted, only numbered', () => {
    const pods = systemPods(EXPECTED, [], (name) => (name === 'kube-proxy' || name === 'coredns' ? { restarts: 14 } : {}));

    const verdict = judgeSystemPods(pods, EXPECTED, RUN_START);

    expect(verdict.restarted).toEqual([]);
    expect(verdict.restartedBefore).toBe(pods.filter((p) => /^(kube-proxy|coredns)-/.test(p.metadata!.name!)).length);
  });

  test('a restart in the run\'s first second counts (finishedAt has whole seconds); one a second before does not', () => {
    const at = (time: string) => judgeSystemPods(systemPods(EXPECTED, [], (name) => (name === 'coredns' ? { restarts: 1, lastRestartAt: new Date(time) } : {})), EXPECTED, new Date('2026-12-04T12:00:00.700Z'));

    expect(at('2026-12-04T12:00:00Z').restarted).toHaveLength(1);
    expect(at('2026-12-04T11:59:59Z').restarted).toHaveLength(0);
  });

  test('a pending pod is not ready, with its waiting reason; a finished Job pod is', () => {
    const pods = [
      ...systemPods(EXPECTED, [], (name) => (name === 'coredns' ? { phase: 'Pending', waitingReason: 'ImagePullBackOff' } : {})),
      pod('kube-system', 'cleanup-job-x', 'job-uid', { kind: 'Job', name: 'cleanup-job' }, {}, { phase: 'Succeeded', ready: false }),
    ];

    const verdict = judgeSystemPods(pods, EXPECTED, RUN_START);

    expect(verdict.notReady).toEqual([expect.stringMatching(/^kube-system\/coredns-\w+-x\d+: Pending, ContainersNotReady \(main ImagePullBackOff\)$/)]);
    expect(verdict.ready).toBe(pods.length - 1);
  });

  test('a workload of a required add-on without a pod is missing; an optional add-on without any is turned off', () => {
    // A pod of another Deployment whose name starts with "coredns" does not stand in for coredns.
    const pods = [
      ...systemPods(EXPECTED, ['headlamp']).filter((p) => !p.metadata!.name!.startsWith('coredns-')),
      pod('kube-system', 'coredns-autoscaler-5f6b7c8d9-abcde', 'x', { kind: 'ReplicaSet', name: 'coredns-autoscaler-5f6b7c8d9' }, { 'pod-template-hash': '5f6b7c8d9' }),
    ];

    const verdict = judgeSystemPods(pods, EXPECTED, RUN_START);

    expect(verdict.missing).toEqual(['Deployment kube-system/coredns (add-on coredns)']);
    expect(verdict.turnedOff).toEqual(['headlamp']);
  });
});

describe('nodesWithoutMetrics', () => {
  test('names each node the metrics API leaves out or reports without cpu and memory', () => {
    const metrics = [...NODE_METRICS.slice(1, 4), { ...NODE_METRICS[4], usage: { cpu: '100m' } }];

    expect(nodesWithoutMetrics(HEALTHY_NODES, metrics)).toEqual([HEALTHY_NODES[0].metadata!.name, HEALTHY_NODES[4].metadata!.name]);
    expect(nodesWithoutMetrics(HEALTHY_NODES, NODE_METRICS)).toEqual([]);
  });
});

describe('waitFor', () => {
  const props = (clock: Clock, signal = new AbortController().signal) => ({ clock, intervalMs: 1000, signal });

  test('times out with what it last saw, a read error included', async () => {
    const clock = fakeClock();
    let looks = 0;
    const probe = async () => {
      if (++looks === 3) throw new Error('connect ECONNREFUSED');
      return { waiting: `look ${looks}` };
    };

    await expect(waitFor(props(clock), 'the thing', 3500, probe)).rejects.toThrow(new StepFailure('timed out after 3.5s waiting for the thing; last seen: look 5'));
    await expect(waitFor(props(fakeClock()), 'the thing', 2000, async () => { throw new Error('connect ECONNREFUSED'); })).rejects.toThrow('last seen: connect ECONNREFUSED');
  });

  test('a StepFailure from the probe ends the wait at once', async () => {
    const clock = fakeClock();

    await expect(waitFor(props(clock), 'x', 60_000, async () => { throw new StepFailure('restarted'); })).rejects.toThrow('restarted');
    expect(clock.sleeps()).toBe(0);
  });

  test('Ctrl-C ends the wait, saying so', async () => {
    const controller = new AbortController();
    const clock = fakeClock((n) => n === 2 && controller.abort());

    await expect(waitFor(props(clock, controller.signal), 'the load balancer', 60_000, async () => ({ waiting: 'no ingress yet' }))).rejects.toThrow(
      'interrupted (Ctrl-C) while waiting for the load balancer; last seen: no ingress yet',
    );
  });
});

describe('refreshingCluster', () => {
  test('signs in again once the connection is older than the refresh age, and after a failed sign-in', async () => {
    let now = 0;
    const opened: number[] = [];
    let failNext = false;
    const open = async () => {
      opened.push(now);
      if (failNext) {
        failNext = false;
        throw new Error('ExpiredToken');
      }
      return { listNodes: async () => [] } as unknown as E2eCluster;
    };
    const cluster = refreshingCluster(open, () => now, 1000);

    await cluster.listNodes();
    now = 999;
    await cluster.listNodes();
    expect(opened).toEqual([0]);
    now = 1000;
    failNext = true;
    await expect(cluster.listNodes()).rejects.toThrow('ExpiredToken');
    await cluster.listNodes();
    expect(opened).toEqual([0, 1000, 1000]);
    // Not a thenable: awaiting it gives it back.
    expect(await Promise.resolve(cluster)).toBe(cluster);
  });
});

describe('accessQuestions', () => {
  test("expect what the webhook's matrix decides for the default role groups", () => {
    const policy = { clusterGroup: CLUSTER_GROUP, roles: { ReadOnly: [DEFAULT_ROLE_GROUPS.readOnly], PowerUser: [DEFAULT_ROLE_GROUPS.powerUser], Administrator: [iamRoleGroup('Administrator')] } };
    for (const q of accessQuestions('kube-aws-e2e-abc123', DEFAULT_ROLE_GROUPS)) {
      const a = q.attributes;
      const decision = authorize(
        { user: 'someone', groups: [CLUSTER_GROUP, q.group], resource: { verb: a.verb!, group: a.group ?? '', resource: a.resource!, subresource: '', namespace: a.namespace!, name: '' } },
        policy,
      );
      expect({ ...a, role: q.role, allowed: decision.allowed }).toEqual({ ...a, role: q.role, allowed: q.expectAllowed });
    }
  });
});

describe('loadBalancerHost: what the suite may GET from the operator\'s machine', () => {
  test.each([
    ['NLB', 'k8s-kubeawse-web-0123456789-0123456789abcdef.elb.eu-central-1.amazonaws.com', 'eu-central-1'],
    ['Classic ELB', 'a0b1c2d3e4f5-123456789.eu-central-1.elb.amazonaws.com', 'eu-central-1'],
    ['internal Classic ELB', 'internal-a0b1c2d3e4f5-123456789.eu-central-1.elb.amazonaws.com', 'eu-central-1'],
    ['NLB in China', 'a0b1-0123456789abcdef.elb.cn-north-1.amazonaws.com.cn', 'cn-north-1'],
    ['Classic ELB in China', 'a0b1-123456789.cn-north-1.elb.amazonaws.com.cn', 'cn-north-1'],
  ])('accepts the %s name %s', (_kind, hostname, region) => {
    expect(loadBalancerHost({ hostname }, region)).toBe(hostname);
  });

  test.each([
    ['the metadata service behind a path', '169.254.169.254/latest/meta-data/iam/security-credentials/#'],
    ['another region\'s NLB', 'a-0123.elb.us-east-1.amazonaws.com'],
    ['another region\'s Classic ELB', 'a-0123.us-east-1.elb.amazonaws.com'],
    ['a name that only contains the ending', 'a-0123.eu-central-1.elb.amazonaws.com.attacker.example'],
    ['userinfo', 'attacker.example@a-0123.eu-central-1.elb.amazonaws.com'],
    ['a port', 'a-0123.eu-central-1.elb.amazonaws.com:8080'],
    ['the bare ending', 'eu-central-1.elb.amazonaws.com'],
    ['any other name', 'intranet.corp.example'],
    ['a China ending outside China', 'a-0123.elb.eu-central-1.amazonaws.com.cn'],
  ])('refuses %s: %s', (_what, hostname) => {
    expect(() => loadBalancerHost({ hostname }, 'eu-central-1')).toThrow(new StepFailure(`load balancer hostname ${JSON.stringify(hostname)} is not an ELB name of region eu-central-1 (a DNS name ending in .elb.eu-central-1.amazonaws.com or .eu-central-1.elb.amazonaws.com): not requested`));
  });

  test.each(['52.28.0.1', '3.120.1.2', '2600:1f18:4a3:6902::7'])('accepts the public address %s', (ip) => {
    expect(loadBalancerHost({ ip }, 'eu-central-1')).toBe(ip);
  });

  test.each(['169.254.169.254', '10.0.1.10', '172.16.0.1', '192.168.1.1', '127.0.0.1', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', 'fe80::1', 'fd00:ec2::254', 'ff02::1', '::ffff:169.254.169.254', '2002:a9fe:a9fe::1', '52.28.0.1.nip.io', '0x7f.0.0.1', ''])(
    'refuses %j (not a public unicast address)',
    (ip) => {
      expect(() => loadBalancerHost({ ip }, 'eu-central-1')).toThrow(/is not a public unicast address .*: not requested$/);
    },
  );

  test('the URL is built by URL: host and port, an IPv6 address in brackets', () => {
    expect(loadBalancerUrl('a-0123.eu-central-1.elb.amazonaws.com', 80)).toBe('http://a-0123.eu-central-1.elb.amazonaws.com/');
    expect(loadBalancerUrl('52.28.0.1', 8080)).toBe('http://52.28.0.1:8080/');
    expect(loadBalancerUrl('2600:1f18::7', 80)).toBe('http://[2600:1f18::7]/');
  });
});

describe('e2e command', () => {
  /** A cluster whose every call fails unless `calls` answers it. */
  function stubCluster(calls: Partial<E2eCluster>): E2eCluster {
    return new Proxy(calls as E2eCluster, {
      get: (target, name: string) => target[name as keyof E2eCluster] ?? (name === 'then' ? undefined : async () => { throw new Error(`unexpected ${name}`); }),
    });
  }

  function deps(cluster: E2eCluster, extra: Partial<E2eDeps> = {}) {
    const out = captureOutput();
    const cloudFormation = { send: async () => masterStack('https://api.example') } as unknown as CloudFormationClient;
    const full: E2eDeps = { cloudFormation, signIn: async () => 'token', connect: () => cluster, out, clock: fakeClock(), runId: () => 'abc123', ...extra };
    return { deps: full, out };
  }

  test.each([
    [['kube-aws-test', '1', '--timeout', '5 minutes'], /^error: Invalid --timeout "5 minutes"/],
    [['kube-aws-test', '1', '--external-name', 'a.com; rm -rf /'], /^error: Invalid --external-name "a\.com; rm -rf \/": give a DNS name/],
    [['kube-aws-test', '1', '--image', ''], /^error: Invalid --image: it must not be empty/],
    // The test entry's way to a local load balancer is no option of the command.
    [['kube-aws-test', '1', '--load-balancer-url', 'http://169.254.169.254/'], /^error: Unknown option '--load-balancer-url'/],
  ])('%j is a usage error, exit 2, before any AWS call', async (argv, message) => {
    const signIn = jest.fn();
    const { deps: d, out } = deps(stubCluster({}), { signIn });

    expect(await e2e(argv, d)).toBe(2);
    expect(out.stderrText()).toMatch(message);
    expect(signIn).not.toHaveBeenCalled();
  });

  const timedOut = () => Object.assign(new Error('creating namespace kube-aws-e2e-abc123: no answer within 10s (--request-timeout)'), { name: 'ClusterReadError' });

  test('a creation that timed out but made the namespace (it carries the run\'s token): a FAIL row, and the cleanup deletes it', async () => {
    const deleted: string[] = [];
    let made: V1Namespace | undefined;
    const cluster = stubCluster({
      createNamespace: async (body) => {
        made = body;
        throw timedOut();
      },
      deleteNamespace: async (name) => {
        deleted.push(name);
        made = undefined;
      },
      readNamespace: async () => made,
      listPersistentVolumes: async () => [],
    });
    const { deps: d, out } = deps(cluster);

    expect(await e2e(['kube-aws-test', '1'], d)).toBe(1);
    expect(out.stdoutText()).toMatch(/^FAIL {2}namespace +0s {2}creating namespace kube-aws-e2e-abc123: no answer within 10s/m);
    expect(out.stdoutText()).toMatch(/^PASS {2}cleanup +0s {2}namespace kube-aws-e2e-abc123 deleted/m);
    expect(deleted).toEqual(['kube-aws-e2e-abc123']);
  });

  test.each([
    ['someone else\'s (409 AlreadyExists, no token of this run)', { metadata: { name: 'kube-aws-e2e-abc123', annotations: { [RUN_TOKEN_ANNOTATION]: 'another run' } } }, /^PASS {2}cleanup +0s {2}namespace kube-aws-e2e-abc123 exists but this run did not make it .*: left alone$/m],
    ['not made at all', undefined, /^PASS {2}cleanup +0s {2}nothing to delete: namespace kube-aws-e2e-abc123 was not made$/m],
  ])('a namespace that is %s: the cleanup deletes nothing', async (_what, existing, row) => {
    const deleteNamespace = jest.fn();
    const cluster = stubCluster({
      createNamespace: async () => { throw timedOut(); },
      readNamespace: async () => existing,
      deleteNamespace,
    });
    const { deps: d, out } = deps(cluster);

    expect(await e2e(['kube-aws-test', '1'], d)).toBe(1);
    expect(out.stdoutText()).toMatch(row);
    expect(deleteNamespace).not.toHaveBeenCalled();
  });

  test('a namespace that cannot be read after a failed creation: cleanup FAILs, deletes nothing, and names the token to look for', async () => {
    const deleteNamespace = jest.fn();
    const cluster = stubCluster({
      createNamespace: async () => { throw timedOut(); },
      readNamespace: async () => { throw new Error('reading namespace kube-aws-e2e-abc123: connect ECONNREFUSED'); },
      deleteNamespace,
    });
    const { deps: d, out } = deps(cluster, { runToken: () => 'f00d' });

    expect(await e2e(['kube-aws-test', '1'], d)).toBe(1);
    expect(out.stdoutText()).toMatch(
      /^FAIL {2}cleanup +0s {2}could not tell whether this run made namespace kube-aws-e2e-abc123 \(reading namespace kube-aws-e2e-abc123: connect ECONNREFUSED\): left alone; if its kubernetes-on-aws\/e2e-run annotation is f00d, delete it by hand: kubectl delete namespace kube-aws-e2e-abc123$/m,
    );
    expect(deleteNamespace).not.toHaveBeenCalled();
  });

  test('Ctrl-C twice: the second stops the cleanup, which FAILs saying what to delete by hand; exit 130', async () => {
    let interrupt: () => void = () => {};
    const unsubscribed = jest.fn();
    // First Ctrl-C while system pods are awaited, the second while the namespace is.
    const clock = fakeClock((n) => (n === 2 || n === 5) && interrupt());
    const cluster = stubCluster({
      createNamespace: async (body) => body,
      listPods: async () => [pod('kube-system', 'coredns-x', 'u', undefined, {}, { phase: 'Pending' })],
      deleteNamespace: async () => {},
      readNamespace: async () => ({ status: { phase: 'Terminating' } }),
    });
    const { deps: d, out } = deps(cluster, {
      clock,
      onInterrupt: (listener) => {
        interrupt = listener;
        return unsubscribed;
      },
    });

    expect(await e2e(['kube-aws-test', '1'], d)).toBe(130);
    expect(out.stdoutText()).toMatch(/^FAIL {2}system-pods .*interrupted \(Ctrl-C\) while waiting for every pod/m);
    expect(out.stdoutText()).toMatch(
      /^FAIL {2}cleanup .*interrupted \(Ctrl-C\) while waiting for namespace kube-aws-e2e-abc123 to be gone; last seen: namespace Terminating; delete it by hand: kubectl delete namespace kube-aws-e2e-abc123$/m,
    );
    // The steps after an interrupted system-pods are not run, and say so.
    expect(out.stdoutText().split('\n').filter((line) => /^FAIL  \S+ +0s  not run: interrupted \(Ctrl-C\)$/.test(line))).toHaveLength(5);
    expect(unsubscribed).toHaveBeenCalled();
  });
});
