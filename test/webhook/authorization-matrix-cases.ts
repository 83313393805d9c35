/**
 * The authorization matrix as the tests expect it, written out by hand (not derived
 * from webhook/authorizer.ts), with sample requests for every resource and verb class.
 * R = ReadOnly, P = PowerUser, A = Administrator: the roles allowed in that cell.
 */
export const EXPECTED_MATRIX: Record<string, { read: string; write: string; other: string }> = {
  'own-access-review': { read: 'RPA', write: 'RPA', other: 'A' },
  general: { read: 'RPA', write: 'PA', other: 'A' },
  secrets: { read: 'PA', write: 'PA', other: 'A' },
  connect: { read: 'PA', write: 'PA', other: 'A' },
  'system-namespaces': { read: 'RPA', write: 'A', other: 'A' },
  'system-logs-and-secrets': { read: 'PA', write: 'A', other: 'A' },
  'cluster-scoped': { read: 'RPA', write: 'A', other: 'A' },
  'control-plane-access': { read: 'A', write: 'A', other: 'A' },
  nodes: { read: 'RPA', write: 'A', other: 'A' },
  rbac: { read: 'RPA', write: 'A', other: 'A' },
  interception: { read: 'RPA', write: 'A', other: 'A' },
  wildcard: { read: 'A', write: 'A', other: 'A' },
  'non-resource': { read: 'RPA', write: 'A', other: 'A' },
  'non-resource-diagnostics': { read: 'A', write: 'A', other: 'A' },
  malformed: { read: '', write: '', other: '' },
};

export const ROLE_LETTERS = { ReadOnly: 'R', PowerUser: 'P', Administrator: 'A' } as const;

export const RESOURCE_VERBS = {
  read: ['get', 'list', 'watch'],
  write: ['create', 'update', 'patch', 'delete', 'deletecollection'],
  // proxy: /api/v1/proxy/... (requestinfo.go specialVerbs); impersonate:<mode>, impersonate-on:<mode>:<verb>:
  // constrained impersonation (kubernetes/apiserver v0.35.1 pkg/endpoints/filters/impersonation/mode.go).
  other: ['impersonate', 'bind', 'escalate', 'approve', 'sign', 'attest', 'use', 'proxy', '*', 'impersonate:user-info', 'impersonate-on:serviceaccount:list'],
};
export const NON_RESOURCE_VERBS = {
  read: ['get', 'head', 'options'],
  write: ['post', 'put', 'patch', 'delete'],
  other: ['*', 'connect', 'trace'],
};

/**
 * Verbs the API server never sends: requestinfo.go (kubernetes/apiserver v0.35.1
 * pkg/endpoints/request/requestinfo.go) maps HTTP methods to fixed lower-case verbs for
 * resources and lower-cases the method for non-resource URLs. Any sample with one of these
 * is malformed, denied to every role.
 */
export const MALFORMED_VERBS = {
  resource: ['GET', 'Get', 'LIST', 'Delete', 'frobnicate', 'get ', 'exec', 'post', 'connect', 'Impersonate', 'impersonate:frobnicate', ''],
  nonResource: ['GET', 'Post', 'list', 'create', 'frobnicate', ' get', ''],
};

type Sample = { resourceAttributes: Record<string, string> } | { nonResourceAttributes: { path: string } };
const r = (attributes: Record<string, string>): Sample => ({ resourceAttributes: attributes });
const nr = (path: string): Sample => ({ nonResourceAttributes: { path } });

