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
  other: "the API server's other verbs: impersonate (and impersonate:<mode>, impersonate-on:<mode>:<verb>), bind, escalate, approve, sign, attest, use, proxy, * (non-resource: connect, trace, *); any other verb makes the request malformed",
} as const;
export type VerbClass = keyof typeof VERB_CLASSES;

export const RESOURCE_CLASSES = {
  'own-access-review': 'selfsubjectaccessreviews, selfsubjectrulesreviews, selfsubjectreviews (`kubectl auth can-i`, `kubectl auth whoami`)',
  general: 'any resource not in a row below',
  secrets: 'secrets outside kube-system, kube-public and kube-node-lease',
  connect: 'exec, attach, portforward, proxy of pods and services outside kube-system, kube-public and kube-node-lease (a `get` on pods/exec runs commands over WebSocket)',
  'system-namespaces': 'resources in kube-system, kube-public and kube-node-lease (node heartbeats), and those Namespaces themselves (except the rows below)',
  'system-logs-and-secrets': 'pods/log in kube-system, kube-public, kube-node-lease or across all namespaces (control-plane logs), secrets in kube-public and kube-node-lease: a PowerUser reads the whole cluster, a ReadOnly user not these',
  'cluster-scoped': 'requests outside any namespace: cluster-scoped objects (PersistentVolumes, StorageClasses, CSIDrivers, RuntimeClasses, PriorityClasses, FlowSchemas, PriorityLevelConfigurations, CRDs, CertificateSigningRequests, their approval and signing for any signer, new Namespaces, TokenReviews, ...) and namespaced resources across all namespaces; and namespaces/status, namespaces/finalize (controllers\' subresources that change labels too)',
  'control-plane-access': 'secrets in kube-system or across all namespaces; exec, attach, portforward, proxy of pods and services in kube-system, kube-public, kube-node-lease or across all namespaces; nodes/proxy (the kubelet API: exec into any container) and nodes/log (the node\'s /var/log)',
  nodes: 'nodes and their subresources, except nodes/proxy and nodes/log',
  rbac: 'anything in rbac.authorization.k8s.io',
  interception: 'admission webhooks and policies (admissionregistration.k8s.io) and aggregated APIs (apiservices): each can see or change every request, kube-system\'s included; and services/status, whose load-balancer ingress IPs kube-proxy captures on every node (CVE-2020-8554)',
  wildcard: '`*` as group, resource, subresource or namespace, or in a non-resource path',
  'non-resource': 'non-resource URLs (/api, /apis, /version, /openapi, /healthz, /metrics, ...)',
  'non-resource-diagnostics': 'non-resource URLs under /logs (the master\'s /var/log) and /debug (pprof, flags)',
  malformed: 'a request the API server never sends, denied to every role: a verb it does not use or not in lower case (`GET`, `frobnicate`); a group or namespace that is not a lower-case DNS name, a resource or subresource that is not a lower-case name (letters, digits, `-`, `.`, `_`, `:` as metric names in the metrics APIs have them: `Pods`, `Apps`, a subresource in the resource field as `pods/exec`, an empty resource); a non-resource path not starting with `/` or with `//`, `.` or `..` segments or control characters',
} as const;
export type ResourceClass = keyof typeof RESOURCE_CLASSES;

/** The matrix's entry for a cell no role is allowed. */
export const NO_ROLE = 'nobody';
export type LeastRole = RoleName | typeof NO_ROLE;

/**
 * The least role allowed each (resource class, verb class). Roles are cumulative: a
 * PowerUser may do what a ReadOnly may, an Administrator everything but `nobody` cells.
 */
export const AUTHORIZATION_MATRIX: Readonly<Record<ResourceClass, Readonly<Record<VerbClass, LeastRole>>>> = {
  // Asking "what may I do" must work for everyone, or `kubectl auth can-i` breaks.
  'own-access-review': { read: 'ReadOnly', write: 'ReadOnly', other: 'Administrator' },
  general: { read: 'ReadOnly', write: 'PowerUser', other: 'Administrator' },
  secrets: { read: 'PowerUser', write: 'PowerUser', other: 'Administrator' },
  connect: { read: 'PowerUser', write: 'PowerUser', other: 'Administrator' },
  'system-namespaces': { read: 'ReadOnly', write: 'Administrator', other: 'Administrator' },
  // Logs print credentials and tokens; a PowerUser is a cluster-wide reader, a ReadOnly user not of these.
  'system-logs-and-secrets': { read: 'PowerUser', write: 'Administrator', other: 'Administrator' },
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
  // Only a hand-made SubjectAccessReview (or a request that would 404) looks like this:
  // classifying it as anything else could let a lookalike through as a read.
  malformed: { read: NO_ROLE, write: NO_ROLE, other: NO_ROLE },
};

