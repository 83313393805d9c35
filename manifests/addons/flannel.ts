/**
 * flannel: the pod network. One flanneld per node (vxlan backend, UDP 8472 between nodes, as in
 * the 2016 system) reads the node's podCIDR from the API (the controller-manager allocates one
 * /24 per node out of POD_CIDR) and routes the other nodes' /24s over vxlan; its CNI plugin,
 * delegating to the standard bridge plugin, wires each pod in. No cloud API, no etcd of its own.
 *
 * Source: flannel-io/flannel v0.27.3 (tag commit b243632fbf70280bc46b949d9ea5ace5d91ef105)
 * Documentation/kube-flannel.yml: ServiceAccount, ClusterRole and binding, the
 * kube-flannel-cfg ConfigMap (cni-conf.json, net-conf.json), and the DaemonSet with its two
 * init containers (flannel's CNI plugin binary, then the CNI config, onto the host) and
 * flanneld `--ip-masq --kube-subnet-mgr`. Adapted: kube-system instead of its own
 * `kube-flannel` namespace (Pod Security exempts kube-system only; upstream labels its
 * namespace `privileged` instead), every taint tolerated, the pod network and vxlan port of
 * this cluster, requests on the init containers, and the API reached through the internal
 * endpoint's name (placement.ts apiServerEnv).
 *
 * The CNI config is what makes a node Ready: until a config is in /etc/cni/net.d containerd
 * reports NetworkReady false (containerd v2.2.7 internal/cri/server/status.go Status:
 * NetworkPluginNotReady while its CNI plugin has no config loaded) and the kubelet keeps the
 * node NotReady (and tainted not-ready), so no pod lands on a node flannel never reached. The
 * config is written before flanneld holds its lease, though: the nodes' health check waits for
 * the lease itself (userdata/pod-network-health.ts).
 */
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { IPolicyRule } from 'kubernetes-models/rbac.authorization.k8s.io/v1/PolicyRule';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { FLANNEL_DAEMONSET, FLANNEL_RUN_DIR } from '../../userdata/flannel';
import { FLANNEL_VXLAN_PORT, POD_CIDR } from '../../userdata/network';
import { CNI_BIN_DIR, CNI_CONF_DIR } from '../../userdata/paths';
import { IMAGES } from '../../userdata/versions';
import { MANAGED_BY_LABELS } from '../managed-by';
import { Addon, AddonContext, AddonObject, NODE_COMPONENTS } from './addon';
import { apiServerEnv, EVERY_TAINT, hostNetworkOnEveryNode, ONE_NODE_AT_A_TIME } from './placement';

/** The release pinned: IMAGES.flannel's tag (userdata/versions.ts). */
export const FLANNEL_VERSION = 'v0.27.3';
export const FLANNEL_IMAGE = IMAGES.flannel;
/**
 * The image carrying flannel's CNI plugin binary (flannel-io/cni-plugin), as pinned in
 * userdata/versions.ts: `v1.7.1-flannel2`, a later release than the `v1.7.1-flannel1` that
 * kube-flannel.yml v0.27.3 names.
 */
export const FLANNEL_CNI_PLUGIN_IMAGE = IMAGES.flannelCniPlugin;

/** Host network and NET_ADMIN need kube-system: the only namespace Pod Security exempts. */
export const FLANNEL_NAMESPACE = 'kube-system';
/** ServiceAccount, ClusterRole and binding: upstream's name. */
export const FLANNEL_NAME = 'flannel';
export const FLANNEL_CONFIG_MAP = 'kube-flannel-cfg';
/** Where flanneld reads its config: its default --net-config-path (v0.27.3 main.go). */
export const FLANNEL_CONFIG_DIR = '/etc/kube-flannel';
/**
 * flannel's CNI config on the host, where the runtime reads CNI configs (CNI_CONF_DIR); the
 * name kube-flannel.yml gives it, sorting before any later config.
 */
export const FLANNEL_CNI_CONF = `${CNI_CONF_DIR}/10-flannel.conflist`;
/** flannel's CNI plugin binary on the host, among the standard plugins (CNI_BIN_DIR). */
export const FLANNEL_CNI_PLUGIN = `${CNI_BIN_DIR}/flannel`;

