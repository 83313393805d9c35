/**
 * The RBAC a cluster needs before any node can join: the identities that the webhook and
 * the masters' boot scripts create have no permissions of their own in Kubernetes.
 *
 * - The shared worker token (kubelet, kube-proxy and flannel of every node): the roles of
 *   node-agent-rbac.ts, cut to what those three call.
 * - The API server's client certificate for kubelets (logs, exec, port-forward) needs
 *   `system:kubelet-api-admin`, as kubelets authorize their callers through the API.
 */
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { KUBELET_CLIENT_USER } from '../userdata/master';
import { MANAGED_BY_LABELS } from './managed-by';
import { nodeAgentRbac } from './node-agent-rbac';

export function bootstrapRbac(): (ClusterRole | ClusterRoleBinding | Role | RoleBinding)[] {
  return [
    ...nodeAgentRbac(),
    new ClusterRoleBinding({
      metadata: { name: 'kubernetes-on-aws:apiserver-kubelet-client', labels: MANAGED_BY_LABELS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:kubelet-api-admin' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: KUBELET_CLIENT_USER }],
    }),
  ];
}
