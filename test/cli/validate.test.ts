import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { EXIT_FAILURE, EXIT_USAGE } from '../../lib/cli/errors';
import { readCertificateSeries, readNodeGroups } from '../../lib/cli/validate/aws-inventory';
import { expectedCertificates } from '../../lib/cli/validate/certificate-check';
import { ClusterReader, ClusterReadError } from '../../lib/cli/validate/cluster-reader';
import { expectedObjects } from '../../lib/cli/validate/expected-objects';
import { validate, ValidateDeps } from '../../lib/cli/validate/validate';
import { awsError, captureOutput, masterStack } from './cli-fixtures';
import { CLUSTER, CLUSTER_GROUP, HEALTHY_GROUPS, HEALTHY_NODES, READYZ_ETCD_DOWN, READYZ_OK, autoScalingGroup, healthyAddons } from './fixtures/cluster';

// validate's loop, exit codes and AWS reads, in-process: the cluster behind a plain-object
// ClusterReader, AWS behind aws-sdk-client-mock. validate-cli.test.ts runs the real thing.

const cloudFormation = mockClient(CloudFormationClient);
const autoScaling = mockClient(AutoScalingClient);
const cloudWatch = mockClient(CloudWatchClient);
const NOW = new Date('2026-12-04T12:00:00Z');
const EXPECTED = expectedObjects({ clusterName: CLUSTER, region: 'eu-central-1', account: '123456789012', partition: 'aws', clusterGroup: CLUSTER_GROUP });
const ADDONS = healthyAddons(EXPECTED);

/** A cluster whose reads answer from `ready()`: true is healthy, false has etcd down. */
function reader(ready: () => boolean = () => true): ClusterReader {
  return {
    readyz: async () => (ready() ? { status: 200, body: READYZ_OK } : { status: 500, body: READYZ_ETCD_DOWN }),
    listNodes: async () => [...HEALTHY_NODES],
    listDaemonSets: async (ns) => ADDONS.daemonSets.filter((d) => d.metadata?.namespace === ns),
    listDeployments: async (ns) => ADDONS.deployments.filter((d) => d.metadata?.namespace === ns),
    readApiService: async (name) => ADDONS.apiServices.find((s) => s.metadata?.name === name),
  };
}

function deps(overrides: Partial<Pick<ValidateDeps, 'connect' | 'signIn'>> = {}) {
  const out = captureOutput();
  let clock = NOW.getTime();
  const sleeps: number[] = [];
  const d = {
    cloudFormation: new CloudFormationClient({ region: 'eu-central-1' }),
    autoScaling: new AutoScalingClient({ region: 'eu-central-1' }),
    cloudWatch: new CloudWatchClient({ region: 'eu-central-1' }),
    signIn: jest.fn(async () => 'k8s-aws-v1.token'),
    connect: jest.fn(() => reader()),
    out,
    now: () => new Date(clock),
    sleep: async (ms: number) => {
      sleeps.push(ms);
      clock += ms;
    },
    ...overrides,
  };
  return { ...d, sleeps };
}

beforeEach(() => {
  cloudFormation.reset();
  autoScaling.reset();
  cloudWatch.reset();
  cloudFormation.on(DescribeStacksCommand, { StackName: `${CLUSTER}-master` }).resolves(masterStack('https://kube-aws-test-1.team.example.org'));
  autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [...HEALTHY_GROUPS] });
  cloudWatch.on(ListMetricsCommand).resolves({ Metrics: [{ Namespace: 'KubernetesOnAws', MetricName: 'CertificateDaysLeft', Dimensions: [{ Name: 'Cluster', Value: CLUSTER }, { Name: 'Certificate', Value: 'a/b/c.crt' }] }] });
  cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'c0', Values: [100] }] });
});

