/** Paths on the node that more than one file of `userdata/` refers to. */

/** Our scripts. /opt/bin is on Flatcar's PATH; /usr is read-only there. */
export const BIN_DIR = '/opt/bin';
export const bin = (name: string): string => `${BIN_DIR}/${name}`;

/** Configuration of our own units (not Kubernetes'). */
export const CONFIG_DIR = '/etc/kubernetes-on-aws';
/** Static, rendered at synth: CLUSTER, ZONE, REGION, NODE_ROLE. */
export const CLUSTER_ENV = `${CONFIG_DIR}/cluster.env`;
/** Written at boot from IMDS and the instance's EC2 tags (node-identity.service). */
export const NODE_ENV = `${CONFIG_DIR}/node.env`;
/** Stamps that outlive a reboot (e.g. "health signal sent"). */
export const STATE_DIR = '/var/lib/kubernetes-on-aws';

export const KUBERNETES_DIR = '/etc/kubernetes';
/** Secrets fetched at boot on masters and workers (ca.crt, ...), each file 0600. */
export const KUBERNETES_PKI_DIR = `${KUBERNETES_DIR}/pki`;
/** Tokens generated at boot on masters (static token file, component tokens), each file 0600. */
export const KUBERNETES_AUTH_DIR = `${KUBERNETES_DIR}/auth`;
/** A file of the PKI directory (the fetched secrets: certificates, keys). */
export const pki = (name: string): string => `${KUBERNETES_PKI_DIR}/${name}`;
/** A file of the auth directory (what a master writes at boot: tokens, its own certificates). */
export const auth = (name: string): string => `${KUBERNETES_AUTH_DIR}/${name}`;
export const STATIC_POD_DIR = `${KUBERNETES_DIR}/manifests`;
export const WEBHOOK_DIR = `${KUBERNETES_DIR}/webhook`;

/** Secrets fetched at boot on etcd members (ca.crt, member.crt, member.key), each file 0600. */
export const ETCD_PKI_DIR = '/etc/etcd/pki';

/** containerd's default CNI bin dir, which is why its config does not name it. */
export const CNI_BIN_DIR = '/opt/cni/bin';
export const CNI_CONF_DIR = '/etc/cni/net.d';
