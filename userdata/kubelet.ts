/**
 * The kubelet of masters and workers: release binary checked by sha256, a
 * KubeletConfiguration file, the ECR credential provider it execs for private images, and a
 * unit that names the node after its EC2 private DNS name.
 */
import { CONTAINERD_SOCKET } from './containerd';
import { file, MODE_EXECUTABLE, remoteFile } from './files';
import { mergeParts, NodeParts } from './ignition';
import { CREDENTIAL_PROVIDER_FLAGS, imageCredentialProviderParts } from './image-credential-provider';
import { KUBELET_HEALTHZ_PORT } from './network';
import { AFTER_IDENTITY } from './node-bootstrap';
import { bin, CLUSTER_ENV, KUBERNETES_DIR, KUBERNETES_PKI_DIR, NODE_ENV, STATIC_POD_DIR } from './paths';
import { FETCH_SECRETS_UNIT } from './secrets';
import { yaml } from './static-pod';
import { ResolvedNetwork } from './types';
import { command, unit } from './units';
import { KUBECTL, KUBELET, KUBERNETES_VERSION } from './versions';

export const KUBELET_BINARY = bin('kubelet');
export const KUBECTL_BINARY = bin('kubectl');
export const KUBELET_UNIT = 'kubelet.service';
export const KUBELET_CONFIG = `${KUBERNETES_DIR}/kubelet.yaml`;
/** The node's kubeconfig (the kubelet and the node's health check): the instance role's identity. */
export const NODE_KUBECONFIG = `${KUBERNETES_DIR}/kubeconfig`;

/** systemd-resolved's list of upstream servers; Flatcar's /etc/resolv.conf is a link to it. */
export const HOST_RESOLV_CONF = '/run/systemd/resolve/resolv.conf';

export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface KubeletOptions {
  readonly network: ResolvedNetwork;
  /**
   * Address of the healthz endpoint (port 10248). 0.0.0.0 on workers: an internal load
   * balancer health-checks it so the ASG replaces nodes whose kubelet died (as in 2016).
   */
  readonly healthzBindAddress: string;
  /** Taints the node registers with (e.g. the control-plane NoSchedule taint). */
  readonly registerWithTaints: readonly Taint[];
  /**
   * Labels the node registers with. The kubelet refuses to set most `kubernetes.io` labels
   * on itself (node-role.kubernetes.io/* included), so ours live under kubernetes-on-aws/.
   */
  readonly nodeLabels: Readonly<Record<string, string>>;
  /** Further units the kubelet must start after (e.g. the masters' token files). */
  readonly after: readonly string[];
}

export function kubeletConfiguration(options: KubeletOptions): Record<string, unknown> {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // Webhook authentication and authorization on the kubelet API (10250), so metrics
    // scrapers and the API server are checked against the cluster's authn/authz; the API
    // server's client certificate is checked against the cluster CA.
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true, cacheTTL: '2m0s' },
      x509: { clientCAFile: `${KUBERNETES_PKI_DIR}/ca.crt` },
    },
    authorization: { mode: 'Webhook', webhook: { cacheAuthorizedTTL: '5m0s', cacheUnauthorizedTTL: '30s' } },
    cgroupDriver: 'systemd',
    containerRuntimeEndpoint: `unix://${CONTAINERD_SOCKET}`,
    clusterDNS: [options.network.clusterDnsIp],
    clusterDomain: options.network.clusterDomain,
    // The node's resolver for host-network pods (their default ClusterFirst policy means this
    // file's servers: kubelet getPodDNSType) and the search list of every pod. Flatcar runs
    // systemd-resolved; this is its list of real upstream servers (the VPC resolver), the file
    // Flatcar's /etc/resolv.conf links to (flatcar/scripts sys-apps/systemd ebuild), not the
    // 127.0.0.53 stub that a pod's own network namespace could not reach.
    resolvConf: HOST_RESOLV_CONF,
    healthzBindAddress: options.healthzBindAddress,
    healthzPort: KUBELET_HEALTHZ_PORT,
    readOnlyPort: 0,
    staticPodPath: STATIC_POD_DIR,
    registerNode: true,
    registerWithTaints: options.registerWithTaints,
    // Serving certificate from a CSR for signer kubernetes.io/kubelet-serving, renewed by the
    // kubelet before it expires; the masters' approver approves it only for this instance's
    // names and addresses (webhook/kubelet-serving-approver.ts), and the API server and
    // metrics-server check it against the cluster CA.
    serverTLSBootstrap: true,
    // No client certificate: the kubelet signs in as its instance role (kubernetes-node.ts).
    rotateCertificates: false,
    protectKernelDefaults: false,
  };
}

export function kubeletParts(options: KubeletOptions): NodeParts {
  const labels = Object.entries(options.nodeLabels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const before = [...AFTER_IDENTITY, FETCH_SECRETS_UNIT, 'containerd.service'];
  return mergeParts(imageCredentialProviderParts(), {
    directories: [],
    files: [
      remoteFile(KUBELET_BINARY, KUBELET.url, KUBELET.hash, { mode: MODE_EXECUTABLE }),
      remoteFile(KUBECTL_BINARY, KUBECTL.url, KUBECTL.hash, { mode: MODE_EXECUTABLE }),
      file(KUBELET_CONFIG, yaml(kubeletConfiguration(options))),
    ],
    units: [
      unit(KUBELET_UNIT, {
        Unit: {
          Description: `Kubernetes kubelet ${KUBERNETES_VERSION}`,
          Requires: before,
          After: [...before, 'network-online.target', ...options.after],
          Wants: 'network-online.target',
        },
        Service: {
          EnvironmentFile: [CLUSTER_ENV, NODE_ENV],
          ExecStartPre: command('/usr/bin/mkdir', ['-p', STATIC_POD_DIR, '/var/lib/kubelet']),
          ExecStart: command(KUBELET_BINARY, [
            `--config=${KUBELET_CONFIG}`,
            `--kubeconfig=${NODE_KUBECONFIG}`,
            // Node name = EC2 private DNS name: what aws-cloud-controller-manager expects.
            '--hostname-override=${PRIVATE_DNS_NAME}',
            '--node-ip=${PRIVATE_IP}',
            // Out-of-tree AWS: the node stays tainted uninitialized until the cloud controller runs.
            '--cloud-provider=external',
            `--node-labels=${labels}`,
            // Private ECR images: the kubelet asks the ECR credential provider for a token.
            ...CREDENTIAL_PROVIDER_FLAGS,
          ]),
          Restart: 'always',
          RestartSec: 5,
        },
        Install: { WantedBy: 'multi-user.target' },
      }),
    ],
  });
}