describe('validate', () => {
  test('connects to the stack\'s API URL with the signed-in token and the default 10 s request timeout', async () => {
    const d = deps();

    expect(await validate(['kube-aws-test', '1'], d)).toBe(0);

    expect(d.signIn).toHaveBeenCalledWith(expect.objectContaining({ clusterGroup: CLUSTER_GROUP, region: 'eu-central-1' }));
    expect(d.connect).toHaveBeenCalledWith('https://kube-aws-test-1.team.example.org', 'k8s-aws-v1.token', 10_000);
    expect(d.out.stderrText()).toContain(`${CLUSTER}: valid: `);
  });

  test('a WARN (no certificate data yet: one per expected certificate, 3 etcd members from the groups) does not fail, unless --strict', async () => {
    cloudWatch.on(ListMetricsCommand).resolves({ Metrics: [] });

    const lenient = deps();
    expect(await validate(['kube-aws-test', '1'], lenient)).toBe(0);
    const warnings = lenient.out.stdoutText().split('\n').filter((line) => line.startsWith('WARN'));
    expect(warnings).toEqual(expectedCertificates(CLUSTER, 3).map((name) => expect.stringMatching(new RegExp(`^WARN  certificates  ${name}: no data `))));
    expect(warnings).toContainEqual(expect.stringContaining('etcd/etcd-member-2/member.crt: no data'));
    expect(lenient.out.stderrText()).toContain('9 warnings (not failing; --strict makes them fail)');

    const strict = deps();
    expect(await validate(['kube-aws-test', '1', '--strict'], strict)).toBe(EXIT_FAILURE);
    expect(strict.out.stderrText()).toContain('NOT valid');
  });

  test('--wait: rounds every --interval with a fresh token each, until all pass; only the last round printed', async () => {
    let rounds = 0;
    const d = deps({ connect: jest.fn(() => reader(() => ++rounds >= 3)) });

    expect(await validate(['kube-aws-test', '1', '--wait', '2m', '--interval', '30s'], d)).toBe(0);

    expect(d.sleeps).toEqual([30_000, 30_000]);
    expect(d.signIn).toHaveBeenCalledTimes(3);
    expect(d.out.stdoutText()).not.toContain('FAIL');
    expect(d.out.stderrText()).toContain('round 1: 1 not passing (api-server); again in 30s');
  });

  test('--wait: never sleeps past the deadline, and prints the failing round when time is up', async () => {
    const d = deps({ connect: jest.fn(() => reader(() => false)) });

    expect(await validate(['kube-aws-test', '1', '--wait', '70s', '--interval', '30s'], d)).toBe(EXIT_FAILURE);

    expect(d.sleeps).toEqual([30_000, 30_000, 10_000]);
    expect(d.out.stdoutText()).toContain('FAIL  api-server');
  });

  test('without --wait: one round, no sleep', async () => {
    const d = deps({ connect: jest.fn(() => reader(() => false)) });
    expect(await validate(['kube-aws-test', '1'], d)).toBe(EXIT_FAILURE);
    expect(d.sleeps).toEqual([]);
  });

  test('a read that fails is a FAIL line, not a crash', async () => {
    const failing: ClusterReader = { ...reader(), listNodes: async () => Promise.reject(new ClusterReadError('listing nodes: 403 Forbidden: validate reads nodes')) };
    const d = deps({ connect: () => failing });

    expect(await validate(['kube-aws-test', '1'], d)).toBe(EXIT_FAILURE);
    expect(d.out.stdoutText()).toContain('FAIL  nodes         listing nodes: 403 Forbidden: validate reads nodes\n');
  });

  test('no credentials when signing in: the sign-in message, nothing read from the cluster', async () => {
    const d = deps({ signIn: async () => Promise.reject(awsError('CredentialsProviderError', 'Could not load credentials from any providers')) });

    expect(await validate(['kube-aws-test', '1'], d)).toBe(EXIT_FAILURE);
    expect(d.out.stderrText()).toMatch(/^error: No AWS credentials found\. Sign in first/);
    expect(d.connect).not.toHaveBeenCalled();
  });

  test.each([
    [[], 'Missing arguments'],
    [['kube-aws-test', '1', '--wait'], "Option '--wait <value>' argument missing"],
    [['kube-aws-test', '1', '--request-timeout', '0s'], 'Invalid --request-timeout "0s"'],
    [['kube-aws-test', '1', '--bogus'], "Unknown option '--bogus'"],
  ])('%j: usage error, exit 2, nothing read', async (argv, message) => {
    const d = deps();
    expect(await validate(argv, d)).toBe(EXIT_USAGE);
    expect(d.out.stderrText()).toContain(message);
    expect(cloudFormation.calls()).toHaveLength(0);
  });
});

