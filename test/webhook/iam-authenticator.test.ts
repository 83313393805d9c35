/**
 * IAM principals as cluster identities: a node role's session is the node its instance is, a
 * mapped role or user is a person with that role, anything else nobody. STS and EC2 are faked
 * here at their interfaces (aws-iam-token.test.ts and ec2-node-names.test.ts test those).
 */
import { IamTokenResult, StsCaller } from '../../webhook/aws-iam-token';
import { authorize } from '../../webhook/authorizer';
import { IamConfig, ROLE_NAMES } from '../../webhook/config';
import { NodeNameResult } from '../../webhook/ec2-node-names';
import { IamAuthenticator, MAX_CONCURRENT_STS_CALLS, rolesWithIamGroups } from '../../webhook/iam-authenticator';
import { iamRoleGroup } from '../../webhook/identities';
import { RETRY_AFTER_SECONDS, TokenAuthenticator } from '../../webhook/authenticator';
import { identityFromTokenInfo, RESERVED_USERNAMES, TokenInfoResult } from '../../webhook/token-info-client';
import { clusterBootstrap } from '../../manifests/addons/cluster-bootstrap';
import { rendered } from '../manifests/addons/addon-fixtures';
import { DEFAULT_TOKEN_INFO_FIELDS } from '../../webhook/config';
import { CLUSTER_GROUP, ROLE_GROUPS } from './fixtures';

const ACCOUNT = '123456789012';
const WORKER_ROLE = `arn:aws:iam::${ACCOUNT}:role/kube-aws-test-1-worker-node`;
const WORKER_PROFILE = `arn:aws:iam::${ACCOUNT}:instance-profile/kube-aws-test-1-worker-node`;
const MASTER_ROLE = `arn:aws:iam::${ACCOUNT}:role/kube-aws-test-1-master-node`;
const MASTER_PROFILE = `arn:aws:iam::${ACCOUNT}:instance-profile/kube-aws-test-1-master-node`;
const ADMINS = `arn:aws:iam::${ACCOUNT}:role/PlatformAdmins`;
const DEVELOPERS = `arn:aws:iam::${ACCOUNT}:role/Developers`;
const AUDITOR = `arn:aws:iam::${ACCOUNT}:user/auditor`;
const NODE_NAME = 'ip-10-0-1-23.eu-central-1.compute.internal';
const NOW = Date.parse('2026-12-04T01:00:00Z');

const IAM: IamConfig = {
  clusterId: CLUSTER_GROUP,
  partition: 'aws',
  region: 'eu-central-1',
  timeoutMs: 2000,
  nodeRoles: [{ roleArn: MASTER_ROLE, instanceProfileArn: MASTER_PROFILE }, { roleArn: WORKER_ROLE, instanceProfileArn: WORKER_PROFILE }],
  // Developers are listed as ReadOnly and PowerUser: the stronger one counts.
  roles: { ReadOnly: [AUDITOR, DEVELOPERS], PowerUser: [DEVELOPERS], Administrator: [ADMINS] },
};

const caller = (arn: string, expiresInMs = 14 * 60_000): StsCaller => ({ arn, account: ACCOUNT, userId: 'AROAEXAMPLE:session', expiresAt: NOW + expiresInMs });

function authenticator(verified: IamTokenResult, node: NodeNameResult = { kind: 'node', nodeName: NODE_NAME }) {
  const nodeLookups: [string, string][] = [];
  const iam = new IamAuthenticator({
    iam: IAM,
    clusterGroup: CLUSTER_GROUP,
    now: () => NOW,
    verify: async () => verified,
    nodeNames: { nodeNameOf: async (instanceId, profile) => (nodeLookups.push([instanceId, profile]), node) },
  });
  return { iam, nodeLookups };
}

