// When a workload has finished rolling out, and why its pods do not come up. The criteria are
// kubectl's `rollout status` (kubernetes/kubectl pkg/polymorphichelpers/rollout_status.go, read
// at commit 53ef3abb02e5148346e12c14e6fa0f20d5712176; not checked against a v0.35.1 tag), over
// the status fields of api v0.35.1 apps/v1/types.go.

/** The kinds whose rollout the applier waits for (group `apps`). */
export const WORKLOAD_KINDS: readonly string[] = ['Deployment', 'DaemonSet', 'StatefulSet'];

/** A rollout's state: done, still going (with what is awaited), or failed for good. */
/** A DaemonSet's rollingUpdate.maxUnavailable as a count of `desired` (an int or a percentage, rounded down; default 1). */
function maxUnavailable(workload: Workload, desired: number): number {
  const value = (workload.spec as { updateStrategy?: { rollingUpdate?: { maxUnavailable?: number | string } } } | undefined)?.updateStrategy?.rollingUpdate
    ?.maxUnavailable;
  if (value === undefined) return 1;
  if (typeof value === 'number') return value;
  const percent = /^(\d+)%$/.exec(value);
  return percent ? Math.floor((desired * Number(percent[1])) / 100) : 1;
}

export type RolloutState =
  | { readonly done: true }
  | { readonly done: false; readonly waitingFor: string; readonly failed?: string };

/** The part of a workload read here. */
export interface Workload {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly generation?: number };
  readonly spec?: {
    readonly replicas?: number;
    readonly selector?: LabelSelector;
    readonly updateStrategy?: { readonly type?: string; readonly rollingUpdate?: { readonly partition?: number } };
  };
  readonly status?: Readonly<Record<string, unknown>> & {
    readonly conditions?: readonly { readonly type: string; readonly status: string; readonly reason?: string; readonly message?: string }[];
  };
}

/** `metav1.LabelSelector`. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { readonly key: string; readonly operator: string; readonly values?: readonly string[] }[];
}

/** The reason of a Deployment's Progressing condition past `progressDeadlineSeconds` (api v0.35.1 apps/v1/types.go). */
const PROGRESS_DEADLINE_EXCEEDED = 'ProgressDeadlineExceeded';

const count = (status: Workload['status'], field: string): number => Number(status?.[field] ?? 0);

/** Where a workload's rollout is. */
export function rolloutState(workload: Workload): RolloutState {
  const status = workload.status;
  const generation = workload.metadata.generation ?? 0;
  const observed = count(status, 'observedGeneration');
  // A controller that has not seen the last spec says nothing about it yet.
  if (observed === 0 || observed < generation) return { done: false, waitingFor: 'the controller to observe the new spec' };
  // "Defaults to 1" (api v0.35.1 apps/v1/types.go, DeploymentSpec and StatefulSetSpec replicas).
  const desired = workload.spec?.replicas ?? 1;
  switch (workload.kind) {
    case 'Deployment': {
      const progressing = status?.conditions?.find((condition) => condition.type === 'Progressing');
      const failed = progressing?.reason === PROGRESS_DEADLINE_EXCEEDED ? progressing.message ?? PROGRESS_DEADLINE_EXCEEDED : undefined;
      const updated = count(status, 'updatedReplicas');
      if (updated < desired) return { done: false, waitingFor: `${updated} of ${desired} replicas updated`, failed };
      const old = count(status, 'replicas') - updated;
      if (old > 0) return { done: false, waitingFor: `${old} old replicas to terminate`, failed };
      const available = count(status, 'availableReplicas');
      if (available < updated) return { done: false, waitingFor: `${available} of ${updated} updated replicas available`, failed };
      return { done: true };
    }
    case 'DaemonSet': {
      // OnDelete: pods change only when deleted by hand; there is no rollout to wait for.
      if (workload.spec?.updateStrategy?.type === 'OnDelete') return { done: true };
      const desiredScheduled = count(status, 'desiredNumberScheduled');
      // Every add-on DaemonSet is for nodes that exist when it is delivered (masters, or the
      // workers the worker stack waited for): none scheduled means its nodes have not
      // registered yet (a new master's kubelet still signing in, or waiting for the webhook).
      if (desiredScheduled === 0) return { done: false, waitingFor: 'a node to run on (no node has registered that it selects)' };
      const updated = count(status, 'updatedNumberScheduled');
      if (updated < desiredScheduled) return { done: false, waitingFor: `${updated} of ${desiredScheduled} pods updated` };
      // Up to the update's maxUnavailable nodes may lag (one NotReady worker must not fail a
      // deploy, nor its rollback): the DaemonSet controller allows as much during the update
      // itself (api v0.35.1 apps/v1 RollingUpdateDaemonSet.maxUnavailable, default 1). Never
      // all of them: at least one pod must be available.
      const available = count(status, 'numberAvailable');
      const tolerated = Math.min(maxUnavailable(workload, desiredScheduled), desiredScheduled - 1);
      if (available < desiredScheduled - Math.max(0, tolerated)) {
        return { done: false, waitingFor: `${available} of ${desiredScheduled} pods available` };
      }
      return { done: true };
    }
    case 'StatefulSet': {
      if (workload.spec?.updateStrategy?.type === 'OnDelete') return { done: true };
      const ready = count(status, 'readyReplicas');
      if (ready < desired) return { done: false, waitingFor: `${ready} of ${desired} pods ready` };
      const partition = workload.spec?.updateStrategy?.rollingUpdate?.partition;
      const updated = count(status, 'updatedReplicas');
      if (partition !== undefined) {
        return updated < desired - partition ? { done: false, waitingFor: `${updated} of ${desired - partition} pods updated` } : { done: true };
      }
      if (status?.updateRevision !== status?.currentRevision) return { done: false, waitingFor: `${updated} of ${desired} pods at revision ${String(status?.updateRevision)}` };
      return { done: true };
    }
    default:
      return { done: true };
  }
}

