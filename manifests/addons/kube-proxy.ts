/**
 * kube-proxy: programs each node's iptables so that Service addresses (10.3.0.1 and the rest)
 * reach their endpoints. A DaemonSet on every node with its own ServiceAccount, as kubeadm runs
 * it, so no node credential is mounted into a pod.
 *
 * Source: kubeadm's proxy phase (kubernetes/kubernetes cmd/kubeadm/app/phases/addons/proxy,
 * printOrCreateKubeProxyObjects): ServiceAccount `kube-proxy` in kube-system, bound to the
 * API server's built-in ClusterRole `system:node-proxier` (kubeadm names the binding
 * `kubeadm:node-proxier`: test/e2e_kubeadm/proxy_addon_test.go), a ConfigMap holding the
 * KubeProxyConfiguration, a privileged host-network DaemonSet mounting /lib/modules and
 * /run/xtables.lock. kubeadm's Role letting bootstrap tokens read the ConfigMap is left out:
 * no node here joins with kubeadm.
 *
 * Reaching the API: not through the `kubernetes` Service address, which kube-proxy itself
 * programs, but through the internal API endpoint's name (placement.ts apiServerEnv).
 */
import { dump } from 'js-yaml';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { KUBE_PROXY_DAEMONSET, KUBE_PROXY_HEALTHZ_ADDRESS, KUBE_PROXY_METRICS_ADDRESS } from '../../userdata/kube-proxy';
import { POD_CIDR } from '../../userdata/network';
import { KUBERNETES_VERSION } from '../../userdata/versions';
import { MANAGED_BY_LABELS } from '../managed-by';
import { Addon, AddonContext, AddonObject, NODE_COMPONENTS } from './addon';
import { apiServerEnv, EVERY_TAINT, hostNetworkOnEveryNode, ONE_NODE_AT_A_TIME } from './placement';

/** Host network and a privileged container need kube-system: the only namespace Pod Security exempts. */
export const KUBE_PROXY_NAMESPACE = 'kube-system';
/** ServiceAccount, ConfigMap and DaemonSet share kubeadm's name (the nodes' health check looks the DaemonSet up by it). */
export const KUBE_PROXY_NAME = KUBE_PROXY_DAEMONSET;
/**
 * The API server's built-in role for kube-proxy (kubernetes/kubernetes
 * plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go, nodeProxierRules):
 * list/watch services and endpoints, get/list/watch nodes, list/watch discovery.k8s.io
 * endpointslices, and eventsRule() (create/patch/update events). What kube-proxy reads is
 * in cmd/kube-proxy/app/server.go (ProxyServer.Run: Service and EndpointSlice informers, its
 * own Node through the NodeManager, networking.k8s.io ServiceCIDRs while
 * MultiCIDRServiceAllocator is on, GA since 1.33). Whether the 1.35 role grants servicecidrs
 * list/watch is not checked here: no 1.35 copy of policy.go was at hand.
 */
export const NODE_PROXIER_CLUSTER_ROLE = 'system:node-proxier';
/** kubeadm's binding name (cmd/kubeadm/app/constants KubeProxyClusterRoleBindingName) under our prefix. */
export const KUBE_PROXY_BINDING = 'kubernetes-on-aws:node-proxier';
/** The ConfigMap key and where the container reads it (kubeadm's layout: /var/lib/kube-proxy/config.conf). */
const CONFIG_KEY = 'config.conf';
const CONFIG_DIR = '/var/lib/kube-proxy';
export const KUBE_PROXY_CONFIG_FILE = `${CONFIG_DIR}/${CONFIG_KEY}`;

const SELECTOR = { 'k8s-app': KUBE_PROXY_NAME };
const labels = { ...MANAGED_BY_LABELS, ...SELECTOR };

/** Each taint it tolerates, with why: the README's bootstrap table and the pod spec both come from here. */
const TOLERATED_TAINTS: Readonly<Record<string, string>> = {
  [EVERY_TAINT]:
    'every node, masters, not-ready and uninitialized ones included: Service addresses (10.3.0.1 first) must work on a ' +
    'node before anything else there can reach the API by them, and kubeadm tolerates every taint too',
};

/**
 * The KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1; fields as in kubernetes/kube-proxy
 * v0.35.1 config/v1alpha1/types.go). Unset fields keep kube-proxy's defaults.
 */
