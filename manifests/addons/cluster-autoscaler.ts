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
    // zone outage leaves capacity elsewhere; no effect with one group.
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
        'autoscaling:DescribeScalingActivities',
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
