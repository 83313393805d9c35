/**
 * "Is this node's pod network up?" as a bash function for the node health checks.
 *
 * flannel's init container writes the CNI config before flanneld holds a subnet (and the file
 * outlives a reboot), so the kubelet can report the node Ready before flanneld has a lease or
 * kube-proxy has written a service rule; a node that signals healthy then would take pods it
 * cannot network. The function passes only when
 * flanneld's subnet file names this node's podCIDR inside the pod network, and kube-proxy's
 * health server answers 200 after at least one successful sync of its rules.
 */
import { FLANNEL_SUBNET_FILE } from './flannel';
import { KUBECTL_BINARY, NODE_KUBECONFIG } from './kubelet';
import { KUBE_PROXY_HEALTHZ_ADDRESS, KUBE_PROXY_METRICS_ADDRESS } from './kube-proxy';
import { NODE_ENV } from './paths';
import { ResolvedNetwork } from './types';

const POD_NETWORK_READY = 'pod_network_ready';

/**
 * kube-proxy's /healthz: 503 once a rule sync is overdue or its Node is being deleted, but 200
 * while it starts up, before it has written a single rule (kubernetes/kubernetes
 * pkg/proxy/healthcheck/proxy_health.go: nodeEligible starts true, and a proxier with no
 * pending update counts as healthy). So the check also needs kube-proxy's own record of a
 * successful sync: the gauge kubeproxy_sync_proxy_rules_last_timestamp_seconds ("the last
 * time proxy rules were successfully synced", pkg/proxy/metrics/metrics.go), 0 until the
 * first sync.
 */
const KUBE_PROXY_HEALTHZ_URL = `http://${KUBE_PROXY_HEALTHZ_ADDRESS}/healthz`;
const KUBE_PROXY_METRICS_URL = `http://${KUBE_PROXY_METRICS_ADDRESS}/metrics`;
const KUBE_PROXY_SYNC_METRIC = 'kubeproxy_sync_proxy_rules_last_timestamp_seconds';

/**
 * `pod_network_ready POD_CIDR`: returns 0 only when flanneld's subnet file has
 * FLANNEL_NETWORK = the pod network and FLANNEL_SUBNET = the first address of POD_CIDR with
 * its prefix (flannel v0.27.3 pkg/subnet/subnet.go WriteSubnetFile writes the network address
 * plus one), and kube-proxy is healthy and has synced its rules once. Says why on stderr otherwise. The subnet file is read,
 * never sourced: it is written by a container.
 */
function podNetworkReadyFunction(network: ResolvedNetwork): string {
  return `# ${POD_NETWORK_READY} POD_CIDR: flannel holds this node's subnet and kube-proxy is healthy and synced.
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
  if ! curl -fsS --max-time 5 ${KUBE_PROXY_METRICS_URL} |
    awk '($1 == "${KUBE_PROXY_SYNC_METRIC}" || index($1, "${KUBE_PROXY_SYNC_METRIC}{") == 1) && $2 + 0 > 0 { synced = 1 } END { exit !synced }'; then
    echo "node-health-check: kube-proxy has not synced its service rules yet (${KUBE_PROXY_SYNC_METRIC} at ${KUBE_PROXY_METRICS_URL})" >&2
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