export function kubeProxyConfiguration(): Record<string, unknown> {
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    // The well-trodden mode; nftables is newer.
    mode: 'iptables',
    // Traffic from outside the pod network to a Service is masqueraded (detectLocalMode ClusterCIDR, the default).
    clusterCIDR: POD_CIDR,
    // No kubeconfig and no --master: kube-proxy falls back to rest.InClusterConfig()
    // (kubernetes/kubernetes cmd/kube-proxy/app/server.go createClient), i.e. the pod's own
    // service-account token and CA, and KUBERNETES_SERVICE_HOST/PORT (apiServerEnv).
    clientConnection: { kubeconfig: '' },
    // Loopback, exactly where the nodes' health check reads them (userdata/kube-proxy.ts).
    metricsBindAddress: KUBE_PROXY_METRICS_ADDRESS,
    healthzBindAddress: KUBE_PROXY_HEALTHZ_ADDRESS,
  };
}

function daemonSet(context: AddonContext): DaemonSet {
  return new DaemonSet({
    metadata: { name: KUBE_PROXY_NAME, namespace: KUBE_PROXY_NAMESPACE, labels },
    spec: {
      selector: { matchLabels: SELECTOR },
      // One node at a time loses Service routing during a rollout (kubeadm's DaemonSet default).
      updateStrategy: ONE_NODE_AT_A_TIME,
      template: {
        metadata: { labels: SELECTOR },
        spec: {
          serviceAccountName: KUBE_PROXY_NAME,
          // It programs the node's own iptables; the cluster DNS is itself behind a Service
          // address it programs; without it no pod on the node reaches a Service (kubeadm's class).
          ...hostNetworkOnEveryNode(TOLERATED_TAINTS),
          containers: [{
            name: KUBE_PROXY_NAME,
            image: `registry.k8s.io/kube-proxy:${context.kubernetesVersion}`,
            // The kubelet's node name (the EC2 private DNS name), so kube-proxy finds its Node.
            command: ['kube-proxy', `--config=${KUBE_PROXY_CONFIG_FILE}`, '--hostname-override=$(NODE_NAME)'],
            env: [
              { name: 'NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } },
              ...apiServerEnv(context),
            ],
            // Our estimate for iptables mode on a cluster of this size; kubeadm sets none.
            resources: { requests: { cpu: '100m', memory: '50Mi' } },
            // iptables, conntrack sysctls and kernel modules on the host (kubeadm's DaemonSet).
            securityContext: { privileged: true },
            volumeMounts: [
              { name: 'kube-proxy', mountPath: CONFIG_DIR, readOnly: true },
              // Shared with the other iptables writers of the node (flannel, the kubelet).
              { name: 'xtables-lock', mountPath: '/run/xtables.lock' },
              { name: 'lib-modules', mountPath: '/lib/modules', readOnly: true },
            ],
          }],
          volumes: [
            { name: 'kube-proxy', configMap: { name: KUBE_PROXY_NAME } },
            { name: 'xtables-lock', hostPath: { path: '/run/xtables.lock', type: 'FileOrCreate' } },
            { name: 'lib-modules', hostPath: { path: '/lib/modules' } },
          ],
        },
      },
    },
  });
}

function objects(context: AddonContext): AddonObject[] {
  return [
    new ServiceAccount({ metadata: { name: KUBE_PROXY_NAME, namespace: KUBE_PROXY_NAMESPACE, labels } }),
    new ClusterRoleBinding({
      metadata: { name: KUBE_PROXY_BINDING, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NODE_PROXIER_CLUSTER_ROLE },
      subjects: [{ kind: 'ServiceAccount', name: KUBE_PROXY_NAME, namespace: KUBE_PROXY_NAMESPACE }],
    }),
    new ConfigMap({
      metadata: { name: KUBE_PROXY_NAME, namespace: KUBE_PROXY_NAMESPACE, labels },
      data: { [CONFIG_KEY]: dump(kubeProxyConfiguration(), { lineWidth: -1, noRefs: true }) },
    }),
    daemonSet(context),
  ];
}

/** kube-proxy as an add-on: one privileged pod on every node, with its own identity. */
export const kubeProxy: Addon = {
  name: KUBE_PROXY_NAME,
  version: KUBERNETES_VERSION,
  description: 'Service addresses (10.3.0.1 and every ClusterIP) on every node, iptables mode',
  replaces: 'kube-proxy static pod on every node',
  // Nothing reaches a Service without it.
  optional: false,
  placement: 'every-node',
  // The API, and the cluster's own RBAC and policies in place first (cluster-bootstrap).
  needs: [NODE_COMPONENTS.apiServer, NODE_COMPONENTS.clusterBootstrapped],
  // Its name is the capability others need (NODE_COMPONENTS.kubeProxy): the bootstrap chain
  // registers every add-on's name as one, and a second provider of it would throw.
  provides: [],
  toleratedTaints: TOLERATED_TAINTS,
  permissions: () => [],
  objects,
};
