/**
 * Worker pools in the worker stack: one Auto Scaling group per pool with its own instance
 * types, purchase options, sizes and Ignition config (labels and taints), all found by
 * cluster-autoscaler and able to scale from zero, all drained when they leave; the default
 * pool keeps the logical ids the worker stack had before pools.
 */
import * as fs from 'fs';
import * as path from 'path';
import { load } from 'js-yaml';
import { MAX_POOLS } from '../../lib/worker-pools';
import { manyPools } from '../fixtures/worker-pools';
import { WORKER_POOL_LABEL } from '../../userdata/worker';
import { fileText, unitText } from '../userdata/config-files';
import { changedResources, exampleContext, resourcesOfType, synthesizeCluster, SynthesizedCluster } from './../util';

/** The acceptance example, as the command line passes it. */
const ACCEPTANCE_POOLS =
  '[{"name":"general","instanceTypes":["m6i.large"],"minSize":1,"maxSize":10},' +
  '{"name":"spot","instanceTypes":["m6i.large","m5.large","m5a.large"],"spot":true,"minSize":0,"maxSize":20,' +
  '"labels":{"pool":"spot"},"taints":["spot=true:NoSchedule"]}]';

const cluster = synthesizeCluster({ workerPools: ACCEPTANCE_POOLS });
const groups = () => resourcesOfType(cluster.templates.worker, 'AWS::AutoScaling::AutoScalingGroup');

/** A pool's group, found by its node-template pool label. */
function groupOf(pool: string) {
  const found = Object.entries(groups()).filter(([, group]) =>
    group.Properties.Tags.some((tag: { Key: string; Value: string }) => tag.Key === `k8s.io/cluster-autoscaler/node-template/label/${WORKER_POOL_LABEL}` && tag.Value === pool),
  );
  expect(found).toHaveLength(1);
  return { logicalId: found[0][0], ...found[0][1] };
}

function tagsOf(group: { Properties: { Tags: { Key: string; Value: string; PropagateAtLaunch: boolean }[] } }): Record<string, string> {
  return Object.fromEntries(group.Properties.Tags.filter((tag) => !tag.PropagateAtLaunch).map((tag) => [tag.Key, tag.Value]));
}

/** The Ignition config a pool's nodes fetch, as the stack staged it. */
function ignitionOf(synthesized: SynthesizedCluster, pool: string) {
  const userData = synthesized.stacks.worker.userData.get(pool)!;
  return JSON.parse(fs.readFileSync(path.join(synthesized.app.outdir, userData.config.asset.assetPath), 'utf8'));
}

