/**
 * aws-node-termination-handler (NTH) in queue-processor mode: it reads the cluster's queue of
 * node termination events (lib/constructs/node-termination-events.ts makes the queue and the
 * rules under the names below), cordons and drains the node, and completes the Auto Scaling
 * lifecycle action. Source: aws/aws-node-termination-handler tag v1.25.6; objects after its
 * chart at that tag (config/helm/aws-node-termination-handler/: values.yaml,
 * templates/deployment.yaml, clusterrole.yaml, pdb.yaml), settings from pkg/config/config.go,
 * the IAM policy from README.md ("5. Create an IAM Role for the Pods"). Pure, as every
 * add-on file.
 */
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { IPolicyRule } from 'kubernetes-models/rbac.authorization.k8s.io/v1/PolicyRule';
import { IContainer } from 'kubernetes-models/v1/Container';
import { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { MANAGED_BY_LABELS } from '../managed-by';
import { Addon, AddonContext, AddonServiceAccount, clusterTagKey, IamStatement, NODE_COMPONENTS } from './addon';
import { withAddonRole } from './aws-identity';
import { NODE_TAINTS, onMasters, podNetworkNodeResolver } from './placement';

/** SQS's limit on a queue name (SQS Developer Guide, "Quotas related to queues": 80 characters). */
const SQS_QUEUE_NAME_MAX_LENGTH = 80;

/**
 * `<cluster>-node-termination`: the cluster's one queue of node termination events. Throws,
 * naming what to shorten, when SQS would refuse it.
 */
export function nodeTerminationQueueName(clusterName: string): string {
  const name = `${clusterName}-node-termination`;
  if (name.length > SQS_QUEUE_NAME_MAX_LENGTH) {
    throw new Error(`the SQS queue name '${name}' is ${name.length} characters, more than SQS's ${SQS_QUEUE_NAME_MAX_LENGTH}: shorten the cluster name (stack and version)`);
  }
  return name;
}

/** The queue's ARN, literal (its name is fixed): `arn:<partition>:sqs:<region>:<account>:<name>`. */
export function nodeTerminationQueueArn(context: Pick<AddonContext, 'clusterName' | 'partition' | 'region' | 'account'>): string {
  return `arn:${context.partition}:sqs:${context.region}:${context.account}:${nodeTerminationQueueName(context.clusterName)}`;
}

/** The release. */
export const NODE_TERMINATION_HANDLER_VERSION = 'v1.25.6';
/**
 * The image the release publishes: the chart's `image.repository` with the tag `v<appVersion>`
 * (values.yaml, templates/_helpers.tpl "aws-node-termination-handler.image", Chart.yaml
 * appVersion 1.25.6; Makefile ECR_REPO). Not pulled from here.
 */
export const NODE_TERMINATION_HANDLER_IMAGE = `public.ecr.aws/aws-ec2/aws-node-termination-handler:${NODE_TERMINATION_HANDLER_VERSION}`;
/** Its liveness endpoint: the chart's `probes.httpGet` (values.yaml; config.go probesPortDefault 8080, probesEndpointDefault /healthz). */
export const NODE_TERMINATION_HANDLER_PROBE = { port: 8080, path: '/healthz' } as const;

/**
 * How long one node's drain may take (NODE_TERMINATION_GRACE_PERIOD, config.go: the default
 * is 120): the timeout of the whole kubectl drain (pkg/node/node.go getDrainHelper: `Timeout`),
 * evictions refused by disruption budgets retried inside it. Ten minutes lets budgets of one
 * at a time roll a few Deployments over; a spot warning leaves two minutes whatever this says.
 * A drain that times out is not completed: NTH leaves the lifecycle action waiting and the
 * message in the queue, and retries (pkg/interruptionevent/draincordon/handler.go).
 */
export const NODE_DRAIN_SECONDS = 600;

/**
 * SQS_MSG_VISIBILITY_TIMEOUT_SEC: how long a received message stays hidden (config.go: 1 to
 * 119, default 20). NTH deletes it only once the drain is done, so with two replicas a drain
 * longer than this is started again by the other one (the chart warns of duplicates with
 * more replicas, values.yaml `replicas`); the maximum makes that rare. The price: a message
 * held by a replica that dies waits this long for the other.
 */
export const SQS_VISIBILITY_SECONDS = 119;

/**
 * The heartbeat timeout the terminate lifecycle hooks should have, at least: the drain, plus
 * the wait for the message to reach a handler (long poll of 20 s, sqs-monitor.go
 * receiveQueueMessages) or to come back after a handler died ({@link SQS_VISIBILITY_SECONDS}),
 * plus a minute for EventBridge and the completion call. NTH sends no heartbeats
 * (HEARTBEAT_INTERVAL -1, below), so the hook's own timeout is all the drain gets.
 */
export const NODE_TERMINATION_HOOK_TIMEOUT_SECONDS = NODE_DRAIN_SECONDS + SQS_VISIBILITY_SECONDS + 20 + 60;

/**
 * `kubernetes.io/cluster/<cluster>`: every node of the cluster and its Auto Scaling group carry
 * it, `owned`, propagated to the instances (lib/constructs/node-group.ts). NTH checks the key
 * only, and on the instance's own tags from ec2:DescribeInstances, not the group's
 * (pkg/monitor/sqsevent/sqs-monitor.go getNodeInfo: `nodeInfo.Tags[m.ManagedTag]`).
 */
export const managedTagKey = clusterTagKey;
/** The value our nodes, groups and queue carry under {@link managedTagKey}; the IAM conditions need it. */
export const MANAGED_TAG_VALUE = 'owned';

/**
 * The tags the queue must carry: its IAM statement is conditioned on them (SQS supports
 * `aws:ResourceTag` on queue operations: SQS Developer Guide, "ABAC condition keys"), so that
 * the role, scoped like every other add-on's writes, reads only a queue of this cluster.
 */
export function nodeTerminationQueueTags(clusterName: string): Record<string, string> {
  return { [managedTagKey(clusterName)]: MANAGED_TAG_VALUE };
}

/** SQS endpoints' DNS suffix by partition (AWS General Reference, "Amazon SQS endpoints"). */
const SQS_DOMAIN_BY_PARTITION: Readonly<Record<string, string>> = {
  aws: 'amazonaws.com',
  'aws-us-gov': 'amazonaws.com',
  'aws-cn': 'amazonaws.com.cn',
};

/** `https://sqs.<region>.<domain>/<account>/<queue>`: the queue's URL, as QUEUE_URL takes it. Throws for a partition whose domain is not known here. */
export function nodeTerminationQueueUrl(context: Pick<AddonContext, 'clusterName' | 'partition' | 'region' | 'account'>): string {
  const domain = SQS_DOMAIN_BY_PARTITION[context.partition];
  if (domain === undefined) {
    throw new Error(`no SQS endpoint domain known for partition '${context.partition}': add it to SQS_DOMAIN_BY_PARTITION (${Object.keys(SQS_DOMAIN_BY_PARTITION).join(', ')})`);
  }
  return `https://sqs.${context.region}.${domain}/${context.account}/${nodeTerminationQueueName(context.clusterName)}`;
}

const NAMESPACE = 'kube-system';
const NAME = 'aws-node-termination-handler';
/** Its pods' service account, which its own IAM role trusts. */
const SERVICE_ACCOUNT: AddonServiceAccount = { namespace: NAMESPACE, name: NAME };
const POD_LABELS = { app: NAME } as const;
/**
 * Each taint it tolerates, with why. Not `node.kubernetes.io/unschedulable`: a cordon does not
 * evict (NoSchedule), and the drainer skips its own pod (pkg/node/node.go
 * filterPodForDeletion, by POD_NAME and NAMESPACE); a replacement that tolerated the cordon
 * would land back on the node being drained, to be evicted again by the next attempt.
 */
const TOLERATED_TAINTS: Readonly<Record<string, string>> = {
  [NODE_TAINTS.controlPlane]: "runs on masters: only their kubelets get tokens for its role, which completes the cluster's lifecycle actions",
};
/** A pod being replaced or evicted finishes the drains it holds (cmd/node-termination-handler.go waits for them on SIGTERM). */
const TERMINATION_GRACE_SECONDS = NODE_DRAIN_SECONDS + 30;

const metadata = (namespaced: boolean) => ({
  name: NAME,
  ...(namespaced ? { namespace: NAMESPACE } : {}),
  labels: { ...MANAGED_BY_LABELS, 'app.kubernetes.io/name': NAME },
});
const fromField = (name: string, fieldPath: string): IEnvVar => ({ name, valueFrom: { fieldRef: { fieldPath } } });

/**
 * Its settings (environment variables, pkg/config/config.go), each with why; defaults
 * restated where a new default upstream would change behaviour silently. AWS_REGION comes
 * from withAddonRole. ENABLE_SPOT_INTERRUPTION_DRAINING, ENABLE_SCHEDULED_EVENT_DRAINING,
 * ENABLE_REBALANCE_MONITORING/DRAINING and ENABLE_ASG_LIFECYCLE_DRAINING are IMDS-mode only
 * (cmd/node-termination-handler.go starts those monitors only without the queue): in queue
 * mode the EventBridge rules feeding the queue decide which events drain, and every kind,
 * rebalance recommendations included, is cordoned and drained (draincordon/handler.go).
 */
export function nodeTerminationHandlerEnv(context: AddonContext): IEnvVar[] {
  return [
    // Required (config.go panics without it); the pod's own name and namespace let the
    // drainer skip itself (node.go filterPodForDeletion).
    fromField('NODE_NAME', 'spec.nodeName'),
    fromField('POD_NAME', 'metadata.name'),
    fromField('NAMESPACE', 'metadata.namespace'),
    { name: 'ENABLE_SQS_TERMINATION_DRAINING', value: 'true' },
    { name: 'QUEUE_URL', value: nodeTerminationQueueUrl(context) },
    { name: 'SQS_MSG_VISIBILITY_TIMEOUT_SEC', value: String(SQS_VISIBILITY_SECONDS) },
    // Events naming only an instance are acted on when the instance carries the cluster tag
    // (key only: see managedTagKey). The deprecated CHECK_ASG_TAG_BEFORE_DRAINING and
    // MANAGED_ASG_TAG are left unset, so these two are the ones read (config.go).
    { name: 'CHECK_TAG_BEFORE_DRAINING', value: 'true' },
    { name: 'MANAGED_TAG', value: managedTagKey(context.clusterName) },
    // Node names are the instances' private DNS names (userdata/kubelet.ts
    // --hostname-override), which is how NTH names them (sqs-monitor.go getNodeInfo).
    { name: 'USE_PROVIDER_ID', value: 'false' },
    // Evictions (kubectl drain's helper, node.go getDrainHelper): disruption budgets are
    // respected; each pod gets its own grace period (-1); DaemonSet pods stay (the node's
    // agents run to the end); emptyDir data goes with the node anyway.
    { name: 'POD_TERMINATION_GRACE_PERIOD', value: '-1' },
    { name: 'NODE_TERMINATION_GRACE_PERIOD', value: String(NODE_DRAIN_SECONDS) },
    { name: 'IGNORE_DAEMON_SETS', value: 'true' },
    { name: 'DELETE_LOCAL_DATA', value: 'true' },
    { name: 'CORDON_ONLY', value: 'false' },
    // Not true: NTH treats any failure to read the Node (an API hiccup too) as "not found",
    // and would then complete the lifecycle action without a drain (draincordon/handler.go).
    { name: 'DELETE_SQS_MSG_IF_NODE_NOT_FOUND', value: 'false' },
    // No heartbeats: the hook's timeout outlasts the drain (NODE_TERMINATION_HOOK_TIMEOUT_SECONDS),
    // so the role needs neither RecordLifecycleActionHeartbeat nor DescribeLifecycleHooks.
    { name: 'HEARTBEAT_INTERVAL', value: '-1' },
    { name: 'HEARTBEAT_UNTIL', value: '-1' },
    // Events need a `create events` rule upstream's ClusterRole adds only with them (clusterrole.yaml).
    { name: 'EMIT_KUBERNETES_EVENTS', value: 'false' },
    // Liveness only, on the pod network; no metrics server, so no Service (service.yaml needs it).
    { name: 'ENABLE_PROBES_SERVER', value: 'true' },
    { name: 'PROBES_SERVER_PORT', value: String(NODE_TERMINATION_HANDLER_PROBE.port) },
    { name: 'PROBES_SERVER_ENDPOINT', value: NODE_TERMINATION_HANDLER_PROBE.path },
    { name: 'ENABLE_PROMETHEUS_SERVER', value: 'false' },
    { name: 'LOG_LEVEL', value: 'info' },
  ];
}

function container(context: AddonContext): IContainer {
  const probe = { httpGet: { path: NODE_TERMINATION_HANDLER_PROBE.path, port: 'liveness-probe' }, initialDelaySeconds: 5, periodSeconds: 5 };
  return {
    name: NAME,
    image: NODE_TERMINATION_HANDLER_IMAGE,
    env: nodeTerminationHandlerEnv(context),
    ports: [{ name: 'liveness-probe', containerPort: NODE_TERMINATION_HANDLER_PROBE.port, protocol: 'TCP' }],
    // The chart's probe (values.yaml `probes`); also readiness, so the budget counts only serving pods.
    livenessProbe: probe,
    readinessProbe: probe,
    // Upstream sets none; one poller and a few drains at a time.
    resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '128Mi' } },
    // The chart's securityContext (values.yaml; the image's USER 1000, Dockerfile), with
    // what Pod Security `restricted` adds.
    securityContext: {
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      runAsUser: 1000,
      runAsGroup: 1000,
      capabilities: { drop: ['ALL'] },
    },
  };
}

