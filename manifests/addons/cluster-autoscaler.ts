/**
 * cluster-autoscaler: grows and shrinks the worker Auto Scaling groups to fit the pods.
 * Source: kubernetes/autoscaler tag cluster-autoscaler-1.35.2 (commit 2d42588); its minor
 * follows the cluster's (cluster-autoscaler/README.md, "Releases": "versioning scheme was
 * changed to match Kubernetes minor releases exactly"). Objects from
 * cluster-autoscaler/cloudprovider/aws/examples/cluster-autoscaler-autodiscover.yaml at that
 * tag, with the ClusterRole rules that example lacks and the chart at the same tag has
 * (charts/cluster-autoscaler/templates/clusterrole.yaml): Dynamic Resource Allocation is
 * always on from 1.35 (FAQ.md, `enable-dynamic-resource-allocation`), so it lists
 * resource.k8s.io objects.
 *
 * It finds the groups by tag: lib/stacks/worker-stack.ts tags the worker group
 * `k8s.io/cluster-autoscaler/enabled=true` and `k8s.io/cluster-autoscaler/<cluster>=owned`;
 * the discovery flag names both keys, and the IAM condition needs the second's value.
 */
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { IPolicyRule } from 'kubernetes-models/rbac.authorization.k8s.io/v1/PolicyRule';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Taint } from '../../userdata/kubelet';
import { MANAGED_BY_LABELS } from '../managed-by';
import { Addon, AddonContext, AddonServiceAccount, IamStatement, NODE_COMPONENTS } from './addon';
import { NODE_TAINTS, singleWriterOnMasters } from './placement';

/** The release: cluster-autoscaler's minor must be the cluster's (1.35). */
export const CLUSTER_AUTOSCALER_VERSION = 'v1.35.2';
/**
 * The image of the release (registry and name as in charts/cluster-autoscaler/values.yaml at
 * the tag; the tag is the release's). Not verified against the registry from here.
 */
export const CLUSTER_AUTOSCALER_IMAGE = `registry.k8s.io/autoscaling/cluster-autoscaler:${CLUSTER_AUTOSCALER_VERSION}`;

/** The tag key every worker group carries; discovery needs it (value ignored). */
export const AUTOSCALER_ENABLED_TAG = 'k8s.io/cluster-autoscaler/enabled';
/** The per-cluster tag key: discovery needs it, and the IAM condition needs its value `owned`. */
export function autoscalerClusterTag(clusterName: string): string {
  return `k8s.io/cluster-autoscaler/${clusterName}`;
}
/** The value lib/stacks/worker-stack.ts gives the per-cluster tag. */
export const AUTOSCALER_CLUSTER_TAG_VALUE = 'owned';

/**
 * Scale-from-zero: with no node in a group, CA builds the group's node from the ASG alone
 * (cloudprovider/aws/aws_manager.go buildNodeFromTemplate, tag cluster-autoscaler-1.35.2):
 * cpu, memory and GPU of one instance type, generic labels (arch, os, instance type, region,
 * zone), and whatever these tags add. It reads them from DescribeAutoScalingGroups, i.e. the
 * group's own tags (auto_scaling_groups.go buildAsgFromAWS, `Tags: g.Tags`): PropagateAtLaunch
 * plays no part, and false keeps them off the instances' 50-tag budget.
 *
 * The instance type of that node (aws_wrapper.go getInstanceTypesForAsgs): the launch
 * template's, or with a MixedInstancesPolicy the FIRST instance-type override, whatever the
 * others are; with instance requirements instead, one type EC2 returns for them. So the types
 * of a mixed pool should share vCPU and memory (README.md, "Using Mixed Instances Policies"),
 * and the first should be the smallest.
 */
export const NODE_TEMPLATE_LABEL_PREFIX = 'k8s.io/cluster-autoscaler/node-template/label/';
export const NODE_TEMPLATE_TAINT_PREFIX = 'k8s.io/cluster-autoscaler/node-template/taint/';
export const NODE_TEMPLATE_RESOURCE_PREFIX = 'k8s.io/cluster-autoscaler/node-template/resources/';
/** EC2 Auto Scaling's limit on a tag key (API reference, Tag.Key: 128 characters). */
const ASG_TAG_KEY_MAX = 128;

