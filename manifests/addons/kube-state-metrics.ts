/**
 * kube-state-metrics: Prometheus metrics about the state of the cluster's objects
 * (deployments, pods, nodes...), as the 2016 system ran it.
 *
 * Source: kubernetes/kube-state-metrics v2.19.1 (tag commit
 * 45e1513e95beaaa2f2df92af9958cd9837bb66ab), examples/standard/*.yaml. README.md
 * "Compatibility matrix": v2.19.x is built with client-go v1.35, the cluster's release
 * (v2.20.0 pairs with v1.36: bump it with the cluster).
 *
 * Differences from upstream, each to read less:
 * - No Secrets. Upstream lists and watches every Secret (for kube_secret_* metadata metrics),
 *   but a list returns their data: the token would read every Secret of the cluster. The
 *   collectors are upstream's defaults without `secrets` (pkg/options/resource.go,
 *   DefaultResources), passed with --resources, and the ClusterRole grants list/watch on
 *   exactly those. ConfigMaps stay: the built-in `view` role reads them too, and they are not
 *   meant to hold secrets.
 * - No tokenreviews/subjectaccessreviews create: they serve --auth-filter only (docs/README.md,
 *   "Protecting /metrics endpoints"), which is off, as upstream's default.
 * - Requests: README.md "Resource recommendation" (250MiB, 0.1 cores); upstream's example
 *   sets none. No CPU limit: the README warns that throttling grows its queues and memory.
 */
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { IPolicyRule } from 'kubernetes-models/rbac.authorization.k8s.io/v1/PolicyRule';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { MANAGED_BY_LABELS } from '../managed-by';
import { Addon, NODE_COMPONENTS } from './addon';
import { LINUX_NODE_SELECTOR } from './placement';

/** The release pinned (kubernetes/kube-state-metrics tag v2.19.1). */
export const KUBE_STATE_METRICS_VERSION = 'v2.19.1';
/** examples/standard/deployment.yaml at v2.19.1. */
export const KUBE_STATE_METRICS_IMAGE = `registry.k8s.io/kube-state-metrics/kube-state-metrics:${KUBE_STATE_METRICS_VERSION}`;
export const KUBE_STATE_METRICS_NAME = 'kube-state-metrics';
export const KUBE_STATE_METRICS_NAMESPACE = 'kube-system';
/** --port and --telemetry-port defaults (pkg/options/options.go at v2.19.1). */
export const METRICS_PORT = 8080;
export const TELEMETRY_PORT = 8081;

/**
 * The collectors it runs, each with its API group: upstream's DefaultResources at v2.19.1
 * without `secrets`. The ClusterRole is built from this list, so a collector and its read
 * permission cannot drift apart.
 */
export const COLLECTED_RESOURCES: Readonly<Record<string, string>> = {
  certificatesigningrequests: 'certificates.k8s.io',
  configmaps: '',
  cronjobs: 'batch',
  daemonsets: 'apps',
  deployments: 'apps',
  endpointslices: 'discovery.k8s.io',
  horizontalpodautoscalers: 'autoscaling',
  ingresses: 'networking.k8s.io',
  jobs: 'batch',
  leases: 'coordination.k8s.io',
  limitranges: '',
  mutatingwebhookconfigurations: 'admissionregistration.k8s.io',
  namespaces: '',
  networkpolicies: 'networking.k8s.io',
  nodes: '',
  persistentvolumes: '',
  persistentvolumeclaims: '',
  poddisruptionbudgets: 'policy',
  pods: '',
  replicasets: 'apps',
  replicationcontrollers: '',
  resourcequotas: '',
  services: '',
  statefulsets: 'apps',
  storageclasses: 'storage.k8s.io',
  validatingwebhookconfigurations: 'admissionregistration.k8s.io',
  volumeattachments: 'storage.k8s.io',
};

/** One list/watch rule per API group, over the collected resources of that group. */
export function kubeStateMetricsRules(): IPolicyRule[] {
  const byGroup = new Map<string, string[]>();
  for (const [resource, group] of Object.entries(COLLECTED_RESOURCES)) byGroup.set(group, [...(byGroup.get(group) ?? []), resource]);
  return [...byGroup.entries()].map(([group, resources]) => ({ apiGroups: [group], resources, verbs: ['list', 'watch'] }));
}