/**
 * Two replicas on the masters, on their pod network (its own role, never the masters'
 * through instance metadata; placement.ts singleWriterOnMasters says why), spread over the
 * masters when there are several, so that the node being drained is rarely the only one
 * with a handler. Unlike the single writers, two may run: each acts on the message it holds,
 * and a duplicate drain of the same node is harmless (evictions are idempotent).
 */
function deployment(context: AddonContext): Deployment {
  return new Deployment({
    metadata: metadata(true),
    spec: {
      replicas: 2,
      // Never fewer than two during an update: the new pod first, then the old.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      selector: { matchLabels: { ...POD_LABELS } },
      template: {
        metadata: { labels: { ...POD_LABELS } },
        spec: withAddonRole(
          {
            ...onMasters(TOLERATED_TAINTS),
            ...podNetworkNodeResolver(),
            priorityClassName: 'system-cluster-critical',
            serviceAccountName: NAME,
            terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
            // Preferred, not required: with one master both replicas share it.
            topologySpreadConstraints: [
              { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { ...POD_LABELS } }, matchLabelKeys: ['pod-template-hash'] },
            ],
            // The chart's podSecurityContext (values.yaml), with the seccomp profile restricted needs.
            securityContext: { runAsNonRoot: true, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [container(context)],
          },
          { context, addonName: NAME, serviceAccount: SERVICE_ACCOUNT, containers: [NAME] },
        ),
      },
    },
  });
}