/**
 * flannel's ClusterRole, exactly kube-flannel.yml v0.27.3's rules. All three are called with
 * --kube-subnet-mgr (pkg/subnet/kube/kube.go): pods get (NewSubnetManager reads its own pod's
 * spec.nodeName through POD_NAME/POD_NAMESPACE), nodes get/list/watch (its node informer and
 * its own Node), nodes/status patch (its annotations and the NetworkUnavailable condition).
 */
export const FLANNEL_RULES: readonly IPolicyRule[] = [
  { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
  { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['nodes/status'], verbs: ['patch'] },
];

/**
 * The CNI config: flannel's plugin delegates to the bridge plugin (bridge cni0, which
 * kube2iam's --host-interface names) with hairpin mode and the pod's default route through the
 * bridge, then portmap for hostPort; kube-flannel.yml's cni-conf.json.
 */
export const FLANNEL_CNI_CONFLIST = {
  name: 'cbr0',
  cniVersion: '0.3.1',
  plugins: [
    { type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } },
    { type: 'portmap', capabilities: { portMappings: true } },
  ],
} as const;

/** flanneld's network config: the whole pod network, vxlan on the port the security groups open. */
export function flannelNetConf(): Record<string, unknown> {
  return { Network: POD_CIDR, Backend: { Type: 'vxlan', Port: FLANNEL_VXLAN_PORT } };
}

const SELECTOR = { app: FLANNEL_NAME };
const labels = { ...MANAGED_BY_LABELS, ...SELECTOR, 'k8s-app': FLANNEL_NAME, tier: 'node' };

/** Each taint it tolerates, with why: the README's bootstrap table and the pod spec both come from here. */
const TOLERATED_TAINTS: Readonly<Record<string, string>> = {
  [EVERY_TAINT]:
    'every node, masters, not-ready and uninitialized ones included: a node stays NotReady until flannel has put its ' +
    'CNI config there, so flannel must run on not-ready nodes or no node would ever become Ready',
};

/** The host paths it uses, each a hostPath volume of the same name. */
const HOST_PATHS = {
  'cni-plugin': { path: CNI_BIN_DIR, type: 'DirectoryOrCreate' },
  cni: { path: CNI_CONF_DIR, type: 'DirectoryOrCreate' },
  // flanneld's lease (subnet.env), which the CNI plugin on the host and the nodes' health check read.
  run: { path: FLANNEL_RUN_DIR, type: 'DirectoryOrCreate' },
  // Shared with the other iptables writers of the node (kube-proxy, the kubelet).
  'xtables-lock': { path: '/run/xtables.lock', type: 'FileOrCreate' },
} as const;

const fieldEnv = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } });
/** A copy onto the host: a few milliseconds, a few MiB (our figures; upstream sets none). */
const COPY_REQUESTS = { requests: { cpu: '10m', memory: '16Mi' } };

