/**
 * What admission can take back from the shared worker token (user `kubelet`, see
 * node-agent-rbac.ts) that RBAC cannot: RBAC grants "create pods" or "create
 * serviceaccounts/token" whole, while a kubelet only ever makes a few kinds of these
 * requests. A ValidatingAdmissionPolicy (GA since 1.30), matched on that one user, refuses
 * the rest. These are the node-independent checks of NodeRestriction, which ignores this
 * user (kubernetes/kubernetes plugin/pkg/admission/noderestriction/admission.go:
 * admitPodCreate, admitPodStatus, admitServiceAccount; every kubelet meets them, since
 * NodeRestriction applies them to every `system:node:<name>` kubelet). What stays out of
 * reach: anything that needs to know which node is asking (admission sees one user for all
 * of them), and reads (admission never sees a get, list or watch).
 *
 * Upstream, as read (kubernetes/kubernetes at v1.35.1 is not in the source store; the
 * functions below are unchanged in every 1.2x-1.3x copy read there):
 * - The kubelet creates pods only as mirror pods of its static pods, with the
 *   `kubernetes.io/config.mirror` annotation (pkg/kubelet/pod/mirror_client.go
 *   CreateMirrorPod; the key: kubernetes/api v0.35.1 core/v1/annotation_key_constants.go
 *   MirrorPodAnnotationKey), bound to its own node and named `<static pod>-<node name>`
 *   (pkg/kubelet/config/common.go applyDefaults sets spec.nodeName and the name from
 *   generatePodName, which lower-cases the node name: a no-op, as pod validation allows
 *   only a DNS subdomain in spec.nodeName, pkg/apis/core/validation/validation.go
 *   ValidatePodSpec, ValidateNodeName, and runs before validating admission, kubernetes/
 *   apiserver v0.35.1 pkg/registry/generic/registry/store.go create: rest.BeforeCreate,
 *   then createValidation; BeforeCreate also fills a generateName). Its labels are the
 *   manifest's: CreateMirrorPod copies the pod and adds only the annotation and a Node
 *   owner reference, applyDefaults only the config.hash annotation, a NoExecute toleration
 *   and the phase (read in a 1.34+ copy, with the PreventStaticPodAPIReferences gate). So
 *   a mirror pod is admitted only as one of ours (STATIC_PODS, userdata/master.ts): that
 *   name for its spec.nodeName, exactly those labels. No kubelet runs a mirror pod it reads
 *   from the API server: it only matches it to a static pod from its own manifest
 *   directory, and deletes it when none has its name and hash (pkg/kubelet/kubelet.go
 *   HandlePodAdditions, handleMirrorPod, HandlePodCleanups); the pod garbage collector
 *   deletes a pod bound to a node that does not exist (pkg/controller/podgc/
 *   gc_controller.go gcOrphaned). But this token may register a Node and keep it alive
 *   (create nodes, nodes/status, its lease), and on that fake node nobody deletes the pod:
 *   unchecked, it could carry any Service's selector and, through its status, draw that
 *   Service's traffic for good; checked, it is a copy of one of our static pods that never
 *   runs (no Service of ours selects their labels). Bound to no node it would wait for the
 *   scheduler and stay if unschedulable, hence spec.nodeName is required too. The
 *   ServiceAccount admission plugin (default on) refuses a mirror pod
 *   that names a service account, references a Secret or projects a service-account token
 *   (plugin/pkg/admission/serviceaccount/admission.go Validate); configmaps are not refused
 *   there, but a mirror pod never runs. Pod validation forbids adding, changing or removing
 *   the annotation on any update, status included (pkg/apis/core/validation/validation.go
 *   ValidatePodSpecificAnnotationUpdates, called by ValidatePodStatusUpdate): a pod never
 *   turns into or out of a mirror pod.
 * - The kubelet deletes mirror pods (mirror_client.go DeleteMirrorPod) and pods whose
 *   deletion someone else began, once it has stopped them (pkg/kubelet/status/
 *   status_manager.go syncPod: canBeDeleted needs metadata.deletionTimestamp, a terminal
 *   phase and a finished termination; grace period 0 with a UID precondition). A drain
 *   (the Eviction API) or `kubectl delete` sets deletionTimestamp first, so those deletions
 *   still complete. The terminal phase is not required here: the same token may write any
 *   pod's status, so it would only cost a thief one more request.
 * - A DELETE's admission sees the stored object as oldObject, object null
 *   (kubernetes/apiserver v0.35.1 pkg/registry/rest/delete.go
 *   AdmissionToValidateObjectDeleteFunc; pkg/registry/generic/registry/store.go Delete).
 * - TokenRequest: admission runs before the bound object is looked up; a `Pod` binding then
 *   needs that pod to exist in the namespace, run under the service account and match a
 *   given uid (pkg/registry/core/serviceaccount/storage/token.go TokenREST.Create). The
 *   kubelet binds every token it asks for to the pod that mounts it, with apiVersion v1,
 *   name and uid (pkg/volume/projected/projected.go, pkg/volume/csi/csi_mounter.go), as
 *   NodeRestriction demands. So no token can be minted for an account no pod runs under,
 *   such as kube-controller-manager's per-controller accounts in kube-system, and a token
 *   dies with its pod. A `Node` binding (ServiceAccountTokenNodeBinding) would take any
 *   account: refused.
 * - The kubelet writes pod status only as a patch of status and the uid (pkg/util/pod/pod.go
 *   PatchPodStatus, from the status manager), never labels; NodeRestriction refuses kubelets
 *   a label change through pods/status, which would move any pod into or out of a Service.
 *
 * The policy matches every pod and service-account write that node-agent-rbac.ts grants
 * (pods create/delete, pods/status update/patch, serviceaccounts/token create): the test
 * holds the two together, so no granted subresource is a way around it.
 */
