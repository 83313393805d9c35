/**
 * The cluster configuration: CDK context in, a validated, typed, frozen ClusterConfig out.
 *
 * This is the only file that reads CDK context. Three steps are kept apart, as in kops:
 * fill defaults, validate (every problem collected, each naming its context key and a
 * valid example), then hand a typed object down to the stacks.
 */

import { ContextProvider } from 'aws-cdk-lib/cloud-assembly-schema';
import { bootstrapChain } from '../manifests/addons/bootstrap-chain';
import { ADDONS, OPTIONAL_ADDON_NAMES } from '../manifests/addons/registry';
import { KUBERNETES_VERSION } from '../userdata/versions';
import { clusterGroupOf } from '../userdata/types';
import { AwsPartition, partitionOfRegion } from '../webhook/config';
import { DEFAULT_POOL_NAME, instanceArchitectureProblem, WorkerPoolConfig, parseWorkerPools, workerPoolsExample } from './worker-pools';

/** Reads one context value; `node.tryGetContext` has this shape. */
export type ContextReader = (key: string) => unknown;

/** Defaults, named where they are chosen. */
export const DEFAULTS = {
  /**
   * m6i.large: 2 vCPU, 8 GiB, no CPU credits. Kubernetes wants at least 2 CPUs and 2 GiB
   * per node; the 2016 default t2.micro (1 vCPU, 1 GiB) cannot run a kubelet and the
   * system DaemonSets, and burstable types starve etcd and the API server once their
   * credits run out.
   */
  instanceType: 'm6i.large',
  etcdCount: 3,
  masterCount: 1,
  workerMinSize: 1,
  workerMaxSize: 10,
} as const;

/**
 * Kubernetes versions this release of the app can install: those whose binaries
 * userdata/versions.ts pins by hash (one line at a time, so that no skew rule is stretched).
 */
export const SUPPORTED_KUBERNETES_VERSIONS: readonly string[] = [KUBERNETES_VERSION.replace(/^v/, '')];
export const DEFAULT_KUBERNETES_VERSION = SUPPORTED_KUBERNETES_VERSIONS[0];

/**
 * The cluster name is `<stack>-<version>`; it is part of S3 bucket names
 * (`<cluster>-etcd-<account>-<region>`, at most 63 characters), so it is kept short.
 */
export const MAX_CLUSTER_NAME_LENGTH = 28;

export interface HostedZoneConfig {
  /** The zone's name without the trailing dot, e.g. `team.example.org`. */
  readonly name: string;
  /** The Route53 hosted zone id, e.g. `Z0123456789EXAMPLE`. */
  readonly id: string;
}

export interface NetworkConfig {
  readonly vpcId: string;
  /** One per subnet, in the same order as `nodeSubnetIds` and `loadBalancerSubnetIds`. */
  readonly availabilityZones: readonly string[];
  /** Private subnets for etcd, masters and workers, one per availability zone. */
  readonly nodeSubnetIds: readonly string[];
  /** Public subnets for the internet-facing API load balancer, one per availability zone. */
  readonly loadBalancerSubnetIds: readonly string[];
}

/** Where the Flatcar AMI comes from. */
export type FlatcarAmiConfig =
  | { readonly kind: 'id'; readonly amiId: string }
  | { readonly kind: 'lookup' };

export interface EtcdConfig {
  readonly instanceType: string;
  /** Odd, so that a majority survives the loss of a minority. */
  readonly count: number;
}

export interface MasterConfig {
  readonly instanceType: string;
  readonly count: number;
}

