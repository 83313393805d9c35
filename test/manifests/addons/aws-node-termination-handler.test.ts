/**
 * aws-node-termination-handler: the queue contract, its settings, its IAM scope, replicas and
 * budget, and the registry's shared checks (registry.test.ts) run here too, so the add-on
 * passes them before it is listed. Upstream facts cited from aws/aws-node-termination-handler v1.25.6.
 */
import { IamStatement } from '../../../manifests/addons/addon';
import {
  awsNodeTerminationHandler as addon,
  managedTagKey,
  NODE_DRAIN_SECONDS,
  NODE_TERMINATION_HANDLER_RULES,
  NODE_TERMINATION_HANDLER_VERSION,
  NODE_TERMINATION_HOOK_TIMEOUT_SECONDS,
  nodeTerminationQueueArn,
  nodeTerminationQueueName,
  nodeTerminationQueueTags,
  nodeTerminationQueueUrl,
} from '../../../manifests/addons/aws-node-termination-handler';
import { MANAGED_BY_LABELS } from '../../../manifests/managed-by';
import {
  CONTEXT,
  containersOf,
  containersWithoutRequests,
  imageTag,
  isAllowed,
  Json,
  MASTER_NODE,
  only,
  onlyPodTemplate,
  PINNED_IMAGE,
  podTemplates,
  rendered,
  restrictedViolations,
  schedulableOn,
  toleratedKeys,
  unscopedWrites,
  WORKER_NODE,
} from './addon-fixtures';

const objects = rendered(addon);
const pod = onlyPodTemplate(objects).spec;
const [container] = containersOf(pod);
const env = (name: string): string | undefined => container.env.find((e: Json) => e.name === name)?.value;
const statements = addon.permissions(CONTEXT);
const cluster = CONTEXT.clusterName;
const owned = { [managedTagKey(cluster)]: 'owned' };
const queueArn = nodeTerminationQueueArn(CONTEXT);
const groupArn = `arn:aws:autoscaling:${CONTEXT.region}:${CONTEXT.account}:autoScalingGroup:0a1b2c3d-uuid:autoScalingGroupName/${cluster}-worker`;

