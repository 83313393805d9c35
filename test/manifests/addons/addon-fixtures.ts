/**
 * The add-on tests' fixtures, in one place: one cluster context, the add-on's objects as the
 * applier sends them, their pod templates, what the masters' and workers' kubelets register
 * with (read from the rendered user data), and the checks several tests share: placement and
 * tolerations, pinned images, requests, Pod Security `restricted`, and IAM scoping.
 */
import { load } from 'js-yaml';
import { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { IToleration } from 'kubernetes-models/v1/Toleration';
import { Addon, AddonContext, IamStatement } from '../../../manifests/addons/addon';
import { EVERY_TAINT } from '../../../manifests/addons/placement';
import { KUBELET_CONFIG, KUBELET_UNIT } from '../../../userdata/kubelet';
import { MASTER_BOOT_LABELS, masterConfig } from '../../../userdata/master';
import { KUBERNETES_VERSION } from '../../../userdata/versions';
import { workerConfig } from '../../../userdata/worker';
import { fileText, unitText } from '../../userdata/config-files';
import { CLUSTER, masterInput, REGION, workerInput, ZONE } from '../../userdata/fixtures';
import { CLUSTER_GROUP, ROLE_GROUPS } from '../../webhook/fixtures';

/** The cluster of the userdata fixtures, as lib/ would describe it to the add-ons. */
export const CONTEXT: AddonContext = {
  clusterName: CLUSTER,
  region: REGION,
  account: '123456789012',
  partition: 'aws',
  hostedZoneId: 'Z0123456789ABCDEFGHIJ',
  hostedZoneName: ZONE,
  kubernetesVersion: KUBERNETES_VERSION,
  clusterGroup: CLUSTER_GROUP,
  administratorGroups: [ROLE_GROUPS.Administrator],
  workerPoolTaints: [],
};

/** An object as it is applied (toJSON), loosely typed for assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** The add-on's objects as plain JSON (what toJSON() hands to the applier). */
export function rendered(addon: Addon, context: AddonContext = CONTEXT): Json[] {
  return addon.objects(context).map((object) => JSON.parse(JSON.stringify(object.toJSON())));
}

/** The one object of that kind (and name, if given); throws naming what there is otherwise. */
export function only<T = Json>(objects: readonly Json[], kind: string, name?: string): T {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length} among ${objects.map((o) => `${o.kind}/${o.metadata?.name}`).join(', ')}`);
  }
  return found[0];
}

/** A workload's pod template, with the kind and name of its owner (`Deployment/coredns`). */
export interface PodTemplate {
  readonly owner: string;
  readonly metadata: { readonly labels?: Readonly<Record<string, string>> };
  readonly spec: IPodSpec;
}

/** The pod templates of the Deployments, DaemonSets and StatefulSets among `objects`. */
export function podTemplates(objects: readonly Json[]): PodTemplate[] {
  return objects
    .filter((o) => ['Deployment', 'DaemonSet', 'StatefulSet'].includes(o.kind))
    .map((o) => ({ owner: `${o.kind}/${o.metadata.name}`, metadata: o.spec.template.metadata ?? {}, spec: o.spec.template.spec }));
}

/** The one workload's pod template; throws if there is not exactly one. */
export function onlyPodTemplate(objects: readonly Json[]): PodTemplate {
  const templates = podTemplates(objects);
  if (templates.length !== 1) throw new Error(`expected one workload, found ${templates.map((t) => t.owner).join(', ') || 'none'}`);
  return templates[0];
}

/** Every container of a pod spec, init containers included. */
export function containersOf(spec: IPodSpec): Json[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
}

/** A taint on a node. */
export interface NodeTaint {
  readonly key: string;
  readonly value?: string;
  readonly effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** What a node's kubelet registers with: its labels (--node-labels and the OS label), taints and DNS settings. */
export interface RegisteredNode {
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly NodeTaint[];
  /** `--cloud-provider`: `external` makes the kubelet add the uninitialized taint at registration. */
  readonly cloudProvider: string | undefined;
  readonly clusterDNS: readonly string[];
  readonly clusterDomain: string;
}

export function registered(config: Parameters<typeof fileText>[0], labelsAppliedAtBoot: Readonly<Record<string, string>> = {}): RegisteredNode {
  const unit = unitText(config, KUBELET_UNIT);
  const flag = (name: string) => new RegExp(`--${name}=(\\S*)`).exec(unit)?.[1];
  const labels = Object.fromEntries((flag('node-labels') ?? '').split(',').filter(Boolean).map((pair) => pair.split('=') as [string, string]));
  const kubelet = load(fileText(config, KUBELET_CONFIG)) as Json;
  return {
    // The kubelet adds the OS label itself, from its own runtime.GOOS (kubernetes v1.35
    // pkg/kubelet/kubelet_node_status.go initialNode: v1.LabelOSStable); every node here is Linux.
    labels: { 'kubernetes.io/os': 'linux', ...labels, ...labelsAppliedAtBoot },
    taints: kubelet.registerWithTaints ?? [],
    cloudProvider: flag('cloud-provider'),
    clusterDNS: kubelet.clusterDNS,
    clusterDomain: kubelet.clusterDomain,
  };
}

/** The master and worker kubelets of the userdata test fixtures. */
/** A master as it registers, and with the label its boot then applies (mark-control-plane). */
export const MASTER_NODE = registered(masterConfig(masterInput), MASTER_BOOT_LABELS);
export const WORKER_NODE = registered(workerConfig(workerInput));

/**
 * Masters and workers as they register, and as they are before they are Ready and initialized:
 * the nodes a node agent (kube-proxy, flannel) must run on for any node to become Ready.
 */
export const NODES_IN_EVERY_STATE: readonly (readonly [string, RegisteredNode])[] = (() => {
  const tainted = (node: RegisteredNode): RegisteredNode => ({
    ...node,
    taints: [
      ...node.taints,
      { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' },
      { key: 'node.cloudprovider.kubernetes.io/uninitialized', value: 'true', effect: 'NoSchedule' },
    ],
  });
  return [
    ['a master', MASTER_NODE],
    ['a worker', WORKER_NODE],
    ['a not-ready, uninitialized master', tainted(MASTER_NODE)],
    ['a not-ready, uninitialized worker', tainted(WORKER_NODE)],
  ] as const;
})();

/** Does a nodeSelector select a node with these labels? */
export function selects(nodeSelector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(nodeSelector ?? {}).every(([key, value]) => labels[key] === value);
}

/** Whether one of the tolerations matches the taint (core/v1 Toleration semantics). */
export function tolerates(tolerations: readonly IToleration[] | undefined, taint: NodeTaint): boolean {
  return (tolerations ?? []).some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (!t.key) return t.operator === 'Exists';
    if (t.key !== taint.key) return false;
    return t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? '');
  });
}

/** Could the scheduler place this pod on that node: selected by its labels, every registered taint tolerated? */
export function schedulableOn(spec: IPodSpec, node: RegisteredNode): boolean {
  return selects(spec.nodeSelector, node.labels) && node.taints.every((taint) => tolerates(spec.tolerations, taint));
}

/** The taint keys a pod tolerates, sorted, as {@link Addon.toleratedTaints} names them (EVERY_TAINT for a key-less one). */
export function toleratedKeys(tolerations: readonly IToleration[] | undefined): string[] {
  return (tolerations ?? []).map((t) => (t.key === undefined || t.key === '' ? EVERY_TAINT : t.key)).sort();
}

/**
 * A pinned image: a release tag `vX.Y.Z` (with the `-eksbuild.N` suffix of AWS's rebuilds of
 * the kubernetes-csi sidecars, or the `-flannelN` suffix of flannel's CNI plugin image
 * releases), optionally a digest; never `latest`, never a bare name.
 */
export const PINNED_IMAGE = /^[a-z0-9.\-/]+:v\d+\.\d+\.\d+(-eksbuild\.\d+|-flannel\d+)?(@sha256:[0-9a-f]{64})?$/;

/** The tag of an image reference (`repo:tag@digest` -> `tag`), undefined when it has none. */
export function imageTag(image: string): string | undefined {
  return image.split('@')[0].split('/').pop()!.split(':')[1];
}

/** Containers without a CPU or memory request (the scheduler would place them blind). */
export function containersWithoutRequests(spec: IPodSpec): string[] {
  return containersOf(spec)
    .filter((c) => !c.resources?.requests?.cpu || !c.resources?.requests?.memory)
    .map((c) => c.name);
}

/** Volume types the `restricted` level allows (pod-security-admission v0.35.1 policy/check_restrictedVolumes.go). */
const RESTRICTED_VOLUME_TYPES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];

/**
 * What Pod Security `restricted` (pod-security-admission v0.35.1, policy/check_*.go) would
 * refuse in a pod spec, one line per problem; empty when it passes. Covers the checks these
 * add-ons could trip: host namespaces and ports, privileged, host paths and other volume
 * types, privilege escalation, non-root, capabilities, seccomp, sysctls, procMount.
 */
export function restrictedViolations(spec: IPodSpec): string[] {
  const problems: string[] = [];
  if (spec.hostNetwork) problems.push('hostNetwork');
  if (spec.hostPID) problems.push('hostPID');
  if (spec.hostIPC) problems.push('hostIPC');
  if (spec.securityContext?.sysctls?.length) problems.push('sysctls');
  for (const volume of spec.volumes ?? []) {
    const type = Object.keys(volume).find((key) => key !== 'name');
    if (!type || !RESTRICTED_VOLUME_TYPES.includes(type)) problems.push(`volume ${volume.name}: ${type}`);
  }
  const podNonRoot = spec.securityContext?.runAsNonRoot === true;
  const podSeccomp = spec.securityContext?.seccompProfile?.type;
  if (podSeccomp === 'Unconfined') problems.push('pod seccompProfile Unconfined');
  if (spec.securityContext?.runAsUser === 0) problems.push('pod runAsUser 0');
  for (const container of containersOf(spec)) {
    const context = container.securityContext ?? {};
    const where = `container ${container.name}`;
    if (context.privileged) problems.push(`${where}: privileged`);
    if (context.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation is not false`);
    if (context.runAsNonRoot === false || (!podNonRoot && context.runAsNonRoot !== true)) problems.push(`${where}: runAsNonRoot not set`);
    if (context.runAsUser === 0) problems.push(`${where}: runAsUser 0`);
    if (!context.capabilities?.drop?.includes('ALL')) problems.push(`${where}: capabilities do not drop ALL`);
    const added = (context.capabilities?.add ?? []).filter((c: string) => c !== 'NET_BIND_SERVICE');
    if (added.length) problems.push(`${where}: adds ${added.join(',')}`);
    const seccomp = context.seccompProfile?.type ?? podSeccomp;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') problems.push(`${where}: seccompProfile ${seccomp ?? 'unset'}`);
    if (context.procMount && context.procMount !== 'Default') problems.push(`${where}: procMount ${context.procMount}`);
    for (const port of container.ports ?? []) if (port.hostPort) problems.push(`${where}: hostPort ${port.hostPort}`);
  }
  return problems;
}

