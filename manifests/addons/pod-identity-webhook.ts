/**
 * pod-identity-webhook: IAM roles for pods (the 2016 system's kube2iam, done as EKS does it).
 * The webhook itself runs on every master beside the API server (userdata/pod-identity-webhook.ts,
 * where its flags, certificate and firewall are); this add-on is the MutatingWebhookConfiguration
 * that makes the API server call it, and its RBAC is the cluster-bootstrap add-on's
 * (manifests/bootstrap-rbac.ts).
 *
 * Fields follow upstream's deploy/mutatingwebhook.yaml (aws/amazon-eks-pod-identity-webhook
 * v0.6.17), with a URL instead of a Service: the API server calls the webhook of its own master.
 * - `failurePolicy: Ignore`, as upstream: a master whose webhook is not up yet does not stop
 *   every pod in the cluster from being created. Such a pod starts without the role's variables
 *   (its AWS calls fail; it never gets another identity) and gets them when it is re-created.
 * - `admissionReviewVersions: [v1beta1]`: its handler decodes admission.k8s.io/v1beta1 only
 *   (pkg/handler/handler.go Handle); the API server still sends that version to a webhook that
 *   asks for it (kubernetes/apiserver v0.35.1 pkg/admission/plugin/webhook/request/
 *   admissionreview.go CreateAdmissionObjects).
 * - `objectSelector`: a pod labelled `eks.amazonaws.com/skip-pod-identity-webhook` is not sent.
 * - `namespaceSelector`: no kube-system pod is sent. Pod Security does not check that namespace
 *   (apiserver-admission.ts), so a webhook that patches its pods could make any of them
 *   privileged; the add-ons there carry their roles' variables in their own manifests
 *   (aws-identity.ts), and the masters' mirror pods need none.
 */
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration';
import { POD_IDENTITY_ANNOTATION_PREFIX, POD_IDENTITY_WEBHOOK_URL } from '../../userdata/pod-identity-webhook';
import { POD_SECURITY_EXEMPT_NAMESPACES } from '../../userdata/apiserver-admission';
import { POD_IDENTITY_WEBHOOK_VERSION } from '../../userdata/versions';
import { MANAGED_BY_LABELS } from '../managed-by';
import { Addon, CLUSTER_CA_BUNDLE, NODE_COMPONENTS } from './addon';

export const POD_IDENTITY_WEBHOOK_CONFIGURATION = 'pod-identity-webhook';
/** The label the API server sets on every namespace to its name (immutable, since 1.22). */
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
/** The namespaces whose pods the webhook never sees: those Pod Security does not check. */
export const NAMESPACES_NOT_SENT = POD_SECURITY_EXEMPT_NAMESPACES;
/** The label that keeps a pod from the webhook (upstream's objectSelector). */
export const SKIP_POD_IDENTITY_LABEL = `${POD_IDENTITY_ANNOTATION_PREFIX}/skip-pod-identity-webhook`;
/**
 * How long the API server waits for an answer. The webhook answers from its cache, or waits
 * its lookup grace period (100 ms) for a new service account; a hung one must not hold every
 * pod creation for the default 10 s.
 */
export const POD_IDENTITY_WEBHOOK_TIMEOUT_SECONDS = 3;

export const podIdentityWebhook: Addon = {
  name: 'pod-identity-webhook',
  version: POD_IDENTITY_WEBHOOK_VERSION,
  description: `IAM roles for pods: a pod whose service account is annotated ${POD_IDENTITY_ANNOTATION_PREFIX}/role-arn gets that role's web identity (amazon-eks-pod-identity-webhook on the masters)`,
  replaces: 'kube2iam',
  optional: false,
  placement: 'api',
  needs: [NODE_COMPONENTS.apiServer, NODE_COMPONENTS.clusterBootstrapped],
  provides: [],
  toleratedTaints: {},
  permissions: () => [],
  objects: () => [
    new MutatingWebhookConfiguration({
      metadata: { name: POD_IDENTITY_WEBHOOK_CONFIGURATION, labels: MANAGED_BY_LABELS },
      webhooks: [
        {
          name: 'pod-identity-webhook.amazonaws.com',
          clientConfig: { url: POD_IDENTITY_WEBHOOK_URL, caBundle: CLUSTER_CA_BUNDLE },
          rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }],
          objectSelector: { matchExpressions: [{ key: SKIP_POD_IDENTITY_LABEL, operator: 'DoesNotExist' }] },
          namespaceSelector: { matchExpressions: [{ key: NAMESPACE_NAME_LABEL, operator: 'NotIn', values: [...NAMESPACES_NOT_SENT] }] },
          failurePolicy: 'Ignore',
          sideEffects: 'None',
          admissionReviewVersions: ['v1beta1'],
          timeoutSeconds: POD_IDENTITY_WEBHOOK_TIMEOUT_SECONDS,
          // Another webhook's later change to the pod (a sidecar) is not seen again: the
          // webhook patches the containers there are when it is called.
          reinvocationPolicy: 'Never',
        },
      ],
    }),
  ],
};