describe('a session of a node role is the node of its instance', () => {
  test.each([
    ['worker', WORKER_ROLE, WORKER_PROFILE],
    ['master', MASTER_ROLE, MASTER_PROFILE],
  ])('%s: system:node:<private DNS name> in system:nodes, looked up by instance id and that role\'s profile', async (_, role, profile) => {
    const sessionArn = role.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/') + '/i-0123456789abcdef0';
    const { iam, nodeLookups } = authenticator({ kind: 'caller', caller: caller(sessionArn) });
    expect(await iam.authenticate('token')).toEqual({
      kind: 'identity',
      identity: { username: `system:node:${NODE_NAME}`, uid: 'aws-iam:AROAEXAMPLE:session', groups: ['system:nodes', 'system:authenticated'] },
      expiresInSeconds: 14 * 60,
    });
    expect(nodeLookups).toEqual([['i-0123456789abcdef0', profile]]);
  });

  test('an instance that is not this cluster\'s node is nobody; EC2 not answering is "unavailable", not a refusal', async () => {
    const sessionArn = `arn:aws:sts::${ACCOUNT}:assumed-role/kube-aws-test-1-worker-node/i-0123456789abcdef0`;
    const refused = authenticator({ kind: 'caller', caller: caller(sessionArn) }, { kind: 'not-a-node', reason: 'instance is terminated' });
    expect(await refused.iam.authenticate('token')).toEqual({ kind: 'rejected', reason: 'node role session i-0123456789abcdef0: instance is terminated' });
    const down = authenticator({ kind: 'caller', caller: caller(sessionArn) }, { kind: 'unavailable', reason: 'RequestLimitExceeded' });
    expect(await down.iam.authenticate('token')).toEqual({ kind: 'unavailable', reason: 'RequestLimitExceeded' });
  });

  test('a node role is never a person, and a person\'s role is never a node (no EC2 lookup)', async () => {
    const { iam, nodeLookups } = authenticator({ kind: 'caller', caller: caller(`arn:aws:sts::${ACCOUNT}:assumed-role/PlatformAdmins/i-0123456789abcdef0`) });
    const result = await iam.authenticate('token');
    expect(result).toMatchObject({ kind: 'identity', identity: { username: `${ADMINS}/i-0123456789abcdef0` } });
    expect(nodeLookups).toEqual([]);
  });
});

describe('a mapped IAM principal is a person with its role', () => {
  test.each([
    ['a role session', `arn:aws:sts::${ACCOUNT}:assumed-role/PlatformAdmins/jdoe`, `${ADMINS}/jdoe`, 'Administrator'],
    ['the stronger of two roles', `arn:aws:sts::${ACCOUNT}:assumed-role/Developers/jane`, `${DEVELOPERS}/jane`, 'PowerUser'],
    ['an IAM user', AUDITOR, AUDITOR, 'ReadOnly'],
  ] as const)('%s: the cluster group and the role\'s IAM group', async (_, arn, username, role) => {
    const { iam } = authenticator({ kind: 'caller', caller: caller(arn) });
    expect(await iam.authenticate('token')).toEqual({
      kind: 'identity',
      identity: { username, uid: 'aws-iam:AROAEXAMPLE:session', groups: [CLUSTER_GROUP, iamRoleGroup(role)] },
      expiresInSeconds: 14 * 60,
    });
  });

  test('an unmapped role, another account\'s role of the same name, or a root or federated caller is nobody', async () => {
    for (const arn of [
      `arn:aws:sts::${ACCOUNT}:assumed-role/SomeoneElse/jdoe`,
      'arn:aws:sts::210987654321:assumed-role/PlatformAdmins/jdoe',
      `arn:aws:iam::${ACCOUNT}:root`,
      `arn:aws:sts::${ACCOUNT}:federated-user/jdoe`,
    ]) {
      const { iam } = authenticator({ kind: 'caller', caller: caller(arn) });
      expect([arn, (await iam.authenticate('token')).kind]).toEqual([arn, 'rejected']);
    }
  });

  test('STS\'s refusal and unavailability pass through unchanged', async () => {
    expect(await authenticator({ kind: 'rejected', reason: 'signature' }).iam.authenticate('t')).toEqual({ kind: 'rejected', reason: 'signature' });
    expect(await authenticator({ kind: 'unavailable', reason: 'timeout' }).iam.authenticate('t')).toEqual({ kind: 'unavailable', reason: 'timeout' });
  });

  test(`at most ${MAX_CONCURRENT_STS_CALLS} STS calls at once; past that "unavailable" at once, and the next sign-in works`, async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const iam = new IamAuthenticator({
      iam: IAM,
      clusterGroup: CLUSTER_GROUP,
      now: () => NOW,
      verify: async () => (calls++, await held, { kind: 'caller', caller: caller(AUDITOR) }),
      nodeNames: { nodeNameOf: async () => ({ kind: 'unavailable', reason: 'unused' }) },
    });
    const underWay = Array.from({ length: MAX_CONCURRENT_STS_CALLS }, () => iam.authenticate('token'));
    expect(await iam.authenticate('token')).toEqual({ kind: 'unavailable', reason: `${MAX_CONCURRENT_STS_CALLS} IAM sign-ins are under way already` });
    expect(calls).toBe(MAX_CONCURRENT_STS_CALLS);
    release();
    for (const result of await Promise.all(underWay)) expect(result.kind).toBe('identity');
    expect((await iam.authenticate('token')).kind).toBe('identity');
  });

  test('an identity is never cached past the token\'s own expiry', async () => {
    const { iam } = authenticator({ kind: 'caller', caller: caller(AUDITOR, 30_500) });
    expect(await iam.authenticate('token')).toMatchObject({ expiresInSeconds: 30 });
  });
});

