import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as fc from 'fast-check';
import { ConfigError, DEFAULTS, DEFAULT_KUBERNETES_VERSION, clusterContextKeys, loadClusterConfig } from '../lib/config';
import { flatcarMachineImage } from '../lib/constructs/flatcar-image';
import { EXAMPLE_CONTEXT, exampleConfig, exampleContext, problemsOf } from './util';

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
    // Without workerPools, the worker* keys make the one default pool: on-demand, every node subnet.
    expect(config.workerPools).toEqual([
      { name: 'default', instanceTypes: [DEFAULTS.instanceType], minSize: 1, maxSize: 10, rootVolumeSizeGiB: 50, labels: {}, taints: [] },
    ]);
    expect(config.disabledAddons).toEqual([]);
    expect(config.roleArns).toEqual({ ReadOnly: [], PowerUser: [], Administrator: [] });
    expect(config.partition).toBe('aws');
  });

  test('the break-glass admin token is off unless asked for: true or false, from cdk.json or the command line', () => {
    expect(exampleConfig().breakGlassAdminToken).toBe(false);
    expect(exampleConfig({ breakGlassAdminToken: 'true' }).breakGlassAdminToken).toBe(true);
    expect(exampleConfig({ breakGlassAdminToken: true }).breakGlassAdminToken).toBe(true);
    expect(exampleConfig({ breakGlassAdminToken: 'false' }).breakGlassAdminToken).toBe(false);
    expect(() => exampleConfig({ breakGlassAdminToken: 'yes' })).toThrow(
      'breakGlassAdminToken: must be true or false (whether the API servers accept the static admin token), got "yes" (example: --context breakGlassAdminToken=true)',
    );
  });

  test('IAM principals per role, and the partition from the region', () => {
    const config = exampleConfig({ powerUserRoleArns: 'arn:aws:iam::123456789012:role/Developers,arn:aws:iam::123456789012:user/ci' });
    expect(config.roleArns.PowerUser).toEqual(['arn:aws:iam::123456789012:role/Developers', 'arn:aws:iam::123456789012:user/ci']);
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
    expect(config.workerPools).toEqual([expect.objectContaining({ maxSize: 20, desiredCapacity: 4, instanceTypes: ['m6i.xlarge'] })]);
    expect(config.network.availabilityZones).toEqual(['eu-central-1a', 'eu-central-1b']);
    expect(config.flatcarAmi).toEqual({ kind: 'id', amiId: 'ami-0123456789abcdef0' });
  });

  test('accepts a lookup of the Flatcar image and a trailing dot on the zone', () => {
    const config = exampleConfig({ flatcarAmi: 'lookup', hostedZoneName: 'team.example.org.' });
    expect(config.flatcarAmi).toEqual({ kind: 'lookup' });
    expect(config.hostedZone.name).toBe('team.example.org');
  });

  test('no worker to start with is fine when nothing waits for workers, or when a desired size starts some', () => {
    expect(() => exampleConfig({ workerMinSize: 0, disabledAddons: 'kube-state-metrics,headlamp' })).not.toThrow();
    expect(() => exampleConfig({ workerMinSize: 0, workerDesiredCapacity: 2 })).not.toThrow();
  });

  test('is frozen', () => {
    const config = exampleConfig();
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.workerPools[0])).toBe(true);
    expect(Object.isFrozen(config.workerPools[0].instanceTypes)).toBe(true);
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
    ['bad Flatcar image', { flatcarAmi: 'flatcar' }, 'flatcarAmi', /must be an AMI id .*, a map of region to AMI id in cdk.json, or 'lookup' .*got 'flatcar'/],
    [
      'Flatcar map without the region',
      { flatcarAmi: { 'us-east-1': 'ami-0f1e2d3c4b5a69788' } },
      'flatcarAmi',
      /has no AMI id for the region 'eu-central-1' \(the map in cdk.json names us-east-1\): add "eu-central-1": "ami-..." to the flatcarAmi map in cdk.json/,
    ],
    ['Flatcar map with a bad id for the region', { flatcarAmi: { 'eu-central-1': 'ami-xyz' } }, 'flatcarAmi', /must map the region 'eu-central-1' to an AMI id .*got 'ami-xyz'/],
    [
      'Flatcar map on the command line',
      { flatcarAmi: '{"eu-central-1":"ami-0f1e2d3c4b5a69788"}' },
      'flatcarAmi',
      /command-line context values are strings; put a map of region to AMI id in cdk.json/,
    ],
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
    ['an add-on the cluster needs turned off', { disabledAddons: 'coredns' }, 'disabledAddons', /'coredns' cannot be turned off \(the cluster needs it\); optional add-ons: .*headlamp/],
    ['no worker to start with, while add-ons wait for workers', { workerMinSize: 0 }, 'workerMinSize', /0 starts no worker, but the worker stack waits for kube-state-metrics, headlamp to run on workers/],
    ['an add-on that does not exist turned off', { disabledAddons: ['headlamp', 'dashboard'] }, 'disabledAddons', /'dashboard' cannot be turned off \(there is no such add-on\)/],
    ['missing token info', { tokenInfoUrl: undefined }, 'tokenInfoUrl', /is required/],
    ['negative secrets generation', { controlPlaneSecretsGeneration: -1 }, 'controlPlaneSecretsGeneration', /whole number from 0/],
    ['bad API CIDR', { apiAllowedCidrs: ['10.0.0.0/8', 'everywhere'] }, 'apiAllowedCidrs', /IPv4 CIDR blocks .*"everywhere"/],
    ['API CIDR numbers above 255', { apiAllowedCidrs: '999.999.999.999/99' }, 'apiAllowedCidrs', /numbers 0 to 255, prefix length 0 to 32\), got "999.999.999.999\/99"/],
    ['API CIDR prefix above 32', { apiAllowedCidrs: ['1.2.3.4/33'] }, 'apiAllowedCidrs', /prefix length 0 to 32\), got "1.2.3.4\/33"/],
    ['API CIDR with a leading zero', { apiAllowedCidrs: '010.0.0.0/8' }, 'apiAllowedCidrs', /got "010.0.0.0\/8"/],
    [
      'API CIDR with host bits set',
      { apiAllowedCidrs: '203.0.113.0/24,10.0.0.1/8' },
      'apiAllowedCidrs',
      /'10.0.0.1\/8' has host bits set, and AWS would widen it to 10.0.0.0\/8 .*write 10.0.0.0\/8 for that network, or 10.0.0.1\/32 for the one address/,
    ],
    // Given but malformed says what is wrong, never "is required".
    ['stack given empty', { stack: '' }, 'stack', /^stack: must be a name .*, got an empty value/],
    ['Flatcar image given empty', { flatcarAmi: '' }, 'flatcarAmi', /^flatcarAmi: must be an AMI id .*got an empty value/],
    ['zones given empty', { availabilityZones: ' , ' }, 'availabilityZones', /^availabilityZones: is empty: list availability zone names/],
    ['zones not a list', { availabilityZones: 3 }, 'availabilityZones', /must be a list of availability zone names \(a JSON array in cdk.json, comma-separated on the command line\), got 3/],
    [
      'empty API CIDR list',
      { apiAllowedCidrs: [] },
      'apiAllowedCidrs',
      /^apiAllowedCidrs: is empty: list IPv4 CIDR blocks .*, or leave apiAllowedCidrs out for the default \(0.0.0.0\/0\)/,
    ],
    ['empty group list', { readOnlyGroups: ',' }, 'readOnlyGroups', /^readOnlyGroups: is empty: list group names .*, or leave readOnlyGroups out for the default \(none\)/],
    // system:authenticated would make every signed-in user the role.
    ['a system: group as a role group', { powerUserGroups: 'team-a,system:authenticated' }, 'powerUserGroups', /must list only group names without spaces or commas, none starting with system: or kubernetes-on-aws:/],
    // A path would never match: an STS role session names the role without it.
    ['an IAM role ARN with a path', { administratorRoleArns: 'arn:aws:iam::123456789012:role/team/Admins' }, 'administratorRoleArns', /must list only IAM role or user ARNs without a path/],
  ])('%s is reported against its key with an example', (_, overrides, key, message) => {
    const problems = problemsOf(overrides);
    const problem = problems.find((p) => p.startsWith(`${key}: `));
    expect(problem).toBeDefined();
    expect(problem).toMatch(message);
    expect(problem).toMatch(new RegExp(`\\(example: --context ${key}=\\S+`));
  });

  test('accepts IPv4 CIDR blocks at the edges of the ranges', () => {
    const cidrs = ['0.0.0.0/0', '255.255.255.255/32', '10.0.0.0/8', '192.168.1.128/25', '203.0.113.7/32'];
    expect(exampleConfig({ apiAllowedCidrs: cidrs.join(',') }).apiAllowedCidrs).toEqual(cidrs);
  });

  test('a CIDR block is accepted exactly when its host bits are clear, and the network it suggests is accepted', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    fc.assert(
      fc.property(fc.tuple(octet, octet, octet, octet), fc.integer({ min: 0, max: 32 }), (octets, prefix) => {
        const cidr = `${octets.join('.')}/${prefix}`;
        // Independent of the code under test: the address as a 32-bit number, in BigInt.
        const value = octets.reduce((n, o) => n * 256n + BigInt(o), 0n);
        const hostBitsClear = value % (1n << BigInt(32 - prefix)) === 0n;
        const problems = problemsOf({ apiAllowedCidrs: cidr });
        expect(problems).toHaveLength(hostBitsClear ? 0 : 1);
        if (!hostBitsClear) {
          const network = problems[0].match(/widen it to (\S+)/)![1];
          const networkValue = network.split(/[./]/).slice(0, 4).reduce((n, o) => n * 256n + BigInt(o), 0n);
          expect(networkValue).toBe(value - (value % (1n << BigInt(32 - prefix))));
          expect(network.endsWith(`/${prefix}`)).toBe(true);
          expect(problemsOf({ apiAllowedCidrs: network })).toEqual([]);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('a setting given a value that fits none is reported as malformed, never as missing', () => {
    for (const key of clusterContextKeys()) {
      const problem = problemsOf({ [key]: ' ' }).find((p) => p.startsWith(`${key}: `));
      expect({ key, problem }).toEqual({ key, problem: expect.stringMatching(/^\S+: (must|is empty)/) });
    }
  });

  test('reports every problem at once', () => {
    const problems = problemsOf({ stack: undefined, account: 'x', etcdCount: 4, workerInstanceType: '?' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['account', 'etcdCount', 'stack', 'workerInstanceType']);
  });

  test('the error message lists the problems and says where to fix them', () => {
    const read = (key: string) => ({ ...EXAMPLE_CONTEXT, etcdCount: 2 } as Record<string, unknown>)[key];
    expect(() => loadClusterConfig(read, Object.keys(EXAMPLE_CONTEXT))).toThrow(/1 problem\); fix these context values in cdk.json or with --context KEY=VALUE:\n {2}- etcdCount: must be odd/);
  });
});

describe('context keys', () => {
  test.each<[string, string]>([
    ['workerInstanceTyp', 'workerInstanceType'], // the issue's example: a letter left out
    ['wrokerMaxSize', 'workerMaxSize'], // two letters swapped
    ['WorkerMinSize', 'workerMinSize'], // case
    ['apiAllowedCidr', 'apiAllowedCidrs'],
    ['etcdcount', 'etcdCount'],
  ])('an unknown key %s is an error that names the nearest setting, %s', (unknown, nearest) => {
    const problems = problemsOf({ [unknown]: '5' });
    expect(problems).toEqual([
      `${unknown}: is not a setting of this app; did you mean ${nearest}? (every setting is in the Settings table of README.md) ` +
        `(example: --context ${nearest}=5)`,
    ]);
  });

  test('the example for an unknown key carries its value as the command line writes it', () => {
    expect(problemsOf({ nodeSubnetId: ['subnet-0a000000000000001', 'subnet-0b000000000000002'] })).toEqual([
      expect.stringMatching(/^nodeSubnetId: .*did you mean nodeSubnetIds\? .*\(example: --context nodeSubnetIds=subnet-0a000000000000001,subnet-0b000000000000002\)$/),
    ]);
  });

  test("a map under an unknown key gets the setting's own example, as a map does not fit on the command line", () => {
    expect(problemsOf({ flatcarAmiMap: { 'eu-central-1': 'ami-0f1e2d3c4b5a69788' } })).toEqual([
      expect.stringMatching(/^flatcarAmiMap: .*did you mean flatcarAmi\? .*\(example: --context flatcarAmi=lookup\)$/),
    ]);
  });

  test('unknown keys are reported with the other problems', () => {
    const problems = problemsOf({ workerInstanceTyp: 'm5.large', etcdCount: 2 });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['etcdCount', 'workerInstanceTyp']);
  });

  test("the CDK's own keys are not the app's to judge", () => {
    // What the CLI injects (seen with a debug print under `npx cdk synth`, aws-cdk 2.1148.1),
    // what cdk.json and cdk.context.json may hold, and one lookup-cache key of every provider
    // (`<provider>:<props>`, aws-cdk-lib core/lib/context-provider.ts ContextProvider.getKey).
    const cdkKeys = [
      'aws:cdk:enable-path-metadata',
      'aws:cdk:enable-asset-metadata',
      'aws:cdk:version-reporting',
      'aws:cdk:bundling-stacks',
      '@aws-cdk/core:newStyleStackSynthesis',
      'aws-cdk:enableDiffNoFail',
      'cdk-migrate',
      'acknowledged-issue-numbers',
      'ami:account=123456789012:filters.image-type.0=machine:region=eu-central-1',
      'availability-zones:account=123456789012:region=eu-central-1',
      'hosted-zone:account=123456789012:domainName=team.example.org:region=eu-central-1',
      'ssm:account=123456789012:parameterName=/x:region=eu-central-1',
      'vpc-provider:account=123456789012:filter.vpc-id=vpc-0a1b2c3d4e5f60718:region=eu-central-1',
      'endpoint-service-availability-zones:account=123456789012:region=eu-central-1:serviceName=x',
      'load-balancer:account=123456789012:region=eu-central-1',
      'load-balancer-listener:account=123456789012:region=eu-central-1',
      'security-group:account=123456789012:region=eu-central-1:securityGroupId=sg-1',
      'key-provider:account=123456789012:aliasName=alias/x:region=eu-central-1',
      'cc-api-provider:account=123456789012:region=eu-central-1',
      'plugin:account=123456789012:pluginName=x:region=eu-central-1',
    ];
    expect(problemsOf(Object.fromEntries(cdkKeys.map((key) => [key, 'x'])))).toEqual([]);
  });

  test('the key of the Flatcar image lookup, as cdk.context.json caches it, is accepted', () => {
    const app = new App();
    flatcarMachineImage(new Stack(app, 'Lookup', { env: { account: '123456789012', region: 'eu-central-1' } }), { kind: 'lookup' }, 'eu-central-1');
    const [lookup] = app.synth().manifest.missing ?? [];
    expect(lookup.key).toMatch(/^ami:/);
    expect(problemsOf({ flatcarAmi: 'lookup', [lookup.key]: 'ami-0f1e2d3c4b5a69788' })).toEqual([]);
  });

  test('every key is read whatever the context holds, so the settings do not depend on it', () => {
    const readKeys = (overrides: Record<string, unknown>) => {
      const context = exampleContext(overrides);
      const seen = new Set<string>();
      try {
        loadClusterConfig((key) => (seen.add(key), context[key]), Object.keys(context));
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
      }
      return [...seen];
    };
    const withPools = { workerPools: '[{"name":"general","instanceTypes":["m6i.large"],"maxSize":3}]', workerMinSize: 2 };
    for (const overrides of [{}, { flatcarAmi: 'lookup', workerDesiredCapacity: 2 }, { region: undefined, stack: 'Bad' }, { flatcarAmi: 'x' }, withPools]) {
      expect(readKeys(overrides)).toEqual(clusterContextKeys());
    }
  });

  test("README's Settings table lists every setting and no other", () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    const section = readme.split(/^## Settings \(CDK context\)$/m)[1].split(/^#/m)[0];
    const documented = section
      .split('\n')
      .filter((line) => /^\| `/.test(line))
      .flatMap((line) => [...line.split('|')[1].matchAll(/`([^`]+)`/g)].map((m) => m[1]));
    expect([...documented].sort()).toEqual([...clusterContextKeys()].sort());
  });
});