/** Whether `role` is at least `least` (roles are cumulative; nobody reaches NO_ROLE). */
export function roleSuffices(role: RoleName, least: LeastRole): boolean {
  return least !== NO_ROLE && ROLE_NAMES.indexOf(role) >= ROLE_NAMES.indexOf(least);
}

// The verbs the API server derives from a request (kubernetes/apiserver v0.35.1
// pkg/endpoints/request/requestinfo.go NewRequestInfo: get, list, watch, create, update,
// patch, delete, deletecollection, and proxy or watch from a path prefix; always lower case).
const READ_VERBS = new Set(['get', 'list', 'watch']);
const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
/**
 * The verbs it checks besides: impersonate (pkg/endpoints/filters/impersonation/impersonation.go),
 * bind and escalate (RBAC), approve, sign and attest on certificates.k8s.io signers, use
 * (policy objects), proxy (requestinfo.go specialVerbs), and `*` from a SelfSubjectAccessReview
 * (`kubectl auth can-i '*' '*'`).
 */
const OTHER_VERBS = new Set(['impersonate', 'bind', 'escalate', 'approve', 'sign', 'attest', 'use', 'proxy', '*']);
/**
 * Constrained impersonation's verbs (alpha in 1.35, gate ConstrainedImpersonation):
 * impersonate:<mode> and impersonate-on:<mode>:<verb> (kubernetes/apiserver v0.35.1
 * pkg/endpoints/filters/impersonation/mode.go, constrained_impersonation.go).
 */
const CONSTRAINED_IMPERSONATION_VERB = /^impersonate(-on)?:(user-info|serviceaccount|arbitrary-node|associated-node)(:[a-z]+)?$/;
/** A non-resource verb is the HTTP method in lower case (requestinfo.go: strings.ToLower(req.Method)). */
const NON_RESOURCE_READ_VERBS = new Set(['get', 'head', 'options']);
const NON_RESOURCE_WRITE_VERBS = new Set(['post', 'put', 'patch', 'delete']);
const NON_RESOURCE_OTHER_VERBS = new Set(['connect', 'trace', '*']);
/**
 * API groups and namespaces are DNS names, resources and subresources lower-case labels
 * (CRD plurals: DNS-1035 labels); requestinfo.go copies them from the URL path unchanged
 * (split on `/`, so never containing one), so `Pods` is a path no API serves.
 */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/**
 * What an aggregated API may name a resource or subresource: the custom and external metrics
 * APIs serve metric names there (`pods/http_requests`, `queue_messages_ready`, `job:rate5m`:
 * kubernetes-sigs/custom-metrics-apiserver). Still lower case and never a `/`: `Pods` or
 * `pods/exec` in one field is a shape no request has.
 */
