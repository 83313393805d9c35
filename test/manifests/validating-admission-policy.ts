/**
 * Runs a ValidatingAdmissionPolicy and its binding against one admission request, as the
 * API server would (kubernetes/apiserver v0.35.1 pkg/admission/plugin/policy/validating:
 * match the resource rules, evaluate the variables, then every validation; false denies
 * with the validation's message, an error follows failurePolicy). The CEL is evaluated by
 * @bufbuild/cel (cel-es), which is tested against cel-spec's conformance suite (v0.25.1,
 * shipped in @bufbuild/cel-spec) and cel-go's parser tests: the API server runs cel-go.
 *
 * `request` is built as the API server builds it (pkg/admission/plugin/cel/condition.go
 * CreateAdmissionRequest, then runtime.DefaultUnstructuredConverter.ToUnstructured, which
 * drops empty `omitempty` fields: kubernetes/apimachinery v0.35.1 pkg/runtime/converter.go).
 * So `request.subResource` is absent, not "", on a request without a subresource, as
 * `request.namespace` is on a cluster-scoped one: a policy must test them with has().
 *
 * matchConditions follow the API server's matcher (pkg/admission/plugin/webhook/
 * matchconditions/matcher.go Match): any false skips the policy; otherwise any error
 * follows failurePolicy.
 *
 * Stricter than the API server in one way: variables are evaluated eagerly, so an
 * expression that errors where the API server would never evaluate it still fails here.
 * Looser in two: the CEL runs untyped, while the API server type-checks every expression
 * against the OpenAPI schema of each resource the policy matches (a field name that does
 * not exist in that schema is a compile warning or error there, not here), and no CEL cost
 * is estimated. A policy that passes here has not been loaded by a real API server.
 */
import { run } from '@bufbuild/cel';
import { IValidatingAdmissionPolicy } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy';
import { IValidatingAdmissionPolicyBinding } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/** The parts of an AdmissionRequest a policy sees as `request`, `object` and `oldObject`. */
export interface AdmissionSample {
  readonly operation: Operation;
  readonly resource: { readonly group: string; readonly version: string; readonly resource: string };
  readonly subResource?: string;
  /** The request's namespace (absent for a cluster-scoped resource). */
  readonly namespace?: string;
  readonly userInfo: { readonly username: string; readonly groups?: readonly string[] };
  readonly object: unknown;
  /** null on CREATE, as the API server passes it. */
  readonly oldObject: unknown;
}

export type AdmissionOutcome =
  | { readonly matched: false; readonly allowed: true }
  | { readonly matched: true; readonly allowed: true }
  | { readonly matched: true; readonly allowed: false; readonly message: string };

/** JSON as CEL values: objects become maps (what @bufbuild/cel reads as `map`). */
export function celValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(celValue);
  if (value !== null && typeof value === 'object') return new Map(Object.entries(value).map(([k, v]) => [k, celValue(v)]));
  return value;
}

/** Evaluates one expression; a CEL error comes back as an Error (the evaluator's error value). */
export function evaluateCel(expression: string, bindings: Record<string, unknown>): unknown {
  try {
    return run(expression, bindings as never);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

const listMatches = (list: readonly string[] | undefined, value: string) => (list ?? []).some((entry) => entry === '*' || entry === value);

function matches(policy: IValidatingAdmissionPolicy, sample: AdmissionSample): boolean {
  const resource = sample.subResource ? `${sample.resource.resource}/${sample.subResource}` : sample.resource.resource;
  return (policy.spec?.matchConstraints?.resourceRules ?? []).some((rule) =>
    listMatches(rule.apiGroups, sample.resource.group) &&
    listMatches(rule.apiVersions, sample.resource.version) &&
    listMatches(rule.operations, sample.operation) &&
    listMatches(rule.resources, resource));
}

export function admit(policy: IValidatingAdmissionPolicy, binding: IValidatingAdmissionPolicyBinding, sample: AdmissionSample): AdmissionOutcome {
  if (binding.spec?.policyName !== policy.metadata?.name) throw new Error(`binding ${binding.metadata?.name} names policy ${binding.spec?.policyName}, not ${policy.metadata?.name}`);
  if (!binding.spec?.validationActions?.includes('Deny')) throw new Error('this harness only runs Deny bindings');
  if (!matches(policy, sample)) return { matched: false, allowed: true };
  const failClosed = policy.spec?.failurePolicy !== 'Ignore';
  const onError = (what: string, error: Error): AdmissionOutcome =>
    failClosed ? { matched: true, allowed: false, message: `${what}: ${error.message}` } : { matched: true, allowed: true };

  const request = celValue({
    operation: sample.operation,
    resource: sample.resource,
    ...(sample.subResource ? { subResource: sample.subResource } : {}),
    ...(sample.namespace ? { namespace: sample.namespace } : {}),
    userInfo: sample.userInfo,
  });
  const variables = new Map<string, unknown>();
  const bindings = () => ({ request, object: celValue(sample.object), oldObject: celValue(sample.oldObject), variables });
  const conditions = (policy.spec?.matchConditions ?? []).map((condition) => ({ name: condition.name, value: evaluateCel(condition.expression, bindings()) }));
  if (conditions.some((condition) => condition.value === false)) return { matched: false, allowed: true };
  const failed = conditions.find((condition) => condition.value !== true);
  if (failed) {
    if (!failClosed) return { matched: false, allowed: true };
    return onError(`matchCondition ${failed.name}`, failed.value instanceof Error ? failed.value : new Error(`${String(failed.value)} is not a bool`));
  }
  for (const variable of policy.spec?.variables ?? []) {
    const value = evaluateCel(variable.expression, bindings());
    if (value instanceof Error) return onError(`variable ${variable.name}`, value);
    variables.set(variable.name, value);
  }
  for (const validation of policy.spec?.validations ?? []) {
    const value = evaluateCel(validation.expression, bindings());
    if (value instanceof Error) return onError('validation', value);
    if (value !== true) return { matched: true, allowed: false, message: validation.message ?? validation.expression };
  }
  return { matched: true, allowed: true };
}