describe('the shared checks of registry.test.ts, on this add-on', () => {
  test('every object is valid against its Kubernetes schema', () => {
    for (const model of addon.objects(CONTEXT)) expect(() => model.validate()).not.toThrow();
  });

  test('every object carries the managed-by label, and no two share kind, namespace and name', () => {
    for (const o of objects) expect([o.kind, o.metadata.labels]).toEqual([o.kind, expect.objectContaining(MANAGED_BY_LABELS)]);
    const ids = objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('its image is pinned, to the add-on version', () => {
    expect(addon.version).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(container.image).toMatch(PINNED_IMAGE);
    expect(imageTag(container.image)).toBe(addon.version);
  });

  test('requests, tolerations as declared (each with why), placement, namespace, Pod Security restricted, priority', () => {
    expect(containersWithoutRequests(pod)).toEqual([]);
    expect(toleratedKeys(pod.tolerations)).toEqual(Object.keys(addon.toleratedTaints).sort());
    for (const reason of Object.values(addon.toleratedTaints)) expect(reason.length).toBeGreaterThan(20);
    expect(addon.placement).toBe('masters');
    expect(schedulableOn(pod, MASTER_NODE)).toBe(true);
    expect(schedulableOn(pod, WORKER_NODE)).toBe(false);
    for (const o of objects) expect([o.kind, o.metadata.namespace]).toEqual([o.kind, ['ClusterRole', 'ClusterRoleBinding'].includes(o.kind) ? undefined : 'kube-system']);
    // kube-system is exempt, but nothing here needs the exemption.
    expect(restrictedViolations(pod)).toEqual([]);
    expect(pod.priorityClassName).toBe('system-cluster-critical');
  });

  test('IAM: every write scoped to this cluster, and a service account for its role', () => {
    expect(unscopedWrites(statements, CONTEXT)).toEqual([]);
    expect(addon.awsServiceAccount).toEqual({ namespace: 'kube-system', name: pod.serviceAccountName });
  });
});

describe('the queue it reads', () => {
  test("QUEUE_URL is the SQS URL of the cluster's queue, in its region and account", () => {
    expect(env('QUEUE_URL')).toBe(`https://sqs.${CONTEXT.region}.amazonaws.com/${CONTEXT.account}/${nodeTerminationQueueName(cluster)}`);
    expect(env('QUEUE_URL')).toBe(nodeTerminationQueueUrl(CONTEXT));
  });

  test("the URL follows the partition's domain, and refuses one it does not know", () => {
    expect(nodeTerminationQueueUrl({ ...CONTEXT, partition: 'aws-cn', region: 'cn-north-1' })).toBe(`https://sqs.cn-north-1.amazonaws.com.cn/${CONTEXT.account}/${cluster}-node-termination`);
    expect(nodeTerminationQueueUrl({ ...CONTEXT, partition: 'aws-us-gov', region: 'us-gov-west-1' })).toBe(`https://sqs.us-gov-west-1.amazonaws.com/${CONTEXT.account}/${cluster}-node-termination`);
    expect(() => nodeTerminationQueueUrl({ ...CONTEXT, partition: 'aws-iso' })).toThrow(/aws-iso/);
  });

  test('the queue contract is unchanged: name, ARN and the length limit', () => {
    expect(nodeTerminationQueueName('c')).toBe('c-node-termination');
    expect(queueArn).toBe(`arn:aws:sqs:${CONTEXT.region}:${CONTEXT.account}:${cluster}-node-termination`);
    expect(() => nodeTerminationQueueName('x'.repeat(64))).toThrow(/80/);
  });
});

describe('its settings (pkg/config/config.go at v1.25.6)', () => {
  test('queue-processor mode, in the region withAddonRole sets', () => {
    expect(env('ENABLE_SQS_TERMINATION_DRAINING')).toBe('true');
    expect(env('AWS_REGION')).toBe(CONTEXT.region);
  });

  test('acts only on instances carrying the cluster tag key', () => {
    expect(env('CHECK_TAG_BEFORE_DRAINING')).toBe('true');
    expect(env('MANAGED_TAG')).toBe(`kubernetes.io/cluster/${cluster}`);
    // Deprecated names would override nothing only while unset (config.go isConfigProvided).
    expect(env('CHECK_ASG_TAG_BEFORE_DRAINING')).toBeUndefined();
    expect(env('MANAGED_ASG_TAG')).toBeUndefined();
  });

  test("drains with each pod's own grace period, within NODE_DRAIN_SECONDS, DaemonSets left, and knows its own pod", () => {
    expect(env('POD_TERMINATION_GRACE_PERIOD')).toBe('-1');
    expect(env('NODE_TERMINATION_GRACE_PERIOD')).toBe(String(NODE_DRAIN_SECONDS));
    expect(env('IGNORE_DAEMON_SETS')).toBe('true');
    expect(env('CORDON_ONLY')).toBe('false');
    const fields = Object.fromEntries(container.env.filter((e: Json) => e.valueFrom).map((e: Json) => [e.name, e.valueFrom.fieldRef.fieldPath]));
    expect(fields).toEqual({ NODE_NAME: 'spec.nodeName', POD_NAME: 'metadata.name', NAMESPACE: 'metadata.namespace' });
  });

  test('no heartbeats, so the hook must outlast the drain and the redelivery of its message', () => {
    expect([env('HEARTBEAT_INTERVAL'), env('HEARTBEAT_UNTIL')]).toEqual(['-1', '-1']);
    expect(NODE_TERMINATION_HOOK_TIMEOUT_SECONDS).toBeGreaterThan(NODE_DRAIN_SECONDS + Number(env('SQS_MSG_VISIBILITY_TIMEOUT_SEC')));
    // EC2 Auto Scaling's maximum heartbeat timeout (PutLifecycleHook: 7200 s).
    expect(NODE_TERMINATION_HOOK_TIMEOUT_SECONDS).toBeLessThanOrEqual(7200);
    // config.go refuses a visibility timeout outside 1..119.
    expect(Number(env('SQS_MSG_VISIBILITY_TIMEOUT_SEC'))).toBeGreaterThanOrEqual(1);
    expect(Number(env('SQS_MSG_VISIBILITY_TIMEOUT_SEC'))).toBeLessThanOrEqual(119);
  });

  test('a pod being replaced has the time to finish its drain', () => {
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(NODE_DRAIN_SECONDS);
  });

  test('no variable twice (the last would win silently)', () => {
    const names = container.env.map((e: Json) => e.name);
    expect(names.filter((n: string, i: number) => names.indexOf(n) !== i)).toEqual([]);
  });

  test('probes on its probe port, no metrics server and no Service', () => {
    expect(env('ENABLE_PROBES_SERVER')).toBe('true');
    expect(container.ports).toEqual([{ name: 'liveness-probe', containerPort: 8080, protocol: 'TCP' }]);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'liveness-probe' });
    expect(env('ENABLE_PROMETHEUS_SERVER')).toBe('false');
    expect(objects.filter((o) => o.kind === 'Service')).toEqual([]);
  });
});

describe('replicas, budget and spread', () => {
  const deployment = only(objects, 'Deployment', 'aws-node-termination-handler');
  const budget = only(objects, 'PodDisruptionBudget', 'aws-node-termination-handler');

  test('two replicas, never fewer during an update', () => {
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
  });

  test('its budget covers its pods and allows exactly one eviction of two (the drainer may evict its peer on one master)', () => {
    expect(budget.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(deployment.spec.template.metadata.labels).toEqual(expect.objectContaining(budget.spec.selector.matchLabels));
    expect(budget.spec.maxUnavailable).toBe(1);
    expect(budget.spec.minAvailable).toBeUndefined();
  });

  test('spread over the masters by host, preferred (one master takes both)', () => {
    expect(pod.topologySpreadConstraints).toEqual([
      expect.objectContaining({ topologyKey: 'kubernetes.io/hostname', maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: deployment.spec.selector.matchLabels } }),
    ]);
  });

  test('on the pod network, never tolerating the cordon (a replacement must not land on the node being drained)', () => {
    expect(pod.hostNetwork).toBe(false);
    expect(schedulableOn(pod, { ...MASTER_NODE, taints: [...MASTER_NODE.taints, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] })).toBe(false);
  });
});

