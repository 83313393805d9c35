/**
 * Pod network: flannel with the vxlan backend, plus the standard CNI plugins.
 *
 * Why flannel vxlan: it is simple (one daemon per node, no cloud API calls, no route-table
 * limits), works in any VPC layout, and is what the 2016 system ran (pod network 10.2.0.0/16,
 * UDP 8472 between nodes, already in the security groups). It reads each node's podCIDR
 * from the API (the controller-manager allocates them), so it needs no etcd of its own.
 *
 * flanneld runs as a static pod (host network) so it starts before any CNI exists; its
 * init container copies flannel's CNI plugin binary onto the host, as kube-flannel.yml does.
 */
import { directory, file, remoteFile } from './files';
import { NodeParts } from './ignition';
import { FLANNEL_VXLAN_PORT } from './network';
import { CNI_BIN_DIR, CNI_CONF_DIR, KUBERNETES_PKI_DIR } from './paths';
import { HOST_CA_MOUNTS, HostMount, staticPodFile, StaticPodIdentity } from './static-pod';
import { ResolvedNetwork } from './types';
import { command, unit } from './units';
import { CNI_PLUGINS_TARBALL, CNI_PLUGINS_VERSION, IMAGES } from './versions';

export const CNI_INSTALL_UNIT = 'cni-plugins-install.service';
const CNI_TARBALL_PATH = `/opt/cni/cni-plugins-linux-amd64-${CNI_PLUGINS_VERSION}.tgz`;
export const FLANNEL_NET_CONF = '/etc/kube-flannel/net-conf.json';
export const FLANNEL_CNI_CONF = `${CNI_CONF_DIR}/10-flannel.conflist`;
const FLANNEL_RUN_DIR = '/run/flannel';
/**
 * Where flanneld writes its lease once it holds one: FLANNEL_NETWORK (the pod network) and
 * FLANNEL_SUBNET (the first address of this node's podCIDR, with its prefix). flanneld's
 * default --subnet-file (flannel-io/flannel v0.27.3 main.go; pkg/subnet/subnet.go
 * WriteSubnetFile). /run is a tmpfs: no file survives from an earlier boot.
 */
export const FLANNEL_SUBNET_FILE = `${FLANNEL_RUN_DIR}/subnet.env`;

/** flannel's network config: the whole pod network, one /24 per node from the node's podCIDR. */
export function flannelNetConf(network: ResolvedNetwork): Record<string, unknown> {
  return { Network: network.podCidr, Backend: { Type: 'vxlan', Port: FLANNEL_VXLAN_PORT } };
}

/** CNI config: flannel delegates to the bridge plugin (bridge cni0, what kube2iam's --host-interface names). */
export const FLANNEL_CNI_CONFLIST = {
  name: 'cbr0',
  cniVersion: '0.3.1',
  plugins: [
    { type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } },
    { type: 'portmap', capabilities: { portMappings: true } },
  ],
};

/** flanneld's static pod: its name and labels, which its mirror pods carry too. */
export const FLANNEL_POD: StaticPodIdentity = { name: 'kube-flannel', labels: { 'k8s-app': 'flannel' } };

export interface FlannelOptions {
  readonly network: ResolvedNetwork;
  /** The node kubeconfig and the token file it names (mounted read-only, nothing else of the PKI dir). */
  readonly kubeconfig: string;
  readonly tokenFile: string;
}

/** Host files a node agent (flannel, kube-proxy) reads to reach the API. */
export function apiClientMounts(kubeconfig: string, tokenFile: string): HostMount[] {
  return [
    { name: 'kubeconfig', path: kubeconfig, type: 'File', readOnly: true },
    { name: 'token', path: tokenFile, type: 'File', readOnly: true },
    { name: 'cluster-ca', path: `${KUBERNETES_PKI_DIR}/ca.crt`, type: 'File', readOnly: true },
    ...HOST_CA_MOUNTS,
  ];
}

export function flannelParts(options: FlannelOptions): NodeParts {
  const mounts: HostMount[] = [
    ...apiClientMounts(options.kubeconfig, options.tokenFile),
    { name: 'net-conf', path: FLANNEL_NET_CONF, type: 'File', readOnly: true },
    { name: 'run-flannel', path: FLANNEL_RUN_DIR, type: 'DirectoryOrCreate', readOnly: false },
    { name: 'cni-bin', path: CNI_BIN_DIR, type: 'DirectoryOrCreate', readOnly: false },
    { name: 'xtables-lock', path: '/run/xtables.lock', type: 'FileOrCreate', readOnly: false },
  ];
  const fieldEnv = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
  return {
    directories: [directory('/opt/cni'), directory(CNI_BIN_DIR), directory(CNI_CONF_DIR), directory('/etc/kube-flannel')],
    files: [
      remoteFile(CNI_TARBALL_PATH, CNI_PLUGINS_TARBALL.url, CNI_PLUGINS_TARBALL.hash),
      file(FLANNEL_NET_CONF, `${JSON.stringify(flannelNetConf(options.network), null, 2)}\n`),
      file(FLANNEL_CNI_CONF, `${JSON.stringify(FLANNEL_CNI_CONFLIST, null, 2)}\n`),
      staticPodFile({
        ...FLANNEL_POD,
        mounts,
        initContainers: [
          {
            name: 'install-cni-plugin',
            image: IMAGES.flannelCniPlugin,
            command: ['cp', '-f', '/flannel', `${CNI_BIN_DIR}/flannel`],
            mounts: ['cni-bin'],
          },
        ],
        containers: [
          {
            name: 'kube-flannel',
            image: IMAGES.flannel,
            command: ['/opt/bin/flanneld', '--ip-masq', '--kube-subnet-mgr', `--kubeconfig-file=${options.kubeconfig}`],
            // Outside a DaemonSet flannel finds its node by NODE_NAME.
            env: [fieldEnv('NODE_NAME', 'spec.nodeName'), fieldEnv('POD_NAME', 'metadata.name'), fieldEnv('POD_NAMESPACE', 'metadata.namespace')],
            securityContext: { privileged: false, capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } },
            resources: { requests: { cpu: '100m', memory: '50Mi' } },
            mounts: ['kubeconfig', 'token', 'cluster-ca', 'ssl-certs', 'ca-certificates', 'net-conf', 'run-flannel', 'xtables-lock'],
          },
        ],
      }),
    ],
    units: [
      unit(CNI_INSTALL_UNIT, {
        Unit: {
          Description: `Unpack the CNI plugins ${CNI_PLUGINS_VERSION} (tarball checked by Ignition against its sha256)`,
          Before: 'kubelet.service',
        },
        Service: {
          Type: 'oneshot',
          RemainAfterExit: true,
          ExecStart: command('/usr/bin/tar', ['-xzf', CNI_TARBALL_PATH, '-C', CNI_BIN_DIR, '--no-same-owner']),
        },
        Install: { WantedBy: 'multi-user.target' },
      }),
    ],
  };
}