export interface ClusterConfig {
  readonly stack: string;
  readonly version: string;
  /** `<stack>-<version>`: the name of everything the cluster owns. */
  readonly clusterName: string;
  /** The cluster's three CloudFormation stacks, `<cluster>-etcd`, `-master`, `-worker`. */
  readonly stackNames: { readonly etcd: string; readonly master: string; readonly worker: string };
  readonly account: string;
  readonly region: string;
  /** The AWS partition of the region (`aws`, `aws-cn`, `aws-us-gov`): ARNs and STS hosts. */
  readonly partition: AwsPartition;
  readonly hostedZone: HostedZoneConfig;
  /** `<cluster>.<zone>`: where the API server answers. */
  readonly apiDomainName: string;
  /** `aws:<account>:<region>:<cluster>`: the group a user needs to be let in at all. */
  readonly clusterGroup: string;
  /** An ACM certificate for `apiDomainName`; absent: a DNS-validated one is created. */
  readonly certificateArn?: string;
  readonly network: NetworkConfig;
  readonly flatcarAmi: FlatcarAmiConfig;
  readonly kubernetesVersion: string;
  readonly etcd: EtcdConfig;
  readonly master: MasterConfig;
  /**
   * The worker pools (`workerPools`), or the one pool named DEFAULT_POOL_NAME the `worker*`
   * keys describe.
   */
  readonly workerPools: readonly WorkerPoolConfig[];
  /** The OAuth2 token-info endpoint the auth webhook checks user tokens against. */
  readonly tokenInfoUrl: string;
  /** Where clients may reach the API from (IPv4 CIDRs). */
  readonly apiAllowedCidrs: readonly string[];
  /** Which users' groups (from token-info) grant which role in the cluster. */
  readonly roleGroups: RoleGroupsConfig;
  /** Which IAM roles and users (ARNs, no path) grant which role, for `aws eks get-token` tokens. */
  readonly roleArns: RoleGroupsConfig;
  /** Generations of the generated secrets: raising one regenerates that set (a rotation). */
  readonly secretsGeneration: { readonly etcd: number; readonly controlPlane: number };
  /** Optional add-ons turned off (manifests/addons/registry.ts OPTIONAL_ADDON_NAMES). */
  readonly disabledAddons: readonly string[];
  /**
   * Whether the API servers accept the cluster's static admin token (`system:masters`, never
   * expires) from the admin secret: the way in when IAM sign-in is not possible.
   */
  readonly breakGlassAdminToken: boolean;
  /**
   * The `forceRoll` token and the roles it rolls: a new token replaces every node of those
   * roles, one at a time, with no other change (the 2016 tool's `--force`).
   */
  readonly forceRoll?: ForceRollConfig;
}

/** The node roles `forceRoll` can replace (etcd members are replaced one by one with their own procedure). */
export const FORCE_ROLL_ROLES = ['master', 'worker'] as const;

export interface ForceRollConfig {
  readonly token: string;
  readonly roles: readonly (typeof FORCE_ROLL_ROLES)[number][];
}

/** Groups per role; a user also needs the cluster group `aws:<account>:<region>:<cluster>`. */
export interface RoleGroupsConfig {
  readonly ReadOnly: readonly string[];
  readonly PowerUser: readonly string[];
  readonly Administrator: readonly string[];
}

/** Every problem found in the context, reported at once. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid cluster configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}); ` +
        'fix these context values in cdk.json or with --context KEY=VALUE:\n' +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

const DNS_LABEL_PART = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const DOMAIN_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
const AWS_ID = (prefix: string) => new RegExp(`^${prefix}-([0-9a-f]{8}|[0-9a-f]{17})$`);

/**
 * IPv4 CIDR blocks as AWS takes them: four numbers 0 to 255, a prefix length 0 to 32, no
 * leading zeros (which some parsers read as octal).
 */
const IPV4_CIDR = /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\/(3[0-2]|[12]?\d)$/;

/** A value as a message quotes it: strings in single quotes, anything else as JSON. */
function quote(raw: unknown): string {
  if (raw === '') return 'an empty value';
  return typeof raw === 'string' ? `'${raw}'` : JSON.stringify(raw);
}

/**
 * Collects problems while reading context values of the expected kinds, and records every
 * key it reads: those are the app's settings. Every key is read on every run, given or not,
 * so that the recorded keys are the same whatever the context holds.
 */
class ContextParser {
  readonly problems: string[] = [];
  /** The keys read so far, in the order read, each with a valid command-line value. */
  readonly examples = new Map<string, string>();

  constructor(private readonly source: ContextReader) {}

  read(key: string, example: string): unknown {
    this.examples.set(key, example);
    return this.source(key);
  }

  /** `example` is a valid value of `exampleKey` (the key itself unless a problem names another). */
  problem(key: string, message: string, example: string, exampleKey: string = key): void {
    this.problems.push(`${key}: ${message} (example: --context ${exampleKey}=${example})`);
  }

  string(key: string, opts: { pattern?: RegExp; what: string; example: string; default?: string }): string {
    const raw = this.read(key, opts.example);
    if (raw === undefined || raw === null || raw === '') {
      if (opts.default !== undefined) return opts.default;
      this.problem(key, raw === '' ? `must be ${opts.what}, got an empty value` : `is required: ${opts.what}`, opts.example);
      return '';
    }
    if (typeof raw !== 'string') {
      this.problem(key, `must be ${opts.what}, got ${JSON.stringify(raw)}`, opts.example);
      return '';
    }
    if (opts.pattern && !opts.pattern.test(raw)) {
      this.problem(key, `must be ${opts.what}, got '${raw}'`, opts.example);
    }
    return raw;
  }

