import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { clusterBootstrap } from '../../manifests/addons/cluster-bootstrap';
import { rendered } from './addons/addon-fixtures';
import { NODE_AGENT_ADMISSION_POLICY } from '../../manifests/node-agent-admission';
import { NODE_LEASE_NAMESPACE } from '../../manifests/node-agent-rbac';
import { KUBELET_CLIENT_USER } from '../../userdata/master';
import { KUBELET_IDENTITY } from '../../webhook/authenticator';

interface Rule { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[]; nonResourceURLs?: string[] }
interface ManifestObject {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  rules?: Rule[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string }[];
}

const objects = rendered(clusterBootstrap) as ManifestObject[];
const BINDING_KINDS = ['ClusterRoleBinding', 'RoleBinding'];

/**
 * Everything a user may do through the bindings in the manifests, as
 * "verb group/resource <scope>" lines: "cluster-wide" (every namespace, or the cluster-scoped
 * object) for a ClusterRoleBinding, "in <namespace>" for a RoleBinding. A binding to a role the manifests do not
 * define (a built-in such as system:node) is an error: its rules could not be checked here.
 */
function grantsOf(user: string): string[] {
  const grants = new Set<string>();
  for (const binding of objects.filter((o) => BINDING_KINDS.includes(o.kind) && o.subjects?.some((s) => s.kind === 'User' && s.name === user))) {
    const roleKind = binding.roleRef!.kind;
    const role = objects.find((o) => o.kind === roleKind && o.metadata.name === binding.roleRef!.name && (roleKind === 'ClusterRole' || o.metadata.namespace === binding.metadata.namespace));
    if (!role) throw new Error(`${binding.kind} ${binding.metadata.name} binds ${roleKind} ${binding.roleRef!.name}, which the manifests do not define`);
    const scope = binding.kind === 'ClusterRoleBinding' ? 'cluster-wide' : `in ${binding.metadata.namespace}`;
    for (const rule of role.rules ?? []) {
      for (const group of rule.apiGroups ?? []) for (const resource of rule.resources ?? []) for (const verb of rule.verbs) {
        grants.add(`${verb} ${group === '' ? '' : `${group}/`}${resource}${rule.resourceNames ? ` named ${rule.resourceNames.join(',')}` : ''} ${scope}`);
      }
      for (const url of rule.nonResourceURLs ?? []) for (const verb of rule.verbs) grants.add(`${verb} ${url}`);
    }
  }
  return [...grants].sort();
}