describe('contract and RBAC', () => {
  test('not optional: the lifecycle hooks wait for it', () => {
    expect(addon.optional).toBe(false);
    expect(addon.version).toBe('v1.25.6');
    expect(container.image).toBe(`public.ecr.aws/aws-ec2/aws-node-termination-handler:${NODE_TERMINATION_HANDLER_VERSION}`);
  });

  test("RBAC is upstream's ClusterRole, no more (config/helm/aws-node-termination-handler/templates/clusterrole.yaml at v1.25.6, events off)", () => {
    const upstream = [
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'patch', 'update'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['list', 'get'] },
      { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
      { apiGroups: ['extensions'], resources: ['daemonsets'], verbs: ['get'] },
      { apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['get'] },
    ];
    expect(only(objects, 'ClusterRole').rules).toEqual(upstream);
    expect(NODE_TERMINATION_HANDLER_RULES).toEqual(upstream);
    expect(env('EMIT_KUBERNETES_EVENTS')).toBe('false');
    expect(only(objects, 'ClusterRoleBinding').subjects).toEqual([{ kind: 'ServiceAccount', name: pod.serviceAccountName, namespace: 'kube-system' }]);
    expect(only(objects, 'ServiceAccount').metadata.name).toBe(pod.serviceAccountName);
  });
});

describe('its IAM, evaluated', () => {
  const allowed = (action: string, resource: string, resourceTags?: Record<string, string>) => isAllowed(statements, { action, resource, resourceTags });

  test("receives and deletes messages of this cluster's queue only (its ARN and its cluster tag)", () => {
    expect(nodeTerminationQueueTags(cluster)).toEqual(owned);
    for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage']) {
      expect([action, allowed(action, queueArn, owned)]).toEqual([action, true]);
      expect([action, allowed(action, `${queueArn}-other`, owned)]).toEqual([action, false]);
      expect([action, allowed(action, nodeTerminationQueueArn({ ...CONTEXT, clusterName: 'other' }), { 'kubernetes.io/cluster/other': 'owned' })]).toEqual([action, false]);
      expect([action, allowed(action, queueArn, {})]).toEqual([action, false]);
    }
    expect(allowed('sqs:SendMessage', queueArn, owned)).toBe(false);
    expect(allowed('sqs:PurgeQueue', queueArn, owned)).toBe(false);
  });

  test("completes lifecycle actions only on this cluster's groups", () => {
    expect(allowed('autoscaling:CompleteLifecycleAction', groupArn, owned)).toBe(true);
    expect(allowed('autoscaling:CompleteLifecycleAction', groupArn, { 'kubernetes.io/cluster/other': 'owned' })).toBe(false);
    expect(allowed('autoscaling:CompleteLifecycleAction', groupArn, { [managedTagKey(cluster)]: 'shared' })).toBe(false);
    expect(allowed('autoscaling:CompleteLifecycleAction', groupArn.replace(CONTEXT.account, '210987654321'), owned)).toBe(false);
  });

  test('writes nothing else; reads are the documented ones (README.md at v1.25.6)', () => {
    const actions = statements.flatMap((s) => s.Action);
    expect(actions.filter((a) => !/^[a-z0-9-]+:(Describe|List|Get)[A-Za-z]*$/.test(a)).sort()).toEqual(['autoscaling:CompleteLifecycleAction', 'sqs:DeleteMessage', 'sqs:ReceiveMessage']);
    expect(actions.filter((a) => a.includes('*'))).toEqual([]);
    const reads = statements.filter((s) => s.Resource.includes('*'));
    expect(reads.flatMap((s) => s.Action).sort()).toEqual(['autoscaling:DescribeAutoScalingInstances', 'autoscaling:DescribeTags', 'ec2:DescribeInstances']);
    for (const action of ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup', 'autoscaling:RecordLifecycleActionHeartbeat']) {
      expect([action, allowed(action, groupArn, owned)]).toEqual([action, false]);
    }
  });

  test('the shared check flags the queue and lifecycle statements without their condition', () => {
    const unconditioned: IamStatement[] = statements.filter((s) => s.Condition).map((s) => ({ ...s, Condition: undefined }));
    expect(unscopedWrites(unconditioned, CONTEXT).sort()).toEqual(['NodeTerminationLifecycle: autoscaling:CompleteLifecycleAction', 'NodeTerminationQueue: sqs:DeleteMessage', 'NodeTerminationQueue: sqs:ReceiveMessage']);
  });
});

test('one workload only', () => {
  expect(podTemplates(objects).map((t) => t.owner)).toEqual(['Deployment/aws-node-termination-handler']);
});
