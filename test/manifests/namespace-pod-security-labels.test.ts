/**
 * The namespace pod-security label policy, run on admission requests with a CEL evaluator
 * (validating-admission-policy.ts): who may set, change or remove
 * `pod-security.kubernetes.io/*` labels, on create, update and the namespace subresources.
 */
import { IValidatingAdmissionPolicy, ValidatingAdmissionPolicy } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy';
import { IValidatingAdmissionPolicyBinding, ValidatingAdmissionPolicyBinding } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding';
import { clusterBootstrap } from '../../manifests/addons/cluster-bootstrap';
import { rendered } from './addons/addon-fixtures';
import { namespacePodSecurityLabelPolicy, NAMESPACE_POD_SECURITY_POLICY } from '../../manifests/namespace-pod-security-labels';
import { CLUSTER_GROUP, ROLE_GROUPS } from '../webhook/fixtures';
import { admit, AdmissionSample, celValue, evaluateCel, Operation } from './validating-admission-policy';


// The objects as the applier sends them (the cluster-bootstrap add-on).
const applied = rendered(clusterBootstrap) as { kind: string; metadata: { name: string } }[];
const policy = applied.find((o) => o.kind === 'ValidatingAdmissionPolicy') as unknown as IValidatingAdmissionPolicy;
const binding = applied.find((o) => o.kind === 'ValidatingAdmissionPolicyBinding') as unknown as IValidatingAdmissionPolicyBinding;

const ENFORCE = 'pod-security.kubernetes.io/enforce';
const people = {
  powerUser: { username: 'dev', groups: [CLUSTER_GROUP, ROLE_GROUPS.PowerUser, 'system:authenticated'] },
  administrator: { username: 'admin', groups: [CLUSTER_GROUP, ROLE_GROUPS.Administrator, 'system:authenticated'] },
  // Of another cluster: the webhook gives no role without the cluster group, nor does the policy.
  otherClusterAdministrator: { username: 'admin', groups: ['aws:123456789012:eu-central-1:other-1', ROLE_GROUPS.Administrator, 'system:authenticated'] },
  breakGlass: { username: 'kubernetes-on-aws:admin', groups: ['system:masters', 'system:authenticated'] },
  namespaceController: { username: 'system:serviceaccount:kube-system:namespace-controller', groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'] },
  apiServer: { username: 'system:apiserver', groups: ['system:authenticated'] },
  noGroups: { username: 'someone' },
};

type Labels = Record<string, string> | undefined;
const namespace = (labels: Labels) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: labels ? { name: 'team-a', labels } : { name: 'team-a' } });

function request(userInfo: AdmissionSample['userInfo'], operation: Operation, labels: Labels, oldLabels?: Labels, subResource?: string): AdmissionSample {
  return {
    operation,
    resource: { group: '', version: 'v1', resource: 'namespaces' },
    subResource,
    userInfo,
    object: namespace(labels),
    oldObject: operation === 'CREATE' ? null : namespace(oldLabels),
  };
}

describe('the CEL evaluator runs the subset the policy uses as CEL defines it (cel-spec langdef)', () => {
  // GIVEN values shaped like a namespace and a request
  const bindings = { object: celValue({ metadata: { name: 'a', labels: { x: '1' } } }), oldObject: null, request: celValue({ userInfo: { username: 'u' } }) };
  test.each([
    ['has() of a present map key', 'has(object.metadata.labels)', true],
    ['has() of an absent map key is false, not an error', 'has(object.metadata.annotations)', false],
    ['has() of an absent key of request.userInfo (groups omitted when empty)', 'has(request.userInfo.groups)', false],
    ['map.all() over keys', 'object.metadata.labels.all(k, k.startsWith("x"))', true],
    ['map.all() is true on an empty map', '{}.all(k, false)', true],
    ['list.exists()', '["a", "b"].exists(g, g in ["b"])', true],
    ['in on a list', '"c" in ["a", "b"]', false],
    ['in on a map tests keys', '"x" in object.metadata.labels && !("1" in object.metadata.labels)', true],
    ['&& absorbs an error when the other side is false', 'false && oldObject.metadata.labels.size() > 0', false],
    ['|| absorbs an error when the other side is true', 'true || oldObject.metadata.labels.size() > 0', true],
  ])('%s', (_, expression, expected) => {
    // WHEN / THEN
    expect(evaluateCel(expression, bindings)).toBe(expected);
  });

  test('reading an absent field is an error (which failurePolicy Fail turns into a denial)', () => {
    expect(evaluateCel('object.metadata.annotations["a"] == "b"', bindings)).toBeInstanceOf(Error);
    expect(evaluateCel('oldObject.metadata.labels', bindings)).toBeInstanceOf(Error);
  });
});