  optionalString(key: string, opts: { pattern: RegExp; what: string; example: string }): string | undefined {
    const raw = this.read(key, opts.example);
    if (raw === undefined || raw === null || raw === '') return undefined;
    return this.string(key, opts);
  }

  /** Whole numbers; command-line context arrives as strings, cdk.json as numbers. */
  integer(key: string, opts: { min: number; max: number; default: number; what: string }): number {
    const raw = this.read(key, String(opts.default));
    if (raw === undefined || raw === null || raw === '') return opts.default;
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
    if (!Number.isInteger(value) || value < opts.min || value > opts.max) {
      this.problem(
        key,
        `must be ${opts.what}, a whole number from ${opts.min} to ${opts.max}, got ${JSON.stringify(raw)}`,
        String(opts.default),
      );
      return opts.default;
    }
    return value;
  }

  /** A list that may be left out; given, it must not be empty (an empty list is never the default by accident). */
  optionalList(key: string, opts: { pattern: RegExp; what: string; example: string; default: string[] }): string[] {
    const raw = this.read(key, opts.example);
    if (raw === undefined || raw === null) return opts.default;
    const defaultText = opts.default.length > 0 ? opts.default.join(',') : 'none';
    return this.list(key, { ...opts, ifEmpty: `list ${opts.what}, or leave ${key} out for the default (${defaultText})` });
  }

  /** true or false; command-line context arrives as the strings 'true' and 'false'. */
  boolean(key: string, opts: { default: boolean; what: string }): boolean {
    const raw = this.read(key, String(!opts.default));
    if (raw === undefined || raw === null || raw === '') return opts.default;
    if (raw === true || raw === 'true') return true;
    if (raw === false || raw === 'false') return false;
    this.problem(key, `must be true or false (${opts.what}), got ${JSON.stringify(raw)}`, String(!opts.default));
    return opts.default;
  }

  /** Lists: a JSON array in cdk.json, or comma-separated on the command line. */
  list(key: string, opts: { pattern: RegExp; what: string; example: string; ifEmpty?: string }): string[] {
    const raw = this.read(key, opts.example);
    if (raw === undefined || raw === null) {
      this.problem(key, `is required: a list of ${opts.what}`, opts.example);
      return [];
    }
    const items = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter((s) => s !== '') : raw;
    if (!Array.isArray(items)) {
      this.problem(
        key,
        `must be a list of ${opts.what} (a JSON array in cdk.json, comma-separated on the command line), got ${quote(raw)}`,
        opts.example,
      );
      return [];
    }
    if (items.length === 0) {
      this.problem(key, `is empty: ${opts.ifEmpty ?? `list ${opts.what}`}`, opts.example);
      return [];
    }
    const bad = items.filter((item) => typeof item !== 'string' || !opts.pattern.test(item));
    if (bad.length > 0) {
      this.problem(key, `must list only ${opts.what}, got ${bad.map((b) => JSON.stringify(b)).join(', ')}`, opts.example);
    }
    return items.filter((item): item is string => typeof item === 'string');
  }
}

/**
 * Reads and validates the cluster configuration.
 *
 * @param read reads one context value (`key => app.node.tryGetContext(key)`)
 * @param givenKeys every key the context holds (`Object.keys(app.node.getAllContext())`):
 *   a key that is neither a setting nor the CDK's own is a problem (a typo would otherwise
 *   be ignored and its default used)
 * @throws ConfigError listing every problem, before any stack is built.
 */
export function loadClusterConfig(read: ContextReader, givenKeys: Iterable<string>): ClusterConfig {
  const p = new ContextParser(read);
  const config = readClusterConfig(p);
  reportUnknownKeys(p, givenKeys, read);
  if (p.problems.length > 0) throw new ConfigError(p.problems);
  return deepFreeze(config);
}

/** The app's settings: every context key it reads, in the order read. */
export function clusterContextKeys(): readonly string[] {
  const p = new ContextParser(() => undefined);
  readClusterConfig(p);
  return [...p.examples.keys()];
}

