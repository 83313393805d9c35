import type { V1Pod } from '@kubernetes/client-node';
import { EBS_DEFAULT_STORAGE_CLASS } from '../../../manifests/addons/aws-ebs-csi-driver';
import type { E2eStep, StepContext } from './step';
import { StepFailure } from './wait';
import { NAME_LABEL, STORE, dataClaimOf, storeStatefulSet } from './workloads';

/**
 * Step 3: a StatefulSet's EBS volume keeps its data across a pod restart. Its pod appends its
 * UID to a file on the volume and prints the file; the suite deletes the pod, and the new pod's
 * log must list the old pod's UID before its own. Its claim must be Bound in the cluster's
 * default StorageClass (the EBS CSI driver's gp3), which the claim did not name.
 */
export const ebsVolumeStep: E2eStep = {
  name: 'ebs-volume',
  run: async (context) => {
    const { cluster, namespace } = context;
    await cluster.createStatefulSet(namespace, storeStatefulSet(context.options.image));
    const first = await readyPod(context, 'the first pod of StatefulSet store', () => true);
    const claimName = dataClaimOf(first);
    const claim = claimName ? await cluster.readPersistentVolumeClaim(namespace, claimName) : undefined;
    // kubernetes/api v0.35.1 core/v1/types.go: PersistentVolumeClaimSpec.StorageClassName, ClaimBound.
    if (claim?.status?.phase !== 'Bound') throw new StepFailure(`claim ${claimName ?? '(none mounted as data)'} of pod ${first.metadata?.name}: ${claim?.status?.phase ?? 'not found'}, not Bound`);
    if (claim.spec?.storageClassName !== EBS_DEFAULT_STORAGE_CLASS) {
      throw new StepFailure(`claim ${claimName} got StorageClass ${claim.spec?.storageClassName ?? 'none'}, not the default ${EBS_DEFAULT_STORAGE_CLASS}: is ${EBS_DEFAULT_STORAGE_CLASS} still the default class?`);
    }
    const firstUid = first.metadata?.uid ?? '';
    await cluster.deletePod(namespace, first.metadata?.name ?? '');
    context.progress(`ebs-volume: deleted pod ${first.metadata?.name} (uid ${firstUid}); waiting for its successor`);
    const second = await readyPod(context, `a new pod of StatefulSet store (after deleting uid ${firstUid})`, (pod) => pod.metadata?.uid !== firstUid);
    const boots = (await cluster.readPodLog(namespace, second.metadata?.name ?? '')).split('\n').map((line) => line.trim()).filter(Boolean);
    const secondUid = second.metadata?.uid ?? '';
    const firstAt = boots.indexOf(firstUid);
    if (firstAt < 0 || boots.indexOf(secondUid) < firstAt) {
      throw new StepFailure(`the new pod (uid ${secondUid}) did not find the old pod's file on volume ${claim.spec?.volumeName ?? claimName}: its log lists ${boots.length > 0 ? boots.join(', ') : 'nothing'}, not uid ${firstUid} then its own`);
    }
    return `claim ${claimName} Bound in StorageClass ${EBS_DEFAULT_STORAGE_CLASS} (volume ${claim.spec?.volumeName}); a new pod read the old pod's file after it was deleted`;
  },
};

/** The StatefulSet's one pod for which `wanted` holds, once it is Ready (kubernetes/api v0.35.1 core/v1 PodReady). */
function readyPod(context: StepContext, what: string, wanted: (pod: V1Pod) => boolean): Promise<V1Pod> {
  return context.wait<V1Pod>(`${what} to be ready`, context.options.timeouts.rollout, async () => {
    const pods = (await context.cluster.listPods(context.namespace, `${NAME_LABEL}=${STORE}`)).filter(wanted);
    const ready = pods.find((pod) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    if (ready) return { done: ready };
    return { waiting: pods.length === 0 ? 'no pod yet' : pods.map((pod) => `${pod.metadata?.name} ${pod.status?.phase ?? 'Pending'}${podWaiting(pod)}`).join(', ') };
  });
}

function podWaiting(pod: V1Pod): string {
  const unscheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unscheduled) return ` (unschedulable: ${unscheduled.message ?? unscheduled.reason})`;
  const waiting = pod.status?.containerStatuses?.find((s) => s.state?.waiting)?.state?.waiting;
  return waiting ? ` (${waiting.reason})` : '';
}
