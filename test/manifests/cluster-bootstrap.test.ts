import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { clusterBootstrap } from '../../manifests/addons/cluster-bootstrap';
import { rendered } from './addons/addon-fixtures';
import { ADDONS } from '../../manifests/addons/registry';
import { KUBELET_CLIENT_USER, KUBELET_SERVING_APPROVER_USER } from '../../userdata/master';
import { POD_IDENTITY_WEBHOOK_USER } from '../../userdata/pod-identity-webhook';
import { NODE_USER_PREFIX, NODES_GROUP } from '../../webhook/identities';

interface ManifestObject {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string }[];
}

const objects = rendered(clusterBootstrap) as ManifestObject[];
const BINDING_KINDS = ['ClusterRoleBinding', 'RoleBinding'];

/**
 * No add-on binds anything to a node. A node's user is `system:node:<name>` in group
 * `system:nodes` (webhook/iam-authenticator.ts); the Node authorizer and NodeRestriction scope
 * it to its own Node, its own pods and what they reference (kubernetes/kubernetes v1.35
 * plugin/pkg/auth/authorizer/node/node_authorizer.go, plugin/pkg/admission/noderestriction).
 * A binding to such a user or group, or to the old shared `kubelet` user, or of the
 * system:node role, would give every node, or a stolen node credential, more than that.
 */
describe('node identities get nothing from RBAC', () => {
  const everyObject = ADDONS.flatMap((addon) => rendered(addon) as ManifestObject[]);
  /** "<kind> <name>: <why>" for each binding that gives nodes something. */
  const nodeGrants = (objects: readonly ManifestObject[]): string[] => objects
    .filter((o) => BINDING_KINDS.includes(o.kind))
    .flatMap((b) => [
      ...(b.subjects ?? [])
        .filter((s) => s.name === NODES_GROUP || s.name.startsWith(NODE_USER_PREFIX) || s.name === 'kubelet')
        .map((s) => `${b.kind} ${b.metadata.name}: ${s.kind} ${s.name}`),
      ...(b.roleRef?.name === 'system:node' ? [`${b.kind} ${b.metadata.name}: role system:node`] : []),
    ]);

  test('no binding names a node user, the nodes group or the shared kubelet user, nor grants the system:node role', () => {
    expect(everyObject.filter((o) => BINDING_KINDS.includes(o.kind)).length).toBeGreaterThan(10);
    expect(nodeGrants(everyObject)).toEqual([]);
  });

  test.each([
    ['the nodes group', { kind: 'Group', name: NODES_GROUP }, 'view'],
    ['one node', { kind: 'User', name: `${NODE_USER_PREFIX}ip-10-0-1-2.eu-central-1.compute.internal` }, 'view'],
    ['the shared kubelet user', { kind: 'User', name: 'kubelet' }, 'view'],
    ['anyone, to system:node', { kind: 'Group', name: 'team-a' }, 'system:node'],
  ])('a binding for %s would be found', (_, subject, role) => {
    const planted: ManifestObject = { kind: 'ClusterRoleBinding', metadata: { name: 'planted' }, roleRef: { kind: 'ClusterRole', name: role }, subjects: [subject] };
    expect(nodeGrants([...everyObject, planted])).toHaveLength(1);
  });
});

describe('the cluster-bootstrap add-on', () => {
  test("give the API server's kubelet client certificate the kubelet API", () => {
    const binding = objects.find((o) => o.subjects?.some((s) => s.name === KUBELET_CLIENT_USER));
    expect(binding?.roleRef?.name).toBe('system:kubelet-api-admin');
  });

  test('let the kubelet serving approver read CSRs and approve for the kubelet-serving signer only, nothing else', () => {
    const binding = objects.find((o) => o.kind === 'ClusterRoleBinding' && o.subjects?.some((s) => s.name === KUBELET_SERVING_APPROVER_USER))!;
    const role = objects.find((o) => o.kind === 'ClusterRole' && o.metadata.name === binding.roleRef!.name) as ManifestObject & { rules: unknown[] };
    expect(binding.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: KUBELET_SERVING_APPROVER_USER }]);
    expect(role.rules).toEqual([
      { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'], verbs: ['get', 'list'] },
      { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests/approval'], verbs: ['update'] },
      // Never the client signers: an approved kube-apiserver-client CSR is a credential of any name.
      { apiGroups: ['certificates.k8s.io'], resources: ['signers'], resourceNames: ['kubernetes.io/kubelet-serving'], verbs: ['approve'] },
    ]);
  });

  test('let the pod identity webhook read service accounts (their role annotations), nothing else: no Secrets, no tokens, no writes', () => {
    const binding = objects.find((o) => o.kind === 'ClusterRoleBinding' && o.subjects?.some((s) => s.name === POD_IDENTITY_WEBHOOK_USER))!;
    const role = objects.find((o) => o.kind === 'ClusterRole' && o.metadata.name === binding.roleRef!.name) as ManifestObject & { rules: unknown[] };
    expect(binding.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: POD_IDENTITY_WEBHOOK_USER }]);
    // get, list, watch serviceaccounts: upstream's ClusterRole (v0.6.17 deploy/auth.yaml) without its in-cluster mode's CSR rights.
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'list', 'watch'] }]);
  });

  test('grant nothing broader than the roles named (no cluster-admin, no groups), each object once, all labelled as ours', () => {
    for (const object of objects.filter((o) => BINDING_KINDS.includes(o.kind))) {
      expect(object.roleRef?.name).not.toBe('cluster-admin');
    }
    const keys = objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const object of objects) expect(object.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'kubernetes-on-aws' });
  });

  test('are checked against the Kubernetes schema (a bad object is refused)', () => {
    const bad = new ClusterRoleBinding({ metadata: { name: 'x' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole' } as never });
    expect(() => bad.validate()).toThrow(/name/);
    expect(objects.map((o) => o.kind).sort()).toEqual(['ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding', 'ClusterRoleBinding', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
  });
});