/** Fills defaults and validates; the problems are left in `p`, the result is valid only without them. */
function readClusterConfig(p: ContextParser): ClusterConfig {
  const stack = p.string('stack', {
    pattern: DNS_LABEL_PART,
    what: 'a name of lowercase letters, digits and inner hyphens',
    example: 'kube-aws-test',
  });
  const version = p.string('version', {
    pattern: DNS_LABEL_PART,
    what: 'a version of lowercase letters, digits and inner hyphens',
    example: '1',
  });
  const clusterName = `${stack}-${version}`;
  if (stack && version && clusterName.length > MAX_CLUSTER_NAME_LENGTH) {
    p.problem(
      'stack',
      `with version makes the cluster name '${clusterName}' (${clusterName.length} characters); ` +
        `it must be at most ${MAX_CLUSTER_NAME_LENGTH} because it is part of S3 bucket names`,
      'kube-aws-test',
    );
  }

  const account = p.string('account', { pattern: /^\d{12}$/, what: 'a 12-digit AWS account id', example: '123456789012' });
  const region = p.string('region', {
    pattern: /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/,
    what: 'an AWS region name',
    example: 'eu-central-1',
  });

  const zoneName = p
    .string('hostedZoneName', { pattern: /^[a-z0-9.-]+\.?$/, what: 'a Route53 hosted zone name', example: 'team.example.org' })
    .replace(/\.$/, '');
  if (zoneName && !DOMAIN_NAME.test(zoneName)) {
    p.problem('hostedZoneName', `must be a domain name, got '${zoneName}'`, 'team.example.org');
  }
  const zoneId = p.string('hostedZoneId', {
    pattern: /^Z[A-Z0-9]{1,31}$/,
    what: 'a Route53 hosted zone id',
    example: 'Z0123456789EXAMPLE',
  });
  const apiDomainName = `${clusterName}.${zoneName}`;

  const certificateArn = p.optionalString('certificateArn', {
    pattern: /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/,
    what: 'an ACM certificate ARN',
    example: 'arn:aws:acm:eu-central-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b',
  });
  if (certificateArn && region && !certificateArn.includes(`:acm:${region}:`)) {
    p.problem(
      'certificateArn',
      `must be a certificate in the cluster's region ${region} (a load balancer can only use certificates of its own region), got '${certificateArn}'`,
      `arn:aws:acm:${region}:${account || '123456789012'}:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b`,
    );
  }

  const network = readNetwork(p, region);
  const flatcarAmi = readFlatcarAmi(p, region);

  const kubernetesVersion = p.string('kubernetesVersion', {
    what: `one of the supported Kubernetes versions ${SUPPORTED_KUBERNETES_VERSIONS.join(', ')}`,
    example: DEFAULT_KUBERNETES_VERSION,
    default: DEFAULT_KUBERNETES_VERSION,
  });
  if (kubernetesVersion && !SUPPORTED_KUBERNETES_VERSIONS.includes(kubernetesVersion)) {
    p.problem(
      'kubernetesVersion',
      `must be one of the supported versions ${SUPPORTED_KUBERNETES_VERSIONS.join(', ')} (their binaries are pinned by hash), got '${kubernetesVersion}'`,
      DEFAULT_KUBERNETES_VERSION,
    );
  }

  const instanceType = (key: string) => {
    const type = p.string(key, { pattern: INSTANCE_TYPE, what: 'an EC2 instance type', example: DEFAULTS.instanceType, default: DEFAULTS.instanceType });
    const architecture = INSTANCE_TYPE.test(type) ? instanceArchitectureProblem(type) : undefined;
    if (architecture) p.problem(key, architecture, DEFAULTS.instanceType);
    return type;
  };

  const etcdInstanceType = instanceType('etcdInstanceType');
  const masterInstanceType = instanceType('masterInstanceType');

  const etcdCount = p.integer('etcdCount', { min: 1, max: 7, default: DEFAULTS.etcdCount, what: 'the number of etcd members' });
  if (etcdCount % 2 === 0) {
    p.problem('etcdCount', `must be odd so that a majority survives losing a minority, got ${etcdCount}`, '3');
  }
  const masterCount = p.integer('masterCount', { min: 1, max: 9, default: DEFAULTS.masterCount, what: 'the number of masters' });
  const workers = readWorkerPools(p, network.nodeSubnetIds, instanceType);

  const tokenInfoUrl = p.string('tokenInfoUrl', {
    pattern: /^https:\/\/[^\s/]+(\/\S*)?$/,
    what: "an https URL of the OAuth2 token-info endpoint that checks users' tokens",
    example: 'https://auth.example.org/oauth2/tokeninfo',
  });

  const cidrExample = '203.0.113.0/24,198.51.100.7/32';
  const apiAllowedCidrs = p.optionalList('apiAllowedCidrs', {
    pattern: IPV4_CIDR,
    what: 'IPv4 CIDR blocks that may reach the API (a.b.c.d/n: numbers 0 to 255, prefix length 0 to 32)',
    example: cidrExample,
    default: ['0.0.0.0/0'],
  });
  // AWS accepts a block with host bits set and silently stores its network (EC2
  // AuthorizeSecurityGroupIngress, CidrIp: "100.68.0.18/18" becomes "100.68.0.0/18"): someone
  // who wrote their own address with a short prefix would open the API to the whole network.
  for (const cidr of apiAllowedCidrs.filter((c) => IPV4_CIDR.test(c))) {
    const network = ipv4Network(cidr);
    if (network !== cidr) {
      p.problem(
        'apiAllowedCidrs',
        `'${cidr}' has host bits set, and AWS would widen it to ${network} without a word: ` +
          `write ${network} for that network, or ${cidr.replace(/\/\d+$/, '/32')} for the one address`,
        network,
      );
    }
  }
  // Never a system: group (system:authenticated would make every user the role) nor one of ours.
  const groups = (key: string, example: string) =>
    p.optionalList(key, {
      pattern: /^(?!system:|kubernetes-on-aws:)[^\s,]+$/,
      what: 'group names without spaces or commas, none starting with system: or kubernetes-on-aws:',
      example,
      default: [],
    });
  const roleGroups = {
    ReadOnly: groups('readOnlyGroups', 'team-members'),
    PowerUser: groups('powerUserGroups', 'team-developers'),
    Administrator: groups('administratorGroups', 'team-admins'),
  };
  const arns = (key: string, example: string) =>
    p.optionalList(key, {
      // No path: the STS caller of a role session names the role without it (aws-iam-token.ts principalOf).
      pattern: /^arn:aws(-cn|-us-gov)?:iam::\d{12}:(role|user)\/[\w+=,.@-]{1,64}$/,
      what: 'IAM role or user ARNs without a path',
      example,
      default: [],
    });
  const roleArns = {
    ReadOnly: arns('readOnlyRoleArns', `arn:aws:iam::${account || '123456789012'}:role/Auditors`),
    PowerUser: arns('powerUserRoleArns', `arn:aws:iam::${account || '123456789012'}:role/Developers`),
    Administrator: arns('administratorRoleArns', `arn:aws:iam::${account || '123456789012'}:role/PlatformAdmins`),
  };

  const disabledAddons = p.optionalList('disabledAddons', {
    pattern: /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/,
    what: `names of optional add-ons (${OPTIONAL_ADDON_NAMES.join(', ')})`,
    example: 'headlamp,node-exporter',
    default: [],
  });
  for (const name of disabledAddons.filter((n) => !OPTIONAL_ADDON_NAMES.includes(n))) {
    const reason = ADDONS.some((addon) => addon.name === name) ? 'the cluster needs it' : 'there is no such add-on';
    p.problem('disabledAddons', `'${name}' cannot be turned off (${reason}); optional add-ons: ${OPTIONAL_ADDON_NAMES.join(', ')}`, 'headlamp');
  }
  // The worker stack waits for its add-ons to run on workers: with none to start with, it
  // would wait until it fails.
  let workerAddons: string[] = [];
  try {
    workerAddons = bootstrapChain(ADDONS.filter((addon) => !disabledAddons.includes(addon.name)))
      .filter((step) => step.stack === 'worker')
      .map((step) => step.addon.name);
  } catch (error) {
    p.problem('disabledAddons', `leaves an add-on without what it needs: ${(error as Error).message}`, 'headlamp');
  }
  reportNoStartingWorker(p, workers, workerAddons);

  const generation = (key: string) => p.integer(key, { min: 0, max: 1000000, default: 0, what: 'a generation number' });
  const secretsGeneration = {
    etcd: generation('etcdSecretsGeneration'),
    controlPlane: generation('controlPlaneSecretsGeneration'),
  };

  const breakGlassAdminToken = p.boolean('breakGlassAdminToken', { default: false, what: 'whether the API servers accept the static admin token' });
  const forceRollToken = p.optionalString('forceRoll', {
    pattern: /^[A-Za-z0-9._-]{1,64}$/,
    what: 'a token of your choice (letters, digits, . _ -, at most 64): a new one rolls the nodes',
    example: '2026-12-04',
  });
  const forceRollRoles = p.optionalList('forceRollRoles', {
    pattern: new RegExp(`^(${FORCE_ROLL_ROLES.join('|')})$`),
    what: `node roles to roll (${FORCE_ROLL_ROLES.join(', ')})`,
    example: FORCE_ROLL_ROLES.join(','),
    default: [...FORCE_ROLL_ROLES],
  }) as ForceRollConfig['roles'];

  return {
    stack,
    version,
    clusterName,
    stackNames: { etcd: `${clusterName}-etcd`, master: `${clusterName}-master`, worker: `${clusterName}-worker` },
    account,
    region,
    partition: partitionOfRegion(region),
    hostedZone: { name: zoneName, id: zoneId },
    apiDomainName,
    clusterGroup: clusterGroupOf({ account, region, cluster: clusterName, zone: zoneName }),
    certificateArn,
    network,
    flatcarAmi,
    kubernetesVersion,
    etcd: { instanceType: etcdInstanceType, count: etcdCount },
    master: { instanceType: masterInstanceType, count: masterCount },
    workerPools: workers.pools,
    tokenInfoUrl,
    apiAllowedCidrs,
    roleGroups,
    roleArns,
    secretsGeneration,
    breakGlassAdminToken,
    disabledAddons,
    ...(forceRollToken !== undefined ? { forceRoll: { token: forceRollToken, roles: forceRollRoles } } : {}),
  };
}