describe('worker pools', () => {
  test("the issue's example gives one worker group per pool, sized as given", () => {
    expect(Object.keys(groups())).toHaveLength(2);
    expect(groupOf('general').Properties).toMatchObject({ MinSize: '1', MaxSize: '10' });
    expect(groupOf('spot').Properties).toMatchObject({ MinSize: '0', MaxSize: '20' });
  });

  test('the on-demand pool of one type has a plain launch template; the Spot pool is a mixed-instances group, price-capacity-optimized, no on-demand, rebalancing capacity', () => {
    expect(groupOf('general').Properties.MixedInstancesPolicy).toBeUndefined();
    expect(groupOf('general').Properties.CapacityRebalance).toBeUndefined();
    expect(groupOf('spot').Properties.CapacityRebalance).toBe(true);
    expect(groupOf('spot').Properties.MixedInstancesPolicy).toMatchObject({
      InstancesDistribution: { OnDemandBaseCapacity: 0, OnDemandPercentageAboveBaseCapacity: 0, SpotAllocationStrategy: 'price-capacity-optimized' },
      LaunchTemplate: { Overrides: [{ InstanceType: 'm6i.large' }, { InstanceType: 'm5.large' }, { InstanceType: 'm5a.large' }] },
    });
  });

  test('cluster-autoscaler discovers every pool, and can scale each up from zero: the tags describe its labels, taints and storage', () => {
    for (const pool of ['general', 'spot']) {
      expect(tagsOf(groupOf(pool))).toMatchObject({
        'k8s.io/cluster-autoscaler/enabled': 'true',
        'k8s.io/cluster-autoscaler/kube-aws-test-1': 'owned',
        [`k8s.io/cluster-autoscaler/node-template/label/${WORKER_POOL_LABEL}`]: pool,
        'k8s.io/cluster-autoscaler/node-template/label/kubernetes-on-aws/role': 'worker',
        // 50 GiB less Flatcar's 6.1 GiB of other partitions, ext4's inode tables (1/16) and
        // journal (1 GiB), less the 10 % hard eviction threshold.
        'k8s.io/cluster-autoscaler/node-template/resources/ephemeral-storage': '36Gi',
      });
    }
    expect(tagsOf(groupOf('spot'))).toMatchObject({
      'k8s.io/cluster-autoscaler/node-template/label/pool': 'spot',
      'k8s.io/cluster-autoscaler/node-template/taint/spot': 'true:NoSchedule',
    });
    expect(Object.keys(tagsOf(groupOf('general'))).filter((key) => key.includes('/taint/'))).toEqual([]);
  });

  test("each pool's kubelet registers with the pool's labels and taints, and the pool label", () => {
    const spot = ignitionOf(cluster, 'spot');
    expect(unitText(spot, 'kubelet.service')).toContain(`--node-labels=pool=spot,kubernetes-on-aws/role=worker,${WORKER_POOL_LABEL}=spot`);
    expect((load(fileText(spot, '/etc/kubernetes/kubelet.yaml')) as { registerWithTaints: unknown }).registerWithTaints).toEqual([{ key: 'spot', value: 'true', effect: 'NoSchedule' }]);
    const general = ignitionOf(cluster, 'general');
    expect(unitText(general, 'kubelet.service')).toContain(`--node-labels=kubernetes-on-aws/role=worker,${WORKER_POOL_LABEL}=general`);
    expect((load(fileText(general, '/etc/kubernetes/kubelet.yaml')) as { registerWithTaints: unknown }).registerWithTaints).toEqual([]);
  });

  test('every pool uses the one worker instance profile the auth webhook maps to nodes, and an encrypted root volume', () => {
    const profiles = resourcesOfType(cluster.templates.worker, 'AWS::IAM::InstanceProfile');
    expect(Object.values(profiles).map((p) => p.Properties.InstanceProfileName)).toEqual(['kube-aws-test-1-worker-node']);
    const [profileId] = Object.keys(profiles);
    for (const launchTemplate of Object.values(resourcesOfType(cluster.templates.worker, 'AWS::EC2::LaunchTemplate'))) {
      expect(launchTemplate.Properties.LaunchTemplateData.IamInstanceProfile).toEqual({ Arn: { 'Fn::GetAtt': [profileId, 'Arn'] } });
      // cdk-nag cannot check a mixed-instances group's volumes (node-group.ts): checked here.
      expect(launchTemplate.Properties.LaunchTemplateData.BlockDeviceMappings).toEqual([expect.objectContaining({ Ebs: expect.objectContaining({ Encrypted: true }) })]);
    }
  });

  test('every pool leaves drained and is health-checked: a termination hook each, the lifecycle rule and the kubelet check name every group', () => {
    const ids = [groupOf('general').logicalId, groupOf('spot').logicalId];
    const hooks = Object.values(resourcesOfType(cluster.templates.worker, 'AWS::AutoScaling::LifecycleHook'));
    expect(hooks.map((hook) => hook.Properties.AutoScalingGroupName.Ref).sort()).toEqual([...ids].sort());
    const [lifecycle, ...others] = Object.values(resourcesOfType(cluster.templates.worker, 'AWS::Events::Rule'));
    expect(others).toEqual([]);
    expect(lifecycle.Properties.EventPattern['detail-type']).toEqual(['EC2 Instance-terminate Lifecycle Action']);
    expect(lifecycle.Properties.EventPattern.detail.AutoScalingGroupName.map((name: { Ref: string }) => name.Ref).sort()).toEqual([...ids].sort());
    for (const id of ids) expect(groups()[id].Properties.TargetGroupARNs).toHaveLength(1);
  });

  test("the pool the worker* keys make and a workerPools pool named 'default' with the same settings are the same stack", () => {
    const fromKeys = synthesizeCluster({ workerInstanceType: 'm5.xlarge', workerMinSize: 2, workerMaxSize: 6 });
    const fromPools = synthesizeCluster({ workerPools: [{ name: 'default', instanceTypes: ['m5.xlarge'], minSize: 2, maxSize: 6 }] });
    expect(changedResources(fromKeys.templates.worker.toJSON(), fromPools.templates.worker.toJSON())).toEqual([]);
  });

  test('adding a tainted pool adds its resources, changes no resource of the existing pool, and in the master stack only the EBS CSI add-on', () => {
    const before = synthesizeCluster({ workerPools: [JSON.parse(ACCEPTANCE_POOLS)[0]] });
    const changed = changedResources(before.templates.worker.toJSON(), cluster.templates.worker.toJSON());
    const existing = Object.keys(before.templates.worker.toJSON().Resources);
    // What the new pool shares with the others: the add-ons that run on workers wait for every
    // group, the role may read the new pool's Ignition config, the lifecycle rule names every group.
    expect(changed.filter((id) => existing.includes(id))).toEqual([
      expect.stringMatching(/^Addonsheadlamp/),
      expect.stringMatching(/^Addonskubestatemetrics/),
      expect.stringMatching(/^WorkersRoleDefaultPolicy/),
      expect.stringMatching(/^WorkersTerminationRule/),
    ]);
    expect(changed.filter((id) => /^Workers(LaunchTemplate|Group)/.test(id))).toEqual([]);
    // In the master stack only the EBS CSI driver's add-on: its node plugin tolerates the new pool's taint.
    expect(changedResources(before.templates.master.toJSON(), cluster.templates.master.toJSON())).toEqual([expect.stringMatching(/^Addonsawsebscsidriver/)]);
  });

  test('an emptied pool (maxSize 0) is a group of at most no instance, with no rolling update (CloudFormation refuses MinInstancesInService not below MaxSize)', () => {
    const [general] = JSON.parse(ACCEPTANCE_POOLS);
    const emptied = synthesizeCluster({ workerPools: [general, { ...general, name: 'old', minSize: 0, maxSize: 0 }] });
    const groupsById = resourcesOfType(emptied.templates.worker, 'AWS::AutoScaling::AutoScalingGroup');
    const old = Object.values(groupsById).find((g) => g.Properties.Tags.some((t: { Value: string }) => t.Value === 'old'))!;
    expect(old.Properties).toMatchObject({ MinSize: '0', MaxSize: '0' });
    expect(old.UpdatePolicy?.AutoScalingRollingUpdate).toBeUndefined();
    // The other pool still rolls.
    const other = Object.values(groupsById).find((g) => g !== old)!;
    expect(other.UpdatePolicy.AutoScalingRollingUpdate).toMatchObject({ MaxBatchSize: 1, MinInstancesInService: 1 });
  });

  test('a pool in one subnet runs there only', () => {
    const [general] = JSON.parse(ACCEPTANCE_POOLS);
    const subnetId = (exampleContext().nodeSubnetIds as string[])[1];
    const one = synthesizeCluster({ workerPools: [{ ...general, subnetIds: [subnetId] }] });
    expect(Object.values(resourcesOfType(one.templates.worker, 'AWS::AutoScaling::AutoScalingGroup')).map((g) => g.Properties.VPCZoneIdentifier)).toEqual([[subnetId]]);
  });
});

