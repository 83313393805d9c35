import { IamStatement } from '../../../manifests/addons/addon';
import {
  AUTOSCALER_CLUSTER_TAG_VALUE,
  AUTOSCALER_ENABLED_TAG,
  autoscalerClusterTag,
  clusterAutoscaler,
  CLUSTER_AUTOSCALER_VERSION,
  nodeTemplateTags,
} from '../../../manifests/addons/cluster-autoscaler';
import { Taint } from '../../../userdata/kubelet';
import { KUBERNETES_VERSION } from '../../../userdata/versions';
import { resourcesOfType, synthesizeCluster } from '../../util';
import { CONTEXT, containersOf, isAllowed, MASTER_NODE, only, onlyPodTemplate, podTemplates, rendered, schedulableOn, unscopedWrites, WORKER_NODE } from './addon-fixtures';

const objects = rendered(clusterAutoscaler);
const pod = onlyPodTemplate(objects).spec;
const [container] = containersOf(pod);
const statements = clusterAutoscaler.permissions(CONTEXT);
const minor = (version: string) => /^v?(\d+\.\d+)\./.exec(version)![1];

describe('cluster-autoscaler objects', () => {
  test('one Deployment with one container', () => {
    expect(podTemplates(objects).map((t) => t.owner)).toEqual(['Deployment/cluster-autoscaler']);
    expect(containersOf(pod)).toHaveLength(1);
  });

  test("its minor version is the cluster's, and the image is that release", () => {
    expect(minor(CLUSTER_AUTOSCALER_VERSION)).toBe(minor(KUBERNETES_VERSION));
    expect(container.image).toBe(`registry.k8s.io/autoscaling/cluster-autoscaler:${CLUSTER_AUTOSCALER_VERSION}`);
  });

  test('runs on masters only (it outlives the workers), on the pod network (its own role, never the masters\' through instance metadata), cluster-critical', () => {
    expect(schedulableOn(pod, MASTER_NODE)).toBe(true);
    expect(schedulableOn(pod, WORKER_NODE)).toBe(false);
    expect(pod.hostNetwork).toBe(false);
    expect(clusterAutoscaler.placement).toBe('masters');
    expect(pod.priorityClassName).toBe('system-cluster-critical');
  });

  test('its flags: AWS, discovery by both tag keys of this cluster, balanced similar groups, least-waste', () => {
    expect(container.args).toEqual(
      expect.arrayContaining([
        '--cloud-provider=aws',
        `--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/${CONTEXT.clusterName}`,
        '--balance-similar-node-groups',
        '--expander=least-waste',
        '--skip-nodes-with-system-pods=true',
        '--skip-nodes-with-local-storage=false',
      ]),
    );
    expect(container.env).toContainEqual({ name: 'AWS_REGION', value: CONTEXT.region });
    // No flag twice: a repeated flag's last value wins silently.
    const names = container.args.map((a: string) => a.split('=')[0]);
    expect(new Set(names).size).toBe(names.length);
  });

  test('its service account exists and is bound to the upstream roles, DRA reads included (always on from 1.35)', () => {
    expect(pod.serviceAccountName).toBe('cluster-autoscaler');
    expect(only(objects, 'ServiceAccount', 'cluster-autoscaler').metadata.namespace).toBe('kube-system');
    const role = only(objects, 'ClusterRole', 'cluster-autoscaler');
    expect(role.rules).toContainEqual({ apiGroups: ['resource.k8s.io'], resources: ['resourceslices', 'deviceclasses', 'resourceclaims'], verbs: ['watch', 'list', 'get'] });
    expect(role.rules).toContainEqual({ apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] });
    expect(only(objects, 'ClusterRoleBinding', 'cluster-autoscaler').subjects).toEqual([{ kind: 'ServiceAccount', name: 'cluster-autoscaler', namespace: 'kube-system' }]);
    expect(only(objects, 'RoleBinding', 'cluster-autoscaler').roleRef.name).toBe('cluster-autoscaler');
  });
});

