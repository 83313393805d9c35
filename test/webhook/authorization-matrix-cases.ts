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
  'cluster-scoped': { read: 'RPA', write: 'A', other: 'A' },
  'control-plane-access': { read: 'A', write: 'A', other: 'A' },
  nodes: { read: 'RPA', write: 'A', other: 'A' },
  rbac: { read: 'RPA', write: 'A', other: 'A' },
  interception: { read: 'RPA', write: 'A', other: 'A' },
  wildcard: { read: 'A', write: 'A', other: 'A' },
  'non-resource': { read: 'RPA', write: 'A', other: 'A' },
  'non-resource-diagnostics': { read: 'A', write: 'A', other: 'A' },
};

export const ROLE_LETTERS = { ReadOnly: 'R', PowerUser: 'P', Administrator: 'A' } as const;

export const RESOURCE_VERBS = {
  read: ['get', 'list', 'watch'],
  write: ['create', 'update', 'patch', 'delete', 'deletecollection'],
  other: ['impersonate', 'bind', 'escalate', 'approve', 'sign', 'use', '*', 'frobnicate'],
};
export const NON_RESOURCE_VERBS = {
  read: ['get', 'head', 'options'],
  write: ['post', 'put', 'patch', 'delete'],
  other: ['*', 'connect'],
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
  ],
  secrets: [
    r({ group: '', version: 'v1', resource: 'secrets', namespace: 'team-a', name: 'db' }),
  ],
  connect: [
    r({ group: '', version: 'v1', resource: 'pods', subresource: 'exec', namespace: 'team-a', name: 'web-1' }),
    r({ group: '', version: 'v1', resource: 'pods', subresource: 'attach', namespace: 'team-a' }),
    r({ group: '', version: 'v1', resource: 'pods', subresource: 'portforward', namespace: 'team-a' }),
    r({ group: '', version: 'v1', resource: 'services', subresource: 'proxy', namespace: 'team-a' }),
  ],
  'system-namespaces': [
    r({ group: '', version: 'v1', resource: 'configmaps', namespace: 'kube-system', name: 'coredns' }),
    r({ group: 'apps', version: 'v1', resource: 'daemonsets', namespace: 'kube-system' }),
    r({ group: '', version: 'v1', resource: 'namespaces', namespace: 'kube-system', name: 'kube-system' }),
    r({ group: '', version: 'v1', resource: 'namespaces', name: 'kube-system' }),
    r({ group: '', version: 'v1', resource: 'namespaces', subresource: 'finalize', namespace: 'kube-system', name: 'kube-system' }),
    r({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease', name: 'ip-10-0-0-1.eu-central-1.compute.internal' }),
    r({ group: '', version: 'v1', resource: 'configmaps', namespace: 'kube-public', name: 'cluster-info' }),
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
    r({ group: '', version: 'v1', resource: 'nodes', subresource: 'proxy', name: 'ip-10-0-0-1.eu-central-1.compute.internal' }),
  ],
  nodes: [
    r({ group: '', version: 'v1', resource: 'nodes', name: 'ip-10-0-0-1.eu-central-1.compute.internal' }),
    r({ group: '', version: 'v1', resource: 'nodes', subresource: 'status' }),
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
  'non-resource': [nr('/version'), nr('/api'), nr('/apis/apps/v1'), nr('/openapi/v3'), nr('/healthz'), nr('/logsearch')],
  'non-resource-diagnostics': [nr('/logs'), nr('/logs/kube-apiserver.log'), nr('/debug/pprof/profile')],
};