describe('the roles IAM principals get hold in the authorizer, and only for them', () => {
  const roles = rolesWithIamGroups({ ReadOnly: [ROLE_GROUPS.ReadOnly], PowerUser: [ROLE_GROUPS.PowerUser], Administrator: [ROLE_GROUPS.Administrator] }, IAM);
  const policy = { clusterGroup: CLUSTER_GROUP, roles };
  const deleteNamespace = { verb: 'delete', group: '', resource: 'namespaces', subresource: '', namespace: '', name: 'team-a' };

  test('each role gains exactly its IAM group; without an iam section, nothing', () => {
    for (const role of ROLE_NAMES) expect(roles[role]).toEqual([ROLE_GROUPS[role], iamRoleGroup(role)]);
    expect(rolesWithIamGroups({ ReadOnly: ['a'], PowerUser: [], Administrator: [] }, undefined)).toEqual({ ReadOnly: ['a'], PowerUser: [], Administrator: [] });
  });

  test('an IAM Administrator may what an Administrator may; an IAM ReadOnly may not write', () => {
    const request = (group: string) => ({ user: `${ADMINS}/jdoe`, groups: [CLUSTER_GROUP, group], resource: deleteNamespace });
    expect(authorize(request(iamRoleGroup('Administrator')), policy)).toMatchObject({ allowed: true });
    expect(authorize(request(iamRoleGroup('ReadOnly')), policy)).toMatchObject({ allowed: false });
  });

  test('token-info can never hand out a user name the cluster binds, nor an IAM principal\'s', () => {
    // Every User subject of the cluster's own bindings is reserved.
    const boundUsers = rendered(clusterBootstrap)
      .filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding')
      .flatMap((binding) => (binding.subjects ?? []).filter((s: { kind: string }) => s.kind === 'User').map((s: { name: string }) => s.name));
    expect(boundUsers.length).toBeGreaterThan(0);
    expect([...new Set(boundUsers)].sort()).toEqual([...RESERVED_USERNAMES].sort());
    for (const username of [...RESERVED_USERNAMES, `${ADMINS}/jdoe`, 'kubernetes-on-aws:admin', 'system:node:ip-10-0-1-23.eu-central-1.compute.internal']) {
      expect([username, identityFromTokenInfo({ username, sub: 'x', groups: [CLUSTER_GROUP] }, DEFAULT_TOKEN_INFO_FIELDS).kind]).toEqual([username, 'rejected']);
    }
    expect(identityFromTokenInfo({ username: 'kubelet2', sub: 'x' }, DEFAULT_TOKEN_INFO_FIELDS).kind).toBe('identity');
  });

  test('token-info can never hand out an IAM role group (or any kubernetes-on-aws: name)', () => {
    const answer = { username: 'mallory', sub: 'm', groups: [CLUSTER_GROUP, iamRoleGroup('Administrator'), 'kubernetes-on-aws:anything', 'team-readers'] };
    expect(identityFromTokenInfo(answer, DEFAULT_TOKEN_INFO_FIELDS)).toMatchObject({ kind: 'identity', identity: { groups: [CLUSTER_GROUP, 'team-readers'] } });
    expect(identityFromTokenInfo({ ...answer, username: 'kubernetes-on-aws:admin' }, DEFAULT_TOKEN_INFO_FIELDS)).toMatchObject({ kind: 'rejected' });
  });
});

