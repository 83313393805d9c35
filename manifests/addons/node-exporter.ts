/**
 * node-exporter: Prometheus metrics of each node's hardware and kernel (CPU, memory, disks,
 * network), a DaemonSet on every node as in the 2016 system (hostNetwork, port 9100).
 *
 * Source: prometheus/node_exporter v1.12.1 (tag commit 6044da783597cc3b57aef7580ddcdcff58a4ee99):
 * README.md "Docker" for how to run it in a container (host network, host PID, the host's `/`
 * read-only with rslave propagation, --path.rootfs); the image is what
 * .github/workflows/ci.yml publish_release pushes to quay.io (Makefile DOCKER_IMAGE_NAME
 * node-exporter), running as `nobody` (Dockerfile). Upstream ships no Kubernetes manifest:
 * the DaemonSet follows prometheus-community/helm-charts
 * charts/prometheus-node-exporter/templates/daemonset.yaml and values.yaml (commit
 * 019319902ead75961fe5f71213777f1500725a6e): /proc, /sys and / under /host, read-only, with
 * --path.procfs/sysfs/rootfs/udev.data pointing there, user 65534.
 *
 * Network: it listens on the node's own address (the chart's listenOnAllInterfaces: false
 * branch), port 9100. The 2016 system opened 9100 to the VPC (REFERENCE-2016.md, security
 * groups); this project's security groups do not open it yet, so a scraper on another node
 * needs a rule in lib/stacks (not in this file).
 */
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { MANAGED_BY_LABELS } from '../managed-by';
import { Addon, NODE_COMPONENTS } from './addon';
import { EVERY_TAINT, hostNetworkOnEveryNode, ONE_NODE_AT_A_TIME } from './placement';

/** The release pinned (prometheus/node_exporter tag v1.12.1, VERSION file 1.12.1). */
export const NODE_EXPORTER_VERSION = 'v1.12.1';
export const NODE_EXPORTER_IMAGE = `quay.io/prometheus/node-exporter:${NODE_EXPORTER_VERSION}`;
export const NODE_EXPORTER_NAME = 'node-exporter';
/** Host network and host PID need kube-system: the only namespace Pod Security exempts. */
export const NODE_EXPORTER_NAMESPACE = 'kube-system';
/** node_exporter's default port (Dockerfile EXPOSE 9100), the one the 2016 system opened. */
export const NODE_EXPORTER_PORT = 9100;

/** Host paths it reads, and where the container sees them (the chart's layout). */
export const HOST_MOUNTS: readonly { name: string; hostPath: string; mountPath: string }[] = [
  { name: 'proc', hostPath: '/proc', mountPath: '/host/proc' },
  { name: 'sys', hostPath: '/sys', mountPath: '/host/sys' },
  { name: 'root', hostPath: '/', mountPath: '/host/root' },
];

/** Each taint it tolerates, with why: the README's bootstrap table and the pod spec both come from here. */
const TOLERATED_TAINTS: Readonly<Record<string, string>> = {
  [EVERY_TAINT]: 'every node, masters and tainted or unhealthy nodes included: those are the ones to watch',
};

const SELECTOR = { 'app.kubernetes.io/name': NODE_EXPORTER_NAME };
const labels = { ...MANAGED_BY_LABELS, ...SELECTOR, 'app.kubernetes.io/component': 'exporter' };

function daemonSet(): DaemonSet {
  return new DaemonSet({
    metadata: { name: NODE_EXPORTER_NAME, namespace: NODE_EXPORTER_NAMESPACE, labels },
    spec: {
      selector: { matchLabels: SELECTOR },
      // The chart's default: one node at a time loses its metrics during a rollout.
      updateStrategy: ONE_NODE_AT_A_TIME,
      template: {
        metadata: { labels: SELECTOR },
        spec: {
          serviceAccountName: NODE_EXPORTER_NAME,
          // It never calls the API: no token in the pod.
          automountServiceAccountToken: false,
          // The node's network and processes, not a pod's (README.md "Docker": --net=host
          // --pid=host). A node's metrics are what tell why it struggles: node-critical.
          // Every taint, every effect. A node without it is a blind spot, and taints mark
          // exactly the nodes to watch: masters (control-plane), nodes not yet initialized by
          // the cloud controller (a boot that stalls), NotReady, unreachable or under
          // memory/disk/PID pressure (NoExecute would evict it just then), and any taint an
          // operator puts on a worker pool. It is safe on any node: no API token, read-only
          // host mounts, no pod network, nothing it does depends on the node being healthy.
          ...hostNetworkOnEveryNode(TOLERATED_TAINTS),
          hostPID: true,
          securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } },
          volumes: HOST_MOUNTS.map(({ name, hostPath }) => ({ name, hostPath: { path: hostPath } })),
          containers: [{
            name: NODE_EXPORTER_NAME,
            image: NODE_EXPORTER_IMAGE,
            args: [
              '--path.procfs=/host/proc',
              '--path.sysfs=/host/sys',
              '--path.rootfs=/host/root',
              '--path.udev.data=/host/root/run/udev/data',
              // The node's own address only, not every interface of the host network.
              `--web.listen-address=[$(HOST_IP)]:${NODE_EXPORTER_PORT}`,
            ],
            env: [{ name: 'HOST_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.hostIP' } } }],
            ports: [{ name: 'metrics', containerPort: NODE_EXPORTER_PORT, hostPort: NODE_EXPORTER_PORT, protocol: 'TCP' }],
            livenessProbe: { httpGet: { path: '/', port: NODE_EXPORTER_PORT } },
            readinessProbe: { httpGet: { path: '/', port: NODE_EXPORTER_PORT } },
            // The chart's commented example (values.yaml `resources`); it sets none by default.
            resources: { requests: { cpu: '100m', memory: '30Mi' } },
            securityContext: {
              readOnlyRootFilesystem: true,
              allowPrivilegeEscalation: false,
              capabilities: { drop: ['ALL'] },
            },
            volumeMounts: HOST_MOUNTS.map(({ name, mountPath }) => ({
              name,
              mountPath,
              readOnly: true,
              // Mounts made on the host later (new volumes) show up inside: README's rslave.
              ...(name === 'root' ? { mountPropagation: 'HostToContainer' } : {}),
            })),
          }],
        },
      },
    },
  });
}

/** node-exporter as an add-on: one pod on every node, reading the host read-only. */
export const nodeExporter: Addon = {
  name: NODE_EXPORTER_NAME,
  version: NODE_EXPORTER_VERSION,
  description: `Prometheus metrics of every node's hardware and kernel, on the node's address, port ${NODE_EXPORTER_PORT}`,
  replaces: 'node-exporter DaemonSet (hostNetwork, 9100)',
  // Optional: an exporter for a Prometheus the cluster does not ship; off, only metrics are lost.
  optional: true,
  placement: 'every-node',
  // Host network and every taint tolerated: a registered node is all it needs.
  needs: [NODE_COMPONENTS.apiServer, NODE_COMPONENTS.clusterBootstrapped],
  provides: [],
  toleratedTaints: TOLERATED_TAINTS,
  permissions: () => [],
  objects: () => [
    new ServiceAccount({
      metadata: { name: NODE_EXPORTER_NAME, namespace: NODE_EXPORTER_NAMESPACE, labels },
      automountServiceAccountToken: false,
    }),
    daemonSet(),
  ],
};