/** What a pool's nodes register with, as far as scale-from-zero needs to know. */
export interface NodeTemplate {
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  /**
   * Allocatable ephemeral storage, GiB. CA gets none from the launch template's block devices
   * (buildNodeFromTemplate never looks at them): without this the template node has no
   * `ephemeral-storage`, and a pod requesting some never scales a zero-node pool up. Give no
   * more than the node really allocates (root volume less kubelet reservations), or CA starts a
   * node the pod then does not fit on.
   */
  readonly ephemeralStorageGiB?: number;
}

/**
 * The ASG tags from which CA builds a pool's node when the pool has none, formatted as
 * 1.35.2 parses them (cloudprovider/aws/aws_manager.go, tag cluster-autoscaler-1.35.2):
 * - label: `<label prefix><key>` = value (extractLabelsFromAsg);
 * - taint: `<taint prefix><key>` = `<value>:<Effect>`, value possibly empty (extractTaintsFromAsg
 *   splits the value at its first `:`, so a value may not contain one, and one tag per key
 *   means one taint per key);
 * - resource: `<resources prefix>ephemeral-storage` = a quantity (extractAllocatableResourcesFromAsg,
 *   resource.ParseQuantity), here `<n>Gi`.
 * Throws on what CA would misread or AWS refuse, rather than tagging a pool CA cannot place pods on.
 */
export function nodeTemplateTags(template: NodeTemplate): Record<string, string> {
  const tags: Record<string, string> = {};
  const put = (key: string, value: string) => {
    if (key.length > ASG_TAG_KEY_MAX) throw new Error(`ASG tag key longer than ${ASG_TAG_KEY_MAX} characters: ${key}`);
    tags[key] = value;
  };
  for (const [key, value] of Object.entries(template.labels)) put(`${NODE_TEMPLATE_LABEL_PREFIX}${key}`, value);
  for (const taint of template.taints) {
    const key = `${NODE_TEMPLATE_TAINT_PREFIX}${taint.key}`;
    if (key in tags) throw new Error(`two taints with key ${taint.key}: CA reads one taint per key`);
    if (taint.value?.includes(':')) throw new Error(`taint ${taint.key}: CA splits the value at ':', so "${taint.value}" would be misread`);
    put(key, `${taint.value ?? ''}:${taint.effect}`);
  }
  const storage = template.ephemeralStorageGiB;
  if (storage !== undefined) {
    if (!Number.isInteger(storage) || storage <= 0) throw new Error(`ephemeralStorageGiB must be a positive whole number, not ${storage}`);
    put(`${NODE_TEMPLATE_RESOURCE_PREFIX}ephemeral-storage`, `${storage}Gi`);
  }
  return tags;
}

/** `--address` default (config/flags/flags.go): metrics and /health-check. */
export const CLUSTER_AUTOSCALER_PORT = 8085;

const NAMESPACE = 'kube-system';
const NAME = 'cluster-autoscaler';
/** Its pods' service account, which its own IAM role trusts. */
const SERVICE_ACCOUNT: AddonServiceAccount = { namespace: NAMESPACE, name: NAME };
/** Each taint it tolerates, with why: the README's bootstrap table and the pod spec both come from here. */
const TOLERATED_TAINTS: Readonly<Record<string, string>> = {
  [NODE_TAINTS.controlPlane]: "runs on masters: it outlives the workers it replaces, and only masters' kubelets get tokens for its role",
};

const metadata = (namespaced: boolean) => ({
  name: NAME,
  ...(namespaced ? { namespace: NAMESPACE } : {}),
  labels: { ...MANAGED_BY_LABELS, 'k8s-app': NAME },
});
const rule = (apiGroups: string[], resources: string[], verbs: string[], resourceNames?: string[]): IPolicyRule => ({
  apiGroups,
  resources,
  verbs,
  ...(resourceNames ? { resourceNames } : {}),
});

/**
 * The flags, each with why. Defaults restated where a change of default upstream would
 * change behaviour silently.
 */