/** Read-only IAM actions, allowed on `*`. */
const READ_ONLY = /^[a-z0-9-]+:(Describe|List|Get)[A-Za-z]*$/;
/** Condition keys that tie a request to tags: of the resource touched, or of the one created. */
const TAG_KEY = /^(aws|ec2|autoscaling):(ResourceTag|RequestTag)\/(.+)$/;

/**
 * The actions of `statements` that write without being scoped to this cluster, as
 * `<Sid>: <action>`. A write is scoped when its statement has a StringEquals condition on a
 * resource or request tag of this cluster (`kubernetes.io/cluster/<cluster>` or
 * `k8s.io/cluster-autoscaler/<cluster>`) equal to `owned`, or on `ec2:CreateAction` (tags
 * only while creating), or when every resource is this cluster's hosted zone. A wildcard in
 * an action counts as a write; StringLike never scopes (a `*` value matches anything).
 */
export function unscopedWrites(statements: readonly IamStatement[], context: AddonContext): string[] {
  const clusterTags = [`kubernetes.io/cluster/${context.clusterName}`, `k8s.io/cluster-autoscaler/${context.clusterName}`];
  const zone = `arn:${context.partition}:route53:::hostedzone/${context.hostedZoneId}`;
  const found: string[] = [];
  for (const statement of statements) {
    if (statement.Effect !== 'Allow') continue;
    const equals = statement.Condition?.StringEquals ?? {};
    const tagScoped = Object.entries(equals).some(([key, value]) => {
      if (key === 'ec2:CreateAction') return typeof value === 'string' ? !value.includes('*') : value.every((v) => !v.includes('*'));
      const tag = TAG_KEY.exec(key);
      return tag !== null && clusterTags.includes(tag[3]) && value === 'owned';
    });
    const zoneScoped = statement.Resource.length > 0 && statement.Resource.every((resource) => resource === zone);
    for (const action of statement.Action) {
      const readOnly = READ_ONLY.test(action) && !action.includes('*');
      if (!readOnly && !tagScoped && !zoneScoped) found.push(`${statement.Sid ?? '(no Sid)'}: ${action}`);
    }
  }
  return found;
}

