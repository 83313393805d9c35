/**
 * A worker: what runs on a worker node, in one file.
 *
 * Boot order: node-identity -> fetch-secrets (ca.crt, worker-token) -> containerd, kubelet
 * (static pods: kube-proxy, flannel) -> cfn-signal once the kubelet is healthy and the API
 * reports the node Ready.
 */
import { healthSignalParts } from './health-signal';
import { IgnitionConfig, ignitionConfig, mergeParts } from './ignition';
import { KUBECTL_BINARY, KUBELET_UNIT, NODE_KUBECONFIG } from './kubelet';
import { kubernetesNodeParts } from './kubernetes-node';
import { KUBELET_HEALTHZ_PORT } from './network';
import { nodeBootstrapParts } from './node-bootstrap';
import { NODE_ENV, KUBERNETES_PKI_DIR } from './paths';
import { fetchSecretsParts } from './secrets';
import { defaultApiDnsName, resolveNetwork, validateWorkerInput, WorkerNodeInput } from './types';
import { ClusterSecretNames } from './secret-names';

/** What a worker reads from its secret: the cluster CA (kubelet client-cert checks) and its token. */
export const WORKER_SECRET_FILES = ['ca.crt', 'worker-token'];

const healthCheck = `#!/bin/bash
# node-health-check (worker): the kubelet answers healthz and the API reports this node Ready.
set -euo pipefail
. ${NODE_ENV}
curl -fsS --max-time 5 http://127.0.0.1:${KUBELET_HEALTHZ_PORT}/healthz >/dev/null
ready=$(${KUBECTL_BINARY} --kubeconfig ${NODE_KUBECONFIG} --request-timeout=10s \\
  get node "$PRIVATE_DNS_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')
[ "$ready" = True ]
`;

/** The full Ignition config of a worker (an S3 asset; the user data is the stub). */
export function workerConfig(input: WorkerNodeInput): IgnitionConfig {
  validateWorkerInput(input);
  const network = resolveNetwork(input, 'worker');
  const apiDnsName = defaultApiDnsName(input);
  return ignitionConfig(
    mergeParts(
      nodeBootstrapParts(input, 'worker'),
      fetchSecretsParts({
        dir: KUBERNETES_PKI_DIR,
        secrets: [{ id: new ClusterSecretNames(input.cluster).worker, files: WORKER_SECRET_FILES }],
        before: [KUBELET_UNIT],
      }),
      kubernetesNodeParts({
        cluster: input.cluster,
        // The API load balancer presents a public ACM certificate: the system trust store checks it.
        apiServer: `https://${apiDnsName}`,
        network,
        healthzBindAddress: '0.0.0.0',
        registerWithTaints: [],
        nodeLabels: { 'kubernetes-on-aws/role': 'worker' },
        after: [],
      }),
      healthSignalParts({ healthCheck, after: [KUBELET_UNIT] }),
    ),
  );
}