const RESOURCE_NAME = /^[a-z0-9]([-a-z0-9._:]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
const CONNECT_SUBRESOURCES = new Set(['exec', 'attach', 'portforward', 'proxy']);
/** Kubelet API paths, as nodes subresources (kubernetes v1.35 pkg/kubelet/server/auth.go): /logs is log, anything unlisted proxy. */
const KUBELET_CONTROL_SUBRESOURCES = new Set(['proxy', 'log']);
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

const wildcardOr = (pattern: RegExp, value: string) => value === '*' || pattern.test(value);

/** Why the API server would never send this request, or undefined if it could. */
export function malformation(request: AccessRequest): string | undefined {
  if (request.resource) {
    const { verb, group, resource, subresource, namespace } = request.resource;
    if (!READ_VERBS.has(verb) && !WRITE_VERBS.has(verb) && !OTHER_VERBS.has(verb) && !CONSTRAINED_IMPERSONATION_VERB.test(verb)) return `unknown verb ${JSON.stringify(verb)}`;
    if (group !== '' && !wildcardOr(DNS_SUBDOMAIN, group)) return `group ${JSON.stringify(group)} is not a lower-case DNS name`;
    if (!wildcardOr(RESOURCE_NAME, resource)) return `resource ${JSON.stringify(resource)} is not a lower-case name (a subresource goes in its own field)`;
    // Impersonating a user's extra field names the key as the subresource (impersonation.go): any string.
    const isUserExtra = group === 'authentication.k8s.io' && resource === 'userextras';
    if (subresource !== '' && !isUserExtra && !wildcardOr(RESOURCE_NAME, subresource)) return `subresource ${JSON.stringify(subresource)} is not a lower-case name`;
    if (namespace !== '' && !wildcardOr(DNS_LABEL, namespace)) return `namespace ${JSON.stringify(namespace)} is not a lower-case DNS label`;
    return undefined;
  }
  const { verb, path } = request.nonResource ?? { verb: '', path: '' };
  if (!NON_RESOURCE_READ_VERBS.has(verb) && !NON_RESOURCE_WRITE_VERBS.has(verb) && !NON_RESOURCE_OTHER_VERBS.has(verb)) return `unknown non-resource verb ${JSON.stringify(verb)}`;
  if (!path.startsWith('/')) return `path ${JSON.stringify(path)} does not start with /`;
  if (CONTROL_CHARACTER.test(path)) return `path ${JSON.stringify(path)} has control characters`;
  // Go's HTTP server hands the authorizers the path uncleaned; its ServeMux would clean it and serve another.
  if (path.slice(1).split('/').some((segment, i, all) => segment === '.' || segment === '..' || (segment === '' && i < all.length - 1))) {
    return `path ${JSON.stringify(path)} has an empty, . or .. segment`;
  }
  return undefined;
}

export function classifyResource(request: AccessRequest): ResourceClass {
  if (malformation(request) !== undefined) return 'malformed';
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
  const isPodLog = core && resource === 'pods' && subresource === 'log';
  if (core && resource === 'nodes') return KUBELET_CONTROL_SUBRESOURCES.has(subresource) ? 'control-plane-access' : 'nodes';
  // An empty namespace on a namespaced resource means "all namespaces", kube-system included.
  const allNamespaces = namespace === '';
  if ((isSecret && (namespace === KUBE_SYSTEM || allNamespaces)) || (isConnect && (SYSTEM_NAMESPACES.has(namespace) || allNamespaces))) return 'control-plane-access';
  if ((isSecret && SYSTEM_NAMESPACES.has(namespace)) || (isPodLog && (SYSTEM_NAMESPACES.has(namespace) || allNamespaces))) return 'system-logs-and-secrets';
  const isNamespace = core && resource === 'namespaces';
  // A request about a Namespace names it as its namespace too (except create).
  if (SYSTEM_NAMESPACES.has(namespace) || (isNamespace && SYSTEM_NAMESPACES.has(name))) return 'system-namespaces';
  if (allNamespaces || (isNamespace && NAMESPACE_CONTROLLER_SUBRESOURCES.has(subresource))) return 'cluster-scoped';
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

/**
 * Every grant, made once: the same frozen object for the same role, verb class and resource
 * class, so a caller can key on it (the request handler serializes each answer once).
 */
const GRANTS = Object.fromEntries(ROLE_NAMES.map((role) => [role, Object.fromEntries(
  (Object.keys(VERB_CLASSES) as VerbClass[]).map((verbClass) => [verbClass, Object.fromEntries(
    (Object.keys(RESOURCE_CLASSES) as ResourceClass[]).map((resourceClass) =>
      [resourceClass, Object.freeze({ allowed: true, denied: false, reason: `${role} may ${verbClass} ${resourceClass}` })]),
  )]),
)])) as Record<RoleName, Record<VerbClass, Record<ResourceClass, AuthorizationDecision>>>;

/** The whole authorization decision: pure, table-driven (AUTHORIZATION_MATRIX). */
export function authorize(request: AccessRequest, policy: AuthorizationPolicy): AuthorizationDecision {
  if (isSystemIdentity(request)) return { allowed: false, denied: false, reason: 'system identity: no opinion, RBAC and the Node authorizer decide' };
  if (!request.groups.includes(policy.clusterGroup)) return { allowed: false, denied: true, reason: `user "${request.user}" is not in the cluster group ${policy.clusterGroup}` };
  const role = roleOf(request.groups, policy.roles);
  if (!role) return { allowed: false, denied: true, reason: `user "${request.user}" has none of the groups that grant a role (${ROLE_NAMES.join(', ')})` };
  const resourceClass = classifyResource(request);
  const verbClass = classifyVerb(request);
  const leastRole = AUTHORIZATION_MATRIX[resourceClass][verbClass];
  if (roleSuffices(role, leastRole)) return GRANTS[role][verbClass][resourceClass];
  const why = resourceClass === 'malformed' ? `the API server never sends this: ${malformation(request)}` : `needs ${leastRole}`;
  return { allowed: false, denied: true, reason: `${role} may not ${verbClass} ${resourceClass}: ${why}` };
}