/**
 * A selector in the query syntax of `labelSelector=` (apimachinery v0.35.1 pkg/labels/selector.go:
 * `k=v`, `k in (a,b)`, `k notin (a)`, `k`, `!k`).
 */
export function selectorQuery(selector: LabelSelector): string {
  const terms = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`);
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    if (operator === 'In') terms.push(`${key} in (${values.join(',')})`);
    else if (operator === 'NotIn') terms.push(`${key} notin (${values.join(',')})`);
    else if (operator === 'Exists') terms.push(key);
    else if (operator === 'DoesNotExist') terms.push(`!${key}`);
  }
  return terms.join(',');
}

/** The part of a Pod read here (api v0.35.1 core/v1/types.go). */
export interface PodView {
  readonly metadata: { readonly name: string };
  readonly status?: {
    readonly conditions?: readonly { readonly type: string; readonly status: string; readonly reason?: string; readonly message?: string }[];
    readonly initContainerStatuses?: readonly ContainerStatusView[];
    readonly containerStatuses?: readonly ContainerStatusView[];
  };
}

interface ContainerStatusView {
  readonly name: string;
  readonly state?: { readonly waiting?: { readonly reason?: string; readonly message?: string } };
}

/** Waiting reasons of a container on its way up, not stuck (kubelet's normal states). */
const STARTING_REASONS = new Set(['ContainerCreating', 'PodInitializing']);

/**
 * Why the first failing pod is not running: a container waiting for a reason other than
 * starting (`ContainerStateWaiting.reason` and `.message`: ImagePullBackOff, CrashLoopBackOff...),
 * or the `PodScheduled` condition with reason `Unschedulable` (core/v1 PodReasonUnschedulable).
 */
export function podFailure(pods: readonly PodView[]): string | undefined {
  for (const pod of pods) {
    for (const container of [...pod.status?.initContainerStatuses ?? [], ...pod.status?.containerStatuses ?? []]) {
      const waiting = container.state?.waiting;
      if (waiting?.reason && !STARTING_REASONS.has(waiting.reason)) {
        return `pod ${pod.metadata.name} container ${container.name}: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
      }
    }
    const scheduled = pod.status?.conditions?.find((condition) => condition.type === 'PodScheduled');
    if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
      return `pod ${pod.metadata.name}: Unschedulable${scheduled.message ? `: ${scheduled.message}` : ''}`;
    }
  }
  return undefined;
}