describe('namespace pod-security labels: only Administrators set, change or remove them', () => {
  test.each([
    // [what, allowed, who, operation, new labels, old labels, subresource]
    ['a PowerUser creates a namespace labelled enforce=privileged', false, people.powerUser, 'CREATE', { [ENFORCE]: 'privileged' }, undefined, undefined],
    ['a PowerUser creates a namespace labelled enforce=restricted (stricter, still an Administrator choice)', false, people.powerUser, 'CREATE', { [ENFORCE]: 'restricted' }, undefined, undefined],
    ['a PowerUser creates a namespace with only an enforce-version label', false, people.powerUser, 'CREATE', { 'pod-security.kubernetes.io/enforce-version': 'v1.20' }, undefined, undefined],
    ['a PowerUser creates a namespace without labels', true, people.powerUser, 'CREATE', undefined, undefined, undefined],
    ['a PowerUser creates a namespace with other labels', true, people.powerUser, 'CREATE', { team: 'a' }, undefined, undefined],
    ['a PowerUser changes enforce from baseline to privileged', false, people.powerUser, 'UPDATE', { [ENFORCE]: 'privileged' }, { [ENFORCE]: 'baseline' }, undefined],
    ['a PowerUser removes the enforce label (the namespace keeps other labels)', false, people.powerUser, 'UPDATE', { team: 'a' }, { [ENFORCE]: 'restricted', team: 'a' }, undefined],
    ['a PowerUser removes every label', false, people.powerUser, 'UPDATE', undefined, { [ENFORCE]: 'restricted' }, undefined],
    ['a PowerUser adds an audit label to an unlabelled namespace', false, people.powerUser, 'UPDATE', { 'pod-security.kubernetes.io/audit': 'privileged' }, undefined, undefined],
    ['a PowerUser changes other labels, the pod-security ones as they were', true, people.powerUser, 'UPDATE', { [ENFORCE]: 'restricted', team: 'b' }, { [ENFORCE]: 'restricted', team: 'a' }, undefined],
    ['a PowerUser updates a namespace that has no labels, before or after', true, people.powerUser, 'UPDATE', undefined, undefined, undefined],
    ['a PowerUser changes the label through namespaces/status', false, people.powerUser, 'UPDATE', { [ENFORCE]: 'privileged' }, { [ENFORCE]: 'baseline' }, 'status'],
    ['a PowerUser removes the label through namespaces/finalize', false, people.powerUser, 'UPDATE', {}, { [ENFORCE]: 'baseline' }, 'finalize'],
    ['an Administrator changes enforce to privileged', true, people.administrator, 'UPDATE', { [ENFORCE]: 'privileged' }, { [ENFORCE]: 'baseline' }, undefined],
    ['an Administrator creates a privileged namespace', true, people.administrator, 'CREATE', { [ENFORCE]: 'privileged' }, undefined, undefined],
    ['an Administrator removes the label', true, people.administrator, 'UPDATE', undefined, { [ENFORCE]: 'baseline' }, undefined],
    ["another cluster's Administrator group without this cluster's group", false, people.otherClusterAdministrator, 'UPDATE', { [ENFORCE]: 'privileged' }, { [ENFORCE]: 'baseline' }, undefined],
    ['the break-glass admin (system:masters) relabels', true, people.breakGlass, 'UPDATE', { [ENFORCE]: 'privileged' }, undefined, undefined],
    ['the namespace controller finalizes a namespace, labels as they were', true, people.namespaceController, 'UPDATE', { [ENFORCE]: 'baseline' }, { [ENFORCE]: 'baseline' }, 'finalize'],
    ['a service account relabels through namespaces/status (system identities are no exception)', false, people.namespaceController, 'UPDATE', { [ENFORCE]: 'privileged' }, { [ENFORCE]: 'baseline' }, 'status'],
    ['kube-apiserver adds kubernetes.io/metadata.name', true, people.apiServer, 'UPDATE', { [ENFORCE]: 'baseline', 'kubernetes.io/metadata.name': 'team-a' }, { [ENFORCE]: 'baseline' }, undefined],
    ['a user whose request carries no groups relabels', false, people.noGroups, 'UPDATE', { [ENFORCE]: 'privileged' }, { [ENFORCE]: 'baseline' }, undefined],
    ['a user whose request carries no groups leaves the labels alone', true, people.noGroups, 'UPDATE', { [ENFORCE]: 'baseline' }, { [ENFORCE]: 'baseline' }, undefined],
  ] as const)('%s: allowed %s', (_, allowed, who, operation, labels, oldLabels, subResource) => {
    // GIVEN the policy as applied, WHEN the request is admitted
    const outcome = admit(policy, binding, request(who, operation, labels, oldLabels, subResource));
    // THEN
    expect(outcome.matched).toBe(true);
    expect(outcome).toEqual(allowed
      ? { matched: true, allowed: true }
      : { matched: true, allowed: false, message: "only Administrators may set, change or remove a namespace's pod-security.kubernetes.io/* labels" });
  });

  test('deleting a namespace is not its business', () => {
    expect(admit(policy, binding, request(people.powerUser, 'DELETE', undefined, { [ENFORCE]: 'baseline' }))).toEqual({ matched: false, allowed: true });
  });

  test('a request it cannot evaluate is denied (failurePolicy Fail), unless an Administrator made it', () => {
    const malformed = { ...request(people.powerUser, 'UPDATE', undefined, undefined), object: { kind: 'Namespace' } };
    expect(admit(policy, binding, malformed)).toMatchObject({ matched: true, allowed: false });
    expect(policy.spec?.failurePolicy).toBe('Fail');
  });

  test('group names are CEL string literals: quotes and backslashes in a configured group cannot rewrite the expression', () => {
    // GIVEN Administrator groups that would break out of a naively quoted literal
    const tricky = ['x" || true || "', "y' || true || '", 'z\\'];
    const [trickyPolicy, trickyBinding] = namespacePodSecurityLabelPolicy({ clusterGroup: CLUSTER_GROUP, administratorGroups: tricky }).map((o) => o.toJSON()) as [IValidatingAdmissionPolicy, IValidatingAdmissionPolicyBinding];
    const relabel = (groups: string[]) => admit(trickyPolicy, trickyBinding, request({ username: 'u', groups: [CLUSTER_GROUP, ...groups] }, 'UPDATE', { [ENFORCE]: 'privileged' }, {}));
    // THEN each group is matched as the exact string, and nothing else is
    for (const group of tricky) expect(relabel([group])).toMatchObject({ allowed: true });
    expect(relabel([ROLE_GROUPS.PowerUser])).toMatchObject({ allowed: false });
    expect(relabel(['x'])).toMatchObject({ allowed: false });
  });

  test('without Administrator groups only system:masters may relabel', () => {
    const [p, b] = namespacePodSecurityLabelPolicy({ clusterGroup: CLUSTER_GROUP }).map((o) => o.toJSON()) as [IValidatingAdmissionPolicy, IValidatingAdmissionPolicyBinding];
    expect(admit(p, b, request(people.administrator, 'UPDATE', { [ENFORCE]: 'privileged' }, {}))).toMatchObject({ allowed: false });
    expect(admit(p, b, request(people.breakGlass, 'UPDATE', { [ENFORCE]: 'privileged' }, {}))).toMatchObject({ allowed: true });
  });
});

