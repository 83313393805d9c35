// What names a Kubernetes object across runs of the applier (the inventory), and the order
// objects are applied and deleted in.

/** A Kubernetes object as plain JSON (what `AddonObject.toJSON()` returns). */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly [field: string]: unknown;
  };
  readonly [field: string]: unknown;
}

/** One inventory entry: an object the applier applied (namespace absent when cluster-scoped). */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

/** `Deployment kube-system/coredns`, `ClusterRole system:coredns`: for messages. */
export function describeRef(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

/** The API group of `apps/v1` (`apps`) or `v1` (the core group, ``). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/**
 * The identity of an object: group, kind, namespace, name, without the version (a GroupKind,
 * "does not force a version": apimachinery v0.35.1 pkg/runtime/schema/group_version.go). The
 * API server serves one stored object at each version of its group, so an add-on moving from
 * `policy/v1beta1` to `policy/v1` keeps its object instead of pruning it.
 */
export function identityOf(ref: ObjectRef): string {
  return [groupOf(ref.apiVersion), ref.kind, ref.namespace ?? '', ref.name].join('|');
}

/** The inventory entry of an object. */
export function refOf(object: KubeObject): ObjectRef {
  const { apiVersion, kind } = object;
  const { name, namespace } = object.metadata;
  return namespace ? { apiVersion, kind, namespace, name } : { apiVersion, kind, name };
}

/** Applied first: the types (CRDs) and the places (Namespaces) the other objects need. */
const APPLY_FIRST: readonly string[] = [
  'apiextensions.k8s.io|CustomResourceDefinition',
  '|Namespace',
];

/** 0 for CRDs, 1 for Namespaces, 2 for the rest. */
export function applyPhase(ref: ObjectRef): number {
  const index = APPLY_FIRST.indexOf(`${groupOf(ref.apiVersion)}|${ref.kind}`);
  return index < 0 ? APPLY_FIRST.length : index;
}

/** CRDs, then Namespaces, then the rest; the order within a phase is kept (a stable sort). */
export function inApplyOrder<T extends ObjectRef>(refs: readonly T[]): T[] {
  return refs.map((ref, index) => ({ ref, index }))
    .sort((a, b) => applyPhase(a.ref) - applyPhase(b.ref) || a.index - b.index)
    .map(({ ref }) => ref);
}

/**
 * The reverse of {@link inApplyOrder}: workloads before their Namespace, custom resources
 * before their CRD (deleting a CRD deletes its objects without their finalizers' owners).
 */
export function inDeleteOrder<T extends ObjectRef>(refs: readonly T[]): T[] {
  return inApplyOrder(refs).reverse();
}