export function clusterAutoscalerArgs(context: AddonContext): string[] {
  return [
    '--cloud-provider=aws',
    // Every group carrying both tag keys, whatever their values (cloudprovider/aws/README.md,
    // "Auto-Discovery Setup"): new worker pools need no flag change.
    `--node-group-auto-discovery=asg:tag=${AUTOSCALER_ENABLED_TAG},${autoscalerClusterTag(context.clusterName)}`,
    // Pools of one instance type in several groups (one per zone, later) grow evenly, so a
    // zone outage leaves capacity elsewhere; no effect with one group. "Similar" means equal
    // capacity (memory within a ratio), close allocatable and free, and the same labels apart
    // from hostname, zone, region and a few AWS ones such as `lifecycle`
    // (processors/nodegroupset/compare_nodegroups.go IsCloudProviderNodeInfoSimilar,
    // aws_nodegroups.go, tag cluster-autoscaler-1.35.2): pools with different labels, or
    // different first instance types (the instance-type label), are never balanced; taints
    // are not compared.
    '--balance-similar-node-groups',
    // The group that leaves the least CPU and memory idle after the scale-up: the cheapest fit
    // without a price model (the price expander "works only for GCE, GKE and Equinix
    // Metal": FAQ.md). It is 1.35.2's default
    // (config/flags/flags.go), stated so a new default does not slip in.
    '--expander=least-waste',
    // Keep nodes running kube-system pods (CoreDNS, metrics-server) until their own disruption
    // budgets say otherwise: the default, stated.
    '--skip-nodes-with-system-pods=true',
    // An emptyDir is scratch space: let such nodes go, as upstream's AWS example does (the
    // default, true, would pin any node with a pod using one).
    '--skip-nodes-with-local-storage=false',
    // Instance types from the EC2 API (ec2:DescribeInstanceTypes), not a list baked into the
    // binary that misses newer types: the default, stated.
    '--aws-use-static-instance-list=false',
    '--v=4',
    '--stderrthreshold=info',
  ];
}

function deployment(context: AddonContext): Deployment {
  return new Deployment({
    metadata: { ...metadata(true), labels: { ...metadata(true).labels, app: NAME } },
    // One active instance (it also elects a leader); on a master it also survives the loss of
    // every worker it would replace, and it needs no worker to start. On the masters' pod
    // network (placement.ts singleWriterOnMasters says why).
    spec: singleWriterOnMasters({
      app: NAME,
      toleratedTaints: TOLERATED_TAINTS,
      // withAddonRole sets AWS_REGION: with it, no instance metadata lookup for the region
      // (cloudprovider/aws/aws_util.go GetCurrentAwsRegion).
      awsRole: { context, addonName: clusterAutoscaler.name, serviceAccount: SERVICE_ACCOUNT, containers: [NAME] },
      securityContext: { runAsNonRoot: true, runAsUser: 65534, fsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: NAME,
          image: CLUSTER_AUTOSCALER_IMAGE,
          // The image is distroless (cluster-autoscaler/Dockerfile): the binary at /, CA
          // certificates included, so upstream's host certificate mount is not needed.
          command: ['/cluster-autoscaler'],
          args: clusterAutoscalerArgs(context),
          ports: [{ name: 'http', containerPort: CLUSTER_AUTOSCALER_PORT, protocol: 'TCP' }],
          livenessProbe: { httpGet: { path: '/health-check', port: 'http' }, periodSeconds: 10, failureThreshold: 6 },
          // Upstream's example: 100m / 600Mi, requests equal to limits.
          resources: { requests: { cpu: '100m', memory: '600Mi' }, limits: { cpu: '100m', memory: '600Mi' } },
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true },
        },
      ],
    }),
  });
}

/** The ClusterRole: upstream's AWS example plus the chart's batch and resource.k8s.io rules. */
export const CLUSTER_AUTOSCALER_RULES: readonly IPolicyRule[] = [
  rule([''], ['events', 'endpoints'], ['create', 'patch']),
  rule([''], ['pods/eviction'], ['create']),
  rule([''], ['pods/status'], ['update']),
  rule([''], ['endpoints'], ['get', 'update'], ['cluster-autoscaler']),
  rule([''], ['nodes'], ['watch', 'list', 'get', 'update']),
  rule([''], ['namespaces', 'pods', 'services', 'replicationcontrollers', 'persistentvolumeclaims', 'persistentvolumes'], ['watch', 'list', 'get']),
  rule(['extensions'], ['replicasets', 'daemonsets'], ['watch', 'list', 'get']),
  rule(['policy'], ['poddisruptionbudgets'], ['watch', 'list']),
  rule(['apps'], ['statefulsets', 'replicasets', 'daemonsets'], ['watch', 'list', 'get']),
  rule(['storage.k8s.io'], ['storageclasses', 'csinodes', 'csidrivers', 'csistoragecapacities', 'volumeattachments'], ['watch', 'list', 'get']),
  rule(['batch', 'extensions'], ['jobs'], ['get', 'list', 'watch', 'patch']),
  // From the chart: CronJobs (owner lookup) and DRA objects (always on from 1.35).
  rule(['batch'], ['cronjobs'], ['watch', 'list', 'get']),
  rule(['resource.k8s.io'], ['resourceslices', 'deviceclasses', 'resourceclaims'], ['watch', 'list', 'get']),
  rule(['coordination.k8s.io'], ['leases'], ['create']),
  rule(['coordination.k8s.io'], ['leases'], ['get', 'update'], ['cluster-autoscaler']),
];

