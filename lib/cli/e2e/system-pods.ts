import type { V1Pod } from '@kubernetes/client-node';
import { addonNamespaces, ExpectedObject } from '../validate/expected-objects';
import type { E2eStep } from './step';
import { StepFailure } from './wait';

/** What one look at the system namespaces' pods found. */
export interface SystemPodsVerdict {
  /** Pods running and ready (or finished, for a Job's). */
  readonly ready: number;
  readonly total: number;
  /** `<namespace>/<pod>: <why>` for each pod not running and ready. */
  readonly notReady: readonly string[];
  /** `<namespace>/<pod> container <c> restarted at <time> (<reason> exit <code>; N restarts in all)`: restarts since the run started. */
  readonly restarted: readonly string[];
  /** Containers whose last restart was before the run started (not counted). */
  readonly restartedBefore: number;
  /** `<Kind> <namespace>/<name> (add-on <a>)` for an add-on workload without any pod. */
  readonly missing: readonly string[];
  /** Optional add-ons none of whose workloads has a pod: taken as turned off (disabledAddons). */
  readonly turnedOff: readonly string[];
}

/**
 * Judges the pods of the system namespaces. A pod is ready when its phase is Running and its
 * Ready condition True, or its phase Succeeded (a finished Job's). A container restarted during
 * the run when its last termination finished at or after `since` (kubernetes/api v0.35.1
 * core/v1/types.go ContainerStatus.RestartCount, LastTerminationState,
 * ContainerStateTerminated.FinishedAt): a restartCount above 0 alone is not one, as masters'
 * daily certificate refresh restarts the static pods by stopping their containers
 * (userdata/certificate-refresh.ts), so on a long-lived cluster it is never 0. FinishedAt has
 * whole seconds (metav1.Time), so a restart in the run's first second counts too; one without a
 * FinishedAt cannot be dated and is not counted. Each add-on workload must have a pod:
 * a DaemonSet's pods name it as owner; a Deployment's name its ReplicaSet, `<deployment>-<the
 * pod's pod-template-hash label>` (apps/v1/types.go DefaultDeploymentUniqueLabelKey).
 */
export function judgeSystemPods(pods: readonly V1Pod[], expected: readonly ExpectedObject[], since: Date): SystemPodsVerdict {
  const notReady: string[] = [];
  const restarted: string[] = [];
  let restartedBefore = 0;
  const sinceSecond = Math.floor(since.getTime() / 1000) * 1000;
  let ready = 0;
  for (const pod of pods) {
    const subject = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    const phase = pod.status?.phase ?? 'Unknown';
    const readyCondition = pod.status?.conditions?.find((c) => c.type === 'Ready');
    if (phase === 'Succeeded' || (phase === 'Running' && readyCondition?.status === 'True')) ready++;
    else notReady.push(`${subject}: ${phase}${readyCondition?.status === 'False' && readyCondition.reason ? `, ${readyCondition.reason}` : ''}${waitingReasons(pod)}`);
    for (const status of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      if (status.restartCount === 0) continue;
      const last = status.lastState?.terminated;
      const finishedAt = last?.finishedAt === undefined ? NaN : new Date(last.finishedAt).getTime();
      if (last && finishedAt >= sinceSecond) {
        restarted.push(`${subject} container ${status.name} restarted at ${new Date(finishedAt).toISOString()} (${last.reason ?? 'terminated'} exit ${last.exitCode}; ${status.restartCount} restarts in all)`);
      } else {
        restartedBefore++;
      }
    }
  }
  const workloads = expected.filter((o) => o.kind === 'DaemonSet' || o.kind === 'Deployment');
  const withPods = workloads.filter((o) => pods.some((pod) => ownedBy(pod, o)));
  const deployed = new Set(withPods.map((o) => o.addon));
  const turnedOff = [...new Set(workloads.filter((o) => o.optional && !deployed.has(o.addon)).map((o) => o.addon))];
  const missing = workloads
    .filter((o) => !withPods.includes(o) && !turnedOff.includes(o.addon))
    .map((o) => `${o.kind} ${o.namespace}/${o.name} (add-on ${o.addon})`);
  return { ready, total: pods.length, notReady, restarted, restartedBefore, missing, turnedOff };
}

function ownedBy(pod: V1Pod, workload: ExpectedObject): boolean {
  if (pod.metadata?.namespace !== workload.namespace) return false;
  const hash = pod.metadata?.labels?.['pod-template-hash'];
  return (pod.metadata?.ownerReferences ?? []).some((owner) =>
    workload.kind === 'DaemonSet' ? owner.kind === 'DaemonSet' && owner.name === workload.name : owner.kind === 'ReplicaSet' && hash !== undefined && owner.name === `${workload.name}-${hash}`,
  );
}

function waitingReasons(pod: V1Pod): string {
  const reasons = (pod.status?.containerStatuses ?? []).flatMap((s) => (s.state?.waiting?.reason ? [`${s.name} ${s.state.waiting.reason}`] : []));
  return reasons.length > 0 ? ` (${reasons.join(', ')})` : '';
}

/** The namespaces whose pods the step judges: kube-system and every add-on's. */
export function systemNamespaces(expected: readonly ExpectedObject[]): string[] {
  return [...new Set(['kube-system', ...addonNamespaces(expected)])].sort();
}

/**
 * Step 1: every system pod running and ready, no container restarted since the run started,
 * and every add-on workload with a pod. A restart fails at once; the rest is awaited.
 */
export const systemPodsStep: E2eStep = {
  name: 'system-pods',
  run: async (context) => {
    const namespaces = systemNamespaces(context.expected);
    const verdict = await context.wait<SystemPodsVerdict>(`every pod of ${namespaces.join(', ')} to be running and ready`, context.options.timeouts.systemPods, async () => {
      const pods = (await Promise.all(namespaces.map((ns) => context.cluster.listPods(ns)))).flat();
      const seen = judgeSystemPods(pods, context.expected, context.runStartedAt);
      if (seen.restarted.length > 0) throw new StepFailure(`restarts: ${seen.restarted.join('; ')}`);
      const problems = [...seen.missing.map((m) => `${m}: no pod`), ...seen.notReady];
      return problems.length === 0 ? { done: seen } : { waiting: `${seen.ready}/${seen.total} ready; ${problems.join('; ')}` };
    });
    const off = verdict.turnedOff.length > 0 ? `; not deployed, so taken as turned off (optional): ${verdict.turnedOff.join(', ')}` : '';
    const before = verdict.restartedBefore > 0 ? ` (${verdict.restartedBefore} containers last restarted before it, e.g. by the masters' daily certificate refresh: not counted)` : '';
    return `${verdict.total} pods in ${namespaces.join(', ')} running and ready, no restarts since the run started at ${context.runStartedAt.toISOString()}${before}${off}`;
  },
};