/**
 * At most one replica evicted at a time. Two masters: the handler draining one master skips
 * itself and may evict its peer there; the peer on the other master keeps serving. One master:
 * both replicas are on it; the drainer evicts the peer (allowed: one of two) and finishes the
 * drain itself. `maxUnavailable: 0` would block exactly that eviction until the drain timed
 * out; no budget would let two concurrent drains (of two masters) evict both handlers. Upstream
 * creates the budget only with more than one replica, with this value as its example
 * (pdb.yaml, values.yaml `podDisruptionBudget`).
 */
function disruptionBudget(): PodDisruptionBudget {
  return new PodDisruptionBudget({ metadata: metadata(true), spec: { maxUnavailable: 1, selector: { matchLabels: { ...POD_LABELS } } } });
}

/**
 * Upstream's ClusterRole (clusterrole.yaml at v1.25.6, without the events rule, which it adds
 * only with emitKubernetesEvents): cordon (nodes), drain (pods, evictions, the DaemonSets
 * that own the pods it leaves).
 */
export const NODE_TERMINATION_HANDLER_RULES: readonly IPolicyRule[] = [
  { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'patch', 'update'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['list', 'get'] },
  { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
  { apiGroups: ['extensions'], resources: ['daemonsets'], verbs: ['get'] },
  { apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['get'] },
];

/** `arn:<partition>:autoscaling:<region>:<account>:autoScalingGroup:*:autoScalingGroupName/*`: any group here; the tag condition picks ours. */
function autoScalingGroupsArn(context: Pick<AddonContext, 'partition' | 'region' | 'account'>): string {
  return `arn:${context.partition}:autoscaling:${context.region}:${context.account}:autoScalingGroup:*:autoScalingGroupName/*`;
}

/**
 * The statements of its own role: README.md's queue-processor policy at v1.25.6, narrowed.
 * The queue actions on this cluster's queue only, by ARN and by its cluster tag. Completing a
 * lifecycle action only on groups tagged as this cluster's (EC2 Auto Scaling supports
 * `aws:ResourceTag` on CompleteLifecycleAction): the groups' names are generated, and the tag
 * is what every group of the cluster carries, workers and masters alike, present and future.
 * The reads have no resource-level permissions. The README also lists
 * autoscaling:DescribeAutoScalingInstances and autoscaling:DescribeTags, which v1.25.6's queue
 * mode no longer calls (only ec2:DescribeInstances, sqs-monitor.go getNodeInfo); kept, as reads,
 * so that the policy is the documented one.
 */
export function nodeTerminationHandlerPermissions(context: AddonContext): IamStatement[] {
  const owned = { StringEquals: { [`aws:ResourceTag/${managedTagKey(context.clusterName)}`]: MANAGED_TAG_VALUE } };
  return [
    { Sid: 'NodeTerminationQueue', Effect: 'Allow', Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'], Resource: [nodeTerminationQueueArn(context)], Condition: owned },
    { Sid: 'NodeTerminationLifecycle', Effect: 'Allow', Action: ['autoscaling:CompleteLifecycleAction'], Resource: [autoScalingGroupsArn(context)], Condition: owned },
    { Sid: 'NodeTerminationReads', Effect: 'Allow', Action: ['ec2:DescribeInstances', 'autoscaling:DescribeAutoScalingInstances', 'autoscaling:DescribeTags'], Resource: ['*'] },
  ];
}

/** The add-on: two replicas on the masters draining the nodes the queue names, with its own role. */
export const awsNodeTerminationHandler: Addon = {
  name: NAME,
  version: NODE_TERMINATION_HANDLER_VERSION,
  description: 'Cordons and drains a node that is leaving (Auto Scaling, spot, EC2 events from its SQS queue), then lets Auto Scaling terminate it',
  // The cluster's terminate lifecycle hooks wait for it: without it every replacement waits
  // out the hook's timeout and terminates undrained.
  optional: false,
  placement: 'masters',
  // On the masters' pod network, reaching the API by Service IP, as external-dns.
  needs: [NODE_COMPONENTS.apiServer, NODE_COMPONENTS.podNetwork, NODE_COMPONENTS.kubeProxy, NODE_COMPONENTS.nodeInitialized],
  provides: [],
  toleratedTaints: TOLERATED_TAINTS,
  awsServiceAccount: SERVICE_ACCOUNT,
  permissions: nodeTerminationHandlerPermissions,
  objects: (context) => [
    new ServiceAccount({ metadata: metadata(true) }),
    new ClusterRole({ metadata: metadata(false), rules: NODE_TERMINATION_HANDLER_RULES.map((r) => ({ ...r })) }),
    new ClusterRoleBinding({
      metadata: metadata(false),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NAME },
      subjects: [{ kind: 'ServiceAccount', name: NAME, namespace: NAMESPACE }],
    }),
    deployment(context),
    disruptionBudget(),
  ],
};
