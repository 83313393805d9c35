import { ROLE_NAMES, RoleName } from './config';

/** What the API server asks about, normalised from a SubjectAccessReview (v1 or v1beta1). */
export interface AccessRequest {
  readonly user: string;
  readonly groups: readonly string[];
  /** Set for API resources (exactly one of resource / nonResource is set). */
  readonly resource?: {
    readonly verb: string;
    readonly group: string;
    readonly resource: string;
    readonly subresource: string;
    readonly namespace: string;
    readonly name: string;
  };
  /** Set for non-resource URLs such as /version or /healthz. */
  readonly nonResource?: { readonly verb: string; readonly path: string };
}

export interface AuthorizationPolicy {
  /** Users without this group are denied outright. */
  readonly clusterGroup: string;
  /** Which groups grant which role. */
  readonly roles: Readonly<Record<RoleName, readonly string[]>>;
}

/**
 * `allowed: true` grants; `denied: true` ends the authorizer chain; neither is "no
 * opinion", leaving the decision to the next authorizer (RBAC).
 */
export interface AuthorizationDecision {
  readonly allowed: boolean;
  readonly denied: boolean;
  readonly reason: string;
}

export const VERB_CLASSES = {
  read: 'get, list, watch (non-resource: get, head, options)',
  write: 'create, update, patch, delete, deletecollection (non-resource: post, put, patch, delete)',
  other: 'anything else: impersonate, bind, escalate, approve, sign, use, * and unknown verbs',
} as const;
export type VerbClass = keyof typeof VERB_CLASSES;

export const RESOURCE_CLASSES = {
  'own-access-review': 'selfsubjectaccessreviews, selfsubjectrulesreviews, selfsubjectreviews (`kubectl auth can-i`, `kubectl auth whoami`)',
  general: 'any resource not in a row below',
  secrets: 'secrets outside kube-system',
  connect: 'exec, attach, portforward, proxy of pods and services outside kube-system (a `get` on pods/exec runs commands over WebSocket)',
  'system-namespaces': 'resources in kube-system, kube-public and kube-node-lease (node heartbeats), and those Namespaces themselves (except control-plane-access)',
  'cluster-scoped': 'requests outside any namespace: cluster-scoped objects (PersistentVolumes, StorageClasses, CSIDrivers, RuntimeClasses, PriorityClasses, CRDs, CertificateSigningRequests and their approval, new Namespaces, TokenReviews, ...) and namespaced resources across all namespaces; and namespaces/status, namespaces/finalize (controllers\' subresources that change labels too)',
  'control-plane-access': 'secrets, exec, attach, portforward, proxy in kube-system or across all namespaces; nodes/proxy (the kubelet API)',
  nodes: 'nodes and their subresources, except nodes/proxy',
  rbac: 'anything in rbac.authorization.k8s.io',
  interception: 'admission webhooks and policies (admissionregistration.k8s.io) and aggregated APIs (apiservices): each can see or change every request, kube-system\'s included; and services/status, whose load-balancer ingress IPs kube-proxy captures on every node (CVE-2020-8554)',
  wildcard: '`*` as group, resource, subresource or namespace, or in a non-resource path',
  'non-resource': 'non-resource URLs (/api, /apis, /version, /openapi, /healthz, /metrics, ...)',
  'non-resource-diagnostics': 'non-resource URLs under /logs (the master\'s /var/log) and /debug (pprof, flags)',
} as const;
export type ResourceClass = keyof typeof RESOURCE_CLASSES;

/**
 * The least role allowed each (resource class, verb class). Roles are cumulative: a
 * PowerUser may do what a ReadOnly may, an Administrator everything.
 */
export const AUTHORIZATION_MATRIX: Readonly<Record<ResourceClass, Readonly<Record<VerbClass, RoleName>>>> = {
  // Asking "what may I do" must work for everyone, or `kubectl auth can-i` breaks.
  'own-access-review': { read: 'ReadOnly', write: 'ReadOnly', other: 'Administrator' },
  general: { read: 'ReadOnly', write: 'PowerUser', other: 'Administrator' },
  secrets: { read: 'PowerUser', write: 'PowerUser', other: 'Administrator' },
  connect: { read: 'PowerUser', write: 'PowerUser', other: 'Administrator' },
  'system-namespaces': { read: 'ReadOnly', write: 'Administrator', other: 'Administrator' },
  // A hostPath PersistentVolume, a StorageClass, a RuntimeClass or a CRD acts in every
  // namespace: PowerUser is a namespaced admin (DESIGN), so writing them is Administrator's.
  'cluster-scoped': { read: 'ReadOnly', write: 'Administrator', other: 'Administrator' },
  // kube-system secrets hold control-plane credentials: reading them is as good as writing.
  'control-plane-access': { read: 'Administrator', write: 'Administrator', other: 'Administrator' },
  nodes: { read: 'ReadOnly', write: 'Administrator', other: 'Administrator' },
  rbac: { read: 'ReadOnly', write: 'Administrator', other: 'Administrator' },
  // A mutating webhook or a redirected API group is a way into every namespace.
  interception: { read: 'ReadOnly', write: 'Administrator', other: 'Administrator' },
  wildcard: { read: 'Administrator', write: 'Administrator', other: 'Administrator' },
  // No API writes to a non-resource URL; nothing but an Administrator needs them.
  'non-resource': { read: 'ReadOnly', write: 'Administrator', other: 'Administrator' },
  'non-resource-diagnostics': { read: 'Administrator', write: 'Administrator', other: 'Administrator' },
};

