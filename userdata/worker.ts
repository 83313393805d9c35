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
import { internalApiDnsName, ResolvedNetwork, resolveNetwork, validateWorkerInput, WorkerNodeInput, WorkerPoolInput } from './types';
import { ClusterSecretNames } from './secret-names';

/**
 * What a worker reads from its secret: the cluster CA (the API server's certificate, kubelet
 * client-cert checks). Its credential is its instance role (kubernetes-node.ts).
 */
export const WORKER_SECRET_FILES = ['ca.crt'];

/**
 * The label naming a worker's pool. Under node.kubernetes.io, a namespace the kubelet may set
 * on its own Node (k8s.io/kubelet v0.35.1 pkg/apis/well_known_labels.go KubeletLabelNamespaces),
 * so NodeRestriction admits it; a node can still claim any pool: select on it for placement,
 * never for trust.
 */
export const WORKER_POOL_LABEL = 'node.kubernetes.io/pool';

/** The pool of workers whose config names none. */
export const DEFAULT_WORKER_POOL: WorkerPoolInput = { name: 'default', labels: {}, taints: [] };

/**
 * What of Flatcar's disk is not its root partition: the partitions before ROOT (EFI 1 GiB,
 * BIOS 2 MiB, USR-A and USR-B 2 GiB each, OEM 1 GiB, OEM-CONFIG 64 MiB: flatcar/scripts
 * stable-4593.2.5 build_library/disk_layout.json), rounded up.
 */
const FLATCAR_NON_ROOT_GIB = 6.1;
/**
 * The root filesystem's inode tables, which its capacity leaves out: ext4 made with one
 * 256-byte inode per 4096 bytes (build_library/disk_util FormatExt: `-i` the block size, `-I
 * 256`), a share the boot-time resize keeps.
 */
const INODE_TABLE_SHARE = 256 / 4096;
/** The journal and the rest of ext4's metadata: a journal is at most 1 GiB (mke2fs defaults). */
const EXT4_OTHER_METADATA_GIB = 1;
/** The kubelet's default hard eviction threshold nodefs.available<10% (k8s.io/kubelet v0.35.1 config/v1beta1/types.go EvictionHard), which allocatable leaves out. */
const NODEFS_EVICTION_HARD = 0.1;

/**
 * A lower bound of a worker's allocatable ephemeral storage, in whole GiB, for a root volume of
 * `rootVolumeGiB`: what cluster-autoscaler may promise pods of a pool it scales up from zero.
 * Too high, and it would start a node the pod cannot fit on. Calculated from the image's
 * layout, not measured on a node.
 */
export function workerEphemeralStorageGiB(rootVolumeGiB: number): number {
  const filesystem = (rootVolumeGiB - FLATCAR_NON_ROOT_GIB) * (1 - INODE_TABLE_SHARE) - EXT4_OTHER_METADATA_GIB;
  return Math.floor(filesystem * (1 - NODEFS_EVICTION_HARD));
}

/** The labels a worker of `pool` registers with: the pool's own, its role and its pool's name. */
export function workerNodeLabels(pool: Pick<WorkerPoolInput, 'name' | 'labels'>): Record<string, string> {
  return { ...pool.labels, 'kubernetes-on-aws/role': 'worker', [WORKER_POOL_LABEL]: pool.name };
}

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
  const pool = input.pool ?? DEFAULT_WORKER_POOL;
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
        registerWithTaints: pool.taints,
        nodeLabels: workerNodeLabels(pool),
        after: [],
      }),
      healthSignalParts({ healthCheck: healthCheck(network), after: [KUBELET_UNIT] }),
    ),
  );
}
