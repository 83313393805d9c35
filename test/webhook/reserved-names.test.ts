/**
 * Names the cluster keeps for itself, end to end: token-info may never hand one out, in any
 * case or with surrounding whitespace; and the authorization webhook's match conditions
 * (userdata/apiserver-authorization.ts, evaluated with a CEL interpreter against the v1
 * SubjectAccessReview spec the API server builds) skip exactly the system identities and
 * RESERVED_USERNAMES, so a lookalike still reaches the webhook and is judged as a person.
 */
import { WEBHOOK_MATCH_CONDITIONS } from '../../userdata/apiserver-authorization';
import { authorize } from '../../webhook/authorizer';
import { DEFAULT_TOKEN_INFO_FIELDS } from '../../webhook/config';
import { identityFromTokenInfo, RESERVED_USERNAMES } from '../../webhook/token-info-client';
import { celValue, evaluateCel } from '../manifests/validating-admission-policy';
import { CLUSTER_GROUP, ROLE_GROUPS } from './fixtures';

const POLICY = { clusterGroup: CLUSTER_GROUP, roles: { ReadOnly: [ROLE_GROUPS.ReadOnly], PowerUser: [ROLE_GROUPS.PowerUser], Administrator: [ROLE_GROUPS.Administrator] } };
const answer = (username: string, groups: string[] = [CLUSTER_GROUP, ROLE_GROUPS.Administrator]) => ({ username, sub: 'u-1', groups });

describe('token-info names', () => {
  test.each([
    'system:admin', ' system:admin', 'system:admin ', '\tsystem:admin\n', 'SYSTEM:admin', 'System:Node:ip-10-0-0-1', '\u00a0system:kube-scheduler',
    // Long s folds to s, as Go's strings.EqualFold folds it.
    '\u017fystem:admin',
    'kube-apiserver-kubelet-client', 'kube-apiserver-kubelet-client ', 'Kube-Apiserver-Kubelet-Client', ' KUBE-APISERVER-KUBELET-CLIENT',
    'kubernetes-on-aws:kubelet-serving-approver', 'Kubernetes-On-Aws:x', ' kubernetes-on-aws:iam:Administrator', 'ARN:aws:iam::123456789012:role/x',
  ])('username %j is refused', (username) => {
    expect(identityFromTokenInfo(answer(username), DEFAULT_TOKEN_INFO_FIELDS)).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/reserved/) });
  });

  test('every reserved username is already in the folded form it is compared in', () => {
    for (const name of RESERVED_USERNAMES) expect(name).toBe(name.trim().toLowerCase());
  });

  test('groups named like system: or the cluster\'s own, in any case or padded, are dropped', () => {
    const groups = ['SYSTEM:masters', ' system:masters', 'system:masters ', 'Kubernetes-On-Aws:iam:Administrator', ' kubernetes-on-aws:x', ROLE_GROUPS.PowerUser];
    expect(identityFromTokenInfo(answer('jdoe', groups), DEFAULT_TOKEN_INFO_FIELDS)).toMatchObject({ kind: 'identity', identity: { username: 'jdoe', groups: [ROLE_GROUPS.PowerUser] } });
  });

  test('names that only contain a reserved word are people', () => {
    for (const username of ['jdoe', 'my-system:x', 'kube-apiserver-kubelet-client-jdoe', 'system-admin']) {
      expect(identityFromTokenInfo(answer(username), DEFAULT_TOKEN_INFO_FIELDS)).toMatchObject({ kind: 'identity', identity: { username } });
    }
  });
});

/** Does the API server send this request to the webhook: every match condition true. */
function toWebhook(spec: { user: string; groups?: string[] }): boolean {
  const results = WEBHOOK_MATCH_CONDITIONS.map((expression) => evaluateCel(expression, { request: celValue({ ...spec, resourceAttributes: { verb: 'get', resource: 'pods', namespace: 'team-a' } }) }));
  const errors = results.filter((r) => r instanceof Error);
  if (errors.length > 0) throw errors[0];
  return results.every((r) => r === true);
}

describe('which users the authorization webhook sees', () => {
  test.each(RESERVED_USERNAMES.map((name) => [name]))('the component user %s is skipped (RBAC decides)', (user) => {
    expect(toWebhook({ user, groups: ['system:authenticated'] })).toBe(false);
  });

  test.each([
    ['Kube-Apiserver-Kubelet-Client'],
    ['KUBE-APISERVER-KUBELET-CLIENT'],
    ['kube-apiserver-kubelet-client '],
    [' kube-apiserver-kubelet-client'],
    ['Kubernetes-On-Aws:kubelet-serving-approver'],
    [' system:admin'],
    ['SYSTEM:admin'],
  ])('a user named like a component or system identity, %j, reaches the webhook and is judged as a person', (user) => {
    expect(toWebhook({ user, groups: [CLUSTER_GROUP, ROLE_GROUPS.ReadOnly, 'system:authenticated'] })).toBe(true);
    // As a person: a ReadOnly user may not read kube-system secrets; without the cluster group, nothing.
    const secretRead = { verb: 'get', group: '', resource: 'secrets', subresource: '', namespace: 'kube-system', name: 'cluster-ca' };
    expect(authorize({ user, groups: [CLUSTER_GROUP, ROLE_GROUPS.ReadOnly, 'system:authenticated'], resource: secretRead }, POLICY)).toMatchObject({ allowed: false, denied: true });
    expect(authorize({ user, groups: ['system:authenticated'], resource: { ...secretRead, resource: 'pods', namespace: 'team-a' } }, POLICY)).toMatchObject({ allowed: false, denied: true });
  });

  test.each([
    ['a system: user', { user: 'system:kube-scheduler', groups: ['system:authenticated'] }, false],
    ['a system: group', { user: 'jdoe', groups: ['system:masters'] }, false],
    ['a group named like system: in other case', { user: 'jdoe', groups: ['SYSTEM:masters', 'system:authenticated'] }, true],
    ['a group named like system: with a space', { user: 'jdoe', groups: [' system:nodes'] }, true],
    ['only system:authenticated', { user: 'jdoe', groups: ['system:authenticated'] }, true],
  ])('%s: reaches the webhook %s', (_, spec, expected) => {
    expect(toWebhook(spec)).toBe(expected);
  });
});
