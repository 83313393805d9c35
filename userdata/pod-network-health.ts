/**
 * "Is this node's pod network up?" as a bash function for the node health checks.
 *
 * The CNI config is a static file written by Ignition, so the kubelet reports the node Ready
 * long before flanneld holds a subnet or kube-proxy has written a service rule; a node that
 * signals healthy then would take pods it cannot network. The function passes only when
 * flanneld's subnet file names this node's podCIDR inside the pod network, and kube-proxy's
 * health server answers 200.
 */
import { FLANNEL_SUBNET_FILE } from './flannel';
import { KUBECTL_BINARY, NODE_KUBECONFIG } from './kubelet';
import { KUBE_PROXY_HEALTHZ_ADDRESS } from './kube-proxy';
import { NODE_ENV } from './paths';
import { ResolvedNetwork } from './types';

const POD_NETWORK_READY = 'pod_network_ready';

/**
 * kube-proxy's /healthz: 200 once kube-proxy knows its Node object and no rule sync is
 * overdue, 503 otherwise (kubernetes/kubernetes pkg/proxy/healthcheck/proxy_health.go
 * healthzHandler; /livez leaves out the node check).
 */
const KUBE_PROXY_HEALTHZ_URL = `http://${KUBE_PROXY_HEALTHZ_ADDRESS}/healthz`;

/**
 * `pod_network_ready POD_CIDR`: returns 0 only when flanneld's subnet file has
 * FLANNEL_NETWORK = the pod network and FLANNEL_SUBNET = the first address of POD_CIDR with
 * its prefix (flannel v0.27.3 pkg/subnet/subnet.go WriteSubnetFile writes the network address
 * plus one), and kube-proxy is healthy. Says why on stderr otherwise. The subnet file is read,
 * never sourced: it is written by a container.
 */
function podNetworkReadyFunction(network: ResolvedNetwork): string {
  return `# ${POD_NETWORK_READY} POD_CIDR: flannel holds this node's subnet and kube-proxy is healthy.
${POD_NETWORK_READY}() {
  local pod_cidr=$1 subnet_file=${FLANNEL_SUBNET_FILE} n first flannel_network flannel_subnet
  if ! [[ "$pod_cidr" =~ ^([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})/([0-9]{1,2})$ ]]; then
    echo "node-health-check: this node has no podCIDR yet ('$pod_cidr'); kube-controller-manager allocates it" >&2
    return 1
  fi
  n=$(( (BASH_REMATCH[1] << 24 | BASH_REMATCH[2] << 16 | BASH_REMATCH[3] << 8 | BASH_REMATCH[4]) + 1 ))
  first="$(( n >> 24 & 255 )).$(( n >> 16 & 255 )).$(( n >> 8 & 255 )).$(( n & 255 ))/\${BASH_REMATCH[5]}"
  if [ ! -f "$subnet_file" ]; then
    echo "node-health-check: flanneld has not written $subnet_file yet" >&2
    return 1
  fi
  flannel_network=$(sed -n 's/^FLANNEL_NETWORK=//p' "$subnet_file")
  flannel_subnet=$(sed -n 's/^FLANNEL_SUBNET=//p' "$subnet_file")
  if [ "$flannel_network" != ${network.podCidr} ] || [ "$flannel_subnet" != "$first" ]; then
    echo "node-health-check: $subnet_file has network '$flannel_network' subnet '$flannel_subnet'; expected ${network.podCidr} and $first (podCIDR $pod_cidr)" >&2
    return 1
  fi
  if ! curl -fsS --max-time 5 ${KUBE_PROXY_HEALTHZ_URL} >/dev/null; then
    echo "node-health-check: kube-proxy is not healthy (${KUBE_PROXY_HEALTHZ_URL})" >&2
    return 1
  fi
}
`;
}

/**
 * The end of a Kubernetes node's health check, masters' and workers' alike: the API reports
 * this node Ready and its pod network is up. The node's podCIDR and Ready condition come in
 * one API read, separated by '|' so that an empty podCIDR stays empty. Masters need the pod
 * network too: the API server reaches admission webhooks through Service IPs (kube-proxy's
 * rules) and aggregated APIs such as metrics-server by pod IP (flannel's routes).
 */
export function nodeReadyWithPodNetwork(network: ResolvedNetwork): string {
  return `. ${NODE_ENV}
${podNetworkReadyFunction(network)}
node=$(${KUBECTL_BINARY} --kubeconfig ${NODE_KUBECONFIG} --request-timeout=10s get node "$PRIVATE_DNS_NAME" \\
  -o 'jsonpath={.spec.podCIDR}|{.status.conditions[?(@.type=="Ready")].status}')
IFS='|' read -r pod_cidr ready <<<"$node"
if [ "$ready" != True ]; then
  echo "node-health-check: node $PRIVATE_DNS_NAME is not Ready ('$ready')" >&2
  exit 1
fi
${POD_NETWORK_READY} "$pod_cidr"
`;
}
