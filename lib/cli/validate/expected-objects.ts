import { Addon, AddonContext } from '../../../manifests/addons/addon';
import { ADDONS } from '../../../manifests/addons/registry';

/** A workload or APIService an add-on creates, which validate expects to find healthy. */
export interface ExpectedObject {
  readonly addon: string;
  /** Whether the `disabledAddons` setting may have turned the add-on off. */
  readonly optional: boolean;
  readonly kind: 'DaemonSet' | 'Deployment' | 'APIService';
  /** Undefined for a cluster-scoped object (APIService). */
  readonly namespace?: string;
  readonly name: string;
}

/** What the CLI knows of the cluster from its master stack. */
export interface KnownCluster {
  readonly clusterName: string;
  readonly region: string;
  readonly account: string;
  readonly partition: string;
  readonly clusterGroup: string;
}

const KINDS: ReadonlySet<string> = new Set(['DaemonSet', 'Deployment', 'APIService']);

/**
 * The add-ons' workloads and APIServices, read from the add-ons' own objects (the registry is
 * the one list of them). Rendering needs a whole AddonContext; the fields the CLI cannot know
 * (zone, version, groups, taints) get neutral values: objects' kinds, names and namespaces do
 * not depend on them (the test renders with two different values of each to hold that).
 */
export function expectedObjects(cluster: KnownCluster): ExpectedObject[] {
  return objectsOf(ADDONS, {
    ...cluster,
    hostedZoneId: 'unknown',
    hostedZoneName: 'unknown.invalid',
    kubernetesVersion: 'v0.0.0',
    administratorGroups: [],
    workerPoolTaints: [],
  });
}

/** The workloads and APIServices among the objects `addons` make in `context`. */
export function objectsOf(addons: readonly Addon[], context: AddonContext): ExpectedObject[] {
  return addons.flatMap((addon) =>
    addon.objects(context).flatMap((object) =>
      KINDS.has(object.kind)
        ? [{ addon: addon.name, optional: addon.optional, kind: object.kind as ExpectedObject['kind'], namespace: object.metadata?.namespace, name: object.metadata?.name ?? '' }]
        : [],
    ),
  );
}

/** The namespaces of the add-ons' workloads: where validate lists DaemonSets and Deployments. */
export function addonNamespaces(expected: readonly ExpectedObject[]): string[] {
  return [...new Set(expected.flatMap((o) => (o.namespace ? [o.namespace] : [])))].sort();
}