describe('the shared node identity (the kubelet of every node)', () => {
  const grants = grantsOf(KUBELET_IDENTITY.username);

  // The exact list webhook/README.md's "What a stolen worker token can do" is written
  // from: a change to the roles fails here until both are updated.
  test('may do exactly this, and nothing else', () => {
    expect(grants).toEqual([
      'create authentication.k8s.io/tokenreviews cluster-wide',
      'create authorization.k8s.io/subjectaccessreviews cluster-wide',
      'create coordination.k8s.io/leases in kube-node-lease',
      'create events cluster-wide',
      'create nodes cluster-wide',
      'create pods cluster-wide',
      'create serviceaccounts/token cluster-wide',
      'create storage.k8s.io/csinodes cluster-wide',
      'delete pods cluster-wide',
      'get configmaps cluster-wide',
      'get coordination.k8s.io/leases in kube-node-lease',
      'get node.k8s.io/runtimeclasses cluster-wide',
      'get nodes cluster-wide',
      'get persistentvolumeclaims cluster-wide',
      'get persistentvolumes cluster-wide',
      'get pods cluster-wide',
      'get secrets cluster-wide',
      'get storage.k8s.io/csidrivers cluster-wide',
      'get storage.k8s.io/csinodes cluster-wide',
      'list configmaps cluster-wide',
      'list node.k8s.io/runtimeclasses cluster-wide',
      'list nodes cluster-wide',
      'list pods cluster-wide',
      'list secrets cluster-wide',
      'list services cluster-wide',
      'list storage.k8s.io/csidrivers cluster-wide',
      'patch coordination.k8s.io/leases in kube-node-lease',
      'patch events cluster-wide',
      'patch nodes/status cluster-wide',
      'patch pods/status cluster-wide',
      'patch storage.k8s.io/csinodes cluster-wide',
      'update coordination.k8s.io/leases in kube-node-lease',
      'update events cluster-wide',
      'update nodes/status cluster-wide',
      'update pods/status cluster-wide',
      'update storage.k8s.io/csinodes cluster-wide',
      'watch configmaps cluster-wide',
      'watch node.k8s.io/runtimeclasses cluster-wide',
      'watch nodes cluster-wide',
      'watch pods cluster-wide',
      'watch secrets cluster-wide',
      'watch services cluster-wide',
      'watch storage.k8s.io/csidrivers cluster-wide',
    ]);
  });

  // The grants webhook/README.md says admission narrows for this identity (mirror pods only,
  // no label change through status, pod-bound tokens only): node-agent-admission.ts.
  test('of these, the node-agent admission policy sees exactly the pod and token writes', () => {
    const policy = objects.find((o) => o.kind === 'ValidatingAdmissionPolicy' && o.metadata.name === NODE_AGENT_ADMISSION_POLICY) as unknown as
      { spec: { matchConstraints: { resourceRules: { apiGroups: string[]; operations: string[]; resources: string[] }[] } } };
    const verbsOf: Record<string, string[]> = { CREATE: ['create'], UPDATE: ['update', 'patch'], DELETE: ['delete', 'deletecollection'] };
    const seen = new Set(policy.spec.matchConstraints.resourceRules.flatMap((rule) => rule.apiGroups.flatMap((group) => rule.resources.flatMap((resource) =>
      rule.operations.flatMap((operation) => verbsOf[operation].map((verb) => `${verb} ${group === '' ? '' : `${group}/`}${resource} cluster-wide`))))));
    expect(grants.filter((g) => seen.has(g))).toEqual(['create pods cluster-wide', 'create serviceaccounts/token cluster-wide', 'delete pods cluster-wide', 'patch pods/status cluster-wide', 'update pods/status cluster-wide']);
  });

  test('has no wildcard, no non-resource URL, and none of the verbs that grant more (escalate, bind, impersonate, approve, sign)', () => {
    expect(grants.filter((g) => g.includes('*'))).toEqual([]);
    expect(grants.filter((g) => !/ (cluster-wide|in [a-z-]+)$/.test(g))).toEqual([]);
    expect(grants.filter((g) => /^(escalate|bind|impersonate|approve|sign|use|deletecollection) /.test(g))).toEqual([]);
  });

  test('cannot write RBAC, admission, API registration, CRDs, certificates or namespaces, nor a node but its registration and status', () => {
    const writes = grants.filter((g) => !/^(get|list|watch) /.test(g));
    expect(writes.filter((g) => /(rbac\.authorization|admissionregistration|apiregistration|apiextensions|certificates)\.k8s\.io\//.test(g))).toEqual([]);
    expect(writes.filter((g) => / namespaces/.test(g))).toEqual([]);
    expect(writes.filter((g) => / nodes/.test(g))).toEqual(['create nodes cluster-wide', 'patch nodes/status cluster-wide', 'update nodes/status cluster-wide']);
  });

  test('only reads the volume objects a pod mounts, signs no certificates and evicts nothing', () => {
    expect(grants.filter((g) => /persistentvolume/.test(g))).toEqual(['get persistentvolumeclaims cluster-wide', 'get persistentvolumes cluster-wide']);
    expect(grants.filter((g) => /volumeattachments|certificatesigningrequests|pods\/eviction|resource\.k8s\.io|serviceaccounts /.test(g))).toEqual([]);
  });

  test("reaches leases only in kube-node-lease, through a Role bound there", () => {
    expect(grants.filter((g) => g.includes('leases')).every((g) => g.endsWith(`in ${NODE_LEASE_NAMESPACE}`))).toBe(true);
    const leaseBinding = objects.find((o) => o.kind === 'RoleBinding');
    expect(leaseBinding?.metadata.namespace).toBe(NODE_LEASE_NAMESPACE);
  });

  test('is bound as the one user, never through a group (system:nodes will hold per-node identities)', () => {
    for (const binding of objects.filter((o) => BINDING_KINDS.includes(o.kind))) {
      expect(binding.subjects?.every((s) => s.kind === 'User')).toBe(true);
    }
    expect(objects.filter((o) => BINDING_KINDS.includes(o.kind)).map((o) => o.roleRef!.name)).not.toContain('system:node');
  });
});

describe('the cluster-bootstrap add-on', () => {
  test("give the API server's kubelet client certificate the kubelet API", () => {
    const binding = objects.find((o) => o.subjects?.some((s) => s.name === KUBELET_CLIENT_USER));
    expect(binding?.roleRef?.name).toBe('system:kubelet-api-admin');
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
    expect(objects.map((o) => o.kind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'ValidatingAdmissionPolicyBinding']);
  });
});
