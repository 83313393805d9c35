/**
 * What masters and workers share: containerd, the kubelet, the CNI plugins, kernel settings,
 * and the kubelet's kubeconfig, which signs in as the instance role: the auth webhook makes
 * that `system:node:<this instance's private DNS name>` (webhook/iam-authenticator.ts).
 * kube-proxy and flannel are DaemonSets with their own service accounts (manifests/addons),
 * so no pod mounts the node's credential.
 */
import { containerdParts } from './containerd';
import { directory, file } from './files';
import { cniPluginsParts } from './flannel';
import { mergeParts, NodeParts } from './ignition';
import { KubeletOptions, kubeletParts, NODE_KUBECONFIG } from './kubelet';
import { awsGetTokenExec, kubeconfigFile } from './kubeconfig';
import { AWS } from './node-bootstrap';
import { KUBERNETES_DIR, STATIC_POD_DIR } from './paths';
import { clusterGroupOf, KubernetesClusterIdentity } from './types';

export interface KubernetesNodeOptions extends KubeletOptions {
  /** The cluster: kubeconfig entry, and the cluster id the kubelet's IAM token is signed for. */
  readonly identity: KubernetesClusterIdentity;
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
          cluster: options.identity.cluster,
          server: options.apiServer,
          ...(options.certificateAuthority ? { certificateAuthority: options.certificateAuthority } : {}),
          user: 'kubelet',
          // A token of the instance role, made on demand (the kubelet re-runs the plugin before
          // the token's 15 minutes end): no credential is stored on the node.
          credential: { exec: awsGetTokenExec(AWS, clusterGroupOf(options.identity), options.identity.region) },
        }),
      ],
      units: [],
    },
    containerdParts(),
    kubeletParts(options),
    cniPluginsParts(),
  );
}