/** One AWS call on one resource, for {@link isAllowed}. */
export interface AwsCall {
  readonly action: string;
  readonly resource: string;
  /** The tags the resource carries now. */
  readonly resourceTags?: Readonly<Record<string, string>>;
  /** The tags the request sets (TagSpecifications, or CreateTags/DeleteTags keys). */
  readonly requestTags?: Readonly<Record<string, string>>;
  /** `ec2:CreateAction`: the create call a CreateTags is part of. */
  readonly createAction?: string;
  /** `route53:ChangeResourceRecordSetsNormalizedRecordNames`: the names a change batch touches. */
  readonly recordNames?: readonly string[];
}

const RECORD_NAMES = 'route53:ChangeResourceRecordSetsNormalizedRecordNames';
const glob = (pattern: string) => new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
const asList = (value: string | readonly string[]): readonly string[] => (typeof value === 'string' ? [value] : value);

/**
 * Whether `statements` allow `call`, for the condition operators and keys these add-ons use
 * (StringEquals, ForAllValues:StringNotLike, Null; resource and request tags, ec2:CreateAction,
 * aws:TagKeys). Anything else throws, so a test never passes on a condition it can't read.
 * A call touching several resources (attach: volume and instance) needs each allowed.
 */
export function isAllowed(statements: readonly IamStatement[], call: AwsCall): boolean {
  const contextValue = (key: string): string | undefined => {
    if (key.startsWith('aws:ResourceTag/')) return call.resourceTags?.[key.slice('aws:ResourceTag/'.length)];
    if (key.startsWith('aws:RequestTag/')) return call.requestTags?.[key.slice('aws:RequestTag/'.length)];
    if (key === 'ec2:CreateAction') return call.createAction;
    throw new Error(`isAllowed: condition key ${key} not modelled`);
  };
  const holds = (operator: string, conditions: Readonly<Record<string, string | readonly string[]>>): boolean =>
    Object.entries(conditions).every(([key, value]) => {
      if (operator === 'StringEquals') {
        const actual = contextValue(key);
        return actual !== undefined && asList(value).includes(actual);
      }
      if (operator === 'ForAllValues:StringNotLike' && key === 'aws:TagKeys') {
        return Object.keys(call.requestTags ?? {}).every((tagKey) => asList(value).every((pattern) => !glob(pattern).test(tagKey)));
      }
      if (operator === 'Null' && key === 'aws:TagKeys') return (Object.keys(call.requestTags ?? {}).length === 0) === (value === 'true');
      if (key === RECORD_NAMES && (operator === 'ForAllValues:StringLike' || operator === 'ForAnyValue:StringLike')) {
        const names = call.recordNames ?? [];
        const matches = (name: string) => asList(value).some((pattern) => glob(pattern).test(name));
        return operator === 'ForAllValues:StringLike' ? names.every(matches) : names.some(matches);
      }
      throw new Error(`isAllowed: condition ${operator} on ${key} not modelled`);
    });
  const applies = (s: IamStatement) =>
    s.Action.some((action) => glob(action).test(call.action)) &&
    s.Resource.some((resource) => glob(resource).test(call.resource)) &&
    Object.entries(s.Condition ?? {}).every(([operator, conditions]) => holds(operator, conditions));
  // An explicit Deny wins over any Allow.
  return !statements.some((s) => s.Effect === 'Deny' && applies(s)) && statements.some((s) => s.Effect === 'Allow' && applies(s));
}