/** The worker pools, and whether they came from `workerPools` (else from the `worker*` keys). */
interface WorkerPools {
  readonly pools: WorkerPoolConfig[];
  readonly fromWorkerPools: boolean;
}

/** The `worker*` keys: their examples, and the pool setting that replaces each in `workerPools`. */
const WORKER_KEYS_IN_POOLS: readonly { key: string; example: string; poolKey: string }[] = [
  { key: 'workerInstanceType', example: DEFAULTS.instanceType, poolKey: 'instanceTypes' },
  { key: 'workerMinSize', example: String(DEFAULTS.workerMinSize), poolKey: 'minSize' },
  { key: 'workerMaxSize', example: String(DEFAULTS.workerMaxSize), poolKey: 'maxSize' },
  { key: 'workerDesiredCapacity', example: '3', poolKey: 'desiredCapacity' },
];

/**
 * `workerPools` is the complete list of pools; without it, the `worker*` keys describe the one
 * pool they always did. Both are read on every run, so that the settings read do not depend
 * on the context.
 */
function readWorkerPools(p: ContextParser, nodeSubnetIds: readonly string[], instanceType: (key: string) => string): WorkerPools {
  const raw = p.read('workerPools', workerPoolsExample());
  if (raw === undefined || raw === null) return { pools: [readDefaultPool(p, instanceType)], fromWorkerPools: false };
  for (const { key, example, poolKey } of WORKER_KEYS_IN_POOLS) {
    const given = p.read(key, example);
    if (given !== undefined && given !== null && given !== '') {
      p.problem(key, `workerPools replaces ${key}: set ${poolKey} in the pool instead, and leave ${key} out`, workerPoolsExample(), 'workerPools');
    }
  }
  const pools = parseWorkerPools(raw, nodeSubnetIds, (message, example) => p.problem('workerPools', message, example));
  return { pools, fromWorkerPools: true };
}