import { IValidatingAdmissionPolicy, ValidatingAdmissionPolicy } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy';
import { ValidatingAdmissionPolicyBinding } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding';
import { STATIC_PODS } from '../userdata/master';
import { StaticPodIdentity } from '../userdata/static-pod';
import { KUBELET_IDENTITY } from '../webhook/authenticator';
import { MANAGED_BY_LABELS } from './managed-by';

export const NODE_AGENT_ADMISSION_POLICY = 'kubernetes-on-aws-node-agent-writes';
/** Marks a mirror pod (kubernetes/api v0.35.1 core/v1 MirrorPodAnnotationKey). */
export const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
/**
 * Every static pod of ours is in kube-system (userdata/static-pod.ts), so every mirror pod
 * a kubelet of ours creates is too (the test holds the two together).
 */
export const MIRROR_POD_NAMESPACE = 'kube-system';

type Spec = NonNullable<IValidatingAdmissionPolicy['spec']>;

/** The requests the policy sees: those the node-agent roles grant on pods and service accounts. */
export const NODE_AGENT_ADMISSION_RULES: NonNullable<NonNullable<Spec['matchConstraints']>['resourceRules']> = [
  { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'DELETE'], resources: ['pods'] },
  // PATCH is an UPDATE to admission.
  { apiGroups: [''], apiVersions: ['v1'], operations: ['UPDATE'], resources: ['pods/status'] },
  { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['serviceaccounts/token'] },
];

// CEL string literals: JSON's escapes are CEL's.
const MIRROR = JSON.stringify(MIRROR_POD_ANNOTATION);
const USER = JSON.stringify(KUBELET_IDENTITY.username);
const who = `user ${KUBELET_IDENTITY.username} (the shared worker token)`;
// request.subResource is left out of the request, not empty, when there is none (the API
// server drops empty fields): test it with has().
const isSubresource = (name: string) => `has(request.subResource) && request.subResource == ${JSON.stringify(name)}`;
const isMirrorPod = (pod: string) => `has(${pod}.metadata.annotations) && ${MIRROR} in ${pod}.metadata.annotations`;
const labels = (pod: string) => `(has(${pod}.metadata.labels) ? ${pod}.metadata.labels : {})`;
/**
 * The pod is the mirror of `staticPod` on its spec.nodeName. One literal per static pod,
 * each a map(string, string): the API server's CEL refuses a mixed-type literal such as
 * a list of {name, labels} (kubernetes/apiserver v0.35.1 pkg/cel/environment/base.go:
 * HomogeneousAggregateLiterals).
 */
