/**
 * Worker pools: the kinds of workers a cluster runs (context `workerPools`, or the one pool the
 * `worker*` keys describe). Each pool is an Auto Scaling group of its own in the worker stack;
 * all pools share the workers' instance role and security group.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Taint } from '../userdata/kubelet';
import { WORKER_POOL_LABEL } from '../userdata/worker';
import { NODE_TEMPLATE_LABEL_PREFIX, NODE_TEMPLATE_TAINT_PREFIX } from '../manifests/addons/cluster-autoscaler';

/** EC2 Auto Scaling's Spot allocation strategies (MixedInstancesPolicy InstancesDistribution). */
export const SPOT_ALLOCATION_STRATEGIES = ['price-capacity-optimized', 'capacity-optimized', 'capacity-optimized-prioritized', 'lowest-price'] as const;
export type SpotAllocationStrategy = (typeof SPOT_ALLOCATION_STRATEGIES)[number];

/** The name of the pool the `worker*` keys describe; its resources keep the worker stack's original logical ids. */
export const DEFAULT_POOL_NAME = 'default';

/** How a pool buys capacity beyond on-demand. */
export interface SpotOptions {
  /** On-demand instances before any Spot one. @default 0 */
  readonly onDemandBaseCapacity: number;
  /** The on-demand share, in percent, of the capacity above the base. @default 0 */
  readonly onDemandPercentageAboveBaseCapacity: number;
  /** How Spot capacity is chosen. @default 'price-capacity-optimized' */
  readonly allocationStrategy: SpotAllocationStrategy;
}

