/**
 * The API server's authorizers: Node, the webhook (people only, failing closed, its denial
 * final), RBAC. The file's fields are kubernetes/apiserver v0.35.1 pkg/apis/apiserver/v1
 * types.go AuthorizationConfiguration's; the webhook's matchConditions are evaluated here
 * with a CEL interpreter against SubjectAccessReview specs as the API server builds them.
 */
import { load } from 'js-yaml';
import { AUTHORIZATION_WEBHOOK_KUBECONFIG, masterConfig } from '../../userdata/master';
import { WEBHOOK_MATCH_CONDITIONS } from '../../userdata/apiserver-authorization';
import { isSystemIdentity } from '../../webhook/authorizer';
import { celValue, evaluateCel } from '../manifests/validating-admission-policy';
import { fileText } from './config-files';
import { masterInput } from './fixtures';
import { staticPod } from './static-pod-manifests';

const config = masterConfig(masterInput);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const authorization = load(fileText(config, '/etc/kubernetes/apiserver/authorization.yaml')) as any;
const webhook = authorization.authorizers[1].webhook;
const CLUSTER_GROUP = 'aws:123456789012:eu-central-1:kube-aws-test-1';

describe('the authorizers', () => {
  test('the API server reads them from the file, and no authorization flag contradicts it (they are exclusive)', () => {
    const flags: string[] = staticPod(config, 'kube-apiserver').spec.containers[0].command;
    expect(flags).toContain('--authorization-config=/etc/kubernetes/apiserver/authorization.yaml');
    expect(flags.filter((f) => /^--authorization-(mode|webhook)/.test(f))).toEqual([]);
    expect(authorization).toMatchObject({ apiVersion: 'apiserver.config.k8s.io/v1', kind: 'AuthorizationConfiguration' });
  });

  test('Node, then the webhook, then RBAC', () => {
    expect(authorization.authorizers.map((a: { type: string; name: string }) => `${a.type}/${a.name}`)).toEqual(['Node/node', 'Webhook/kube-auth-webhook', 'RBAC/rbac']);
  });

  test('the webhook fails closed, speaks v1, and is reached through its kubeconfig file', () => {
    expect(webhook).toMatchObject({
      failurePolicy: 'Deny',
      subjectAccessReviewVersion: 'v1',
      matchConditionSubjectAccessReviewVersion: 'v1',
      connectionInfo: { type: 'KubeConfigFile', kubeConfigFile: AUTHORIZATION_WEBHOOK_KUBECONFIG },
    });
    // Every field is one of WebhookConfiguration's (an unknown field stops the API server).
    const fields = ['authorizedTTL', 'cacheAuthorizedRequests', 'unauthorizedTTL', 'cacheUnauthorizedRequests', 'timeout', 'subjectAccessReviewVersion', 'matchConditionSubjectAccessReviewVersion', 'failurePolicy', 'connectionInfo', 'matchConditions'];
    expect(Object.keys(webhook).filter((key) => !fields.includes(key))).toEqual([]);
    // "Maximum allowed value is 30s"; required.
    expect(webhook.timeout).toMatch(/^([1-9]|[12]\d|30)s$/);
    expect(webhook.matchConditions.map((c: { expression: string }) => c.expression)).toEqual(WEBHOOK_MATCH_CONDITIONS);
  });
});

/** Does a request go to the webhook: every match condition true (the API server's rule). */
function toWebhook(spec: Record<string, unknown>): boolean {
  const results = WEBHOOK_MATCH_CONDITIONS.map((expression) => evaluateCel(expression, { request: celValue(spec) }));
  const errors = results.filter((r) => r instanceof Error);
  if (errors.length > 0) throw errors[0];
  return results.every((r) => r === true);
}

describe('which requests the webhook sees', () => {
  const resourceAttributes = { verb: 'get', resource: 'pods', namespace: 'team-a' };
  test.each([
    ['a token-info user with a role', { user: 'jdoe', groups: [CLUSTER_GROUP, 'team-admins', 'system:authenticated'] }, true],
    ['an IAM person', { user: 'arn:aws:iam::123456789012:role/PlatformAdmins/jdoe', groups: [CLUSTER_GROUP, 'kubernetes-on-aws:iam:Administrator', 'system:authenticated'] }, true],
    ['a user of no group at all (the field left out)', { user: 'mallory' }, true],
    ['a service account', { user: 'system:serviceaccount:kube-system:coredns', groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'] }, false],
    ['a node', { user: 'system:node:ip-10-0-1-23.eu-central-1.compute.internal', groups: ['system:nodes', 'system:authenticated'] }, false],
    ['the controller manager', { user: 'system:kube-controller-manager', groups: ['system:authenticated'] }, false],
    ['any user in the nodes group', { user: 'kubelet', groups: ['system:nodes', 'system:authenticated'] }, false],
    // The kubelets ask about the API server's client certificate (exec, logs): RBAC's kubelet-api-admin binding answers.
    ['the API server\'s kubelet client', { user: 'kube-apiserver-kubelet-client', groups: ['system:authenticated'] }, false],
    // The masters' own component users (static token file): RBAC's bindings of cluster-bootstrap answer.
    ['the kubelet serving approver', { user: 'kubernetes-on-aws:kubelet-serving-approver', groups: ['system:authenticated'] }, false],
    ['the pod identity webhook', { user: 'kubernetes-on-aws:pod-identity-webhook', groups: ['system:authenticated'] }, false],
    ['anyone in a system: group', { user: 'someone', groups: ['system:masters'] }, false],
  ])('%s: %s', (_, spec, expected) => {
    expect(toWebhook({ ...spec, resourceAttributes })).toBe(expected);
  });

  test('agrees with the webhook\'s own rule: whatever it would answer "no opinion" for as a system identity, it never sees', () => {
    const samples = [
      { user: 'system:serviceaccount:a:b', groups: ['system:serviceaccounts'] },
      { user: 'jdoe', groups: ['system:nodes'] },
      { user: 'jdoe', groups: [CLUSTER_GROUP, 'system:authenticated'] },
    ];
    for (const sample of samples) {
      if (isSystemIdentity({ user: sample.user, groups: sample.groups })) expect(toWebhook(sample)).toBe(false);
    }
    expect(toWebhook(samples[2])).toBe(true);
  });
});
