import type { V1PersistentVolume } from '@kubernetes/client-node';
import type { E2eCluster } from './e2e-cluster';
import type { E2eStep } from './step';

/**
 * The last step, run whatever happened before (but only on a namespace this run made: e2e.ts):
 * delete the run's namespace and wait until it is gone with all it made in AWS. The Service's
 * load balancer first: the cloud controller keeps the Service (finalizer
 * service.kubernetes.io/load-balancer-cleanup, kubernetes/cloud-provider v0.35.1
 * service/helpers/helper.go) until it has deleted it, and the namespace until its objects are
 * gone. Then the volumes, found by their claimRef's namespace: a PersistentVolume with reclaim
 * policy Delete goes once the driver deleted its volume; one with Retain (a default
 * StorageClass that keeps volumes) stays Released for ever (kubernetes/api v0.35.1 core/v1
 * PersistentVolumeReclaimDelete, PersistentVolumeReclaimRetain), so the step deletes it, and
 * says which EBS volume that leaves in AWS.
 */
export const cleanupStep: E2eStep = {
  name: 'cleanup',
  run: async (context) => {
    const { cluster, namespace } = context;
    const byHand = `delete it by hand: kubectl delete namespace ${namespace}`;
    let retained: V1PersistentVolume[] = [];
    try {
      await cluster.deleteNamespace(namespace);
      await context.wait(`namespace ${namespace} to be gone`, context.options.timeouts.cleanup, async () => {
        const left = await cluster.readNamespace(namespace);
        return left ? { waiting: `namespace ${left.status?.phase ?? 'present'}${conditionsOf(left)}` } : { done: true };
      });
      retained = (await volumesOf(cluster, namespace)).filter((pv) => pv.spec?.persistentVolumeReclaimPolicy === 'Retain');
      for (const pv of retained) await cluster.deletePersistentVolume(pv.metadata?.name ?? '');
      await context.wait(`the PersistentVolumes of namespace ${namespace} to be deleted`, context.options.timeouts.cleanup, async () => {
        const left = await volumesOf(cluster, namespace);
        return left.length === 0 ? { done: true } : { waiting: `${left.map((pv) => `${pv.metadata?.name} ${pv.status?.phase ?? ''}`.trim()).join(', ')} left` };
      });
    } catch (error) {
      throw Object.assign(error as Error, { message: `${(error as Error).message}; ${byHand}${leftInAws(retained, context.region)}` });
    }
    return `namespace ${namespace} deleted, with its load balancer and volumes${leftInAws(retained, context.region)}`;
  },
};

async function volumesOf(cluster: E2eCluster, namespace: string): Promise<V1PersistentVolume[]> {
  return (await cluster.listPersistentVolumes()).filter((pv) => pv.spec?.claimRef?.namespace === namespace);
}

/**
 * What deleting a Retain PersistentVolume leaves: its EBS volume, whose id is the CSI
 * volumeHandle (kubernetes/api v0.35.1 core/v1 CSIPersistentVolumeSource.VolumeHandle, "returned
 * by the CSI volume plugin's CreateVolume"; the EBS CSI driver returns the EBS volume id,
 * aws-ebs-csi-driver v1.64.0, the add-on's, pkg/driver/controller.go newCreateVolumeResponse:
 * `VolumeId: disk.VolumeID`).
 */
function leftInAws(retained: readonly V1PersistentVolume[], region: string): string {
  if (retained.length === 0) return '';
  const volumes = retained.map((pv) => pv.spec?.csi?.volumeHandle ?? `(the volume of ${pv.metadata?.name})`);
  const commands = volumes.map((id) => `aws ec2 delete-volume --region ${region} --volume-id ${id}`).join('; ');
  return `; PersistentVolume ${retained.map((pv) => pv.metadata?.name).join(', ')} had reclaim policy Retain: deleted, but its EBS volume ${volumes.join(', ')} stays in AWS: delete it with ${commands}`;
}

/** The namespace's conditions that say what holds it (kubernetes/api v0.35.1 core/v1 NamespaceContentRemaining, NamespaceFinalizersRemaining). */
function conditionsOf(namespace: { status?: { conditions?: { type: string; status: string; message?: string }[] } }): string {
  const holding = (namespace.status?.conditions ?? []).filter((c) => c.status === 'True' && c.message);
  return holding.length > 0 ? `: ${holding.map((c) => c.message).join('; ')}` : '';
}