/** Upstream's selector label (examples/standard/deployment.yaml). */
const SELECTOR = { 'app.kubernetes.io/name': KUBE_STATE_METRICS_NAME };
const labels = { ...MANAGED_BY_LABELS, ...SELECTOR, 'app.kubernetes.io/component': 'exporter' };

function deployment(): Deployment {
  return new Deployment({
    metadata: { name: KUBE_STATE_METRICS_NAME, namespace: KUBE_STATE_METRICS_NAMESPACE, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: SELECTOR },
      template: {
        metadata: { labels: { ...SELECTOR, 'app.kubernetes.io/component': 'exporter' } },
        spec: {
          // Upstream: the ServiceAccount opts out, the pod opts in (it lists through the API).
          automountServiceAccountToken: true,
          serviceAccountName: KUBE_STATE_METRICS_NAME,
          nodeSelector: { ...LINUX_NODE_SELECTOR },
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [{
            name: KUBE_STATE_METRICS_NAME,
            image: KUBE_STATE_METRICS_IMAGE,
            args: [`--resources=${Object.keys(COLLECTED_RESOURCES).join(',')}`],
            ports: [
              { name: 'http-metrics', containerPort: METRICS_PORT },
              { name: 'telemetry', containerPort: TELEMETRY_PORT },
            ],
            // Probes as upstream: /livez on the metrics port, /readyz on telemetry.
            livenessProbe: { httpGet: { path: '/livez', port: 'http-metrics' }, initialDelaySeconds: 5, timeoutSeconds: 5 },
            readinessProbe: { httpGet: { path: '/readyz', port: 'telemetry' }, initialDelaySeconds: 5, timeoutSeconds: 5 },
            resources: { requests: { cpu: '100m', memory: '250Mi' } },
            securityContext: {
              allowPrivilegeEscalation: false,
              capabilities: { drop: ['ALL'] },
              readOnlyRootFilesystem: true,
              runAsNonRoot: true,
              // nobody, as upstream.
              runAsUser: 65534,
              seccompProfile: { type: 'RuntimeDefault' },
            },
          }],
        },
      },
    },
  });
}

/** kube-state-metrics as an add-on: upstream's standard example, without Secrets. */
export const kubeStateMetrics: Addon = {
  name: KUBE_STATE_METRICS_NAME,
  version: KUBE_STATE_METRICS_VERSION,
  description: 'Prometheus metrics on the state of Kubernetes objects (headless Service, 8080 metrics, 8081 telemetry)',
  replaces: 'kube-state-metrics (then behind an internal LoadBalancer Service; now in-cluster only)',
  // Optional: an exporter for a Prometheus the cluster does not ship; off, only metrics are lost.
  optional: true,
  placement: 'workers',
  needs: [NODE_COMPONENTS.nodeInitialized, NODE_COMPONENTS.podNetwork, NODE_COMPONENTS.kubeProxy, NODE_COMPONENTS.workers],
  provides: [],
  toleratedTaints: {},
  permissions: () => [],
  objects: () => [
    new ServiceAccount({
      metadata: { name: KUBE_STATE_METRICS_NAME, namespace: KUBE_STATE_METRICS_NAMESPACE, labels },
      automountServiceAccountToken: false,
    }),
    new ClusterRole({ metadata: { name: KUBE_STATE_METRICS_NAME, labels }, rules: kubeStateMetricsRules() }),
    new ClusterRoleBinding({
      metadata: { name: KUBE_STATE_METRICS_NAME, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: KUBE_STATE_METRICS_NAME },
      subjects: [{ kind: 'ServiceAccount', name: KUBE_STATE_METRICS_NAME, namespace: KUBE_STATE_METRICS_NAMESPACE }],
    }),
    deployment(),
    // Headless as upstream: Prometheus scrapes the pod's endpoints. Never a LoadBalancer (2016
    // had an internal one): the metrics name every object of the cluster.
    new Service({
      metadata: { name: KUBE_STATE_METRICS_NAME, namespace: KUBE_STATE_METRICS_NAMESPACE, labels },
      spec: {
        clusterIP: 'None',
        selector: SELECTOR,
        ports: [
          { name: 'http-metrics', port: METRICS_PORT, targetPort: 'http-metrics' },
          { name: 'telemetry', port: TELEMETRY_PORT, targetPort: 'telemetry' },
        ],
      },
    }),
  ],
};
