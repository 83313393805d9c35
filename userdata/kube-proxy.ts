/**
 * kube-proxy on every Kubernetes node, as a static pod (no DaemonSet, so it runs before
 * add-ons exist), iptables mode (the well-trodden path; nftables mode is newer).
 */
import { file } from './files';
import { NodeParts } from './ignition';
import { apiClientMounts } from './flannel';
import { KUBE_PROXY_HEALTHZ_PORT } from './network';
import { KUBERNETES_DIR } from './paths';
import { HostMount, staticPodFile, StaticPodIdentity, yaml } from './static-pod';
import { ResolvedNetwork } from './types';
import { IMAGES } from './versions';

export const KUBE_PROXY_CONFIG = `${KUBERNETES_DIR}/kube-proxy.yaml`;
/**
 * kube-proxy's health server. Its default is 0.0.0.0:10256 (kubernetes/kube-proxy v0.35.1
 * config/v1alpha1/types.go healthzBindAddress); loopback is enough for the node health check.
 */
/** kube-proxy's Prometheus metrics, on loopback: the node health check reads them. */
export const KUBE_PROXY_METRICS_ADDRESS = '127.0.0.1:10249';
export const KUBE_PROXY_HEALTHZ_ADDRESS = `127.0.0.1:${KUBE_PROXY_HEALTHZ_PORT}`;

/** kube-proxy's static pod: its name and labels, which its mirror pods carry too. */
export const KUBE_PROXY_POD: StaticPodIdentity = { name: 'kube-proxy', labels: { 'k8s-app': 'kube-proxy' } };

export interface KubeProxyOptions {
  readonly network: ResolvedNetwork;
  readonly kubeconfig: string;
  readonly tokenFile: string;
}

export function kubeProxyConfiguration(options: KubeProxyOptions): Record<string, unknown> {
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'iptables',
    // Traffic from outside the pod network to a service is masqueraded.
    clusterCIDR: options.network.podCidr,
    clientConnection: { kubeconfig: options.kubeconfig },
    metricsBindAddress: KUBE_PROXY_METRICS_ADDRESS,
    healthzBindAddress: KUBE_PROXY_HEALTHZ_ADDRESS,
  };
}

export function kubeProxyParts(options: KubeProxyOptions): NodeParts {
  const mounts: HostMount[] = [
    ...apiClientMounts(options.kubeconfig, options.tokenFile),
    { name: 'config', path: KUBE_PROXY_CONFIG, type: 'File', readOnly: true },
    { name: 'lib-modules', path: '/lib/modules', type: 'Directory', readOnly: true },
    { name: 'xtables-lock', path: '/run/xtables.lock', type: 'FileOrCreate', readOnly: false },
  ];
  return {
    directories: [],
    files: [
      file(KUBE_PROXY_CONFIG, yaml(kubeProxyConfiguration(options))),
      staticPodFile({
        ...KUBE_PROXY_POD,
        mounts,
        containers: [
          {
            name: 'kube-proxy',
            image: IMAGES.kubeProxy,
            // Same node name as the kubelet's (the EC2 private DNS name).
            command: ['kube-proxy', `--config=${KUBE_PROXY_CONFIG}`, '--hostname-override=$(NODE_NAME)'],
            env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
            securityContext: { privileged: true },
            mounts: mounts.map((m) => m.name),
          },
        ],
      }),
    ],
    units: [],
  };
}
