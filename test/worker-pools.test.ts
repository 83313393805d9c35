import { loadClusterConfig } from '../lib/config';
import { isKubeletLabel, nodeLabelProblems, parseTaint, qualifiedNameProblems, labelValueProblems } from '../lib/worker-pools';
import { exampleConfig, exampleContext, problemsOf } from './util';

/** The problems of `workerPools` given as these pools (a JSON string, as on the command line). */
function poolProblems(pools: unknown[]): readonly string[] {
  return problemsOf({ workerPools: JSON.stringify(pools) });
}

const general = { name: 'general', instanceTypes: ['m6i.large'], minSize: 1, maxSize: 10 };
const LONG_KEY = `${'a'.repeat(30)}.example.com/${'b'.repeat(40)}`;
/** The add-ons that run on workers need a pool without taints beside a tainted one. */
const untainted = { name: 'system', instanceTypes: ['m6i.large'], minSize: 1, maxSize: 3 };

/** The acceptance example, as `--context workerPools='...'` passes it: a string. */
const ACCEPTANCE_EXAMPLE =
  '[{"name":"general","instanceTypes":["m6i.large"],"minSize":1,"maxSize":10},' +
  '{"name":"spot","instanceTypes":["m6i.large","m5.large","m5a.large"],"spot":true,"minSize":0,"maxSize":20,' +
  '"labels":{"pool":"spot"},"taints":["spot=true:NoSchedule"]}]';