/** In kube-system: its status ConfigMap (upstream's Role). */
export const CLUSTER_AUTOSCALER_NAMESPACED_RULES: readonly IPolicyRule[] = [
  rule([''], ['configmaps'], ['create', 'list', 'watch']),
  rule([''], ['configmaps'], ['delete', 'get', 'update', 'watch'], ['cluster-autoscaler-status', 'cluster-autoscaler-priority-expander']),
];

/**
 * The statements of its own role: upstream's "Full Cluster Autoscaler Features Policy"
 * (cloudprovider/aws/README.md) without eks:DescribeNodegroup (no EKS), its two writes
 * narrowed by tag as the README recommends, to the groups tagged
 * `k8s.io/cluster-autoscaler/<cluster>=owned`: this cluster's workers, never its masters.
 */
export function clusterAutoscalerPermissions(context: AddonContext): IamStatement[] {
  return [
    {
      Sid: 'ClusterAutoscalerDescribe',
      Effect: 'Allow',
      // Describe/Get calls have no resource-level permissions.
      Action: [
        'autoscaling:DescribeAutoScalingGroups',
        'autoscaling:DescribeAutoScalingInstances',
        'autoscaling:DescribeLaunchConfigurations',
        // A failed launch (e.g. no Spot capacity) marks the missing nodes unfulfillable, so CA
        // backs off that pool and tries another (auto_scaling_groups.go isNodeGroupAvailable,
        // tag cluster-autoscaler-1.35.2).
        'autoscaling:DescribeScalingActivities',
        // Scale-from-zero, at the same tag: the launch template's instance type
        // (aws_wrapper.go getLaunchTemplateData), that type's vCPU/memory/architecture
        // (aws_util.go, DescribeInstanceTypes), and for instance requirements the image's
        // architecture and the matching types (aws_wrapper.go getInstanceTypeFromInstanceRequirements).
        'ec2:DescribeImages',
        'ec2:DescribeInstanceTypes',
        'ec2:DescribeLaunchTemplateVersions',
        'ec2:GetInstanceTypesFromInstanceRequirements',
      ],
      Resource: ['*'],
    },
    {
      Sid: 'ClusterAutoscalerScaleOwnedGroups',
      Effect: 'Allow',
      Action: ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'],
      Resource: ['*'],
      Condition: { StringEquals: { [`aws:ResourceTag/${autoscalerClusterTag(context.clusterName)}`]: AUTOSCALER_CLUSTER_TAG_VALUE } },
    },
  ];
}

/** The add-on: one replica on the masters, scaling the worker groups it discovers by tag, with its own role. */
export const clusterAutoscaler: Addon = {
  name: 'cluster-autoscaler',
  version: CLUSTER_AUTOSCALER_VERSION,
  description: 'Scales the worker Auto Scaling groups to fit pending pods and empties idle nodes',
  optional: true,
  placement: 'masters',
  // On the masters' pod network, reaching the API by Service IP; the masters' uninitialized
  // taint is not tolerated.
  needs: [NODE_COMPONENTS.apiServer, NODE_COMPONENTS.podNetwork, NODE_COMPONENTS.kubeProxy, NODE_COMPONENTS.nodeInitialized],
  provides: [],
  toleratedTaints: TOLERATED_TAINTS,
  awsServiceAccount: SERVICE_ACCOUNT,
  permissions: clusterAutoscalerPermissions,
  objects: (context) => [
    new ServiceAccount({ metadata: metadata(true) }),
    new ClusterRole({ metadata: metadata(false), rules: CLUSTER_AUTOSCALER_RULES.map((r) => ({ ...r })) }),
    new ClusterRoleBinding({
      metadata: metadata(false),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NAME },
      subjects: [{ kind: 'ServiceAccount', name: NAME, namespace: NAMESPACE }],
    }),
    new Role({ metadata: metadata(true), rules: CLUSTER_AUTOSCALER_NAMESPACED_RULES.map((r) => ({ ...r })) }),
    new RoleBinding({
      metadata: metadata(true),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: NAME },
      subjects: [{ kind: 'ServiceAccount', name: NAME, namespace: NAMESPACE }],
    }),
    deployment(context),
  ],
};
