import { ConfigError, DEFAULTS, DEFAULT_KUBERNETES_VERSION, loadClusterConfig } from '../lib/config';
import { EXAMPLE_CONTEXT, exampleConfig } from './util';

/** The problems a context yields, or none. */
function problemsOf(overrides: Record<string, unknown>): readonly string[] {
  try {
    exampleConfig(overrides);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('loadClusterConfig', () => {
  test('reads the example cluster of cdk.json', () => {
    const config = exampleConfig();
    expect(config).toMatchObject({
      stack: 'kube-aws-test',
      version: '1',
      clusterName: 'kube-aws-test-1',
      account: '123456789012',
      region: 'eu-central-1',
      hostedZone: { name: 'team.example.org', id: 'Z0123456789EXAMPLE' },
      apiDomainName: 'kube-aws-test-1.team.example.org',
      clusterGroup: 'aws:123456789012:eu-central-1:kube-aws-test-1',
      certificateArn: undefined,
      flatcarAmi: { kind: 'id', amiId: 'ami-0f1e2d3c4b5a69788' },
      kubernetesVersion: DEFAULT_KUBERNETES_VERSION,
      apiAllowedCidrs: ['0.0.0.0/0'],
    });
    expect(config.network.nodeSubnetIds).toHaveLength(3);
  });

  test('fills the documented defaults', () => {
    const config = exampleConfig();
    expect(config.etcd).toEqual({ instanceType: DEFAULTS.instanceType, count: 3 });
    expect(config.master).toEqual({ instanceType: DEFAULTS.instanceType, count: 1 });
    // Desired is left to the Auto Scaling group (and cluster-autoscaler) unless set.
    expect(config.worker).toEqual({ instanceType: DEFAULTS.instanceType, minSize: 1, desiredCapacity: undefined, maxSize: 10 });
  });

  test('takes command-line strings: numbers and comma-separated lists', () => {
    const config = exampleConfig({
      etcdCount: '5',
      workerMaxSize: '20',
      workerDesiredCapacity: '4',
      availabilityZones: 'eu-central-1a, eu-central-1b',
      nodeSubnetIds: 'subnet-0a000000000000001,subnet-0b000000000000002',
      loadBalancerSubnetIds: 'subnet-0a000000000000011,subnet-0b000000000000012',
      flatcarAmi: 'ami-0123456789abcdef0',
      workerInstanceType: 'm6i.xlarge',
    });
    expect(config.etcd.count).toBe(5);
    expect(config.worker).toMatchObject({ maxSize: 20, desiredCapacity: 4, instanceType: 'm6i.xlarge' });
    expect(config.network.availabilityZones).toEqual(['eu-central-1a', 'eu-central-1b']);
    expect(config.flatcarAmi).toEqual({ kind: 'id', amiId: 'ami-0123456789abcdef0' });
  });

  test('accepts a lookup of the Flatcar image and a trailing dot on the zone', () => {
    const config = exampleConfig({ flatcarAmi: 'lookup', hostedZoneName: 'team.example.org.' });
    expect(config.flatcarAmi).toEqual({ kind: 'lookup' });
    expect(config.hostedZone.name).toBe('team.example.org');
  });

  test('is frozen', () => {
    const config = exampleConfig();
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.worker)).toBe(true);
    expect(Object.isFrozen(config.network.nodeSubnetIds)).toBe(true);
  });

  // Every kind of bad value: the context key it names and what the message says.
  test.each<[string, Record<string, unknown>, string, RegExp]>([
    ['missing stack', { stack: undefined }, 'stack', /is required/],
    ['stack with capitals', { stack: 'Kube_AWS' }, 'stack', /lowercase letters, digits and inner hyphens, got 'Kube_AWS'/],
    ['stack ending in a hyphen', { stack: 'kube-' }, 'stack', /got 'kube-'/],
    ['missing version', { version: undefined }, 'version', /is required/],
    ['version with a dot', { version: '1.2' }, 'version', /got '1.2'/],
    ['version as a number', { version: 2 }, 'version', /got 2/],
    ['cluster name too long', { stack: 'a-very-long-cluster-stack-name' }, 'stack', /at most 28/],
    ['short account', { account: '1234' }, 'account', /12-digit AWS account id, got '1234'/],
    ['missing account', { account: undefined }, 'account', /is required/],
    ['bad region', { region: 'europe' }, 'region', /AWS region name, got 'europe'/],
    ['bad zone name', { hostedZoneName: 'not a zone' }, 'hostedZoneName', /hosted zone name/],
    ['zone without a dot', { hostedZoneName: 'localhost' }, 'hostedZoneName', /must be a domain name/],
    ['bad zone id', { hostedZoneId: 'abc' }, 'hostedZoneId', /hosted zone id, got 'abc'/],
    ['bad certificate ARN', { certificateArn: 'arn:aws:iam::123456789012:role/x' }, 'certificateArn', /ACM certificate ARN/],
    [
      'certificate of another region',
      { certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b' },
      'certificateArn',
      /in the cluster's region eu-central-1/,
    ],
    ['bad VPC id', { vpcId: 'vpc-xyz' }, 'vpcId', /VPC id, got 'vpc-xyz'/],
    ['missing zones', { availabilityZones: undefined }, 'availabilityZones', /is required/],
    ['zone of another region', { availabilityZones: ['us-east-1a', 'eu-central-1b', 'eu-central-1c'] }, 'availabilityZones', /in the region eu-central-1, got us-east-1a/],
    ['repeated zone', { availabilityZones: ['eu-central-1a', 'eu-central-1a', 'eu-central-1c'] }, 'availabilityZones', /must not repeat/],
    ['bad subnet id', { nodeSubnetIds: ['subnet-1', 'subnet-0b000000000000002', 'subnet-0c000000000000003'] }, 'nodeSubnetIds', /subnet ids, got "subnet-1"/],
    ['subnets not one per zone', { loadBalancerSubnetIds: ['subnet-0a000000000000011'] }, 'loadBalancerSubnetIds', /one subnet per availability zone.*\(3\), got 1/],
    ['missing Flatcar image', { flatcarAmi: undefined }, 'flatcarAmi', /is required/],
    ['bad Flatcar image', { flatcarAmi: 'flatcar' }, 'flatcarAmi', /an AMI id, a map of region to AMI id, or 'lookup'/],
    ['Flatcar map without the region', { flatcarAmi: { 'us-east-1': 'ami-0f1e2d3c4b5a69788' } }, 'flatcarAmi', /no valid AMI id for the region 'eu-central-1'/],
    ['unsupported Kubernetes', { kubernetesVersion: '1.20.0' }, 'kubernetesVersion', /supported versions .*got '1.20.0'/],
    ['bad instance type', { workerInstanceType: 'large' }, 'workerInstanceType', /EC2 instance type, got 'large'/],
    ['bad etcd instance type', { etcdInstanceType: 'M6I.LARGE' }, 'etcdInstanceType', /EC2 instance type/],
    ['even etcd count', { etcdCount: 2 }, 'etcdCount', /must be odd/],
    ['etcd count too large', { etcdCount: 9 }, 'etcdCount', /from 1 to 7, got 9/],
    ['etcd count not a number', { etcdCount: 'three' }, 'etcdCount', /whole number .* got "three"/],
    ['no masters', { masterCount: 0 }, 'masterCount', /from 1 to 9, got 0/],
    ['fractional masters', { masterCount: 1.5 }, 'masterCount', /whole number/],
    ['min above max', { workerMinSize: 5, workerMaxSize: 3 }, 'workerMinSize', /must not exceed workerMaxSize \(3\), got 5/],
    ['desired above max', { workerDesiredCapacity: 11 }, 'workerDesiredCapacity', /between workerMinSize \(1\) and workerMaxSize \(10\), got 11/],
    ['plain-http token info', { tokenInfoUrl: 'http://auth.example.org/tokeninfo' }, 'tokenInfoUrl', /an https URL/],
    ['missing token info', { tokenInfoUrl: undefined }, 'tokenInfoUrl', /is required/],
    ['negative secrets generation', { controlPlaneSecretsGeneration: -1 }, 'controlPlaneSecretsGeneration', /whole number from 0/],
    ['bad API CIDR', { apiAllowedCidrs: ['10.0.0.0/8', 'everywhere'] }, 'apiAllowedCidrs', /IPv4 CIDR blocks .*"everywhere"/],
  ])('%s is reported against its key with an example', (_, overrides, key, message) => {
    const problems = problemsOf(overrides);
    const problem = problems.find((p) => p.startsWith(`${key}: `));
    expect(problem).toBeDefined();
    expect(problem).toMatch(message);
    expect(problem).toMatch(new RegExp(`\\(example: --context ${key}=\\S+`));
  });

  test('reports every problem at once', () => {
    const problems = problemsOf({ stack: undefined, account: 'x', etcdCount: 4, workerInstanceType: '?' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['account', 'etcdCount', 'stack', 'workerInstanceType']);
  });

  test('the error message lists the problems and says where to fix them', () => {
    const read = (key: string) => ({ ...EXAMPLE_CONTEXT, etcdCount: 2 } as Record<string, unknown>)[key];
    expect(() => loadClusterConfig(read)).toThrow(/1 problem\); fix these context values in cdk.json or with --context KEY=VALUE:\n {2}- etcdCount: must be odd/);
  });
});
