import type { V1APIService, V1DaemonSet, V1Deployment } from '@kubernetes/client-node';
import { CheckResult, fail, pass } from './check-result';
import type { ExpectedObject } from './expected-objects';

/** What the API server holds of the objects validate looks at. */
export interface ObservedAddons {
  /** Every DaemonSet of the add-ons' namespaces. */
  readonly daemonSets: readonly V1DaemonSet[];
  /** Every Deployment of the add-ons' namespaces. */
  readonly deployments: readonly V1Deployment[];
  /** The add-ons' APIServices that exist, by name. */
  readonly apiServices: ReadonlyMap<string, V1APIService>;
}

/**
 * Every DaemonSet and Deployment of the add-ons' namespaces has rolled out and is available,
 * every add-on's own workload and APIService exists, and each APIService is Available. The
 * cluster's `disabledAddons` setting is not in any stack output, so an optional add-on none of
 * whose objects exist counts as turned off; one with some of them is held to all.
 */
export function checkAddons(expected: readonly ExpectedObject[], observed: ObservedAddons): CheckResult[] {
  const found = new Set([
    ...observed.daemonSets.map((d) => key('DaemonSet', d.metadata?.namespace, d.metadata?.name)),
    ...observed.deployments.map((d) => key('Deployment', d.metadata?.namespace, d.metadata?.name)),
    ...[...observed.apiServices.keys()].map((name) => key('APIService', undefined, name)),
  ]);
  const deployed = new Set(expected.filter((o) => found.has(key(o.kind, o.namespace, o.name))).map((o) => o.addon));
  const turnedOff = [...new Set(expected.filter((o) => o.optional && !deployed.has(o.addon)).map((o) => o.addon))];
  const missing = expected
    .filter((o) => (!o.optional || deployed.has(o.addon)) && !found.has(key(o.kind, o.namespace, o.name)))
    .map((o) => fail(o.kind.toLowerCase(), `${subjectOf(o.namespace, o.name)}: missing (add-on ${o.addon}${o.optional ? ', whose other objects exist' : ', which every cluster runs'})`));
  return [
    ...observed.daemonSets.map(checkDaemonSet),
    ...observed.deployments.map(checkDeployment),
    ...[...observed.apiServices.values()].map(checkApiService),
    ...missing,
    ...(turnedOff.length > 0 ? [pass('add-ons', `not deployed, so taken as turned off (optional): ${turnedOff.join(', ')}`)] : []),
  ];
}

/**
 * Rolled out and available: the controller has seen the newest spec (observedGeneration), and
 * every scheduled pod is updated and available (kubernetes/api v0.35.1 apps/v1/types.go
 * DaemonSetStatus: desiredNumberScheduled, updatedNumberScheduled, numberAvailable). Nothing
 * scheduled fails: 0/0 is not running, and no add-on DaemonSet may be empty (each runs on every
 * node or on the masters, manifests/addons/placement.ts; a cluster always has masters).
 */
export function checkDaemonSet(ds: V1DaemonSet): CheckResult {
  const s = ds.status;
  const desired = s?.desiredNumberScheduled ?? 0;
  const problems = [
    ...notObserved(ds.metadata?.generation, s?.observedGeneration),
    ...((s?.updatedNumberScheduled ?? 0) < desired ? [`${s?.updatedNumberScheduled ?? 0}/${desired} updated`] : []),
    ...(desired === 0 ? ['no node to run on (desiredNumberScheduled 0): nodeSelector, tolerations or taints?'] : []),
  ];
  return verdict('daemonset', ds.metadata?.namespace, ds.metadata?.name, s?.numberAvailable ?? 0, desired, problems);
}

/**
 * Rolled out and available, as `kubectl rollout status` judges it: spec.replicas (default 1,
 * kubernetes/api v0.35.1 apps/v1/types.go DeploymentSpec) pods updated and available, no old
 * pods left (status.replicas), and the newest spec observed. Scaled to 0 fails: nothing runs,
 * and no add-on Deployment has 0 replicas by design (manifests/addons: 1 or 2 each).
 */
export function checkDeployment(d: V1Deployment): CheckResult {
  const s = d.status;
  const desired = d.spec?.replicas ?? 1;
  const updated = s?.updatedReplicas ?? 0;
  const problems = [
    ...notObserved(d.metadata?.generation, s?.observedGeneration),
    ...(updated < desired ? [`${updated}/${desired} updated`] : []),
    ...((s?.replicas ?? 0) > updated ? [`${(s?.replicas ?? 0) - updated} old replicas pending termination`] : []),
    ...(desired === 0 ? ['scaled to 0 replicas: nothing runs'] : []),
  ];
  return verdict('deployment', d.metadata?.namespace, d.metadata?.name, s?.availableReplicas ?? 0, desired, problems);
}

/**
 * The aggregated API answers: condition `Available` is `True` (kube-aggregator v0.35.1
 * pkg/apis/apiregistration/v1/types.go APIServiceConditionType); its reason and message say why
 * not (e.g. FailedDiscoveryCheck when metrics-server is down).
 */
export function checkApiService(service: V1APIService): CheckResult {
  const name = service.metadata?.name ?? '';
  const available = service.status?.conditions?.find((c) => c.type === 'Available');
  if (available?.status === 'True') return pass('apiservice', `${name}: Available`);
  const why = available ? `${available.reason ?? available.status}${available.message ? `: ${available.message}` : ''}` : 'no Available condition yet';
  return fail('apiservice', `${name}: not Available (${why})`);
}

function notObserved(generation: number | undefined, observed: number | undefined): string[] {
  return (generation ?? 0) > (observed ?? 0) ? [`generation ${generation} not yet observed (at ${observed ?? 0})`] : [];
}

function verdict(check: string, namespace: string | undefined, name: string | undefined, available: number, desired: number, problems: readonly string[]): CheckResult {
  const summary = `${subjectOf(namespace, name)}: ${available}/${desired} available`;
  return available >= desired && problems.length === 0 ? pass(check, summary) : fail(check, [summary, ...problems].join('; '));
}

function subjectOf(namespace: string | undefined, name: string | undefined): string {
  return namespace ? `${namespace}/${name}` : `${name}`;
}

function key(kind: string, namespace: string | undefined, name: string | undefined): string {
  return `${kind}/${namespace ?? ''}/${name ?? ''}`;
}