describe('workerPools', () => {
  test("the issue's example parses to its two pools, the settings left out at their defaults", () => {
    expect(exampleConfig({ workerPools: ACCEPTANCE_EXAMPLE }).workerPools).toEqual([
      { name: 'general', instanceTypes: ['m6i.large'], minSize: 1, maxSize: 10, rootVolumeSizeGiB: 50, labels: {}, taints: [] },
      {
        name: 'spot',
        instanceTypes: ['m6i.large', 'm5.large', 'm5a.large'],
        spot: { onDemandBaseCapacity: 0, onDemandPercentageAboveBaseCapacity: 0, allocationStrategy: 'price-capacity-optimized' },
        minSize: 0,
        maxSize: 20,
        rootVolumeSizeGiB: 50,
        labels: { pool: 'spot' },
        taints: [{ key: 'spot', value: 'true', effect: 'NoSchedule' }],
      },
    ]);
  });

  test('the JSON array of cdk.json and the JSON string of the command line agree', () => {
    const fromString = exampleConfig({ workerPools: ACCEPTANCE_EXAMPLE }).workerPools;
    expect(exampleConfig({ workerPools: JSON.parse(ACCEPTANCE_EXAMPLE) }).workerPools).toEqual(fromString);
  });

  test('every pool setting is read', () => {
    const [pool] = exampleConfig({
      workerPools: [
        {
          name: 'batch',
          instanceTypes: ['c7i.metal-24xl', 'c6a.xlarge'],
          spot: true,
          onDemandBaseCapacity: 2,
          onDemandPercentageAboveBaseCapacity: 25,
          spotAllocationStrategy: 'capacity-optimized',
          minSize: 2,
          desiredCapacity: 3,
          maxSize: 8,
          rootVolumeSize: 200,
          labels: { 'example.com/team': 'data', 'node.kubernetes.io/lifecycle': 'spot', 'kubelet.kubernetes.io/role': 'batch', empty: '' },
          taints: ['dedicated=batch:NoExecute', 'gpu:PreferNoSchedule'],
          subnetIds: ['subnet-0b000000000000002'],
        },
        untainted,
      ],
    }).workerPools;
    expect(pool).toEqual({
      name: 'batch',
      instanceTypes: ['c7i.metal-24xl', 'c6a.xlarge'],
      spot: { onDemandBaseCapacity: 2, onDemandPercentageAboveBaseCapacity: 25, allocationStrategy: 'capacity-optimized' },
      minSize: 2,
      desiredCapacity: 3,
      maxSize: 8,
      rootVolumeSizeGiB: 200,
      labels: { 'example.com/team': 'data', 'node.kubernetes.io/lifecycle': 'spot', 'kubelet.kubernetes.io/role': 'batch', empty: '' },
      taints: [
        { key: 'dedicated', value: 'batch', effect: 'NoExecute' },
        { key: 'gpu', effect: 'PreferNoSchedule' },
      ],
      subnetIds: ['subnet-0b000000000000002'],
    });
  });

  test('without workerPools, the worker* keys make the one pool named default', () => {
    expect(exampleConfig({ workerInstanceType: 'm5.xlarge', workerMinSize: '2', workerMaxSize: 6, workerDesiredCapacity: 3 }).workerPools).toEqual([
      { name: 'default', instanceTypes: ['m5.xlarge'], minSize: 2, desiredCapacity: 3, maxSize: 6, rootVolumeSizeGiB: 50, labels: {}, taints: [] },
    ]);
  });

  test.each([
    ['workerInstanceType', 'm5.large', 'instanceTypes'],
    ['workerMinSize', 2, 'minSize'],
    ['workerMaxSize', '5', 'maxSize'],
    ['workerDesiredCapacity', 3, 'desiredCapacity'],
  ])('%s next to workerPools is refused, naming the pool setting that replaces it', (key, value, poolKey) => {
    expect(problemsOf({ workerPools: [general], [key]: value })).toEqual([
      `${key}: workerPools replaces ${key}: set ${poolKey} in the pool instead, and leave ${key} out ` +
        `(example: --context workerPools='[{"name":"general","instanceTypes":["m6i.large"],"minSize":1,"maxSize":10}]')`,
    ]);
  });

  // The five cases, and the other ways a pool can be wrong: the exact message each gives.
  test.each<[string, unknown[], string]>([
    ['duplicate names', [general, { ...general, maxSize: 3 }], "pools 1 and 2 are both named 'general': give each pool a name of its own"],
    ['min above max', [{ ...general, minSize: 5, maxSize: 3 }], "pool 'general': minSize: (5) must not exceed maxSize (3): lower minSize or raise maxSize"],
    [
      'an unknown instance family',
      [{ ...general, instanceTypes: ['m6i.large', 'mm5.large'] }],
      "pool 'general': instanceTypes: 'mm5.large' is of no known EC2 instance family ('mm5'): check its spelling (e.g. m6i.large, c7i.xlarge)",
    ],
    [
      'a taint with a bad effect',
      [{ ...general, taints: ['spot=true:NoSchedul'] }],
      "pool 'general': taints: 'spot=true:NoSchedul': effect 'NoSchedul' must be one of NoSchedule, PreferNoSchedule, NoExecute",
    ],
    [
      'a label in kubernetes.io the kubelet may not set',
      [{ ...general, labels: { 'node-role.kubernetes.io/worker': '' } }],
      "pool 'general': labels: key 'node-role.kubernetes.io/worker' is in the reserved kubernetes.io namespace and a kubelet may not set it on its node " +
        "(only [*.]kubelet.kubernetes.io/*, [*.]node.kubernetes.io/* and a few well-known labels): use your own prefix (e.g. 'example.com/worker'), or set it with kubectl label",
    ],
    [
      'a label in k8s.io',
      [{ ...general, labels: { 'example.k8s.io/x': 'y' } }],
      "pool 'general': labels: key 'example.k8s.io/x' is in the reserved k8s.io namespace and a kubelet may not set it on its node " +
        "(only [*.]kubelet.kubernetes.io/*, [*.]node.kubernetes.io/* and a few well-known labels): use your own prefix (e.g. 'example.com/x'), or set it with kubectl label",
    ],
    ['our pool label', [{ ...general, labels: { 'node.kubernetes.io/pool': 'x' } }], "pool 'general': labels: key 'node.kubernetes.io/pool' is set by this app to the pool's name: remove it (the pool's name is its value already)"],
    ['our label namespace', [{ ...general, labels: { 'kubernetes-on-aws/node-role': 'worker' } }], "pool 'general': labels: key 'kubernetes-on-aws/node-role' is in this app's own namespace kubernetes-on-aws/: choose a key with your own prefix"],
    ['a bad label value', [{ ...general, labels: { team: 'a b' } }], "pool 'general': labels: value of 'team' must be empty or at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"],
    ['max not above a positive min', [{ ...general, minSize: 3, maxSize: 3 }], "pool 'general': maxSize: (3) must exceed minSize (3): a rolling update starts the new instance before it stops an old one; raise maxSize to 4"],
    ['spot settings without spot', [{ ...general, onDemandBaseCapacity: 1 }], "pool 'general': onDemandBaseCapacity: applies only to a Spot pool: set \"spot\": true in this pool, or remove it"],
    ['an unknown pool key', [{ ...general, minsize: 1 }], "pool 'general': 'minsize' is not a pool setting: fix its spelling or remove it (pool settings: name, instanceTypes, spot, onDemandBaseCapacity, onDemandPercentageAboveBaseCapacity, spotAllocationStrategy, minSize, maxSize, desiredCapacity, rootVolumeSize, labels, taints, subnetIds)"],
    ['a name too long', [{ ...general, name: 'a-very-long-pool-name-x' }], "pool 'a-very-long-pool-name-x': name: must be lowercase letters, digits and inner hyphens, at most 20 characters, got \"a-very-long-pool-name-x\""],
    ['no max', [{ name: 'general', instanceTypes: ['m6i.large'], minSize: 1 }], "pool 'general': maxSize: is required: the most workers of this pool, a whole number from 0 to 1000"],
    ['a subnet outside nodeSubnetIds', [{ ...general, subnetIds: ['subnet-0f000000000000009'] }], "pool 'general': subnetIds: must name only subnets of nodeSubnetIds (subnet-0a000000000000001, subnet-0b000000000000002, subnet-0c000000000000003), got \"subnet-0f000000000000009\""],
    ['desired outside the bounds', [{ ...general, desiredCapacity: 11 }], "pool 'general': desiredCapacity: must lie between minSize (1) and maxSize (10), got 11"],
    ['a root volume too small', [{ ...general, rootVolumeSize: 19 }], "pool 'general': rootVolumeSize: must be a whole number from 20 to 16384 (GiB), got 19"],
    ['a bad Spot strategy', [{ ...general, spot: true, spotAllocationStrategy: 'cheapest' }], "pool 'general': spotAllocationStrategy: must be one of price-capacity-optimized, capacity-optimized, capacity-optimized-prioritized, lowest-price, got \"cheapest\""],
    ['a repeated taint', [{ ...general, taints: ['a=1:NoSchedule', 'a=2:NoSchedule'] }, untainted], "pool 'general': taints: has more than one taint of key a: keep one per key (cluster-autoscaler describes a pool's taints with one tag per key)"],
    ['a taint key with two effects', [{ ...general, taints: ['a=1:NoSchedule', 'a=1:NoExecute'] }, untainted], "pool 'general': taints: has more than one taint of key a: keep one per key (cluster-autoscaler describes a pool's taints with one tag per key)"],
    ['an arm64 type', [{ ...general, instanceTypes: ['m6i.large', 'm7g.large'] }], "pool 'general': instanceTypes: 'm7g.large' is an arm64 (Graviton) type, but the nodes run amd64 binaries and the amd64 Flatcar image: choose an x86_64 type (e.g. m6i.large)"],
    ['a reserved taint key', [{ ...general, taints: ['node.cloudprovider.kubernetes.io/uninitialized=true:PreferNoSchedule'] }], "pool 'general': taints: 'node.cloudprovider.kubernetes.io/uninitialized=true:PreferNoSchedule': key 'node.cloudprovider.kubernetes.io/uninitialized' is in the reserved kubernetes.io namespace, whose taints Kubernetes sets and removes itself: use your own prefix (e.g. 'example.com/uninitialized')"],
    // A valid label key (a 42-character subdomain, a 40-character name) whose tag would pass 128.
    ['a label key too long for its tag', [{ ...general, labels: { [LONG_KEY]: 'v' } }], `pool 'general': labels: key '${LONG_KEY}' is 83 characters; cluster-autoscaler's tag k8s.io/cluster-autoscaler/node-template/label/<key> allows at most 82`],
    ['too many labels and taints', [{ ...general, labels: Object.fromEntries(Array.from({ length: 39 }, (_, i) => [`l${i}`, 'v'])), taints: ['a:PreferNoSchedule', 'b:PreferNoSchedule'] }], "pool 'general': labels: and taints are 41, more than 40: each is a tag of the pool's Auto Scaling group for cluster-autoscaler, and a group holds at most 50 tags, 10 of them ours"],
    ['41 pools', Array.from({ length: 41 }, (_, i) => ({ ...general, name: `p${i}` })), 'lists 41 pools, more than 40: merge pools that differ only in size, or split the workers into another cluster'],
    ['an empty list', [], 'is empty: list at least one pool, or leave workerPools out for the one pool of the worker* settings'],
  ])('%s', (_, pools, message) => {
    const problems = poolProblems(pools);
    expect(problems).toEqual([expect.stringMatching(/ \(example: --context workerPools='\[.*\]'\)$/)]);
    expect(problems[0]).toBe(`workerPools: ${message}${problems[0].slice(problems[0].lastIndexOf(' (example: '))}`);
  });

  test("a problem's example is a valid workerPools value that shows the setting", () => {
    const [problem] = poolProblems([{ ...general, taints: ['spot=true:Sometimes'] }]);
    const example = problem.match(/--context workerPools='(.*)'\)$/)![1];
    expect(JSON.parse(example)[0].taints).toEqual(['dedicated=batch:NoSchedule']);
    expect(problemsOf({ workerPools: example })).toEqual([]);
  });

  test('many bad settings give every message at once', () => {
    const problems = poolProblems([
      { ...general, minSize: 5, maxSize: 3, labels: { 'node-role.kubernetes.io/worker': '' } },
      { ...general, instanceTypes: ['zz9.large'], taints: ['spot=true:Never'] },
    ]);
    expect(problems.map((p) => p.replace(/ \(example: .*$/, ''))).toEqual([
      "workerPools: pool 'general': minSize: (5) must not exceed maxSize (3): lower minSize or raise maxSize",
      expect.stringMatching(/^workerPools: pool 'general': labels: key 'node-role.kubernetes.io\/worker' is in the reserved kubernetes.io namespace/),
      expect.stringMatching(/^workerPools: pool 'general': instanceTypes: 'zz9.large' is of no known EC2 instance family/),
      expect.stringMatching(/^workerPools: pool 'general': taints: 'spot=true:Never': effect 'Never' must be one of/),
      expect.stringMatching(/^workerPools: pools 1 and 2 are both named 'general'/),
    ]);
  });

  test('JSON cut off where the CDK CLI cuts a --context value, at its first line break, says so and how to pass it', () => {
    const firstLine = ACCEPTANCE_EXAMPLE.slice(0, ACCEPTANCE_EXAMPLE.indexOf('},') + 2);
    expect(problemsOf({ workerPools: firstLine })).toEqual([
      expect.stringMatching(/^workerPools: must be a JSON list of pools, got .*; the CDK CLI passes only the first line of a --context value: write the JSON on one line, or put workerPools in cdk\.json\)/),
    ]);
  });

  test('a value that is no JSON list says so', () => {
    expect(problemsOf({ workerPools: '{name: general}' })).toEqual([expect.stringMatching(/^workerPools: must be a JSON list of pools, got '\{name: general\}' \(/)]);
    expect(problemsOf({ workerPools: { name: 'general' } })).toEqual([expect.stringMatching(/^workerPools: must be a JSON list of pools .*got \{"name":"general"\}/)]);
  });

  test('pools that start no worker while add-ons wait for workers are refused, naming workerPools', () => {
    const idle = { ...general, minSize: 0 };
    expect(poolProblems([idle, { ...idle, name: 'other' }])).toEqual([
      expect.stringMatching(/^workerPools: start no worker in a pool without NoSchedule or NoExecute taints .*waits for kube-state-metrics, headlamp to run on such workers: start at least one in an untainted pool/),
    ]);
    // One worker in any untainted pool is enough; PreferNoSchedule keeps a pool open to them.
    expect(poolProblems([idle, { ...idle, name: 'other', desiredCapacity: 1 }])).toEqual([]);
    expect(poolProblems([idle, { ...idle, name: 'other', desiredCapacity: 1, taints: ['batch:PreferNoSchedule'] }])).toEqual([]);
    // The add-ons tolerate no pool's taints: workers in tainted pools only don't count.
    for (const effect of ['NoSchedule', 'NoExecute']) {
      expect(poolProblems([idle, { ...idle, name: 'other', desiredCapacity: 3, taints: [`spot=true:${effect}`] }])).toEqual([
        expect.stringMatching(/^workerPools: start no worker in a pool without NoSchedule or NoExecute taints/),
      ]);
    }
    expect(problemsOf({ workerPools: [idle], disabledAddons: 'kube-state-metrics,headlamp' })).toEqual([]);
  });

  test('a pool may be emptied for good, maxSize 0, the first step of removing it', () => {
    const [, emptied] = exampleConfig({ workerPools: [general, { ...general, name: 'old', minSize: 0, maxSize: 0 }] }).workerPools;
    expect(emptied).toMatchObject({ name: 'old', minSize: 0, maxSize: 0 });
    expect(poolProblems([general, { ...general, name: 'old', maxSize: 0 }])).toEqual([expect.stringMatching(/pool 'old': minSize: \(1\) must not exceed maxSize \(0\)/)]);
  });

  test('the config is checked whole: a bad pool next to other bad settings', () => {
    const context = exampleContext({ workerPools: [{ ...general, maxSize: 0 }], etcdCount: 2 });
    expect(() => loadClusterConfig((key) => context[key], Object.keys(context))).toThrow(/2 problems/);
  });
});