describe('the policy objects', () => {
  test('are valid admissionregistration.k8s.io/v1 objects, the binding naming the policy with Deny', () => {
    expect(() => new ValidatingAdmissionPolicy(policy as never).validate()).not.toThrow();
    expect(() => new ValidatingAdmissionPolicyBinding(binding as never).validate()).not.toThrow();
    expect(binding.spec).toEqual({ policyName: NAMESPACE_POD_SECURITY_POLICY, validationActions: ['Deny'] });
    // Policy names are DNS subdomains (no ':' as RBAC names may have).
    expect(NAMESPACE_POD_SECURITY_POLICY).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);
  });

  test('match namespaces and the subresources through which labels change, on create and update', () => {
    expect(policy.spec?.matchConstraints?.resourceRules).toEqual([
      { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['namespaces', 'namespaces/status', 'namespaces/finalize'] },
    ]);
  });

  test('refuse a configuration without a cluster group, or with a blank or broken group name', () => {
    expect(() => namespacePodSecurityLabelPolicy({ clusterGroup: '' })).toThrow(/clusterGroup/);
    expect(() => namespacePodSecurityLabelPolicy({ clusterGroup: CLUSTER_GROUP, administratorGroups: ['team-admins', ' '] })).toThrow(/administratorGroups/);
    expect(() => namespacePodSecurityLabelPolicy({ clusterGroup: CLUSTER_GROUP, administratorGroups: ['team-\ud800'] })).toThrow(/not valid Unicode text.*administratorGroups/);
  });
});
