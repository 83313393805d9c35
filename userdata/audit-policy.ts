/**
 * The API server's audit log: what it records (the policy) and where (a file on the master
 * that the API server rotates itself).
 *
 * Upstream (kubernetes/apiserver v0.35.1): pkg/apis/audit/v1/types.go (Policy, PolicyRule),
 * pkg/audit/policy/checker.go (EvaluatePolicyRule: the FIRST rule that matches decides; no
 * match means no event), pkg/audit/policy/reader.go (apiVersion audit.k8s.io/v1 only),
 * pkg/server/options/audit.go (AuditLogOptions: the flags below, a 0600 log file,
 * rotation by size through lumberjack).
 */

/** On the master's root volume; the API server's static pod mounts it writable. */
export const AUDIT_LOG_DIR = '/var/log/kubernetes/audit';
export const AUDIT_LOG_PATH = `${AUDIT_LOG_DIR}/audit.log`;

/**
 * Rotation by the API server: a new file at 100 MB, at most 10 old files (gzipped) and none
 * older than 30 days. Worst case, if gzip saved nothing: 11 x 100 MB = 1.1 GB, a twentieth of
 * the masters' 20 GiB root volume (typically JSON audit events compress about 10:1, so
 * around 200 MB). At Metadata level an event is about 1 KB, so 1.1 GB holds about a million
 * requests.
 */
export const AUDIT_LOG_MAX_SIZE_MB = 100;
export const AUDIT_LOG_MAX_BACKUPS = 10;
export const AUDIT_LOG_MAX_AGE_DAYS = 30;

/** Write verbs: reads of the objects below need no body (the metadata names what was read). */
const WRITE_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection'];

/**
 * Rules in order; the first that matches a request decides its level.
 *
 * 1. Health probes (load balancer, kubelet, our health check): no event.
 * 2. Objects whose bodies carry credentials: metadata only, whoever asks. Secrets; ConfigMaps
 *    too, because applications keep passwords and kubeconfigs in them as often as in
 *    Secrets; TokenReviews (the request body is a bearer token) and TokenRequests
 *    (serviceaccounts/token: the response body is one). This rule comes before any rule that
 *    logs bodies, so no later rule can catch these requests.
 * 3. Writes to the objects that say who may do what: RBAC (roles and bindings), admission
 *    policies and webhooks, and namespaces (their pod-security labels are the Pod Security
 *    boundary). Request and response bodies, so a grant shows exactly what changed.
 * 4. Everything else: metadata (user, groups, verb, resource, namespace, name, source IP,
 *    user agent, response code, authorization and admission annotations).
 */
export const AUDIT_POLICY = {
  apiVersion: 'audit.k8s.io/v1',
  kind: 'Policy',
  // One event per request, when it completes (or its response starts, for watches).
  omitStages: ['RequestReceived'],
  // managedFields repeat the object's field ownership: noise in RBAC bodies.
  omitManagedFields: true,
  rules: [
    { level: 'None', nonResourceURLs: ['/livez*', '/readyz*', '/healthz*'] },
    {
      level: 'Metadata',
      resources: [
        { group: '', resources: ['secrets', 'configmaps', 'serviceaccounts/token'] },
        { group: 'authentication.k8s.io', resources: ['tokenreviews'] },
      ],
    },
    {
      level: 'RequestResponse',
      verbs: WRITE_VERBS,
      resources: [{ group: 'rbac.authorization.k8s.io' }, { group: 'admissionregistration.k8s.io' }, { group: '', resources: ['namespaces'] }],
    },
    { level: 'Metadata' },
  ],
};