const isMirrorOf = (staticPod: StaticPodIdentity) =>
  `(object.metadata.name == ${JSON.stringify(`${staticPod.name}-`)} + object.spec.nodeName && ${labels('object')} == ${JSON.stringify(staticPod.labels)})`;
const REF = 'object.spec.boundObjectRef';
const refIs = (field: string, value: string) => `has(${REF}.${field}) && ${REF}.${field} == ${JSON.stringify(value)}`;
const refHas = (field: string) => `has(${REF}.${field}) && ${REF}.${field} != ""`;

/**
 * Validations per kind of request (two for pod creation), each true for every other kind:
 * the API server evaluates them all, and `object` is null on DELETE, `oldObject` on CREATE.
 */
export const NODE_AGENT_VALIDATIONS: NonNullable<Spec['validations']> = [
  {
    expression: `request.operation != "CREATE" || has(request.subResource) || (request.namespace == ${JSON.stringify(MIRROR_POD_NAMESPACE)} && ${isMirrorPod('object')} && has(object.spec.nodeName) && object.spec.nodeName != "")`,
    message: `${who} may create only mirror pods (annotation ${MIRROR_POD_ANNOTATION}) bound to a node (spec.nodeName) in ${MIRROR_POD_NAMESPACE}`,
  },
  {
    expression: `request.operation != "CREATE" || has(request.subResource) || (has(object.metadata.name) && has(object.spec.nodeName) && (${STATIC_PODS.map(isMirrorOf).join(' || ')}))`,
    message: `${who} may create only the mirror pod of one of our static pods (${STATIC_PODS.map((p) => p.name).join(', ')}): named <static pod>-<spec.nodeName>, with exactly that static pod's labels`,
  },
  {
    expression: `request.operation != "DELETE" || has(oldObject.metadata.deletionTimestamp) || (${isMirrorPod('oldObject')})`,
    message: `${who} may delete only mirror pods and pods already being deleted (metadata.deletionTimestamp set)`,
  },
  {
    expression: `!(${isSubresource('status')}) || ${labels('object')} == ${labels('oldObject')}`,
    message: `${who} may not change a pod's labels through pods/status`,
  },
  {
    expression: `!(${isSubresource('token')}) || (has(${REF}) && ${refIs('apiVersion', 'v1')} && ${refIs('kind', 'Pod')} && ${refHas('name')} && ${refHas('uid')})`,
    message: `${who} may request only tokens bound to a pod (spec.boundObjectRef: apiVersion v1, kind Pod, name and uid)`,
  },
];

/** The policy and its binding: only the shared worker token's requests, denied on any failure. */
export function nodeAgentAdmissionPolicy(): [ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding] {
  const metadata = { name: NODE_AGENT_ADMISSION_POLICY, labels: MANAGED_BY_LABELS };
  return [
    new ValidatingAdmissionPolicy({
      metadata,
      spec: {
        // An error denies: this identity is cluster-admin in effect without the policy.
        failurePolicy: 'Fail',
        matchConstraints: { resourceRules: NODE_AGENT_ADMISSION_RULES.map((r) => ({ ...r })) },
        // Everyone else skips the policy (their requests cost no evaluation). has(): an empty
        // field is left out of the request, and an error here would deny under Fail.
        matchConditions: [{ name: 'shared-worker-token', expression: `has(request.userInfo.username) && request.userInfo.username == ${USER}` }],
        validations: NODE_AGENT_VALIDATIONS.map((v) => ({ ...v, reason: 'Forbidden' })),
      },
    }),
    new ValidatingAdmissionPolicyBinding({
      metadata,
      spec: { policyName: NODE_AGENT_ADMISSION_POLICY, validationActions: ['Deny'] },
    }),
  ];
}