describe('the token authenticator sends IAM tokens to IAM, and only those', () => {
  const IAM_TOKEN = 'k8s-aws-v1.aHR0cHM6Ly9zdHMuZXUtY2VudHJhbC0xLmFtYXpvbmF3cy5jb20v';
  const options = (iam?: { authenticate(token: string): Promise<TokenInfoResult> }) => ({
    tokenInfo: { url: 'https://auth.example.org/tokeninfo', timeoutMs: 1000, fields: DEFAULT_TOKEN_INFO_FIELDS },
    cacheTtlSeconds: 60,
    cacheMaxEntries: 100,
    now: () => clock,
    lookUp: async () => (tokenInfoAsked++, { kind: 'rejected', reason: 'unknown' } as TokenInfoResult),
    ...(iam ? { iam } : {}),
  });
  let clock = NOW;
  let tokenInfoAsked = 0;
  beforeEach(() => {
    clock = NOW;
    tokenInfoAsked = 0;
  });

  test('an IAM token is IAM\'s to answer, never token-info\'s, and its identity is reused until the token expires', async () => {
    let asked = 0;
    const node = { username: `system:node:${NODE_NAME}`, uid: 'aws-iam:x', groups: ['system:nodes', 'system:authenticated'] };
    const authenticator = new TokenAuthenticator(options({ authenticate: async () => (asked++, { kind: 'identity', identity: node, expiresInSeconds: 30 }) }));
    expect(await authenticator.authenticate(IAM_TOKEN)).toEqual({ authenticated: true, user: node });
    clock += 29_000;
    await authenticator.authenticate(IAM_TOKEN);
    expect(asked).toBe(1);
    clock += 2_000;
    await authenticator.authenticate(IAM_TOKEN);
    expect(asked).toBe(2);
    expect(tokenInfoAsked).toBe(0);
    await authenticator.authenticate('some-user-token');
    expect([asked, tokenInfoAsked]).toEqual([2, 1]);
  });

  test('STS or EC2 unavailable: answered as busy (429 to the API server, which retries and caches no refusal), never as a refusal, and asked again', async () => {
    let asked = 0;
    const authenticator = new TokenAuthenticator(options({ authenticate: async () => (asked++, { kind: 'unavailable', reason: 'STS did not answer' }) }));
    expect(await authenticator.authenticate(IAM_TOKEN)).toEqual({ authenticated: false, reason: 'IAM sign-in unavailable; try again', retryAfterSeconds: RETRY_AFTER_SECONDS });
    await authenticator.authenticate(IAM_TOKEN);
    expect(asked).toBe(2);
  });

  test('without an iam section an IAM token is refused, and token-info never sees it', async () => {
    const authenticator = new TokenAuthenticator(options());
    expect(await authenticator.authenticate(IAM_TOKEN)).toEqual({ authenticated: false, reason: 'token not recognised' });
    expect(tokenInfoAsked).toBe(0);
  });
});
