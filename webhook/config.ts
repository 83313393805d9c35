import { readFileSync } from 'fs';
import * as yaml from 'js-yaml';

/** The roles a user can hold, weakest first: each includes the ones before it. */
export const ROLE_NAMES = ['ReadOnly', 'PowerUser', 'Administrator'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

/** Where the username, uid and groups are in the token-info JSON answer (dotted paths). */
export interface TokenInfoFields {
  /** Dotted path of the username. @default 'username' (RFC 7662 introspection) */
  readonly username: string;
  /** Dotted path of the stable user id. @default 'sub' (RFC 7662 introspection) */
  readonly uid: string;
  /** Dotted path of the groups: a list of strings or one string. @default 'groups' */
  readonly groups: string;
}

/** AWS partitions whose STS endpoints the webhook knows. */
export const AWS_PARTITIONS = ['aws', 'aws-cn', 'aws-us-gov'] as const;
export type AwsPartition = (typeof AWS_PARTITIONS)[number];

/** Region names carry their partition: cn-* is aws-cn, us-gov-* is aws-us-gov (AWS region naming). */
export function partitionOfRegion(region: string): AwsPartition {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** A node role: an instance role whose sessions (named after the instance) are kubelets. */
export interface NodeRoleMapping {
  /** `arn:<partition>:iam::<account>:role/<name>`. */
  readonly roleArn: string;
  /** The instance profile the role's instances are launched with. */
  readonly instanceProfileArn: string;
}

/** Identities from AWS IAM (aws-iam-authenticator's token format), when configured. */
export interface IamConfig {
  /**
   * The `x-k8s-aws-id` a token must have signed: the cluster group
   * `aws:<account>:<region>:<cluster>`, unique across accounts and regions, so that a token
   * made for a cluster of the same name elsewhere is refused here.
   */
  readonly clusterId: string;
  readonly partition: AwsPartition;
  readonly region: string;
  /** Budget for one STS or EC2 answer. */
  readonly timeoutMs: number;
  /** Node roles: a session of one is `system:node:<the instance's private DNS name>`. */
  readonly nodeRoles: readonly NodeRoleMapping[];
  /** Which IAM roles and users (canonical ARNs) hold which role. */
  readonly roles: Readonly<Record<RoleName, readonly string[]>>;
}

/** The server's configuration as validated, defaults filled in. */
export interface WebhookConfig {
  /** `aws:<account>:<region>:<stack>-<version>`: users without this group are denied. */
  readonly clusterGroup: string;
  readonly tokenInfo: {
    /** OAuth2 token-info endpoint, asked with `Authorization: Bearer <token>`. */
    readonly url: string;
    /** Budget for one token-info answer. */
    readonly timeoutMs: number;
    readonly fields: TokenInfoFields;
    /** Bound on token-info lookups under way at once; beyond it a new token gets 429 at once. */
    readonly maxConcurrentLookups: number;
  };
  readonly cache: {
    /** How long a positive authentication is reused; 0 turns the cache off. */
    readonly ttlSeconds: number;
    /** Bound on cached identities; the least recently used go first. */
    readonly maxEntries: number;
  };
  /** Which groups (from token-info) grant which role. */
  readonly roles: Readonly<Record<RoleName, readonly string[]>>;
  readonly server: {
    /** Budget for receiving a whole request (headers and body): slower clients get 408. */
    readonly requestTimeoutMs: number;
  };
  /** IAM identities; absent, tokens in aws-iam-authenticator's format are not recognised. */
  readonly iam?: IamConfig;
  /** The approver of kubelet serving certificates run beside the webhook; absent, none runs. */
  readonly kubeletServingApprover?: KubeletServingApproverConfig;
}

/**
 * How the approver of kubelet serving CSRs (kubelet-serving-approver.ts) reaches the API
 * server. It needs the `iam` section: its node roles' instance profiles say which EC2
 * instances are nodes.
 */
export interface KubeletServingApproverConfig {
  /** `https://<host>[:port]` of the API server, e.g. the master's own https://127.0.0.1:443. */
  readonly apiServer: string;
  /** PEM file of the CA that signed the API server's certificate: the only CA trusted. */
  readonly caFile: string;
  /** File holding the approver's bearer token (a trailing newline is ignored). */
  readonly tokenFile: string;
}

/** What a caller writes (e.g. the master user data): everything with a default is optional. */
export interface WebhookSettings {
  readonly clusterGroup: string;
  readonly tokenInfo: {
    readonly url: string;
    readonly timeoutMs?: number;
    readonly fields?: Partial<TokenInfoFields>;
    readonly maxConcurrentLookups?: number;
  };
  readonly cache?: { readonly ttlSeconds?: number; readonly maxEntries?: number };
  readonly roles: Partial<Record<RoleName, readonly string[]>>;
  readonly server?: { readonly requestTimeoutMs?: number };
  readonly iam?: {
    readonly clusterId: string;
    readonly partition: AwsPartition;
    readonly region: string;
    readonly timeoutMs?: number;
    readonly nodeRoles?: readonly NodeRoleMapping[];
    readonly roles?: Partial<Record<RoleName, readonly string[]>>;
  };
  readonly kubeletServingApprover?: KubeletServingApproverConfig;
}

/** Token-info usually answers within tens of ms; 2 s leaves room without stalling kubectl. */
export const DEFAULT_TOKEN_INFO_TIMEOUT_MS = 2000;
/** The API server's own webhook client gives up after 30 s; waiting longer is pointless. */
export const MAX_TIMEOUT_MS = 30000;
/** A revoked token keeps working until its cache entry expires: keep this short. */
export const DEFAULT_CACHE_TTL_SECONDS = 60;
export const MAX_CACHE_TTL_SECONDS = 3600;
/** Roughly 1 KB per entry: 10,000 users cost about 10 MB on the master. */
export const DEFAULT_CACHE_MAX_ENTRIES = 10000;
/** The API server sends a review in one write; 5 s only stops slow or stuck clients. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;
/**
 * Lookups under way at once. New tokens are rare (the API server caches answers for
 * --authentication-token-webhook-cache-ttl, 2 min by default, and so do we): 64 lookups
 * at token-info's usual tens of ms are over a thousand new tokens a second, while a junk
 * flood holds at most 64 sockets to token-info and 64 pending answers in memory.
 */
export const DEFAULT_MAX_CONCURRENT_LOOKUPS = 64;
/** Each lookup is one socket: stay well under systemd's default soft limit of 1024 open files (LimitNOFILE). */
export const MAX_CONCURRENT_LOOKUPS = 512;
export const DEFAULT_TOKEN_INFO_FIELDS: TokenInfoFields = { username: 'username', uid: 'sub', groups: 'groups' };

/** The cluster name of a cluster group `aws:<account>:<region>:<cluster>`. */
export function clusterNameOf(clusterGroup: string): string {
  return clusterGroup.split(':')[3] ?? '';
}

/** Raised with every problem found, one per line, each starting with its field path. */
export class WebhookConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid webhook configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'WebhookConfigError';
  }
}