/** The pool of the `worker*` keys: on-demand, one instance type, every node subnet. */
function readDefaultPool(p: ContextParser, instanceType: (key: string) => string): WorkerPoolConfig {
  const workerInstanceType = instanceType('workerInstanceType');
  const minSize = p.integer('workerMinSize', { min: 0, max: 1000, default: DEFAULTS.workerMinSize, what: 'the least number of workers' });
  const maxSize = p.integer('workerMaxSize', { min: 1, max: 1000, default: DEFAULTS.workerMaxSize, what: 'the most workers' });
  // Left out, the Auto Scaling group starts at workerMinSize and an update keeps the size
  // it has (cluster-autoscaler's choice); set, every deploy resets the group to it.
  const desiredCapacity =
    p.read('workerDesiredCapacity', '3') === undefined
      ? undefined
      : p.integer('workerDesiredCapacity', { min: 0, max: 1000, default: minSize, what: 'the number of workers to run' });
  if (minSize > maxSize) {
    p.problem('workerMinSize', `must not exceed workerMaxSize (${maxSize}), got ${minSize}`, String(Math.min(DEFAULTS.workerMinSize, maxSize)));
  }
  if (desiredCapacity !== undefined && (desiredCapacity < minSize || desiredCapacity > maxSize)) {
    p.problem(
      'workerDesiredCapacity',
      `must lie between workerMinSize (${minSize}) and workerMaxSize (${maxSize}), got ${desiredCapacity}`,
      String(Math.min(minSize + 1, maxSize)),
    );
  }
  return {
    name: DEFAULT_POOL_NAME,
    instanceTypes: [workerInstanceType],
    minSize,
    ...(desiredCapacity !== undefined ? { desiredCapacity } : {}),
    maxSize,
    rootVolumeSizeGiB: 50,
    labels: {},
    taints: [],
  };
}

