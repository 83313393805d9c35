/**
 * Identities from AWS IAM, as aws-iam-authenticator gives them for EKS: a token that STS
 * vouches for (aws-iam-token.ts) names an IAM principal, and the principal is
 * - a node, when it is a session of a node role (iam.nodeRoles): EC2 names an instance's role
 *   session after the instance, so the session name is the instance id, and the node is
 *   `system:node:<that instance's private DNS name>` in `system:nodes` (ec2-node-names.ts
 *   checks that the instance is this cluster's, alive, and launched with that role's
 *   profile). The Node authorizer and NodeRestriction then scope it to its own objects.
 * - a person, when the principal's ARN holds a role (iam.roles): the cluster group and the
 *   role's IAM group, which the authorization policy maps to the role (rolesWithIamGroups).
 * - nobody otherwise.
 */
import { IamTokenResult, principalOf, verifyIamToken } from './aws-iam-token';
import { clusterNameOf, IamConfig, RoleName, ROLE_NAMES } from './config';
import { Ec2NodeNames, NodeNameResult } from './ec2-node-names';
import { iamRoleGroup, NODE_USER_PREFIX, NODES_GROUP } from './identities';
import { TokenInfoResult } from './token-info-client';


/** The authorization policy's role groups, with each role's IAM group added when IAM is on. */
export function rolesWithIamGroups(roles: Readonly<Record<RoleName, readonly string[]>>, iam: IamConfig | undefined): Record<RoleName, readonly string[]> {
  const withIam = (role: RoleName) => (iam ? [...roles[role], iamRoleGroup(role)] : [...roles[role]]);
  return { ReadOnly: withIam('ReadOnly'), PowerUser: withIam('PowerUser'), Administrator: withIam('Administrator') };
}

export interface IamAuthenticatorOptions {
  readonly iam: IamConfig;
  /** `aws:<account>:<region>:<cluster>`: what makes a person a user of this cluster. */
  readonly clusterGroup: string;
  /** @default verifyIamToken with the config's cluster, partition, region and timeout */
  readonly verify?: (token: string) => Promise<IamTokenResult>;
  /** @default Ec2NodeNames for the config's cluster and region */
  readonly nodeNames?: { nodeNameOf(instanceId: string, instanceProfileArn: string): Promise<NodeNameResult> };
  /** @default Date.now */
  readonly now?: () => number;
}

/** How long a found node name is reused: a terminated instance's name outlives it by at most this. */
const NODE_NAME_CACHE_SECONDS = 60;
/** A booting instance may not be visible to DescribeInstances at once: retry soon. */
const NOT_A_NODE_CACHE_SECONDS = 10;
const NODE_NAME_CACHE_ENTRIES = 10_000;
/** EC2 throttles DescribeInstances per account: a flood of tokens must not use it all. */
const MAX_CONCURRENT_EC2_LOOKUPS = 4;
/**
 * STS calls under way at most: a token with a made-up signature passes every local check and
 * costs one STS call, and the API server authenticates before its own in-flight limits. Past
 * this, sign-ins fail as "unavailable" (the client retries) rather than queue without bound.
 */
export const MAX_CONCURRENT_STS_CALLS = 16;

export class IamAuthenticator {
  private readonly verify: (token: string) => Promise<IamTokenResult>;
  private readonly nodeNames: NonNullable<IamAuthenticatorOptions['nodeNames']>;
  private readonly now: () => number;
  private stsCallsUnderWay = 0;

  constructor(private readonly options: IamAuthenticatorOptions) {
    const { iam } = options;
    this.now = options.now ?? Date.now;
    this.verify = options.verify ??
      ((token) => verifyIamToken(token, { clusterId: iam.clusterId, partition: iam.partition, region: iam.region, timeoutMs: iam.timeoutMs, now: this.now }));
    this.nodeNames = options.nodeNames ?? new Ec2NodeNames({
      clusterName: clusterNameOf(options.clusterGroup),
      region: iam.region,
      cacheTtlSeconds: NODE_NAME_CACHE_SECONDS,
      negativeCacheTtlSeconds: NOT_A_NODE_CACHE_SECONDS,
      cacheMaxEntries: NODE_NAME_CACHE_ENTRIES,
      maxConcurrentLookups: MAX_CONCURRENT_EC2_LOOKUPS,
      timeoutMs: iam.timeoutMs,
      now: this.now,
    });
  }

  /** Who the token's IAM principal is in this cluster. Never throws; never logs the token. */
  async authenticate(token: string): Promise<TokenInfoResult> {
    if (this.stsCallsUnderWay >= MAX_CONCURRENT_STS_CALLS) {
      return { kind: 'unavailable', reason: `${MAX_CONCURRENT_STS_CALLS} IAM sign-ins are under way already` };
    }
    this.stsCallsUnderWay++;
    let verified: IamTokenResult;
    try {
      verified = await this.verify(token);
    } finally {
      this.stsCallsUnderWay--;
    }
    if (verified.kind !== 'caller') return verified;
    const { caller } = verified;
    const expiresInSeconds = Math.max(0, Math.floor((caller.expiresAt - this.now()) / 1000));
    const principal = principalOf(caller.arn);
    if (!principal) return { kind: 'rejected', reason: `IAM caller ${caller.arn} is neither a role session nor a user` };
    const uid = `aws-iam:${caller.userId}`;

    const nodeRole = principal.kind === 'role' ? this.options.iam.nodeRoles.find((node) => node.roleArn === principal.arn) : undefined;
    if (nodeRole && principal.kind === 'role') {
      const node = await this.nodeNames.nodeNameOf(principal.sessionName, nodeRole.instanceProfileArn);
      if (node.kind === 'unavailable') return node;
      if (node.kind === 'not-a-node') return { kind: 'rejected', reason: `node role session ${principal.sessionName}: ${node.reason}` };
      return { kind: 'identity', identity: { username: `${NODE_USER_PREFIX}${node.nodeName}`, uid, groups: [NODES_GROUP, 'system:authenticated'] }, expiresInSeconds };
    }

    // The strongest role whose list names the principal.
    const role = [...ROLE_NAMES].reverse().find((name) => this.options.iam.roles[name].includes(principal.arn));
    if (!role) return { kind: 'rejected', reason: `IAM principal ${principal.arn} holds no role in this cluster (iam.roles)` };
    // A role's sessions share its ARN: the session name tells them apart in the audit log.
    const username = principal.kind === 'role' ? `${principal.arn}/${principal.sessionName}` : principal.arn;
    return { kind: 'identity', identity: { username, uid, groups: [this.options.clusterGroup, iamRoleGroup(role)] }, expiresInSeconds };
  }
}