// An AWS account is 12 digits; a region like eu-central-1 or us-gov-west-1; the cluster
// name is `<stack>-<version>` (see DESIGN.md "What a user does").
const CLUSTER_GROUP_PATTERN = /^aws:\d{12}:[a-z]{2}(-[a-z]+)+-\d+:[A-Za-z][A-Za-z0-9-]*-[A-Za-z0-9]+$/;
const FIELD_PATH_PATTERN = /^[A-Za-z0-9_:-]+(\.[A-Za-z0-9_:-]+)*$/;
const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;
// IAM names: letters, digits and +=,.@_- (IAM API reference, CreateRole RoleName); paths dropped.
const IAM_ROLE_ARN_PATTERN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/[\w+=,.@-]{1,64}$/;
const IAM_PRINCIPAL_ARN_PATTERN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:(role|user)\/[\w+=,.@-]{1,64}$/;
const INSTANCE_PROFILE_ARN_PATTERN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:instance-profile\/[\w+=,.@-]{1,128}$/;

type Problems = string[];

const describe = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? `a list` : typeof value === 'string' ? JSON.stringify(value) : typeof value === 'object' ? 'a mapping' : String(value);

function mapping(value: unknown, path: string, known: readonly string[], problems: Problems): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`${path}: must be a mapping with fields ${known.join(', ')}, got ${describe(value)}`);
    return undefined;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!known.includes(key)) problems.push(`${path ? `${path}.` : ''}${key}: unknown field; valid fields here are ${known.join(', ')}`);
  }
  return record;
}