/** The worker stack waits for its add-ons to run on workers: with none to start with, it would wait until it fails. */
function reportNoStartingWorker(p: ContextParser, workers: WorkerPools, workerAddons: readonly string[]): void {
  // An empty list is reported already (workerPools is empty or malformed).
  if (workers.pools.length === 0 || workerAddons.length === 0) return;
  // Those add-ons tolerate no pool's taints: only a pool without a NoSchedule or NoExecute taint can run them.
  const open = workers.pools.filter((pool) => pool.taints.every((taint) => taint.effect === 'PreferNoSchedule'));
  const starting = open.reduce((sum, pool) => sum + (pool.desiredCapacity ?? pool.minSize), 0);
  if (starting > 0) return;
  if (workers.fromWorkerPools) {
    p.problem(
      'workerPools',
      `start no worker in a pool without NoSchedule or NoExecute taints (there, desiredCapacity, or minSize without it, is 0), ` +
        `but the worker stack waits for ${workerAddons.join(', ')} to run on such workers: start at least one in an untainted pool ` +
        `(minSize or desiredCapacity), or add them to disabledAddons`,
      workerPoolsExample(),
    );
  } else {
    p.problem(
      'workerMinSize',
      `0 starts no worker, but the worker stack waits for ${workerAddons.join(', ')} to run on workers: ` +
        `start at least one (workerMinSize or workerDesiredCapacity), or add them to disabledAddons`,
      '1',
    );
  }
}

function readNetwork(p: ContextParser, region: string): NetworkConfig {
  const vpcId = p.string('vpcId', { pattern: AWS_ID('vpc'), what: 'a VPC id', example: 'vpc-0a1b2c3d4e5f60718' });
  const availabilityZones = p.list('availabilityZones', {
    pattern: /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d[a-z]$/,
    what: 'availability zone names',
    example: 'eu-central-1a,eu-central-1b,eu-central-1c',
  });
  const subnetExample = 'subnet-0a000000000000001,subnet-0b000000000000002,subnet-0c000000000000003';
  const nodeSubnetIds = p.list('nodeSubnetIds', { pattern: AWS_ID('subnet'), what: 'subnet ids', example: subnetExample });
  const loadBalancerSubnetIds = p.list('loadBalancerSubnetIds', { pattern: AWS_ID('subnet'), what: 'subnet ids', example: subnetExample });

  const outside = availabilityZones.filter((az) => region && !az.startsWith(region));
  if (outside.length > 0) {
    p.problem('availabilityZones', `must all be in the region ${region}, got ${outside.join(', ')}`, `${region}a,${region}b,${region}c`);
  }
  if (new Set(availabilityZones).size !== availabilityZones.length) {
    p.problem('availabilityZones', `must not repeat a zone, got ${availabilityZones.join(', ')}`, `${region}a,${region}b,${region}c`);
  }
  for (const [key, ids] of [['nodeSubnetIds', nodeSubnetIds], ['loadBalancerSubnetIds', loadBalancerSubnetIds]] as const) {
    if (availabilityZones.length > 0 && ids.length > 0 && ids.length !== availabilityZones.length) {
      p.problem(
        key,
        `must name one subnet per availability zone, in the order of availabilityZones (${availabilityZones.length}), got ${ids.length}`,
        subnetExample,
      );
    }
  }
  return { vpcId, availabilityZones, nodeSubnetIds, loadBalancerSubnetIds };
}