// Upstream facts, Kubernetes v1.35.1.
describe('node labels and taints', () => {
  // github:kubernetes/apimachinery v0.35.1 pkg/util/validation/validation.go IsQualifiedName
  // (= pkg/api/validate/content/kube.go IsLabelKey) and IsValidLabelValue (= IsLabelValue).
  test.each([
    ['pool', true],
    ['example.com/team', true],
    ['My.Name_1', true],
    ['a'.repeat(63), true],
    ['a'.repeat(64), false], // name part at most 63
    ['Example.com/team', false], // the prefix is a lowercase DNS subdomain
    ['/team', false], // empty prefix
    ['example.com/', false], // empty name
    ['a/b/c', false],
    ['-team', false],
    ['team_', false],
  ])('%s is a qualified name: %s', (key, valid) => {
    expect(qualifiedNameProblems(key).length === 0).toBe(valid);
  });

  test.each([
    ['', true],
    ['spot', true],
    ['1.35_x-Y', true],
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
    ['a b', false],
    ['_x', false],
    ['a/b', false],
  ])('%s is a label value: %s', (value, valid) => {
    expect(labelValueProblems(value).length === 0).toBe(valid);
  });

  // github:kubernetes/kubelet v0.35.1 pkg/apis/well_known_labels.go IsKubeletLabel: the listed
  // labels, or a namespace [*.]kubelet.kubernetes.io or [*.]node.kubernetes.io.
  test.each([
    ['kubernetes.io/arch', true],
    ['node.kubernetes.io/instance-type', true],
    ['node.kubernetes.io/anything', true],
    ['team.node.kubernetes.io/x', true],
    ['kubelet.kubernetes.io/x', true],
    ['beta.kubernetes.io/os', true],
    ['node-role.kubernetes.io/worker', false],
    ['kubernetes.io/role', false],
    ['mynode.kubernetes.io/x', false], // a suffix match needs the dot
    ['example.k8s.io/x', false],
  ])('a kubelet may set %s: %s', (key, allowed) => {
    expect(isKubeletLabel(key)).toBe(allowed);
  });

  test.each([
    ['example.com/team', true],
    ['pool', true],
    ['kubernetes.io/arch', false], // a kubelet label, but the kubelet sets it itself
    ['topology.kubernetes.io/zone', false], // and this one the cloud controller
    ['node.kubernetes.io/lifecycle', true], // the kubelet's namespace
    ['kubernetes.io/role', false],
    ['k8s.io/x', false],
    ['sub.k8s.io/x', false],
    ['notk8s.io/x', true], // not a subdomain of k8s.io
    ['node.kubernetes.io/pool', false], // ours
    ['kubernetes-on-aws/x', false], // ours
  ])('a pool may label its nodes %s: %s', (key, allowed) => {
    expect(nodeLabelProblems(key, 'v').length === 0).toBe(allowed);
  });

  // Effects: github:kubernetes/api v0.35.1 core/v1/types.go TaintEffect (NoScheduleNoAdmit is
  // commented out there); key a qualified name, value a label value.
  test.each([
    ['spot=true:NoSchedule', { key: 'spot', value: 'true', effect: 'NoSchedule' }],
    ['gpu:PreferNoSchedule', { key: 'gpu', effect: 'PreferNoSchedule' }],
    ['example.com/x=:NoExecute', { key: 'example.com/x', value: '', effect: 'NoExecute' }],
    ['spot=true:NoScheduleNoAdmit', undefined],
    ['spot=true', undefined],
    ['spot=true:noschedule', undefined],
    ['spot=a b:NoSchedule', undefined],
    ['bad key:NoSchedule', undefined],
    [':NoSchedule', undefined],
  ])('taint %s', (text, taint) => {
    const parsed = parseTaint(text);
    expect(parsed.taint).toEqual(taint);
    expect(parsed.problems.length > 0).toBe(taint === undefined);
  });
});