describe(`the most pools (${MAX_POOLS}), for the longest cluster name`, () => {
  // 26 + '-' + 1 = 28 characters: MAX_CLUSTER_NAME_LENGTH.
  const stack = 'k'.repeat(26);
  const twenty = synthesizeCluster({ stack, version: '1', workerPools: manyPools(MAX_POOLS) });

  // CloudFormation's quotas (docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html):
  // 500 resources, 200 outputs, 200 parameters, 1 MB for a template uploaded to S3 (the CLI
  // uploads any template above 51,200 bytes).
  test.each(['etcd', 'master', 'worker'] as const)('the %s stack stays within CloudFormation limits', (stack) => {
    const template = twenty.templates[stack].toJSON();
    expect(Object.keys(template.Resources).length).toBeLessThanOrEqual(500);
    expect(Object.keys(template.Outputs ?? {}).length).toBeLessThanOrEqual(200);
    expect(Object.keys(template.Parameters ?? {}).length).toBeLessThanOrEqual(200);
    expect(JSON.stringify(template).length).toBeLessThanOrEqual(1_000_000);
  });

  test('gives a group per pool, each discovered by cluster-autoscaler and drained when it leaves', () => {
    const all = Object.values(resourcesOfType(twenty.templates.worker, 'AWS::AutoScaling::AutoScalingGroup'));
    expect(all).toHaveLength(MAX_POOLS);
    for (const group of all) expect(tagsOf(group)['k8s.io/cluster-autoscaler/enabled']).toBe('true');
    expect(Object.keys(resourcesOfType(twenty.templates.worker, 'AWS::AutoScaling::LifecycleHook'))).toHaveLength(MAX_POOLS);
  });

  test("the lifecycle rules name every group once, within EventBridge's limits on names and patterns", () => {
    const rules = Object.values(resourcesOfType(twenty.templates.worker, 'AWS::Events::Rule'));
    const named = rules.flatMap((rule) => rule.Properties.EventPattern.detail.AutoScalingGroupName.map((name: { Ref: string }) => name.Ref));
    expect(named.sort()).toEqual(Object.keys(resourcesOfType(twenty.templates.worker, 'AWS::AutoScaling::AutoScalingGroup')).sort());
    for (const rule of rules) {
      // Rule names: at most 64 characters (EventBridge PutRule Name).
      expect(rule.Properties.Name.length).toBeLessThanOrEqual(64);
      // Each group name as CloudFormation makes it, `<stack>-<logical id>-<13 characters>`:
      // the pattern stays within the default 2,048 characters (EventBridge quotas).
      const pattern = JSON.stringify(rule.Properties.EventPattern, (_, value) =>
        value && typeof value === 'object' && 'Ref' in value ? `${twenty.stacks.worker.stackName}-${value.Ref}-ABCDEFGHIJKLM` : value,
      );
      expect(pattern.length).toBeLessThanOrEqual(2048);
    }
  });
});