function daemonSet(context: AddonContext): DaemonSet {
  return new DaemonSet({
    // The name the nodes' health check looks up (userdata/flannel.ts).
    metadata: { name: FLANNEL_DAEMONSET, namespace: FLANNEL_NAMESPACE, labels },
    spec: {
      selector: { matchLabels: SELECTOR },
      // One node at a time: its pods keep their routes while flanneld restarts.
      updateStrategy: ONE_NODE_AT_A_TIME,
      template: {
        metadata: { labels: { ...SELECTOR, tier: 'node' } },
        spec: {
          serviceAccountName: FLANNEL_NAME,
          // It sets up the node's own interfaces, routes and iptables; the cluster DNS needs
          // the pod network it provides.
          ...hostNetworkOnEveryNode(TOLERATED_TAINTS),
          initContainers: [
            {
              name: 'install-cni-plugin',
              image: FLANNEL_CNI_PLUGIN_IMAGE,
              command: ['cp'],
              args: ['-f', '/flannel', FLANNEL_CNI_PLUGIN],
              resources: COPY_REQUESTS,
              volumeMounts: [{ name: 'cni-plugin', mountPath: CNI_BIN_DIR }],
            },
            {
              name: 'install-cni',
              image: FLANNEL_IMAGE,
              command: ['cp'],
              args: ['-f', `${FLANNEL_CONFIG_DIR}/cni-conf.json`, FLANNEL_CNI_CONF],
              resources: COPY_REQUESTS,
              volumeMounts: [
                { name: 'cni', mountPath: CNI_CONF_DIR },
                { name: 'flannel-cfg', mountPath: FLANNEL_CONFIG_DIR, readOnly: true },
              ],
            },
          ],
          containers: [{
            name: 'kube-flannel',
            image: FLANNEL_IMAGE,
            // No --kubeconfig-file and no --kube-api-url: clientcmd.BuildConfigFromFlags falls
            // back to rest.InClusterConfig (pkg/subnet/kube/kube.go NewSubnetManager), i.e. this
            // pod's token and CA at KUBERNETES_SERVICE_HOST/PORT.
            command: ['/opt/bin/flanneld'],
            args: ['--ip-masq', '--kube-subnet-mgr'],
            env: [
              // How it finds its node: its own pod's spec.nodeName (NewSubnetManager).
              fieldEnv('POD_NAME', 'metadata.name'),
              fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
              // Upstream's values (also flanneld's defaults: kube.go newKubeSubnetManager, main.go).
              { name: 'EVENT_QUEUE_DEPTH', value: '5000' },
              { name: 'CONT_WHEN_CACHE_NOT_READY', value: 'false' },
              ...apiServerEnv(context),
            ],
            // Upstream's requests.
            resources: { requests: { cpu: '100m', memory: '50Mi' } },
            // Interfaces, routes and iptables: NET_ADMIN and NET_RAW, not privileged (upstream).
            securityContext: { privileged: false, capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } },
            volumeMounts: [
              { name: 'run', mountPath: FLANNEL_RUN_DIR },
              { name: 'flannel-cfg', mountPath: FLANNEL_CONFIG_DIR, readOnly: true },
              { name: 'xtables-lock', mountPath: '/run/xtables.lock' },
            ],
          }],
          volumes: [
            ...Object.entries(HOST_PATHS).map(([name, hostPath]) => ({ name, hostPath: { ...hostPath } })),
            { name: 'flannel-cfg', configMap: { name: FLANNEL_CONFIG_MAP } },
          ],
        },
      },
    },
  });
}

function objects(context: AddonContext): AddonObject[] {
  const metadata = (name: string) => ({ name, namespace: FLANNEL_NAMESPACE, labels });
  return [
    new ServiceAccount({ metadata: metadata(FLANNEL_NAME) }),
    new ClusterRole({ metadata: { name: FLANNEL_NAME, labels }, rules: FLANNEL_RULES.map((rule) => ({ ...rule })) }),
    new ClusterRoleBinding({
      metadata: { name: FLANNEL_NAME, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: FLANNEL_NAME },
      subjects: [{ kind: 'ServiceAccount', name: FLANNEL_NAME, namespace: FLANNEL_NAMESPACE }],
    }),
    new ConfigMap({
      metadata: metadata(FLANNEL_CONFIG_MAP),
      data: {
        'cni-conf.json': `${JSON.stringify(FLANNEL_CNI_CONFLIST, null, 2)}\n`,
        'net-conf.json': `${JSON.stringify(flannelNetConf(), null, 2)}\n`,
      },
    }),
    daemonSet(context),
  ];
}

/** flannel as an add-on: the pod network, one flanneld on every node. */
export const flannel: Addon = {
  name: FLANNEL_NAME,
  version: FLANNEL_VERSION,
  description: `The pod network ${POD_CIDR}: flannel vxlan (UDP ${FLANNEL_VXLAN_PORT}) between nodes, one /24 per node`,
  replaces: 'flanneld on every node (vxlan, 10.2.0.0/16)',
  // No node becomes Ready without it.
  optional: false,
  placement: 'every-node',
  // The API, and the cluster's own RBAC and policies in place first (cluster-bootstrap).
  needs: [NODE_COMPONENTS.apiServer, NODE_COMPONENTS.clusterBootstrapped],
  provides: [NODE_COMPONENTS.podNetwork],
  toleratedTaints: TOLERATED_TAINTS,
  permissions: () => [],
  objects,
};