const READ_VERBS = new Set(['get', 'list', 'watch']);
const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
const NON_RESOURCE_READ_VERBS = new Set(['get', 'head', 'options']);
const NON_RESOURCE_WRITE_VERBS = new Set(['post', 'put', 'patch', 'delete']);
const CONNECT_SUBRESOURCES = new Set(['exec', 'attach', 'portforward', 'proxy']);
const KUBE_SYSTEM = 'kube-system';
/** Namespaces the control plane owns: kube-public's cluster-info, kube-node-lease's node heartbeats. */
const SYSTEM_NAMESPACES = new Set([KUBE_SYSTEM, 'kube-public', 'kube-node-lease']);
/** The namespace controller's subresources; a namespace's labels change through them too. */
const NAMESPACE_CONTROLLER_SUBRESOURCES = new Set(['status', 'finalize']);
/** Every authenticated user carries this group; it says nothing about being a system component. */
const EVERYONE_GROUP = 'system:authenticated';

export function classifyVerb(request: AccessRequest): VerbClass {
  if (request.resource) {
    const verb = request.resource.verb;
    return READ_VERBS.has(verb) ? 'read' : WRITE_VERBS.has(verb) ? 'write' : 'other';
  }
  const verb = request.nonResource?.verb ?? '';
  return NON_RESOURCE_READ_VERBS.has(verb) ? 'read' : NON_RESOURCE_WRITE_VERBS.has(verb) ? 'write' : 'other';
}

export function classifyResource(request: AccessRequest): ResourceClass {
  if (!request.resource) {
    const path = request.nonResource?.path ?? '';
    if (path.includes('*')) return 'wildcard';
    return /^\/(logs|debug)(\/|$)/.test(path) ? 'non-resource-diagnostics' : 'non-resource';
  }
  const { group, resource, subresource, namespace, name } = request.resource;
  if ([group, resource, subresource, namespace].includes('*')) return 'wildcard';
  if ((group === 'authorization.k8s.io' && (resource === 'selfsubjectaccessreviews' || resource === 'selfsubjectrulesreviews')) ||
      (group === 'authentication.k8s.io' && resource === 'selfsubjectreviews')) return 'own-access-review';
  if (group === 'rbac.authorization.k8s.io') return 'rbac';
  const core = group === '';
  if (group === 'admissionregistration.k8s.io' || (group === 'apiregistration.k8s.io' && resource === 'apiservices') ||
      (core && resource === 'services' && subresource === 'status')) return 'interception';
  const isSecret = core && resource === 'secrets';
  const isConnect = core && (resource === 'pods' || resource === 'services') && CONNECT_SUBRESOURCES.has(subresource);
  if (core && resource === 'nodes') return subresource === 'proxy' ? 'control-plane-access' : 'nodes';
  // An empty namespace on a namespaced resource means "all namespaces", kube-system included.
  if ((isSecret || isConnect) && (namespace === KUBE_SYSTEM || namespace === '')) return 'control-plane-access';
  const isNamespace = core && resource === 'namespaces';
  // A request about a Namespace names it as its namespace too (except create).
  if (SYSTEM_NAMESPACES.has(namespace) || (isNamespace && SYSTEM_NAMESPACES.has(name))) return 'system-namespaces';
  if (namespace === '' || (isNamespace && NAMESPACE_CONTROLLER_SUBRESOURCES.has(subresource))) return 'cluster-scoped';
  if (isSecret) return 'secrets';
  if (isConnect) return 'connect';
  return 'general';
}

/** System components (kubelets, service accounts, controllers) are RBAC's and the Node authorizer's to judge. */
export function isSystemIdentity(request: AccessRequest): boolean {
  return request.user.startsWith('system:') || request.groups.some((g) => g.startsWith('system:') && g !== EVERYONE_GROUP);
}

/** The strongest role the user's groups grant, if any. */
export function roleOf(groups: readonly string[], roles: AuthorizationPolicy['roles']): RoleName | undefined {
  for (let i = ROLE_NAMES.length - 1; i >= 0; i--) {
    const role = ROLE_NAMES[i];
    if (roles[role].some((g) => groups.includes(g))) return role;
  }
  return undefined;
}

/** The whole authorization decision: pure, table-driven (AUTHORIZATION_MATRIX). */
export function authorize(request: AccessRequest, policy: AuthorizationPolicy): AuthorizationDecision {
  if (isSystemIdentity(request)) return { allowed: false, denied: false, reason: 'system identity: no opinion, RBAC and the Node authorizer decide' };
  if (!request.groups.includes(policy.clusterGroup)) return { allowed: false, denied: true, reason: `user "${request.user}" is not in the cluster group ${policy.clusterGroup}` };
  const role = roleOf(request.groups, policy.roles);
  if (!role) return { allowed: false, denied: true, reason: `user "${request.user}" has none of the groups that grant a role (${ROLE_NAMES.join(', ')})` };
  const resourceClass = classifyResource(request);
  const verbClass = classifyVerb(request);
  const leastRole = AUTHORIZATION_MATRIX[resourceClass][verbClass];
  if (ROLE_NAMES.indexOf(role) >= ROLE_NAMES.indexOf(leastRole)) {
    return { allowed: true, denied: false, reason: `${role} may ${verbClass} ${resourceClass}` };
  }
  return { allowed: false, denied: true, reason: `${role} may not ${verbClass} ${resourceClass}: needs ${leastRole}` };
}
