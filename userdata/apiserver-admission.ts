/**
 * The API server's admission: which plugins run beyond the defaults, and the Pod Security
 * admission configuration they read from `--admission-control-config-file`.
 *
 * Upstream (checked at the pinned release): kubernetes/apiserver v0.35.1
 * pkg/apis/apiserver/v1/types.go (AdmissionConfiguration, AdmissionPluginConfiguration),
 * pkg/admission/config.go (ReadAdmissionConfiguration decodes strictly: an unknown field is
 * an error); kubernetes/pod-security-admission v0.35.1 admission/api/v1/types.go,
 * defaults.go (every level left out defaults to `privileged`), validation/validation.go.
 */

/** Pod Security admission's plugin name (kubernetes/kubernetes plugin/pkg/admission/security/podsecurity: PluginName). */
export const POD_SECURITY_PLUGIN = 'PodSecurity';

/**
 * Admission plugins we enable on top of the API server's default-on set (which already has
 * PodSecurity, ServiceAccount, NamespaceLifecycle, ...; kubernetes/kubernetes
 * pkg/kubeapiserver/options/plugins.go DefaultOffAdmissionPlugins). Both are off by default.
 * - NodeRestriction: a kubelet with a `system:node:<name>` identity changes only its own Node
 *   and the pods bound to it.
 * - DenyServiceExternalIPs (CVE-2020-8554): without it, anyone who may create a Service in
 *   some namespace (a PowerUser) sets `spec.externalIPs` to another tenant's or an AWS
 *   endpoint's address, and kube-proxy on every node redirects that traffic to their pods.
 *   It refuses new external IPs; nothing of ours uses them (LoadBalancer Services do not).
 */
export const ENABLED_ADMISSION_PLUGINS = ['NodeRestriction', 'DenyServiceExternalIPs'] as const;

/** The namespaces Pod Security admission does not check: only ours, holding host-access components. */
export const POD_SECURITY_EXEMPT_NAMESPACES = ['kube-system'] as const;

/**
 * Pod Security Standards for every namespace without its own `pod-security.kubernetes.io/*`
 * labels (labels override these defaults per mode; only Administrators may set them).
 *
 * enforce `baseline`: no privileged container, no hostPath, hostNetwork/PID/IPC, host ports,
 * added capabilities beyond the default set: what a PowerUser would need to take a node.
 * warn and audit `restricted`: users see, and the audit log records (annotation
 * `pod-security.kubernetes.io/audit-violations`), what the stricter level would refuse.
 *
 * Version `latest`, not pinned: `latest` is the policy of the API server's own release, which
 * is pinned in versions.ts and changes only with a deliberate upgrade. Checks carry the
 * release they start at (pod-security-admission v0.35.1 policy/check_*.go, MinimumVersion:
 * e.g. baseline's host probe/lifecycle check starts at v1.34, its procMount check changed at
 * v1.35), so enforce pinned to v1.35 would, after an upgrade, never apply a baseline check a
 * newer release adds for a new pod field; this is the boundary between a PowerUser and the
 * nodes. Running pods are never evicted by a policy change; after an upgrade, new pods that a
 * newer check rejects are refused (the release notes list Pod Security changes).
 */
export const POD_SECURITY_CONFIGURATION = {
  apiVersion: 'pod-security.admission.config.k8s.io/v1',
  kind: 'PodSecurityConfiguration',
  defaults: {
    enforce: 'baseline',
    'enforce-version': 'latest',
    audit: 'restricted',
    'audit-version': 'latest',
    warn: 'restricted',
    'warn-version': 'latest',
  },
  // No exempt users (any of them could create privileged pods anywhere) and no exempt
  // runtime classes (a PowerUser could name one).
  exemptions: { usernames: [], runtimeClasses: [], namespaces: [...POD_SECURITY_EXEMPT_NAMESPACES] },
};

/** The file of `--admission-control-config-file`: per-plugin configuration, embedded. */
export const ADMISSION_CONFIGURATION = {
  apiVersion: 'apiserver.config.k8s.io/v1',
  kind: 'AdmissionConfiguration',
  plugins: [{ name: POD_SECURITY_PLUGIN, configuration: POD_SECURITY_CONFIGURATION }],
};
