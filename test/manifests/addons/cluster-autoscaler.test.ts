import { IamStatement } from '../../../manifests/addons/addon';
import {
  AUTOSCALER_CLUSTER_TAG_VALUE,
  AUTOSCALER_ENABLED_TAG,
  autoscalerClusterTag,
  clusterAutoscaler,
  CLUSTER_AUTOSCALER_VERSION,
} from '../../../manifests/addons/cluster-autoscaler';
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
