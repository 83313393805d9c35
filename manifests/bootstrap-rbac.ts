/**
 * The RBAC a cluster needs before any node can join: the identities that the webhook and
 * the masters' boot scripts create have no permissions of their own in Kubernetes.
 *
 * - The shared worker token authenticates as one user for every node (the Node authorizer
 *   only knows per-node `system:node:<name>` users), so its rights come from RBAC: the
 *   kubelet's (`system:node`), kube-proxy's (`system:node-proxier`; kube-proxy and flannel
 *   use the node's token) and the kubelet's webhook checks of its own callers
 *   (`system:auth-delegator`: TokenReview and SubjectAccessReview). Until per-node identity
 *   lands, a node can therefore act on other nodes' objects: say so to whoever runs it.
 * - The API server's client certificate for kubelets (logs, exec, port-forward) needs
 *   `system:kubelet-api-admin`, as kubelets authorize their callers through the API.
 */
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { KUBELET_CLIENT_USER } from '../userdata/master';
import { KUBELET_IDENTITY } from '../webhook/authenticator';

/** A binding of a built-in ClusterRole to one user. */
function bindUser(name: string, clusterRole: string, user: string): ClusterRoleBinding {
  return new ClusterRoleBinding({
    metadata: { name: `kubernetes-on-aws:${name}`, labels: { 'app.kubernetes.io/managed-by': 'kubernetes-on-aws' } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
  });
}

export function bootstrapRbac(): ClusterRoleBinding[] {
  const kubelet = KUBELET_IDENTITY.username;
  return [
    bindUser('kubelet', 'system:node', kubelet),
    bindUser('kubelet-proxier', 'system:node-proxier', kubelet),
    bindUser('kubelet-auth-delegator', 'system:auth-delegator', kubelet),
    bindUser('apiserver-kubelet-client', 'system:kubelet-api-admin', KUBELET_CLIENT_USER),
  ];
}
