/**
 * What masters and workers share: containerd, the kubelet, the CNI plugins, kernel settings,
 * and the kubelet's kubeconfig (the shared worker token, read from its fetched file).
 * kube-proxy and flannel are DaemonSets with their own service accounts (manifests/addons),
 * so no pod mounts the node's credential.
 */
import { containerdParts } from './containerd';
import { directory, file } from './files';
import { cniPluginsParts } from './flannel';
import { mergeParts, NodeParts } from './ignition';
import { KubeletOptions, kubeletParts, NODE_KUBECONFIG } from './kubelet';
import { kubeconfigFile } from './kubeconfig';
import { KUBERNETES_DIR, KUBERNETES_PKI_DIR, STATIC_POD_DIR } from './paths';

/** The shared kubelet identity (DESIGN: one worker token until per-node identity lands). */
export const WORKER_TOKEN_FILE = `${KUBERNETES_PKI_DIR}/worker-token`;

export interface KubernetesNodeOptions extends KubeletOptions {
  /** Cluster name (kubeconfig entry). */
  readonly cluster: string;
  /** API server URL the kubelet uses. */
  readonly apiServer: string;
  /** CA to check it with. @default the system trust store (the API load balancer's public ACM certificate) */
  readonly certificateAuthority?: string;
}

/** Kernel settings every Kubernetes node needs for bridged pod traffic and service NAT. */
const KERNEL_MODULES = ['overlay', 'br_netfilter'];
const SYSCTLS: Readonly<Record<string, string>> = {
  'net.ipv4.ip_forward': '1',
  'net.bridge.bridge-nf-call-iptables': '1',
  'net.bridge.bridge-nf-call-ip6tables': '1',
};

export function kubernetesNodeParts(options: KubernetesNodeOptions): NodeParts {
  return mergeParts(
    {
      directories: [directory(KUBERNETES_DIR), directory(STATIC_POD_DIR)],
      files: [
        file('/etc/modules-load.d/kubernetes.conf', `${KERNEL_MODULES.join('\n')}\n`),
        file(
          '/etc/sysctl.d/80-kubernetes.conf',
          Object.entries(SYSCTLS)
            .map(([k, v]) => `${k} = ${v}\n`)
            .join(''),
        ),
        kubeconfigFile(NODE_KUBECONFIG, {
          cluster: options.cluster,
          server: options.apiServer,
          ...(options.certificateAuthority ? { certificateAuthority: options.certificateAuthority } : {}),
          user: 'kubelet',
          tokenFile: WORKER_TOKEN_FILE,
        }),
      ],
      units: [],
    },
    containerdParts(),
    kubeletParts(options),
    cniPluginsParts(),
  );
}