function requiredString(value: unknown, path: string, problems: Problems, hint: string): string {
  if (typeof value === 'string' && value.trim() !== '') return value;
  problems.push(`${path}: ${value === undefined ? 'is required' : `must be a non-empty string, got ${describe(value)}`}; ${hint}`);
  return '';
}

function integerInRange(value: unknown, path: string, fallback: number, min: number, max: number, problems: Problems): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  problems.push(`${path}: must be an integer from ${min} to ${max}, got ${describe(value)}`);
  return fallback;
}

function fieldPath(value: unknown, path: string, fallback: string, problems: Problems): string {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && FIELD_PATH_PATTERN.test(value)) return value;
  problems.push(`${path}: must be a dotted path into the token-info JSON (e.g. "user.name"), got ${describe(value)}`);
  return fallback;
}

/** Groups the API server (`system:`) or this cluster (`kubernetes-on-aws:`) hands out: never a role's. */
const RESERVED_GROUP = /^(system|kubernetes-on-aws):/;

function groupList(value: unknown, path: string, problems: Problems): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((g) => typeof g === 'string' && g.trim() !== '')) {
    problems.push(`${path}: must be a list of group names, got ${describe(value)}`);
    return [];
  }
  // system:authenticated would make every user the role; the others are not token-info's to give.
  for (const group of value as string[]) {
    if (RESERVED_GROUP.test(group)) problems.push(`${path}: ${JSON.stringify(group)} is a system: or kubernetes-on-aws: group, which token-info never grants; name your identity provider's group`);
  }
  return value as string[];
}

function arnList(value: unknown, path: string, pattern: RegExp, problems: Problems, hint: string): string[] {
  if (value === undefined) return [];
  if (Array.isArray(value) && value.every((arn) => typeof arn === 'string' && pattern.test(arn))) return value as string[];
  problems.push(`${path}: must be a list of ${hint}, got ${describe(value)}`);
  return [];
}

function iamSection(value: unknown, problems: Problems): IamConfig | undefined {
  const iam = mapping(value, 'iam', ['clusterId', 'partition', 'region', 'timeoutMs', 'nodeRoles', 'roles'], problems);
  if (!iam) return undefined;
  const partition = iam.partition as AwsPartition;
  if (!AWS_PARTITIONS.includes(partition)) problems.push(`iam.partition: must be one of ${AWS_PARTITIONS.join(', ')}, got ${describe(iam.partition)}`);
  const region = requiredString(iam.region, 'iam.region', problems, 'the cluster\'s region, e.g. eu-central-1');
  if (region !== '' && !REGION_PATTERN.test(region)) problems.push(`iam.region: must be an AWS region like eu-central-1, got ${describe(region)}`);
  const nodeRoles: NodeRoleMapping[] = [];
  if (iam.nodeRoles !== undefined && !Array.isArray(iam.nodeRoles)) problems.push(`iam.nodeRoles: must be a list of {roleArn, instanceProfileArn}, got ${describe(iam.nodeRoles)}`);
  for (const [index, entry] of (Array.isArray(iam.nodeRoles) ? iam.nodeRoles : []).entries()) {
    const where = `iam.nodeRoles[${index}]`;
    const node = mapping(entry, where, ['roleArn', 'instanceProfileArn'], problems);
    if (!node) continue;
    const roleArn = requiredString(node.roleArn, `${where}.roleArn`, problems, 'the node instance role\'s ARN');
    const instanceProfileArn = requiredString(node.instanceProfileArn, `${where}.instanceProfileArn`, problems, 'the instance profile of that role');
    if (roleArn !== '' && !IAM_ROLE_ARN_PATTERN.test(roleArn)) problems.push(`${where}.roleArn: must be arn:<partition>:iam::<account>:role/<name> (no path), got ${describe(roleArn)}`);
    if (instanceProfileArn !== '' && !INSTANCE_PROFILE_ARN_PATTERN.test(instanceProfileArn)) {
      problems.push(`${where}.instanceProfileArn: must be arn:<partition>:iam::<account>:instance-profile/<name>, got ${describe(instanceProfileArn)}`);
    }
    nodeRoles.push({ roleArn, instanceProfileArn });
  }
  const rolesDocument = mapping(iam.roles, 'iam.roles', ROLE_NAMES, problems);
  const roles = Object.fromEntries(ROLE_NAMES.map((role) => [
    role,
    arnList(rolesDocument?.[role], `iam.roles.${role}`, IAM_PRINCIPAL_ARN_PATTERN, problems, 'IAM role or user ARNs without a path (arn:aws:iam::<account>:role/<name>)'),
  ])) as Record<RoleName, string[]>;
  // A node role is a kubelet, never a person: one ARN in both would make every node a person too.
  for (const { roleArn } of nodeRoles) {
    for (const role of ROLE_NAMES) if (roles[role].includes(roleArn)) problems.push(`iam.roles.${role}: ${roleArn} is a node role (iam.nodeRoles); nodes get no user role`);
  }
  return {
    clusterId: requiredString(iam.clusterId, 'iam.clusterId', problems, 'the cluster group, which tokens sign as x-k8s-aws-id'),
    partition,
    region,
    timeoutMs: integerInRange(iam.timeoutMs, 'iam.timeoutMs', DEFAULT_TOKEN_INFO_TIMEOUT_MS, 1, MAX_TIMEOUT_MS, problems),
    nodeRoles,
    roles,
  };
}