/** Requests (without the verb) that belong to each resource class. */
export const SAMPLES: Record<string, Sample[]> = {
  'own-access-review': [
    r({ group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectaccessreviews' }),
    r({ group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectrulesreviews', namespace: 'default' }),
    r({ group: 'authentication.k8s.io', version: 'v1', resource: 'selfsubjectreviews' }),
  ],
  general: [
    r({ group: '', version: 'v1', resource: 'pods', namespace: 'team-a', name: 'web-1' }),
    r({ group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default' }),
    // A request about an existing Namespace carries its name as the namespace too: a
    // PowerUser may update or delete team-a; the admission policy guards its pod-security labels.
    r({ group: '', version: 'v1', resource: 'namespaces', namespace: 'team-a', name: 'team-a' }),
    r({ group: '', version: 'v1', resource: 'pods', subresource: 'log', namespace: 'team-a' }),
    r({ group: '', version: 'v1', resource: 'persistentvolumeclaims', namespace: 'team-a', name: 'data' }),
    r({ group: 'authorization.k8s.io', version: 'v1', resource: 'localsubjectaccessreviews', namespace: 'team-a' }),
    r({ group: '', version: 'v1', resource: 'pods', subresource: 'ephemeralcontainers', namespace: 'team-a', name: 'web-1' }),
    // Metric names in the metrics APIs' resource and subresource fields (custom-metrics-apiserver paths).
    r({ group: 'custom.metrics.k8s.io', version: 'v1beta2', resource: 'pods', subresource: 'http_requests', namespace: 'team-a', name: '*' }),
    r({ group: 'external.metrics.k8s.io', version: 'v1beta1', resource: 'queue_messages_ready', namespace: 'team-a' }),
    r({ group: 'custom.metrics.k8s.io', version: 'v1beta2', resource: 'pods', subresource: 'job:rate5m', namespace: 'team-a', name: 'web-1' }),
    // Names are any path segment (RBAC names, signers): never judged by their case.
    r({ group: 'rbac.example.com', version: 'v1', resource: 'widgets', namespace: 'team-a', name: 'Widget:One' }),
  ],
  secrets: [
    r({ group: '', version: 'v1', resource: 'secrets', namespace: 'team-a', name: 'db' }),
  ],
  connect: [
    r({ group: '', version: 'v1', resource: 'pods', subresource: 'exec', namespace: 'team-a', name: 'web-1' }),
    r({ group: '', version: 'v1', resource: 'pods', subresource: 'attach', namespace: 'team-a' }),
    r({ group: '', version: 'v1', resource: 'pods', subresource: 'portforward', namespace: 'team-a' }),
    r({ group: '', version: 'v1', resource: 'services', subresource: 'proxy', namespace: 'team-a' }),
    // `kubectl auth can-i create pods --subresource=exec` names no pod.
    r({ group: '', version: 'v1', resource: 'pods', subresource: 'exec', namespace: 'team-a' }),
  ],
  'system-namespaces': [
    r({ group: '', version: 'v1', resource: 'configmaps', namespace: 'kube-system', name: 'coredns' }),
    r({ group: 'apps', version: 'v1', resource: 'daemonsets', namespace: 'kube-system' }),
    r({ group: '', version: 'v1', resource: 'namespaces', namespace: 'kube-system', name: 'kube-system' }),
    r({ group: '', version: 'v1', resource: 'namespaces', name: 'kube-system' }),
    r({ group: '', version: 'v1', resource: 'namespaces', subresource: 'finalize', namespace: 'kube-system', name: 'kube-system' }),
    r({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease', name: 'ip-10-0-0-1.eu-central-1.compute.internal' }),
    r({ group: '', version: 'v1', resource: 'configmaps', namespace: 'kube-public', name: 'cluster-info' }),
    r({ group: '', version: 'v1', resource: 'pods', subresource: 'ephemeralcontainers', namespace: 'kube-system', name: 'coredns-1' }),
  ],
  // A ReadOnly user reads no logs of the control plane and no secrets; a PowerUser reads the cluster.
  'system-logs-and-secrets': [
    r({ group: '', version: 'v1', resource: 'pods', subresource: 'log', namespace: 'kube-system', name: 'kube-apiserver-ip-10-0-0-1' }),
    r({ group: '', version: 'v1', resource: 'pods', subresource: 'log', namespace: 'kube-public' }),
    r({ group: '', version: 'v1', resource: 'pods', subresource: 'log', namespace: 'kube-node-lease' }),
    r({ group: '', version: 'v1', resource: 'pods', subresource: 'log' }),
    r({ group: '', version: 'v1', resource: 'secrets', namespace: 'kube-public', name: 'any' }),
    r({ group: '', version: 'v1', resource: 'secrets', namespace: 'kube-node-lease' }),
  ],
  // Everything a PowerUser could use to act outside their namespaces: a hostPath
  // PersistentVolume bound to their claim, a RuntimeClass or StorageClass every pod may
  // name, a CRD, a CSR approved for a system identity, a namespace of their own making.
  'cluster-scoped': [
    r({ group: '', version: 'v1', resource: 'persistentvolumes', name: 'host-root' }),
    r({ group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses', name: 'local' }),
    r({ group: 'storage.k8s.io', version: 'v1', resource: 'csidrivers', name: 'ebs.csi.aws.com' }),
    r({ group: 'node.k8s.io', version: 'v1', resource: 'runtimeclasses', name: 'runc' }),
    r({ group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses', name: 'system-critical' }),
    r({ group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions' }),
    r({ group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests', name: 'csr-1' }),
    r({ group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests', subresource: 'approval', name: 'csr-1' }),
    r({ group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests', subresource: 'status', name: 'csr-1' }),
    // Approving (verb approve) and signing (sign) are asked of the signer by name, then of its
    // domain with /* (kubernetes v1.35 pkg/certificates/authorization IsAuthorizedForSignerName).
    r({ group: 'certificates.k8s.io', version: '*', resource: 'signers', name: 'kubernetes.io/kubelet-serving' }),
    r({ group: 'certificates.k8s.io', version: '*', resource: 'signers', name: 'kubernetes.io/kube-apiserver-client-kubelet' }),
    r({ group: 'certificates.k8s.io', version: '*', resource: 'signers', name: 'kubernetes.io/*' }),
    r({ group: 'certificates.k8s.io', version: '*', resource: 'signers', name: 'example.com/any-signer' }),
    r({ group: 'flowcontrol.apiserver.k8s.io', version: 'v1', resource: 'flowschemas', name: 'exempt-me' }),
    r({ group: 'flowcontrol.apiserver.k8s.io', version: 'v1', resource: 'prioritylevelconfigurations', name: 'exempt' }),
    // Impersonating an extra field names its key as the subresource (impersonation.go): any string.
    r({ group: 'authentication.k8s.io', version: 'v1', resource: 'userextras', subresource: 'authentication.kubernetes.io/credential-id', name: 'X' }),
    r({ group: '', version: 'v1', resource: 'users', name: 'Jane.Doe@example.com' }),
    r({ group: 'authentication.k8s.io', version: 'v1', resource: 'tokenreviews' }),
    r({ group: '', version: 'v1', resource: 'namespaces' }),
    r({ group: '', version: 'v1', resource: 'namespaces', subresource: 'status', namespace: 'team-a', name: 'team-a' }),
    r({ group: '', version: 'v1', resource: 'namespaces', subresource: 'finalize', namespace: 'team-a', name: 'team-a' }),
    r({ group: '', version: 'v1', resource: 'pods' }),
    r({ group: 'apps', version: 'v1', resource: 'deployments' }),
  ],
  'control-plane-access': [
    r({ group: '', version: 'v1', resource: 'secrets', namespace: 'kube-system', name: 'cluster-ca' }),
    r({ group: '', version: 'v1', resource: 'secrets', namespace: '' }),
    r({ group: '', version: 'v1', resource: 'pods', subresource: 'exec', namespace: 'kube-system' }),
    r({ group: '', version: 'v1', resource: 'pods', subresource: 'attach', namespace: 'kube-public' }),
    r({ group: '', version: 'v1', resource: 'pods', subresource: 'portforward', namespace: 'kube-node-lease' }),
    r({ group: '', version: 'v1', resource: 'pods', subresource: 'exec' }),
    r({ group: '', version: 'v1', resource: 'services', subresource: 'proxy', namespace: 'kube-system', name: 'metrics-server' }),
    // The kubelet API (kubernetes v1.35 pkg/kubelet/server/auth.go): /exec, /run, /attach,
    // /portForward of any container are nodes/proxy; /logs (the node's /var/log) nodes/log.
    r({ group: '', version: 'v1', resource: 'nodes', subresource: 'proxy', name: 'ip-10-0-0-1.eu-central-1.compute.internal' }),
    r({ group: '', version: 'v1', resource: 'nodes', subresource: 'log', name: 'ip-10-0-0-1.eu-central-1.compute.internal' }),
  ],
  nodes: [
    r({ group: '', version: 'v1', resource: 'nodes', name: 'ip-10-0-0-1.eu-central-1.compute.internal' }),
    r({ group: '', version: 'v1', resource: 'nodes', subresource: 'status' }),
    r({ group: '', version: 'v1', resource: 'nodes', subresource: 'stats', name: 'ip-10-0-0-1.eu-central-1.compute.internal' }),
  ],
  interception: [
    r({ group: 'admissionregistration.k8s.io', version: 'v1', resource: 'mutatingwebhookconfigurations', name: 'inject' }),
    r({ group: 'admissionregistration.k8s.io', version: 'v1', resource: 'validatingadmissionpolicies' }),
    r({ group: 'apiregistration.k8s.io', version: 'v1', resource: 'apiservices', name: 'v1beta1.metrics.k8s.io' }),
    // status.loadBalancer.ingress: kube-proxy sends traffic for those IPs, from every pod on
    // every node, to this Service (CVE-2020-8554, the half DenyServiceExternalIPs leaves open).
    r({ group: '', version: 'v1', resource: 'services', subresource: 'status', namespace: 'team-a', name: 'web' }),
  ],
  rbac: [
    r({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings' }),
    r({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'roles', namespace: 'team-a' }),
  ],
  wildcard: [
    r({ group: '*', resource: 'pods', namespace: 'team-a' }),
    r({ group: '', resource: '*', namespace: 'team-a' }),
    r({ group: '', resource: 'pods', subresource: '*', namespace: 'team-a' }),
    r({ group: '', resource: 'pods', namespace: '*' }),
    nr('/apis/*'),
  ],
  'non-resource': [nr('/version'), nr('/api'), nr('/apis/apps/v1'), nr('/openapi/v3'), nr('/healthz'), nr('/logsearch'), nr('/'), nr('/healthz/'), nr('/.well-known/openid-configuration')],
  'non-resource-diagnostics': [nr('/logs'), nr('/logs/kube-apiserver.log'), nr('/debug/pprof/profile')],
  // Shapes requestinfo.go never produces (it splits the path on / and copies group, resource,
  // subresource and namespace from it; a hand-made review may hold anything): denied to every
  // role, never taken for the general read they resemble.
  malformed: [
    r({ group: '', version: 'v1', resource: 'pods/exec', namespace: 'team-a', name: 'web-1' }),
    r({ group: '', version: 'v1', resource: 'nodes/proxy', name: 'ip-10-0-0-1.eu-central-1.compute.internal' }),
    r({ group: '', version: 'v1', resource: 'secrets/db', namespace: 'team-a' }),
    r({ group: '', version: 'v1', resource: 'Pods', namespace: 'team-a' }),
    r({ group: '', version: 'v1', resource: 'SECRETS', namespace: 'team-a' }),
    r({ group: '', version: 'v1', resource: 'Nodes', subresource: 'proxy' }),
    r({ group: 'Apps', version: 'v1', resource: 'deployments', namespace: 'team-a' }),
    r({ group: 'RBAC.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings' }),
    r({ group: '', version: 'v1', resource: 'pods', subresource: 'Exec', namespace: 'team-a' }),
    r({ group: '', version: 'v1', resource: 'nodes', subresource: 'Log', name: 'ip-10-0-0-1.eu-central-1.compute.internal' }),
    r({ group: '', version: 'v1', resource: 'pods', subresource: 'exec/x', namespace: 'team-a' }),
    r({ group: '', version: 'v1', resource: 'secrets', namespace: 'Kube-System' }),
    r({ group: '', version: 'v1', resource: 'secrets', namespace: 'kube-system ' }),
    r({ group: '', version: 'v1', resource: 'pods', namespace: 'team-a/pods' }),
    r({ group: 'apps ', version: 'v1', resource: 'deployments', namespace: 'team-a' }),
    r({ group: '', version: 'v1', resource: ' pods', namespace: 'team-a' }),
    nr('//logs'),
    nr('/version/../logs'),
    nr('/./debug/pprof/profile'),
    nr('/logs/..'),
    nr('/api//v1'),
    nr('logs'),
    nr('/healthz\n/logs'),
  ],
};
