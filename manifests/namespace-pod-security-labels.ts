/**
 * Only Administrators set, change or remove a namespace's `pod-security.kubernetes.io/*`
 * labels: they choose the Pod Security level of everything in the namespace, and a
 * SubjectAccessReview never shows an object's labels, so the authorization webhook cannot
 * tell a relabelling from any other namespace update. A ValidatingAdmissionPolicy
 * (admissionregistration.k8s.io/v1, GA since 1.30) sees them.
 *
 * It matches namespaces/status and namespaces/finalize too: their update strategies reset
 * only spec or status, so labels change through them as well (kubernetes/kubernetes
 * pkg/registry/core/namespace/strategy.go), and Pod Security admission skips
 * subresources (kubernetes/pod-security-admission v0.35.1 admission/admission.go,
 * ValidateNamespace).
 *
 * An Administrator here is who the webhook makes one: a user in the cluster group and in
 * one of the Administrator groups; plus `system:masters` (the break-glass admin that
 * applies these manifests). Everyone else, system identities included, may create and
 * update namespaces only with the pod-security labels as they were (none, on create):
 * controllers that update namespaces (the namespace controller's finalize, kube-apiserver's
 * `kubernetes.io/metadata.name` label) never touch them.
 */
import { ValidatingAdmissionPolicy } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy';
import { ValidatingAdmissionPolicyBinding } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding';
import { MANAGED_BY_LABELS } from './managed-by';

/** Pod Security admission reads its labels under this prefix; the policy guards every key in it. */
export const POD_SECURITY_LABEL_PREFIX = 'pod-security.kubernetes.io/';
/** The API server's own break-glass group (the static-token admin is in it). */
export const BREAK_GLASS_GROUP = 'system:masters';
export const NAMESPACE_POD_SECURITY_POLICY = 'kubernetes-on-aws-namespace-pod-security-labels';

export interface NamespacePodSecurityLabelsProps {
  /** The group every user of this cluster has (`aws:<account>:<region>:<cluster>`). */
  readonly clusterGroup: string;
  /**
   * Groups that make a user of the cluster group an Administrator (config.roleGroups.Administrator).
   * @default none: only `system:masters` may then set the labels
   */
  readonly administratorGroups?: readonly string[];
}

const LONE_SURROGATE = /\p{Cs}/u;

/** A CEL string literal: JSON's escapes are CEL's, so no group name can end the literal early. */
const celString = (value: string): string => JSON.stringify(value);

const GROUPS = 'request.userInfo.groups';
const NEW = 'object.metadata.labels';
const OLD = 'oldObject.metadata.labels';
const guarded = (key: string) => `!k.startsWith(${celString(POD_SECURITY_LABEL_PREFIX)}) || (${key})`;

/**
 * The policy's CEL, in evaluation order. Every label access is behind has(): a namespace
 * may have no labels at all, and on CREATE oldObject is null.
 */
export function podSecurityLabelExpressions(props: NamespacePodSecurityLabelsProps): { variables: { name: string; expression: string }[]; validation: string } {
  const admins = (props.administratorGroups ?? []).map(celString).join(', ');
  return {
    variables: [
      {
        name: 'isAdministrator',
        expression: `has(${GROUPS}) && (${celString(BREAK_GLASS_GROUP)} in ${GROUPS} || (${celString(props.clusterGroup)} in ${GROUPS} && ${GROUPS}.exists(g, g in [${admins}])))`,
      },
      {
        // Every pod-security label the request sets was there before, with the same value.
        name: 'noneAddedOrChanged',
        expression: `!has(${NEW}) || ${NEW}.all(k, ${guarded(`request.operation == "UPDATE" && has(${OLD}) && k in ${OLD} && ${OLD}[k] == ${NEW}[k]`)})`,
      },
      {
        // Every pod-security label there was is still there (the values are compared above).
        name: 'noneRemoved',
        expression: `request.operation != "UPDATE" || !has(${OLD}) || ${OLD}.all(k, ${guarded(`has(${NEW}) && k in ${NEW}`)})`,
      },
    ],
    validation: 'variables.isAdministrator || (variables.noneAddedOrChanged && variables.noneRemoved)',
  };
}

/** The policy and its binding (every namespace, requests denied on failure). */
export function namespacePodSecurityLabelPolicy(props: NamespacePodSecurityLabelsProps): [ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding] {
  if (!props.clusterGroup) throw new Error('namespace pod-security policy: clusterGroup is empty; pass config.clusterGroup (aws:<account>:<region>:<cluster>)');
  const blank = (props.administratorGroups ?? []).find((g) => g.trim() === '');
  if (blank !== undefined) throw new Error('namespace pod-security policy: administratorGroups has an empty group name; remove it from administratorGroups');
  // A lone UTF-16 surrogate has no CEL escape: the policy would not compile, and failing
  // closed it would then refuse every namespace update, the namespace controller's too.
  const broken = [props.clusterGroup, ...(props.administratorGroups ?? [])].find((g) => LONE_SURROGATE.test(g));
  if (broken !== undefined) throw new Error(`namespace pod-security policy: group ${JSON.stringify(broken)} is not valid Unicode text; fix it in clusterGroup or administratorGroups`);
  const { variables, validation } = podSecurityLabelExpressions(props);
  const metadata = { name: NAMESPACE_POD_SECURITY_POLICY, labels: MANAGED_BY_LABELS };
  return [
    new ValidatingAdmissionPolicy({
      metadata,
      spec: {
        // An error in the policy denies the request: the labels are a security boundary.
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [{
            apiGroups: [''],
            apiVersions: ['v1'],
            operations: ['CREATE', 'UPDATE'],
            resources: ['namespaces', 'namespaces/status', 'namespaces/finalize'],
          }],
        },
        variables,
        validations: [{
          expression: validation,
          reason: 'Forbidden',
          message: `only Administrators may set, change or remove a namespace's ${POD_SECURITY_LABEL_PREFIX}* labels`,
        }],
      },
    }),
    new ValidatingAdmissionPolicyBinding({
      metadata,
      spec: { policyName: NAMESPACE_POD_SECURITY_POLICY, validationActions: ['Deny'] },
    }),
  ];
}