function readFlatcarAmi(p: ContextParser, region: string): FlatcarAmiConfig {
  const raw = p.read('flatcarAmi', 'lookup');
  const ami = AWS_ID('ami');
  const amiWhat = 'an AMI id (ami- and 8 or 17 hex digits)';
  const lookupWhat = "'lookup' (needs AWS credentials once; the image is cached in cdk.context.json)";
  // Command-line context values are strings, so a map only fits in cdk.json: the example
  // gives the two forms that work on the command line.
  const example = 'ami-0f1e2d3c4b5a69788 or --context flatcarAmi=lookup';
  if (raw === 'lookup') return { kind: 'lookup' };
  if (typeof raw === 'string' && ami.test(raw)) return { kind: 'id', amiId: raw };
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const map = raw as Record<string, unknown>;
    const amiId = map[region];
    if (typeof amiId === 'string' && ami.test(amiId)) return { kind: 'id', amiId };
    if (!region) return { kind: 'lookup' }; // the region's own problem is reported
    p.problem(
      'flatcarAmi',
      amiId === undefined
        ? `has no AMI id for the region '${region}' (the map in cdk.json names ${Object.keys(map).join(', ') || 'no region'}): ` +
            `add "${region}": "ami-..." to the flatcarAmi map in cdk.json, or give this deploy one image`
        : `must map the region '${region}' to ${amiWhat}, got ${quote(amiId)}`,
      example,
    );
    return { kind: 'lookup' };
  }
  if (raw === undefined || raw === null) {
    p.problem('flatcarAmi', `is required: ${amiWhat}, a map of region to AMI id in cdk.json, or ${lookupWhat}`, example);
  } else if (typeof raw === 'string' && raw.trim().startsWith('{')) {
    p.problem(
      'flatcarAmi',
      `must be ${amiWhat} or 'lookup' on the command line, got the map ${quote(raw)}: ` +
        'command-line context values are strings; put a map of region to AMI id in cdk.json',
      example,
    );
  } else {
    p.problem('flatcarAmi', `must be ${amiWhat}, a map of region to AMI id in cdk.json, or ${lookupWhat}, got ${quote(raw)}`, example);
  }
  return { kind: 'lookup' };
}

/** `a.b.c.d/n` with its host bits cleared: the network AWS stores for it. */
function ipv4Network(cidr: string): string {
  const [address, length] = cidr.split('/');
  const prefix = Number(length);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const value = address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const network = (value & mask) >>> 0;
  return `${[24, 16, 8, 0].map((shift) => (network >>> shift) & 255).join('.')}/${prefix}`;
}

/**
 * Context keys that belong to the CDK, not to this app: feature flags (`@aws-cdk/...`), the
 * CLI's own settings (`aws:cdk:...`, `aws-cdk:...`, `cdk-...`, and the acknowledged notices),
 * and the lookup cache in cdk.context.json, whose keys are `<provider>:<props>`
 * (aws-cdk-lib ContextProvider.getKey, providers from cloud-assembly-schema).
 */
const CDK_CONTEXT_KEY_PREFIXES: readonly string[] = [
  '@aws-cdk/',
  'aws:cdk:',
  'aws-cdk:',
  'cdk-',
  ...Object.values(ContextProvider).map((provider) => `${provider}:`),
];
const CDK_CONTEXT_KEYS: readonly string[] = ['acknowledged-issue-numbers'];

function isCdkContextKey(key: string): boolean {
  return CDK_CONTEXT_KEYS.includes(key) || CDK_CONTEXT_KEY_PREFIXES.some((prefix) => key.startsWith(prefix));
}

/** A key the app does not read would be ignored, and its setting left at the default: name the nearest setting instead. */
function reportUnknownKeys(p: ContextParser, givenKeys: Iterable<string>, read: ContextReader): void {
  const settings = [...p.examples.keys()];
  for (const key of givenKeys) {
    if (p.examples.has(key) || isCdkContextKey(key)) continue;
    const nearest = settings.reduce((best, setting) => (editDistance(key, setting) < editDistance(key, best) ? setting : best));
    p.problem(
      key,
      `is not a setting of this app; did you mean ${nearest}? (every setting is in the Settings table of README.md)`,
      commandLineValue(read(key)) ?? p.examples.get(nearest)!,
      nearest,
    );
  }
}

/** A context value as `--context KEY=VALUE` writes it (lists comma-separated), if it can be written there. */
function commandLineValue(value: unknown): string | undefined {
  const scalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  if (scalar(value)) return String(value);
  if (Array.isArray(value) && value.every(scalar)) return value.join(',');
  return undefined;
}

/**
 * Edits (insert, delete, change, swap two neighbours) between two keys, ignoring case: a
 * typo is usually one or two of them.
 */
function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d = Array.from({ length: s.length + 1 }, (_, i) => Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[s.length][t.length];
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}
