/**
 * Cluster network defaults (the 2016 values, kept so existing firewall rules and habits hold).
 */

/** Pod network: flannel hands each node a /24 out of it (controller-manager --allocate-node-cidrs). */
export const POD_CIDR = '10.2.0.0/16';

/** Per-node pod subnet size: 254 pods per node, 256 nodes in the /16. */
export const NODE_CIDR_MASK_SIZE = 24;

/** Service ClusterIPs; the first address (10.3.0.1) is the `kubernetes` service. */
export const SERVICE_CIDR = '10.3.0.0/24';

/** ClusterIP of the cluster DNS service (CoreDNS add-on). */
export const CLUSTER_DNS_IP = '10.3.0.10';

export const CLUSTER_DOMAIN = 'cluster.local';

/** flannel's vxlan backend uses the Linux default port; security groups open UDP 8472 between nodes. */
export const FLANNEL_VXLAN_PORT = 8472;

/** The API server's secure port on masters (the load balancer re-encrypts to it). */
export const API_SERVER_PORT = 443;
/** Where a master's own clients reach its API server (apiserver.crt names 127.0.0.1). */
export const LOCAL_API_SERVER = `https://127.0.0.1:${API_SERVER_PORT}`;

/** Where the authn/authz webhook server listens on every master (host network, loopback only). */
export const WEBHOOK_LISTEN_ADDRESS = '127.0.0.1';
export const WEBHOOK_PORT = 8443;

/**
 * amazon-eks-pod-identity-webhook on every master (host network): the API server calls it on
 * 127.0.0.1. It listens on every address (main.go: `:<port>`, no address flag), so
 * pod-identity-webhook-firewall drops these ports on every interface but loopback.
 */
export const POD_IDENTITY_WEBHOOK_PORT = 9443;
export const POD_IDENTITY_WEBHOOK_METRICS_PORT = 9999;

/** kubelet healthz: bound to 0.0.0.0 on workers so an internal load balancer can check it (as in 2016). */
export const KUBELET_HEALTHZ_PORT = 10248;

/**
 * kube-proxy's health server (/healthz, /livez): kube-proxy's default port, bound to loopback
 * since only the node's own health check reads it (aws-cloud-controller-manager probes it only
 * in its non-default `Shared` health-probe mode).
 */
export const KUBE_PROXY_HEALTHZ_PORT = 10256;

/** The kubelet's API (logs, exec, metrics): reached from the masters only. */
export const KUBELET_PORT = 10250;

/** etcd's IANA ports: clients and peers. */
export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;