function approverSection(value: unknown, problems: Problems): KubeletServingApproverConfig | undefined {
  if (value === undefined) return undefined;
  const section = mapping(value, 'kubeletServingApprover', ['apiServer', 'caFile', 'tokenFile'], problems);
  if (!section) return undefined;
  const apiServer = requiredString(section.apiServer, 'kubeletServingApprover.apiServer', problems, 'the API server URL, e.g. https://127.0.0.1:443');
  if (apiServer !== '' && !/^https:\/\/[^/?#@\s]+$/.test(apiServer)) {
    problems.push(`kubeletServingApprover.apiServer: must be https://<host>[:port] with nothing after it (the token must not travel in clear), got ${describe(apiServer)}`);
  }
  return {
    apiServer,
    caFile: requiredString(section.caFile, 'kubeletServingApprover.caFile', problems, 'the path of the CA that signed the API server\'s certificate'),
    tokenFile: requiredString(section.tokenFile, 'kubeletServingApprover.tokenFile', problems, 'the path of the file holding the approver\'s token'),
  };
}

function tokenInfoUrl(value: unknown, path: string, problems: Problems): string {
  const url = requiredString(value, path, problems, 'the OAuth2 token-info endpoint, e.g. https://auth.example.org/oauth2/tokeninfo');
  if (url === '') return url;
  try {
    const parsed = new URL(url);
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return url;
  } catch {
    // reported below
  }
  problems.push(`${path}: must be an http:// or https:// URL, got ${describe(url)}`);
  return '';
}

/**
 * Checks a parsed config document and fills in defaults. Returns every problem found,
 * each naming its field path, so one run shows everything to fix.
 */
export function validateWebhookConfig(document: unknown): { config?: WebhookConfig; problems: string[] } {
  const problems: Problems = [];
  const top = mapping(document ?? {}, '', ['clusterGroup', 'tokenInfo', 'cache', 'roles', 'server', 'iam', 'kubeletServingApprover'], problems);
  if (!top) return { problems: [`config: must be a YAML mapping, got ${describe(document)}`] };

  const clusterGroup = requiredString(top.clusterGroup, 'clusterGroup', problems, 'the form is aws:<account>:<region>:<stack>-<version>');
  if (clusterGroup !== '' && !CLUSTER_GROUP_PATTERN.test(clusterGroup)) {
    problems.push(`clusterGroup: must look like aws:<12-digit account>:<region>:<stack>-<version> (e.g. aws:123456789012:eu-central-1:kube-aws-test-1), got ${describe(clusterGroup)}`);
  }

  const tokenInfo = mapping(top.tokenInfo, 'tokenInfo', ['url', 'timeoutMs', 'fields', 'maxConcurrentLookups'], problems);
  if (top.tokenInfo === undefined) problems.push('tokenInfo: is required; a mapping with url (and optionally timeoutMs, fields)');
  const fields = mapping(tokenInfo?.fields, 'tokenInfo.fields', ['username', 'uid', 'groups'], problems);
  const cache = mapping(top.cache, 'cache', ['ttlSeconds', 'maxEntries'], problems);
  const server = mapping(top.server, 'server', ['requestTimeoutMs'], problems);

  const rolesDocument = mapping(top.roles, 'roles', ROLE_NAMES, problems);
  if (top.roles === undefined) problems.push(`roles: is required; a mapping from ${ROLE_NAMES.join(', ')} to lists of group names`);
  const roles = Object.fromEntries(ROLE_NAMES.map((role) => [role, groupList(rolesDocument?.[role], `roles.${role}`, problems)])) as Record<RoleName, string[]>;
  const iam = iamSection(top.iam, problems);
  const kubeletServingApprover = approverSection(top.kubeletServingApprover, problems);
  if (kubeletServingApprover && !iam) {
    problems.push('kubeletServingApprover: needs the iam section (its nodeRoles\' instance profiles say which EC2 instances are nodes)');
  }
  if (iam && CLUSTER_GROUP_PATTERN.test(clusterGroup)) {
    // The group names the cluster: its tokens, region and nodes are the same cluster's.
    const [, account, region] = clusterGroup.split(':');
    if (iam.clusterId !== '' && iam.clusterId !== clusterGroup) problems.push(`iam.clusterId: must be clusterGroup (${clusterGroup}), got ${describe(iam.clusterId)}`);
    if (iam.region !== '' && iam.region !== region) problems.push(`iam.region: must be the region of clusterGroup (${region}), got ${describe(iam.region)}`);
    for (const [index, { roleArn }] of iam.nodeRoles.entries()) {
      if (roleArn !== '' && roleArn.split(':')[4] !== account) problems.push(`iam.nodeRoles[${index}].roleArn: must be in the cluster's account ${account}, got ${describe(roleArn)}`);
    }
  }

  const config: WebhookConfig = {
    clusterGroup,
    tokenInfo: {
      url: tokenInfo ? tokenInfoUrl(tokenInfo.url, 'tokenInfo.url', problems) : '',
      timeoutMs: integerInRange(tokenInfo?.timeoutMs, 'tokenInfo.timeoutMs', DEFAULT_TOKEN_INFO_TIMEOUT_MS, 1, MAX_TIMEOUT_MS, problems),
      fields: {
        username: fieldPath(fields?.username, 'tokenInfo.fields.username', DEFAULT_TOKEN_INFO_FIELDS.username, problems),
        uid: fieldPath(fields?.uid, 'tokenInfo.fields.uid', DEFAULT_TOKEN_INFO_FIELDS.uid, problems),
        groups: fieldPath(fields?.groups, 'tokenInfo.fields.groups', DEFAULT_TOKEN_INFO_FIELDS.groups, problems),
      },
      maxConcurrentLookups: integerInRange(tokenInfo?.maxConcurrentLookups, 'tokenInfo.maxConcurrentLookups', DEFAULT_MAX_CONCURRENT_LOOKUPS, 1, MAX_CONCURRENT_LOOKUPS, problems),
    },
    cache: {
      ttlSeconds: integerInRange(cache?.ttlSeconds, 'cache.ttlSeconds', DEFAULT_CACHE_TTL_SECONDS, 0, MAX_CACHE_TTL_SECONDS, problems),
      maxEntries: integerInRange(cache?.maxEntries, 'cache.maxEntries', DEFAULT_CACHE_MAX_ENTRIES, 1, 1_000_000, problems),
    },
    roles,
    server: {
      requestTimeoutMs: integerInRange(server?.requestTimeoutMs, 'server.requestTimeoutMs', DEFAULT_REQUEST_TIMEOUT_MS, 1, MAX_TIMEOUT_MS, problems),
    },
    ...(iam ? { iam } : {}),
    ...(kubeletServingApprover ? { kubeletServingApprover } : {}),
  };
  return problems.length === 0 ? { config, problems } : { problems };
}

/** Parses and validates config YAML; throws WebhookConfigError listing every problem. */
export function parseWebhookConfig(yamlText: string): WebhookConfig {
  let document: unknown;
  try {
    document = yaml.load(yamlText);
  } catch (error) {
    throw new WebhookConfigError([`config: not valid YAML: ${(error as Error).message.split('\n')[0]}`]);
  }
  const { config, problems } = validateWebhookConfig(document);
  if (!config) throw new WebhookConfigError(problems);
  return config;
}

/** Reads and validates the config file. */
export function loadWebhookConfig(configPath: string): WebhookConfig {
  let yamlText: string;
  try {
    yamlText = readFileSync(configPath, 'utf8');
  } catch (error) {
    throw new WebhookConfigError([`--config: cannot read ${configPath}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`]);
  }
  return parseWebhookConfig(yamlText);
}