export interface WorkerPoolConfig {
  /** Unique; a DNS label. The nodes carry it as the label `node.kubernetes.io/pool`. */
  readonly name: string;
  /** One or more EC2 instance types; several make a mixed-instances group. */
  readonly instanceTypes: readonly string[];
  /** Spot capacity (a mixed-instances group). @default - on-demand only */
  readonly spot?: SpotOptions;
  readonly minSize: number;
  /** Absent: the group's current size is kept on update (cluster-autoscaler owns it). */
  readonly desiredCapacity?: number;
  readonly maxSize: number;
  /** The root volume's size in GiB (images and container logs). @default 50 */
  readonly rootVolumeSizeGiB: number;
  /** Node labels the kubelet registers with (only labels NodeRestriction lets it set). */
  readonly labels: Readonly<Record<string, string>>;
  /** Taints the kubelet registers with. */
  readonly taints: readonly Taint[];
  /** The subnets of its nodes, a subset of `nodeSubnetIds`. @default - every node subnet */
  readonly subnetIds?: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Node labels and taints, as the API server and the kubelet take them (Kubernetes v1.35.1).
// ---------------------------------------------------------------------------------------------

/** Our own label namespace (kubelet.ts); a pool may not set labels in it. */
export const OWN_LABEL_PREFIX = 'kubernetes-on-aws';

/** Each taint once (by key, value and effect), in the order first given. */
export function uniqueTaints(taints: readonly Taint[]): Taint[] {
  const seen = new Set<string>();
  return taints.filter((taint) => {
    const id = JSON.stringify([taint.key, taint.value ?? null, taint.effect]);
    return !seen.has(id) && seen.add(id) !== undefined;
  });
}

/** Taint effects: k8s.io/api core/v1/types.go TaintEffect (github:kubernetes/api v0.35.1); NoScheduleNoAdmit is commented out there. */
export const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;

// Label keys and values: apimachinery pkg/util/validation/validation.go IsQualifiedName and
// IsValidLabelValue (v0.35.1), which are now aliases of pkg/api/validate/content/kube.go
// IsLabelKey and IsLabelValue; DNS subdomains from content/dns.go.
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_NAME_MAX_LENGTH = 63;
const LABEL_VALUE_MAX_LENGTH = 63;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;

/** What is wrong with a label (or taint) key, as a qualified name; empty when it is one. */
export function qualifiedNameProblems(key: string): string[] {
  const parts = key.split('/');
  if (parts.length > 2) return ["must be a name with at most one '/' (an optional DNS subdomain prefix, e.g. 'example.com/my-name')"];
  const [prefix, name] = parts.length === 2 ? parts : [undefined, parts[0]];
  const problems: string[] = [];
  if (prefix !== undefined && (prefix.length > DNS1123_SUBDOMAIN_MAX_LENGTH || !DNS1123_SUBDOMAIN.test(prefix))) {
    problems.push(`its prefix '${prefix}' must be a lowercase DNS subdomain of at most ${DNS1123_SUBDOMAIN_MAX_LENGTH} characters`);
  }
  if (name.length > LABEL_NAME_MAX_LENGTH || !LABEL_NAME.test(name)) {
    problems.push(
      `its name '${name}' must be 1 to ${LABEL_NAME_MAX_LENGTH} letters, digits, '-', '_' or '.', starting and ending with a letter or digit`,
    );
  }
  return problems;
}

/** What is wrong with a label (or taint) value; empty when it is valid (the empty value is). */
export function labelValueProblems(value: string): string[] {
  return value === '' || (value.length <= LABEL_VALUE_MAX_LENGTH && LABEL_NAME.test(value))
    ? []
    : [`must be empty or at most ${LABEL_VALUE_MAX_LENGTH} letters, digits, '-', '_' or '.', starting and ending with a letter or digit`];
}

/** The prefix of a label key before '/', or '' without one (kubelet pkg/apis/well_known_labels.go getLabelNamespace, v0.35.1). */
function labelNamespace(key: string): string {
  const slash = key.indexOf('/');
  return slash < 0 ? '' : key.slice(0, slash);
}

function inNamespace(namespace: string, domain: string): boolean {
  return namespace === domain || namespace.endsWith(`.${domain}`);
}

// github:kubernetes/kubelet v0.35.1 pkg/apis/well_known_labels.go kubeletLabels (the constants
// from k8s.io/api core/v1/well_known_labels.go, github:kubernetes/api v0.35.1) and
// kubeletLabelNamespaces (LabelNamespaceSuffixKubelet, LabelNamespaceSuffixNode).
const KUBELET_LABELS: readonly string[] = [
  'kubernetes.io/hostname',
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
  'beta.kubernetes.io/instance-type',
  'node.kubernetes.io/instance-type',
  'kubernetes.io/os',
  'kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/arch',
];
const KUBELET_LABEL_NAMESPACES: readonly string[] = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

/** Whether a kubelet may set this label on its own Node (kubelet pkg/apis/well_known_labels.go IsKubeletLabel, v0.35.1). */
export function isKubeletLabel(key: string): boolean {
  const namespace = labelNamespace(key);
  return KUBELET_LABELS.includes(key) || KUBELET_LABEL_NAMESPACES.some((allowed) => inNamespace(namespace, allowed));
}

/**
 * What is wrong with a label a pool asks its nodes to register with; empty when it may.
 * Keys under kubernetes.io and k8s.io (and their subdomains) are reserved: the kubelet's
 * --node-labels check and the NodeRestriction admission plugin refuse those that
 * IsKubeletLabel does not allow, so such a node would never register.
 */
export function nodeLabelProblems(key: string, value: string): string[] {
  const keyProblems = qualifiedNameProblems(key);
  if (keyProblems.length > 0) return keyProblems.map((p) => `key '${key}': ${p}`);
  const namespace = labelNamespace(key);
  if (key === WORKER_POOL_LABEL) return [`key '${key}' is set by this app to the pool's name: remove it (the pool's name is its value already)`];
  if (namespace === OWN_LABEL_PREFIX) return [`key '${key}' is in this app's own namespace ${OWN_LABEL_PREFIX}/: choose a key with your own prefix`];
  // The kubelet (hostname, os, arch, instance type) and the cloud controller (zone, region)
  // set these themselves, over any value given; cluster-autoscaler would plan a pool scaled
  // from zero with the given one.
  if (KUBELET_LABELS.includes(key)) return [`key '${key}' is set on every node by the kubelet or the cloud controller: remove it, and select on it as it is`];
  const reserved = ['kubernetes.io', 'k8s.io'].find((domain) => inNamespace(namespace, domain));
  if (reserved && !isKubeletLabel(key)) {
    return [
      `key '${key}' is in the reserved ${reserved} namespace and a kubelet may not set it on its node ` +
        `(only ${KUBELET_LABEL_NAMESPACES.map((n) => `[*.]${n}/*`).join(', ')} and a few well-known labels): ` +
        `use your own prefix (e.g. 'example.com/${key.slice(namespace.length + 1)}'), or set it with kubectl label`,
    ];
  }
  return labelValueProblems(value).map((p) => `value of '${key}' ${p}`);
}

/**
 * A taint as the kubelet's --register-with-taints writes it, `key=value:Effect` or `key:Effect`,
 * or what is wrong with it. Key: a qualified name; value: a label value; effect: TAINT_EFFECTS.
 */
export function parseTaint(text: string): { taint: Taint; problems: [] } | { taint?: undefined; problems: string[] } {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return { problems: [`'${text}' has no effect: write key=value:Effect or key:Effect, Effect one of ${TAINT_EFFECTS.join(', ')}`] };
  const [keyValue, effect] = [text.slice(0, colon), text.slice(colon + 1)];
  const [key, ...rest] = keyValue.split('=');
  const value = rest.length > 0 ? rest.join('=') : undefined;
  const reserved = ['kubernetes.io', 'k8s.io'].find((domain) => inNamespace(labelNamespace(key), domain));
  const problems = [
    ...qualifiedNameProblems(key).map((p) => `'${text}': key ${p}`),
    // Kubernetes sets and removes its own taints (not-ready, uninitialized, the control plane's),
    // and the node plugins tolerate the pools' taints: a pool must not claim one of those.
    ...(reserved ? [`'${text}': key '${key}' is in the reserved ${reserved} namespace, whose taints Kubernetes sets and removes itself: use your own prefix (e.g. 'example.com/${key.slice(key.indexOf('/') + 1)}')`] : []),
    ...(value === undefined ? [] : labelValueProblems(value).map((p) => `'${text}': value ${p}`)),
    ...((TAINT_EFFECTS as readonly string[]).includes(effect) ? [] : [`'${text}': effect '${effect}' must be one of ${TAINT_EFFECTS.join(', ')}`]),
  ];
  if (problems.length > 0) return { problems };
  const taint: Taint = { key, ...(value === undefined ? {} : { value }), effect: effect as Taint['effect'] };
  return { taint, problems: [] };
}

// ---------------------------------------------------------------------------------------------
// The `workerPools` context value: a JSON list of pools, every problem reported.
// ---------------------------------------------------------------------------------------------

/**
 * EC2 instance families, as aws-cdk-lib knows them: each InstanceClass (long names such as
 * `standard6-intel` included) mapped to the family an instance type starts with (`m6i`).
 */
export const INSTANCE_FAMILIES: ReadonlySet<string> = new Set(
  Object.values(ec2.InstanceClass).map((c) => ec2.InstanceType.of(c, ec2.InstanceSize.LARGE).toString().split('.')[0]),
);
/**
 * What is wrong with an instance type's architecture, if anything: every node runs the amd64
 * Flatcar image and the amd64 binaries pinned in userdata/versions.ts, so an arm64 (Graviton)
 * type would boot nothing. aws-cdk-lib's InstanceType.architecture tells them apart.
 */
export function instanceArchitectureProblem(type: string): string | undefined {
  if (new ec2.InstanceType(type).architecture === ec2.InstanceArchitecture.X86_64) return undefined;
  return `'${type}' is an arm64 (Graviton) type, but the nodes run amd64 binaries and the amd64 Flatcar image: choose an x86_64 type (e.g. m6i.large)`;
}

/** `family.size`; sizes may hold a hyphen (`c7i.metal-24xl`). */
const INSTANCE_TYPE = /^([a-z][a-z0-9-]*)\.[a-z0-9]+(-[a-z0-9]+)*$/;

const POOL_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
/**
 * The most pools: the worker stack stays far below CloudFormation's 500 resources (three a
 * pool), and the lifecycle rules' numbered names (`workers-lifecycle2` .. `5`, eight groups
 * each) within EventBridge's 64 characters for the longest cluster name.
 */
export const MAX_POOLS = 40;
/** Pool names become part of resource names (Auto Scaling groups, launch templates): kept short. */
export const MAX_POOL_NAME_LENGTH = 20;
/**
 * GiB: gp3's limit is 16384; below 20 little is left beside Flatcar's own 6 GiB of partitions
 * (userdata/worker.ts workerEphemeralStorageGiB). The default is the 2016 workers' 50 GB.
 */
const ROOT_VOLUME_SIZE_GIB = { min: 20, max: 16384, default: 50 } as const;
const POOL_SIZE_MAX = 1000;

/** A pool's keys in `workerPools`; anything else is a typo. */
export const POOL_KEYS = [
  'name',
  'instanceTypes',
  'spot',
  'onDemandBaseCapacity',
  'onDemandPercentageAboveBaseCapacity',
  'spotAllocationStrategy',
  'minSize',
  'maxSize',
  'desiredCapacity',
  'rootVolumeSize',
  'labels',
  'taints',
  'subnetIds',
] as const;
const SPOT_ONLY_KEYS = ['onDemandBaseCapacity', 'onDemandPercentageAboveBaseCapacity', 'spotAllocationStrategy'] as const;

const EXAMPLE_POOL = { name: 'general', instanceTypes: ['m6i.large'], minSize: 1, maxSize: 10 };

/** A `workerPools` value for the command line: one valid pool, with `extra` keys set. */
export function workerPoolsExample(extra: Record<string, unknown> = {}): string {
  const pool = { ...EXAMPLE_POOL, ...extra };
  // A tainted pool comes with an untainted one: the add-ons that run on workers need it (config.ts).
  const pools = 'taints' in extra ? [pool, { ...EXAMPLE_POOL, name: 'system', maxSize: 3 }] : [pool];
  return `'${JSON.stringify(pools)}'`;
}

/** Receives one problem with the `workerPools` value and a valid command-line value that shows the fix. */
export type PoolProblemReporter = (message: string, example: string) => void;

/**
 * Reads `workerPools`: a JSON array (cdk.json) or a JSON string of one (command line). Reports
 * every problem, each naming the pool and its key; the pools returned are valid only without any.
 */
export function parseWorkerPools(raw: unknown, nodeSubnetIds: readonly string[], report: PoolProblemReporter): WorkerPoolConfig[] {
  const list = poolList(raw, report);
  const pools = list.map((item, index) => parsePool(item, index, nodeSubnetIds, report));
  const seen = new Map<string, number>();
  pools.forEach((pool, index) => {
    const first = seen.get(pool.name);
    if (pool.name === '') return;
    if (first === undefined) seen.set(pool.name, index);
    else report(`pools ${first + 1} and ${index + 1} are both named '${pool.name}': give each pool a name of its own`, workerPoolsExample());
  });
  return pools;
}

function poolList(raw: unknown, report: PoolProblemReporter): unknown[] {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch (error) {
      // The CDK CLI keeps only the first line of a --context value (aws-cdk 2.1148
      // lib/cli/user-configuration.js parseStringContextListToObject: split(/=(.*)/), and '.'
      // stops at a line break), so JSON written over several lines arrives cut off.
      const cutOff = (error as Error).message.includes('end of JSON input') ? '; the CDK CLI passes only the first line of a --context value: write the JSON on one line, or put workerPools in cdk.json' : '';
      report(`must be a JSON list of pools, got ${raw.trim() === '' ? 'an empty value' : `'${raw}'`} (${(error as Error).message}${cutOff})`, workerPoolsExample());
      return [];
    }
  }
  if (!Array.isArray(value)) {
    report(`must be a JSON list of pools (an array in cdk.json, a quoted JSON string on the command line), got ${JSON.stringify(value)}`, workerPoolsExample());
    return [];
  }
  if (value.length === 0) {
    report('is empty: list at least one pool, or leave workerPools out for the one pool of the worker* settings', workerPoolsExample());
    return [];
  }
  if (value.length > MAX_POOLS) {
    report(`lists ${value.length} pools, more than ${MAX_POOLS}: merge pools that differ only in size, or split the workers into another cluster`, workerPoolsExample());
    return [];
  }
  return value;
}

/** Reads one pool; `problem` prefixes the pool's name (or its place in the list, without a name). */
function parsePool(item: unknown, index: number, nodeSubnetIds: readonly string[], report: PoolProblemReporter): WorkerPoolConfig {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    report(`pool ${index + 1}: must be an object with name, instanceTypes, minSize and maxSize, got ${JSON.stringify(item)}`, workerPoolsExample());
    return emptyPool();
  }
  const pool = item as Record<string, unknown>;
  const label = typeof pool.name === 'string' && pool.name !== '' ? `pool '${pool.name}'` : `pool ${index + 1}`;
  const problem = (key: string, message: string, extra: Record<string, unknown>) => report(`${label}: ${key}: ${message}`, workerPoolsExample(extra));

  for (const key of Object.keys(pool).filter((k) => !(POOL_KEYS as readonly string[]).includes(k))) {
    report(`${label}: '${key}' is not a pool setting: fix its spelling or remove it (pool settings: ${POOL_KEYS.join(', ')})`, workerPoolsExample());
  }
  const name = poolName(pool.name, problem);
  const instanceTypes = poolInstanceTypes(pool.instanceTypes, problem);
  const spot = poolSpot(pool, problem);
  const { minSize, maxSize, desiredCapacity } = poolSizes(pool, problem);
  const rootVolumeSizeGiB = wholeNumber(pool.rootVolumeSize, 'rootVolumeSize', { ...ROOT_VOLUME_SIZE_GIB, unit: 'GiB' }, problem) ?? ROOT_VOLUME_SIZE_GIB.default;
  const labels = poolLabels(pool.labels, problem);
  const taints = poolTaints(pool.taints, problem);
  const described = Object.keys(labels).length + taints.length;
  if (described > MAX_LABELS_AND_TAINTS) {
    problem('labels', `and taints are ${described}, more than ${MAX_LABELS_AND_TAINTS}: each is a tag of the pool's Auto Scaling group for cluster-autoscaler, and a group holds at most 50 tags, ${50 - MAX_LABELS_AND_TAINTS} of them ours`, {});
  }
  const subnetIds = poolSubnets(pool.subnetIds, nodeSubnetIds, problem);
  return {
    name,
    instanceTypes,
    ...(spot ? { spot } : {}),
    minSize,
    ...(desiredCapacity !== undefined ? { desiredCapacity } : {}),
    maxSize,
    rootVolumeSizeGiB,
    labels,
    taints,
    ...(subnetIds ? { subnetIds } : {}),
  };
}

type KeyProblem = (key: string, message: string, extra: Record<string, unknown>) => void;

/**
 * Labels and taints a pool may have together. Each is a tag of its Auto Scaling group
 * (cluster-autoscaler's node template), and a group holds at most 50 tags (EC2 Auto Scaling
 * quotas); ten are ours (the cluster's, the stack's, the resource's, the role's, the name,
 * cluster-autoscaler's two, and the template's pool label, role label and storage).
 */
const MAX_LABELS_AND_TAINTS = 40;
/** EC2 Auto Scaling's limit on a tag key (Tag.Key: at most 128 characters). */
const TAG_KEY_MAX = 128;

/** A label or taint key too long for its node-template tag `<prefix><key>`. */
function nodeTemplateKeyProblems(key: string, prefix: string): string[] {
  const max = TAG_KEY_MAX - prefix.length;
  return key.length > max ? [`key '${key}' is ${key.length} characters; cluster-autoscaler's tag ${prefix}<key> allows at most ${max}`] : [];
}

function emptyPool(): WorkerPoolConfig {
  return { name: '', instanceTypes: [], minSize: 0, maxSize: 1, rootVolumeSizeGiB: ROOT_VOLUME_SIZE_GIB.default, labels: {}, taints: [] };
}

function poolName(raw: unknown, problem: KeyProblem): string {
  if (typeof raw === 'string' && POOL_NAME.test(raw) && raw.length <= MAX_POOL_NAME_LENGTH) return raw;
  problem(
    'name',
    raw === undefined
      ? `is required: a name of lowercase letters, digits and inner hyphens, at most ${MAX_POOL_NAME_LENGTH} characters`
      : `must be lowercase letters, digits and inner hyphens, at most ${MAX_POOL_NAME_LENGTH} characters, got ${JSON.stringify(raw)}`,
    {},
  );
  return typeof raw === 'string' ? raw : '';
}

function poolInstanceTypes(raw: unknown, problem: KeyProblem): string[] {
  const extra = { instanceTypes: ['m6i.large', 'm5.large'] };
  if (!Array.isArray(raw) || raw.length === 0) {
    problem('instanceTypes', raw === undefined ? 'is required: a list of one or more EC2 instance types' : `must be a non-empty list of EC2 instance types, got ${JSON.stringify(raw)}`, extra);
    return [];
  }
  const types = raw.filter((t): t is string => typeof t === 'string');
  for (const type of raw) {
    const match = typeof type === 'string' ? INSTANCE_TYPE.exec(type) : null;
    if (!match) problem('instanceTypes', `${JSON.stringify(type)} is not an EC2 instance type (family.size, e.g. m6i.large)`, extra);
    else if (!INSTANCE_FAMILIES.has(match[1])) {
      problem('instanceTypes', `'${type}' is of no known EC2 instance family ('${match[1]}'): check its spelling (e.g. m6i.large, c7i.xlarge)`, extra);
    } else {
      const architecture = instanceArchitectureProblem(type);
      if (architecture) problem('instanceTypes', architecture, extra);
    }
  }
  const repeated = types.filter((t, i) => types.indexOf(t) !== i);
  if (repeated.length > 0) problem('instanceTypes', `lists ${[...new Set(repeated)].join(', ')} more than once: list each type once`, extra);
  return types;
}

function poolSpot(pool: Record<string, unknown>, problem: KeyProblem): SpotOptions | undefined {
  const spotExtra = { spot: true, instanceTypes: ['m6i.large', 'm5.large'] };
  if (pool.spot !== undefined && typeof pool.spot !== 'boolean') problem('spot', `must be true or false, got ${JSON.stringify(pool.spot)}`, spotExtra);
  if (pool.spot !== true) {
    for (const key of SPOT_ONLY_KEYS.filter((k) => pool[k] !== undefined)) {
      problem(key, 'applies only to a Spot pool: set "spot": true in this pool, or remove it', { ...spotExtra, [key]: pool[key] });
    }
    return undefined;
  }
  const onDemandBaseCapacity = wholeNumber(pool.onDemandBaseCapacity, 'onDemandBaseCapacity', { min: 0, max: POOL_SIZE_MAX, default: 0 }, problem, spotExtra) ?? 0;
  const onDemandPercentageAboveBaseCapacity =
    wholeNumber(pool.onDemandPercentageAboveBaseCapacity, 'onDemandPercentageAboveBaseCapacity', { min: 0, max: 100, default: 0, unit: 'percent' }, problem, spotExtra) ?? 0;
  let allocationStrategy: SpotAllocationStrategy = 'price-capacity-optimized';
  const strategy = pool.spotAllocationStrategy;
  if (strategy !== undefined) {
    if (typeof strategy === 'string' && (SPOT_ALLOCATION_STRATEGIES as readonly string[]).includes(strategy)) allocationStrategy = strategy as SpotAllocationStrategy;
    else problem('spotAllocationStrategy', `must be one of ${SPOT_ALLOCATION_STRATEGIES.join(', ')}, got ${JSON.stringify(strategy)}`, { ...spotExtra, spotAllocationStrategy: 'price-capacity-optimized' });
  }
  return { onDemandBaseCapacity, onDemandPercentageAboveBaseCapacity, allocationStrategy };
}

function poolSizes(pool: Record<string, unknown>, problem: KeyProblem): { minSize: number; maxSize: number; desiredCapacity?: number } {
  const minSize = wholeNumber(pool.minSize, 'minSize', { min: 0, max: POOL_SIZE_MAX, default: 0 }, problem) ?? 0;
  // 0 empties a pool for good (cluster-autoscaler cannot grow it): the first step of removing it.
  const maxSize = pool.maxSize === undefined ? undefined : wholeNumber(pool.maxSize, 'maxSize', { min: 0, max: POOL_SIZE_MAX, default: 10 }, problem);
  if (pool.maxSize === undefined) problem('maxSize', `is required: the most workers of this pool, a whole number from 0 to ${POOL_SIZE_MAX}`, {});
  const desiredCapacity = wholeNumber(pool.desiredCapacity, 'desiredCapacity', { min: 0, max: POOL_SIZE_MAX, default: minSize }, problem);
  if (maxSize === undefined) return { minSize, maxSize: Math.max(minSize + 1, 1), desiredCapacity };
  if (minSize > maxSize) {
    problem('minSize', `(${minSize}) must not exceed maxSize (${maxSize}): lower minSize or raise maxSize`, {});
  } else if (maxSize <= minSize && minSize > 0) {
    // The same rule as NodeGroup's (lib/constructs/node-group.ts validate), found here with the other problems.
    problem('maxSize', `(${maxSize}) must exceed minSize (${minSize}): a rolling update starts the new instance before it stops an old one; raise maxSize to ${minSize + 1}`, {});
  }
  if (desiredCapacity !== undefined && (desiredCapacity < minSize || desiredCapacity > maxSize)) {
    problem('desiredCapacity', `must lie between minSize (${minSize}) and maxSize (${maxSize}), got ${desiredCapacity}`, { desiredCapacity: 2 });
  }
  return { minSize, maxSize, desiredCapacity };
}

/** A whole number within bounds, undefined when left out or invalid (the invalid one reported). */
function wholeNumber(
  raw: unknown,
  key: string,
  bounds: { min: number; max: number; default: number; unit?: string },
  problem: KeyProblem,
  extra: Record<string, unknown> = {},
): number | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw === 'number' && Number.isInteger(raw) && raw >= bounds.min && raw <= bounds.max) return raw;
  const unit = bounds.unit ? ` (${bounds.unit})` : '';
  problem(key, `must be a whole number from ${bounds.min} to ${bounds.max}${unit}, got ${JSON.stringify(raw)}`, { ...extra, [key]: bounds.default });
  return undefined;
}

