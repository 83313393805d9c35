/**
 * What the shared worker token may do in the API: the kubelet of every node (masters
 * included) uses it, as user `kubelet` in `system:nodes`. kube-proxy and flannel run as
 * DaemonSets with their own service accounts (manifests/addons/kube-proxy.ts, flannel.ts).
 *
 * The Node authorizer and NodeRestriction only act on `system:node:<name>` users, so none
 * of what follows is scoped to the caller's own node: every rule holds cluster-wide (the
 * lease rule excepted, which RBAC scopes to kube-node-lease). This is upstream's
 * `system:node` + `system:auth-delegator` (kubernetes/kubernetes
 * plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go: NodeRules(), ClusterRoles()),
 * cut to what the kubelet calls in this cluster. Per-node identity (its own issue) is what scopes the
 * rest to one node; until then node-agent-admission.ts cuts its pod and token writes to what
 * a kubelet makes, and webhook/README.md says what a stolen token can do.
 *
 * Where upstream grants both `update` and `patch` on a resource, both stay: they are one
 * capability, and the other verb's client would break for nothing.
 *
 * Granted by upstream, not here, and why:
 * - nodes update/patch (the object itself, not /status): the kubelet writes its Node only
 *   through PatchNodeStatus, a patch of the status subresource (kubernetes/component-helpers
 *   v0.35.1 node/util/status.go).
 *   Without it a stolen token cannot change any node's taints or unschedulable flag (the
 *   status strategy resets spec).
 * - pods/eviction create: the kubelet's eviction and shutdown managers stop pods locally;
 *   nothing of ours calls the Eviction API.
 * - persistentvolumeclaims/status (online volume expansion) and storage.k8s.io
 *   volumeattachments get (CSI attach): no CSI driver runs here yet; the EBS CSI driver
 *   add-on (to come) must add them.
 * - endpoints get: only the glusterfs volume plugin read them, and it is gone.
 * - certificatesigningrequests: the kubelet neither rotates its client certificate nor
 *   bootstraps a serving one (rotateCertificates and serverTLSBootstrap are false in
 *   userdata/kubelet.ts).
 * - serviceaccounts get: only for image credential providers that ask for service-account
 *   tokens; the ECR provider does not.
 * - resource.k8s.io resourceclaims get, resourceslices deletecollection: no DRA driver runs
 *   here (the kubelet retries its start-up wipe of this node's slices and logs it).
 * - clustertrustbundles, podcertificaterequests: their feature gates are off at 1.35.
 * - csinodes delete, leases delete: the kubelet never deletes its CSINode (the garbage
 *   collector does, through its owner reference to the Node) nor its lease (it runs the
 *   lease controller with Run, not Start/Stop: component-helpers v0.35.1
 *   apimachinery/lease/controller.go).
 * - localsubjectaccessreviews create, services get, endpoints list/watch: the kubelet
 *   does not call them.
 */
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { IPolicyRule } from 'kubernetes-models/rbac.authorization.k8s.io/v1/PolicyRule';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { KUBELET_IDENTITY } from '../webhook/authenticator';
import { MANAGED_BY_LABELS } from './managed-by';

/** The ClusterRole, the lease Role and their bindings all carry this name. */
export const NODE_AGENT_ROLE = 'kubernetes-on-aws:node-agent';
/** Where kubelets keep their heartbeat leases (one per node, named after it). */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

const rule = (apiGroup: string, resources: string[], verbs: string[]): IPolicyRule => ({ apiGroups: [apiGroup], resources, verbs });

/** Cluster-wide: RBAC cannot scope these to one node or one namespace. */
export const NODE_AGENT_CLUSTER_RULES: readonly IPolicyRule[] = [
  // The kubelet checks callers of its API (10250) by webhook: authentication.webhook and
  // authorization.mode Webhook in the KubeletConfiguration (userdata/kubelet.ts).
  rule('authentication.k8s.io', ['tokenreviews'], ['create']),
  rule('authorization.k8s.io', ['subjectaccessreviews'], ['create']),
  // Registration (registerNode: true) and the kubelet's informer of its own Node (a
  // metadata.name field selector RBAC cannot see).
  rule('', ['nodes'], ['create', 'get', 'list', 'watch']),
  // Heartbeat and registration reconcile, through the status subresource.
  rule('', ['nodes/status'], ['patch', 'update']),
  // The kubelet's pod source (a spec.nodeName field selector RBAC cannot see) and status.
  rule('', ['pods'], ['get', 'list', 'watch']),
  // Mirror pods of static pods; delete also ends pods after graceful termination.
  rule('', ['pods'], ['create', 'delete']),
  rule('', ['pods/status'], ['patch', 'update']),
  // Secret and ConfigMap volumes and env, image pull secrets, kube-root-ca.crt. The
  // kubelet's default change detection (configMapAndSecretChangeDetectionStrategy: Watch)
  // lists and watches each object with a metadata.name field selector: RBAC only sees
  // "list secrets in namespace X".
  rule('', ['configmaps', 'secrets'], ['get', 'list', 'watch']),
  // A pod's PersistentVolumeClaim and its PersistentVolume, read before the volume mounts:
  // statically provisioned volumes (nfs, local, and the hostPath ones only Administrators
  // may create) work with the kubelet's in-tree plugins, no CSI driver needed.
  rule('', ['persistentvolumeclaims', 'persistentvolumes'], ['get']),
  // Projected service-account tokens of every pod (TokenRequest).
  rule('', ['serviceaccounts/token'], ['create']),
  // Service environment variables of pods.
  rule('', ['services'], ['list', 'watch']),
  // The kubelet records core/v1 events.
  rule('', ['events'], ['create', 'patch', 'update']),
  // The kubelet's CSI volume plugin creates this node's CSINode at start-up whether or not
  // a CSI driver runs; until it succeeds the node is not Ready, and after about 140 s of
  // failures the kubelet exits (kubernetes/kubernetes pkg/volume/csi/csi_plugin.go
  // initializeCSINode). Its CSIDriver informer starts with every kubelet.
  rule('storage.k8s.io', ['csinodes'], ['create', 'get', 'patch', 'update']),
  rule('storage.k8s.io', ['csidrivers'], ['get', 'list', 'watch']),
  // The kubelet's RuntimeClass informer (pkg/kubelet/runtimeclass) starts with every kubelet.
  rule('node.k8s.io', ['runtimeclasses'], ['get', 'list', 'watch']),
];

/** In kube-node-lease only: the kubelet's heartbeat lease (Get, Create, Update). */
export const NODE_AGENT_LEASE_RULES: readonly IPolicyRule[] = [
  rule('coordination.k8s.io', ['leases'], ['create', 'get', 'patch', 'update']),
];

const subjects = [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: KUBELET_IDENTITY.username }];

/** The shared node identity's roles and their bindings to it. */
export function nodeAgentRbac(): (ClusterRole | ClusterRoleBinding | Role | RoleBinding)[] {
  const metadata = { name: NODE_AGENT_ROLE, labels: MANAGED_BY_LABELS };
  const namespaced = { ...metadata, namespace: NODE_LEASE_NAMESPACE };
  return [
    new ClusterRole({ metadata, rules: NODE_AGENT_CLUSTER_RULES.map((r) => ({ ...r })) }),
    new ClusterRoleBinding({ metadata, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NODE_AGENT_ROLE }, subjects }),
    new Role({ metadata: namespaced, rules: NODE_AGENT_LEASE_RULES.map((r) => ({ ...r })) }),
    new RoleBinding({ metadata: namespaced, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: NODE_AGENT_ROLE }, subjects }),
  ];
}
