/**
 * A worker: what runs on a worker node, in one file.
 *
 * Boot order: node-identity -> fetch-secrets (ca.crt) -> containerd, kubelet (signing in as
 * the instance role) -> cfn-signal once the kubelet is healthy, the API reports the node Ready
 * and the pod network is up (flannel's subnet, kube-proxy healthy: both DaemonSets).
 */
import { healthSignalParts } from './health-signal';
import { IgnitionConfig, ignitionConfig, mergeParts } from './ignition';
import { KUBELET_UNIT } from './kubelet';
import { kubernetesNodeParts } from './kubernetes-node';
import { KUBELET_HEALTHZ_PORT } from './network';
import { nodeBootstrapParts } from './node-bootstrap';
import { KUBERNETES_PKI_DIR } from './paths';
import { nodeReadyWithPodNetwork } from './pod-network-health';
import { fetchSecretsParts } from './secrets';
import { internalApiDnsName, ResolvedNetwork, resolveNetwork, validateWorkerInput, WorkerNodeInput } from './types';
import { ClusterSecretNames } from './secret-names';

/**
 * What a worker reads from its secret: the cluster CA (the API server's certificate, kubelet
 * client-cert checks). Its credential is its instance role (kubernetes-node.ts).
 */
export const WORKER_SECRET_FILES = ['ca.crt'];

/** The worker's health check: the kubelet answers healthz, the node is Ready, its pod network is up. */
function healthCheck(network: ResolvedNetwork): string {
  return `#!/bin/bash
# node-health-check (worker): kubelet healthz, node Ready, pod network up.
set -euo pipefail
if ! curl -fsS --max-time 5 http://127.0.0.1:${KUBELET_HEALTHZ_PORT}/healthz >/dev/null; then
  echo "node-health-check: the kubelet's healthz does not answer" >&2
  exit 1
fi
${nodeReadyWithPodNetwork(network)}`;
}

/** The full Ignition config of a worker (an S3 asset; the user data is the stub). */
export function workerConfig(input: WorkerNodeInput): IgnitionConfig {
  validateWorkerInput(input);
  const network = resolveNetwork(input, 'worker');
  const apiServer = input.apiServerUrl ?? `https://${internalApiDnsName(input)}`;
  return ignitionConfig(
    mergeParts(
      nodeBootstrapParts(input, 'worker'),
      fetchSecretsParts({
        dir: KUBERNETES_PKI_DIR,
        secrets: [{ id: new ClusterSecretNames(input.cluster).worker, files: WORKER_SECRET_FILES }],
        before: [KUBELET_UNIT],
      }),
      kubernetesNodeParts({
        identity: input,
        // The internal endpoint passes TLS through: the API server's own certificate, signed by
        // the cluster CA (fetched from the worker secret), names the internal endpoint.
        apiServer,
        certificateAuthority: `${KUBERNETES_PKI_DIR}/ca.crt`,
        network,
        healthzBindAddress: '0.0.0.0',
        registerWithTaints: [],
        nodeLabels: { 'kubernetes-on-aws/role': 'worker' },
        after: [],
      }),
      healthSignalParts({ healthCheck: healthCheck(network), after: [KUBELET_UNIT] }),
    ),
  );
}
