/**
 * The RBAC a cluster needs from the start for the identities the masters' boot scripts
 * create, which have no permissions of their own in Kubernetes. Nodes get none: each signs in
 * as `system:node:<name>` (webhook/iam-authenticator.ts), and the Node authorizer and
 * NodeRestriction give it what its own pods need, nothing of another node's.
 *
 * - The API server's client certificate for kubelets (logs, exec, port-forward) needs
 *   `system:kubelet-api-admin`, as kubelets authorize their callers through the API.
 * - The approver of kubelet serving certificates (webhook/kubelet-serving-approver.ts) reads
 *   CSRs and approves those of signer kubernetes.io/kubelet-serving only: approving takes
 *   `update` on certificatesigningrequests/approval and `approve` on the signer by name
 *   (kubernetes/kubernetes v1.35 plugin/pkg/admission/certificates/approval: the signer
 *   check; kubernetes/website examples/access/certificate-signing-request/clusterrole-approve.yaml).
 * - The pod identity webhook (userdata/pod-identity-webhook.ts) reads service accounts for
 *   their role annotations: get, list and watch, as upstream's ClusterRole gives it
 *   (aws/amazon-eks-pod-identity-webhook v0.6.17 deploy/auth.yaml), without the CSR and Secret
 *   rights of its in-cluster mode, which it does not run in.
 */
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { KUBELET_CLIENT_BINDING, KUBELET_CLIENT_USER, KUBELET_SERVING_APPROVER_USER } from '../userdata/master';
import { POD_IDENTITY_WEBHOOK_USER } from '../userdata/pod-identity-webhook';
import { MANAGED_BY_LABELS } from './managed-by';

/** The one signer the approver may approve for. */
export const KUBELET_SERVING_SIGNER_NAME = 'kubernetes.io/kubelet-serving';

const user = (name: string) => [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name }];

export function bootstrapRbac(): (ClusterRole | ClusterRoleBinding)[] {
  const approver = { name: KUBELET_SERVING_APPROVER_USER, labels: MANAGED_BY_LABELS };
  const podIdentityWebhook = { name: POD_IDENTITY_WEBHOOK_USER, labels: MANAGED_BY_LABELS };
  return [
    new ClusterRoleBinding({
      metadata: { name: KUBELET_CLIENT_BINDING, labels: MANAGED_BY_LABELS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:kubelet-api-admin' },
      subjects: user(KUBELET_CLIENT_USER),
    }),
    new ClusterRole({
      metadata: approver,
      rules: [
        { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'], verbs: ['get', 'list'] },
        { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests/approval'], verbs: ['update'] },
        { apiGroups: ['certificates.k8s.io'], resources: ['signers'], resourceNames: [KUBELET_SERVING_SIGNER_NAME], verbs: ['approve'] },
      ],
    }),
    new ClusterRoleBinding({
      metadata: approver,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: KUBELET_SERVING_APPROVER_USER },
      subjects: user(KUBELET_SERVING_APPROVER_USER),
    }),
    new ClusterRole({
      metadata: podIdentityWebhook,
      rules: [{ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'list', 'watch'] }],
    }),
    new ClusterRoleBinding({
      metadata: podIdentityWebhook,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: POD_IDENTITY_WEBHOOK_USER },
      subjects: user(POD_IDENTITY_WEBHOOK_USER),
    }),
  ];
}