describe('AWS reads', () => {
  test('Auto Scaling groups: filtered on the cluster tag, every page, role from the role tag', async () => {
    autoScaling
      .on(DescribeAutoScalingGroupsCommand)
      .resolvesOnce({ AutoScalingGroups: [autoScalingGroup('g1', 'etcd', ['i-01'])], NextToken: 'next' })
      .resolvesOnce({ AutoScalingGroups: [autoScalingGroup('g2', 'worker', ['i-02', 'i-03'], 3, (id) => (id === 'i-03' ? { LifecycleState: 'Pending' } : {}))] });

    const groups = await readNodeGroups(new AutoScalingClient({ region: 'eu-central-1' }), CLUSTER);

    // (The paginator reuses one input object, so the first call's record shows the last token too.)
    expect(autoScaling.commandCalls(DescribeAutoScalingGroupsCommand).map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({ Filters: [{ Name: `tag:kubernetes.io/cluster/${CLUSTER}`, Values: ['owned'] }] }),
      expect.objectContaining({ Filters: [{ Name: `tag:kubernetes.io/cluster/${CLUSTER}`, Values: ['owned'] }], NextToken: 'next' }),
    ]);
    expect(groups).toEqual([
      { name: 'g1', role: 'etcd', desiredCapacity: 1, instances: [{ instanceId: 'i-01', lifecycleState: 'InService', healthStatus: 'Healthy' }] },
      {
        name: 'g2',
        role: 'worker',
        desiredCapacity: 3,
        instances: [
          { instanceId: 'i-02', lifecycleState: 'InService', healthStatus: 'Healthy' },
          { instanceId: 'i-03', lifecycleState: 'Pending', healthStatus: 'Healthy' },
        ],
      },
    ]);
  });

  test('certificates: the names of lib/certificate-expiry.ts, the minimum over the last 2 days per certificate', async () => {
    const metric = (certificate: string) => ({ Namespace: 'KubernetesOnAws', MetricName: 'CertificateDaysLeft', Dimensions: [{ Name: 'Cluster', Value: CLUSTER }, { Name: 'Certificate', Value: certificate }] });
    cloudWatch.on(ListMetricsCommand).resolvesOnce({ Metrics: [metric('a.crt')], NextToken: 't' }).resolvesOnce({ Metrics: [metric('b.crt'), metric('quiet.crt')] });
    cloudWatch
      .on(GetMetricDataCommand)
      .resolvesOnce({ MetricDataResults: [{ Id: 'c0', Values: [90, 89.5] }, { Id: 'c1', Values: [] }], NextToken: 'more' })
      .resolvesOnce({ MetricDataResults: [{ Id: 'c1', Values: [12.25] }, { Id: 'c0', Values: [89.75] }] });

    const series = await readCertificateSeries(new CloudWatchClient({ region: 'eu-central-1' }), CLUSTER, NOW);

    expect(series).toEqual([
      { certificate: 'a.crt', minimumDaysLeft: 89.5 },
      { certificate: 'b.crt', minimumDaysLeft: 12.25 },
      { certificate: 'quiet.crt', minimumDaysLeft: undefined },
    ]);
    expect(cloudWatch.commandCalls(ListMetricsCommand)[0].args[0].input).toMatchObject({ Namespace: 'KubernetesOnAws', MetricName: 'CertificateDaysLeft', Dimensions: [{ Name: 'Cluster', Value: CLUSTER }] });
    const query = cloudWatch.commandCalls(GetMetricDataCommand)[0].args[0].input;
    expect(query.StartTime).toEqual(new Date('2026-12-02T12:00:00Z'));
    expect(query.EndTime).toEqual(NOW);
    expect(query.MetricDataQueries?.[1]).toEqual({ Id: 'c1', MetricStat: { Metric: metric('b.crt'), Period: 172_800, Stat: 'Minimum' } });
  });
});