describe('cluster-autoscaler IAM', () => {
  test("scaling needs the cluster's autoscaler tag, owned", () => {
    const writes = statements.filter((s) => s.Action.some((a) => /SetDesiredCapacity|TerminateInstanceInAutoScalingGroup/.test(a)));
    expect(writes.flatMap((s) => s.Action).sort()).toEqual(['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup']);
    for (const s of writes) expect(s.Condition).toEqual({ StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${CONTEXT.clusterName}`]: 'owned' } });
  });

  test('the check flags the same scaling statement without its condition, or scoped to another cluster', () => {
    const write = statements.find((s) => s.Action.includes('autoscaling:SetDesiredCapacity'))!;
    const unconditioned: IamStatement = { ...write, Condition: undefined };
    const otherCluster: IamStatement = { ...write, Condition: { StringEquals: { 'aws:ResourceTag/k8s.io/cluster-autoscaler/other-cluster': 'owned' } } };
    expect(unscopedWrites([unconditioned], CONTEXT)).toHaveLength(2);
    expect(unscopedWrites([otherCluster], CONTEXT)).toHaveLength(2);
  });
});

describe('the worker group carries what discovery and IAM look for', () => {
  // The synthesized example cluster: its worker Auto Scaling group's tags.
  const cluster = synthesizeCluster();
  const groups = Object.values(resourcesOfType(cluster.templates.worker, 'AWS::AutoScaling::AutoScalingGroup'));
  const tagsOf = (group: { Properties: any }): Record<string, string> => Object.fromEntries(group.Properties.Tags.map((t: any) => [t.Key, t.Value]));
  const clusterName = cluster.config.clusterName;

  test('every worker group has both discovery tag keys, the cluster one with the value the IAM condition needs', () => {
    expect(groups.length).toBeGreaterThan(0);
    for (const group of groups) {
      const tags = tagsOf(group);
      expect(Object.keys(tags)).toContain(AUTOSCALER_ENABLED_TAG);
      expect(tags[autoscalerClusterTag(clusterName)]).toBe(AUTOSCALER_CLUSTER_TAG_VALUE);
    }
    const condition = clusterAutoscaler.permissions({ ...CONTEXT, clusterName }).find((s) => s.Condition)!.Condition!.StringEquals;
    expect(condition).toEqual({ [`aws:ResourceTag/${autoscalerClusterTag(clusterName)}`]: tagsOf(groups[0])[autoscalerClusterTag(clusterName)] });
  });

  test('its role may scale and shrink the worker groups, never the master groups', () => {
    const permissions = clusterAutoscaler.permissions({ ...CONTEXT, clusterName });
    const masters = Object.values(resourcesOfType(cluster.templates.master, 'AWS::AutoScaling::AutoScalingGroup'));
    expect(masters.length).toBeGreaterThan(0);
    for (const action of ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup']) {
      const on = (group: { Properties: any }) => isAllowed(permissions, { action, resource: 'arn:aws:autoscaling:eu-central-1:123456789012:autoScalingGroup:uuid:autoScalingGroupName/g', resourceTags: tagsOf(group) });
      for (const group of groups) expect([action, on(group)]).toEqual([action, true]);
      for (const group of masters) expect([action, on(group)]).toEqual([action, false]);
    }
  });
});

/**
 * How cluster-autoscaler 1.35.2 reads a group's tags when the group has no node: a transcription
 * of the rules (not the code) of cloudprovider/aws/aws_manager.go extractLabelsFromAsg,
 * extractTaintsFromAsg and extractAllocatableResourcesFromAsg at tag cluster-autoscaler-1.35.2.
 * Go's strings.Split and JS split agree for a non-empty separator.
 */
const CA_LABEL_PREFIX = 'k8s.io/cluster-autoscaler/node-template/label/';
const CA_TAINT_PREFIX = 'k8s.io/cluster-autoscaler/node-template/taint/';
const CA_RESOURCE_PREFIX = 'k8s.io/cluster-autoscaler/node-template/resources/';
type Tags = Readonly<Record<string, string>>;

function caLabels(tags: Tags): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(tags)) {
    // The node-template prefix, else the EKS `eks:` one; the key's text after it, if any.
    let parts = key.split(CA_LABEL_PREFIX);
    if (parts.length <= 1) parts = key.split('eks:');
    if (parts.length > 1 && parts[1] !== '') labels[parts[1]] = value;
  }
  return labels;
}

function caTaints(tags: Tags): Taint[] {
  const taints: Taint[] = [];
  for (const [key, value] of Object.entries(tags)) {
    // The value must contain `:<Effect>` (an unanchored match), then splits at its first `:`.
    if (!/(.*):(?:NoSchedule|NoExecute|PreferNoSchedule)/.test(value)) continue;
    const parts = key.split(CA_TAINT_PREFIX);
    if (parts.length <= 1) continue;
    const colon = value.indexOf(':');
    // CA keeps an empty value as ""; Taint's value is optional, so "" reads back as none.
    const taintValue = value.slice(0, colon);
    taints.push({ key: parts[1], ...(taintValue ? { value: taintValue } : {}), effect: value.slice(colon + 1) as Taint['effect'] });
  }
  return taints;
}

/** The resources, in bytes for binary-suffixed quantities (all nodeTemplateTags writes); others are skipped, as CA skips what ParseQuantity refuses. */
function caResourceBytes(tags: Tags): Record<string, number> {
  const resources: Record<string, number> = {};
  const units: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
  for (const [key, value] of Object.entries(tags)) {
    const parts = key.split(CA_RESOURCE_PREFIX);
    const quantity = /^(\d+)(Ki|Mi|Gi|Ti)$/.exec(value);
    if (parts.length > 1 && parts[1] !== '' && quantity) resources[parts[1]] = Number(quantity[1]) * units[quantity[2]];
  }
  return resources;
}

describe('nodeTemplateTags: the ASG tags CA builds a zero-node pool from', () => {
  const labels = { 'node.example.com/pool': 'spot', 'example.com/empty': '', 'tier': 'batch' };
  const taints: Taint[] = [
    { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
    { key: 'spot', effect: 'PreferNoSchedule' },
    { key: 'example.com/drain', value: 'soon', effect: 'NoExecute' },
  ];
  const tags = nodeTemplateTags({ labels, taints, ephemeralStorageGiB: 40 });

  test('labels read back as the same labels', () => {
    expect(caLabels(tags)).toEqual(labels);
  });

  test('taints, with and without a value, read back as the same taints', () => {
    expect(caTaints(tags)).toEqual(taints);
  });

  test('ephemeral storage reads back as that many GiB, and is absent unless given', () => {
    expect(caResourceBytes(tags)).toEqual({ 'ephemeral-storage': 40 * 2 ** 30 });
    expect(caResourceBytes(nodeTemplateTags({ labels, taints }))).toEqual({});
  });

  test('no other tags: nothing CA would read as something else', () => {
    expect(Object.keys(tags)).toHaveLength(Object.keys(labels).length + taints.length + 1);
    expect(Object.keys(tags).every((key) => [CA_LABEL_PREFIX, CA_TAINT_PREFIX, CA_RESOURCE_PREFIX].some((p) => key.startsWith(p)))).toBe(true);
  });

  test('the parser is not lenient: tags in a wrong format do not read back', () => {
    // Effect first, `=` instead of `:`, or the label under the taint prefix: CA drops or misreads each.
    expect(caTaints({ [`${CA_TAINT_PREFIX}dedicated`]: 'NoSchedule:gpu' })).not.toEqual([taints[0]]);
    expect(caTaints({ [`${CA_TAINT_PREFIX}dedicated`]: 'gpu=NoSchedule' })).toEqual([]);
    expect(caLabels({ [`${CA_TAINT_PREFIX}tier`]: 'batch' })).toEqual({});
    expect(caResourceBytes({ [`${CA_RESOURCE_PREFIX}ephemeral-storage`]: '40' })).toEqual({});
  });

  test('refuses what CA would misread or AWS refuse', () => {
    expect(() => nodeTemplateTags({ labels: {}, taints: [{ key: 'a', value: 'x:y', effect: 'NoSchedule' }] })).toThrow(/split/);
    expect(() => nodeTemplateTags({ labels: {}, taints: [{ key: 'a', effect: 'NoSchedule' }, { key: 'a', effect: 'NoExecute' }] })).toThrow(/one taint per key/);
    expect(() => nodeTemplateTags({ labels: { [`example.com/${'x'.repeat(80)}`]: 'v' }, taints: [] })).toThrow(/128/);
    expect(() => nodeTemplateTags({ labels: {}, taints: [], ephemeralStorageGiB: 0 })).toThrow(/positive/);
    expect(() => nodeTemplateTags({ labels: {}, taints: [], ephemeralStorageGiB: 1.5 })).toThrow(/whole/);
  });
});

describe('cluster-autoscaler IAM for scale-from-zero', () => {
  // What 1.35.2 calls to build a zero-node pool's template (cloudprovider/aws/aws_wrapper.go
  // getLaunchTemplateData / getInstanceTypeFromInstanceRequirements, aws_util.go
  // DescribeInstanceTypes) and to notice failed launches (auto_scaling_groups.go isNodeGroupAvailable).
  const reads = [
    'autoscaling:DescribeAutoScalingGroups',
    'autoscaling:DescribeScalingActivities',
    'ec2:DescribeLaunchTemplateVersions',
    'ec2:DescribeInstanceTypes',
    'ec2:DescribeImages',
    'ec2:GetInstanceTypesFromInstanceRequirements',
  ];

  test.each(reads)('%s is allowed', (action) => {
    expect(isAllowed(statements, { action, resource: '*' })).toBe(true);
  });

  test('no write is allowed outside groups tagged for this cluster', () => {
    expect(unscopedWrites(statements, CONTEXT)).toEqual([]);
  });
});