function poolLabels(raw: unknown, problem: KeyProblem): Record<string, string> {
  const extra = { labels: { 'example.com/team': 'data' } };
  if (raw === undefined) return {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problem('labels', `must be an object of label keys to string values, got ${JSON.stringify(raw)}`, extra);
    return {};
  }
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== 'string') {
      problem('labels', `value of '${key}' must be a string, got ${JSON.stringify(value)}`, extra);
      continue;
    }
    const problems = [...nodeLabelProblems(key, value), ...nodeTemplateKeyProblems(key, NODE_TEMPLATE_LABEL_PREFIX)];
    problems.forEach((p) => problem('labels', p, extra));
    if (problems.length === 0) labels[key] = value;
  }
  return labels;
}

function poolTaints(raw: unknown, problem: KeyProblem): Taint[] {
  const extra = { taints: ['dedicated=batch:NoSchedule'] };
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    problem('taints', `must be a list of taints (key=value:Effect or key:Effect), got ${JSON.stringify(raw)}`, extra);
    return [];
  }
  const taints: Taint[] = [];
  for (const item of raw) {
    if (typeof item !== 'string') {
      problem('taints', `${JSON.stringify(item)} must be a string key=value:Effect or key:Effect`, extra);
      continue;
    }
    const parsed = parseTaint(item);
    const problems = [...parsed.problems, ...(parsed.taint ? nodeTemplateKeyProblems(parsed.taint.key, NODE_TEMPLATE_TAINT_PREFIX).map((p) => `'${item}': ${p}`) : [])];
    problems.forEach((p) => problem('taints', p, extra));
    if (parsed.taint && problems.length === 0) taints.push(parsed.taint);
  }
  // One taint per key: the API server takes two of one key with different effects, but
  // cluster-autoscaler's node template has one tag per key (autoscaler cluster-autoscaler-1.35.2
  // cloudprovider/aws/aws_manager.go extractTaintsFromAsg), so a pool scaled up from zero would
  // be planned with one of them only.
  const keys = taints.map((t) => t.key);
  const repeated = [...new Set(keys.filter((key, i) => keys.indexOf(key) !== i))];
  if (repeated.length > 0) problem('taints', `has more than one taint of key ${repeated.join(', ')}: keep one per key (cluster-autoscaler describes a pool's taints with one tag per key)`, extra);
  return taints;
}

function poolSubnets(raw: unknown, nodeSubnetIds: readonly string[], problem: KeyProblem): string[] | undefined {
  const extra = { subnetIds: nodeSubnetIds.slice(0, 1) };
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw) || raw.length === 0) {
    problem('subnetIds', `must be a non-empty list of subnets from nodeSubnetIds, or left out for all of them, got ${JSON.stringify(raw)}`, extra);
    return undefined;
  }
  const outside = raw.filter((id) => typeof id !== 'string' || !nodeSubnetIds.includes(id));
  if (outside.length > 0) {
    problem('subnetIds', `must name only subnets of nodeSubnetIds (${nodeSubnetIds.join(', ')}), got ${outside.map((id) => JSON.stringify(id)).join(', ')}`, extra);
  }
  const ids = raw.filter((id): id is string => typeof id === 'string');
  if (new Set(ids).size !== ids.length) problem('subnetIds', 'must not repeat a subnet', extra);
  return ids;
}
