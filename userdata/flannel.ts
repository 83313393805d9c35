/**
 * The node's side of the pod network. flannel itself (vxlan, pod network 10.2.0.0/16 as in
 * the 2016 system) is a DaemonSet delivered at deploy time (manifests/addons/flannel.ts):
 * its init containers put flannel's CNI plugin and CNI config on the host. What the node
 * brings is the standard CNI plugins that config delegates to (bridge, host-local, portmap,
 * loopback), unpacked at boot from a tarball Ignition checks, and the directories they live in.
 *
 * Until flannel's CNI config is in /etc/cni/net.d the kubelet reports the node's network not
 * ready, so the node stays NotReady (and tainted not-ready) instead of taking pods it cannot
 * network.
 */
import { directory, remoteFile } from './files';
import { NodeParts } from './ignition';
import { CNI_BIN_DIR, CNI_CONF_DIR } from './paths';
import { command, unit } from './units';
import { CNI_PLUGINS_TARBALL, CNI_PLUGINS_VERSION } from './versions';

/** flannel's DaemonSet in kube-system, kube-flannel.yml's name (a master's health check asks whether it exists yet). */
export const FLANNEL_DAEMONSET = 'kube-flannel';
export const CNI_INSTALL_UNIT = 'cni-plugins-install.service';
const CNI_TARBALL_PATH = `/opt/cni/cni-plugins-linux-amd64-${CNI_PLUGINS_VERSION}.tgz`;
/** flanneld's state directory on the host (its DaemonSet mounts it). */
export const FLANNEL_RUN_DIR = '/run/flannel';
/**
 * Where flanneld writes its lease once it holds one: FLANNEL_NETWORK (the pod network) and
 * FLANNEL_SUBNET (the first address of this node's podCIDR, with its prefix). flanneld's
 * default --subnet-file (flannel-io/flannel v0.27.3 main.go; pkg/subnet/subnet.go
 * WriteSubnetFile). /run is a tmpfs: no file survives from an earlier boot.
 */
export const FLANNEL_SUBNET_FILE = `${FLANNEL_RUN_DIR}/subnet.env`;

export function cniPluginsParts(): NodeParts {
  return {
    directories: [directory('/opt/cni'), directory(CNI_BIN_DIR), directory(CNI_CONF_DIR)],
    files: [remoteFile(CNI_TARBALL_PATH, CNI_PLUGINS_TARBALL.url, CNI_PLUGINS_TARBALL.hash)],
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
