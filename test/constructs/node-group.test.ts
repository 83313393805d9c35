import { CfnElement, Duration, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { NodeGroup, NodeGroupProps, NodePoolProps } from '../../lib/constructs/node-group';

function nodeGroup(overrides: Partial<NodeGroupProps>): { stack: Stack; group: NodeGroup } {
  const stack = new Stack(undefined, 'Test', { env: { account: '123456789012', region: 'eu-central-1' } });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0a1b2c3d4e5f60718',
    availabilityZones: ['eu-central-1a', 'eu-central-1b'],
    privateSubnetIds: ['subnet-0a000000000000001', 'subnet-0b000000000000002'],
  });
  const subnets = ['subnet-0a000000000000001', 'subnet-0b000000000000002'].map((subnetId, i) =>
    ec2.Subnet.fromSubnetAttributes(stack, `Subnet${i}`, { subnetId, availabilityZone: vpc.availabilityZones[i] }),
  );
  const group = new NodeGroup(stack, 'Nodes', {
    clusterName: 'c-1',
    role: 'worker',
    vpc,
    subnets,
    instanceType: new ec2.InstanceType('m6i.large'),
    machineImage: ec2.MachineImage.genericLinux({ 'eu-central-1': 'ami-0f1e2d3c4b5a69788' }),
    userData: ec2.UserData.custom('{}'),
    ...overrides,
  });
  return { stack, group };
}

describe('NodeGroup', () => {
  test('a pool is one group over all subnets, tagged for the cluster, its role and its health signal', () => {
    const { stack, group } = nodeGroup({ capacity: { min: 2, max: 5 } });
    const template = Template.fromStack(stack);
    const logicalId = stack.getLogicalId(group.autoScalingGroups[0].node.defaultChild as any);
    const [asg] = Object.values(template.findResources('AWS::AutoScaling::AutoScalingGroup'));
    expect(asg.Properties).toMatchObject({ MinSize: '2', MaxSize: '5', VPCZoneIdentifier: ['subnet-0a000000000000001', 'subnet-0b000000000000002'] });
    expect(asg.Properties.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'kubernetes.io/cluster/c-1', Value: 'owned', PropagateAtLaunch: true },
        { Key: 'kubernetes-on-aws:role', Value: 'worker', PropagateAtLaunch: true },
        { Key: 'kubernetes-on-aws:cfn-stack', Value: 'Test', PropagateAtLaunch: true },
        { Key: 'kubernetes-on-aws:cfn-resource', Value: logicalId, PropagateAtLaunch: true },
      ]),
    );
    expect(asg.UpdatePolicy.AutoScalingRollingUpdate.MinInstancesInService).toBe(2);
  });

  test('launches every node with IMDSv2 only, its token response one hop (host network) only', () => {
    for (const overrides of [{ capacity: { min: 1, max: 2 } }, { role: 'etcd' as const, members: 3 }]) {
      const templates = Object.values(Template.fromStack(nodeGroup(overrides).stack).findResources('AWS::EC2::LaunchTemplate'));
      expect(templates.length).toBe(overrides.members ?? 1);
      for (const t of templates) expect(t.Properties.LaunchTemplateData.MetadataOptions).toEqual({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
    }
  });

  test("checks a node by EC2's status checks unless load-balancer checks are asked for", () => {
    const ec2Only = Template.fromStack(nodeGroup({ capacity: { min: 1, max: 2 } }).stack);
    ec2Only.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { HealthCheckType: 'EC2', HealthCheckGracePeriod: 1200 });
    const withElb = Template.fromStack(nodeGroup({ capacity: { min: 1, max: 2 }, loadBalancerHealthCheckGrace: Duration.minutes(8) }).stack);
    withElb.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { HealthCheckType: 'ELB', HealthCheckGracePeriod: 480 });
  });

  test('a pool with a drain timeout holds each leaving instance for the drain, and lets it go (CONTINUE) when nobody answers', () => {
    const { stack, group } = nodeGroup({ capacity: { min: 1, max: 3 }, terminationDrainTimeout: Duration.minutes(12) });
    const hooks = Object.values(Template.fromStack(stack).findResources('AWS::AutoScaling::LifecycleHook'));
    expect(hooks.map((h) => h.Properties)).toEqual([
      {
        AutoScalingGroupName: { Ref: stack.getLogicalId(group.autoScalingGroups[0].node.defaultChild as CfnElement) },
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        HeartbeatTimeout: 720,
        DefaultResult: 'CONTINUE',
      },
    ]);
    // No notification target, so no role: EventBridge receives the lifecycle events of every group.
    expect(Object.keys(Template.fromStack(stack).findResources('AWS::IAM::Role'))).toHaveLength(1);
  });

  test('without a drain timeout, and for members, no lifecycle hook; an invalid timeout is refused naming the setting and the bounds', () => {
    expect(Template.fromStack(nodeGroup({ capacity: { min: 1, max: 2 } }).stack).findResources('AWS::AutoScaling::LifecycleHook')).toEqual({});
    expect(() => nodeGroup({ role: 'etcd', members: 3, terminationDrainTimeout: Duration.minutes(5) })).toThrow(/'terminationDrainTimeout' is for a pool/);
    expect(() => nodeGroup({ capacity: { min: 1, max: 2 }, terminationDrainTimeout: Duration.seconds(10) })).toThrow(/'terminationDrainTimeout' must be whole seconds from 30 to 7200 .*got 10/);
    expect(() => nodeGroup({ capacity: { min: 1, max: 2 }, terminationDrainTimeout: Duration.hours(3) })).toThrow(/got 10800/);
  });

  test('a pool has one role for all its nodes', () => {
    const { stack, group } = nodeGroup({ capacity: { min: 1, max: 2 } });
    expect(group.roles).toEqual([group.role]);
    expect(group.memberRoles).toEqual([]);
    expect(Object.keys(Template.fromStack(stack).findResources('AWS::IAM::Role'))).toHaveLength(1);
  });

  test('each member has its own role, instance profile and launch template, so that a grant can name one member', () => {
    const { stack, group } = nodeGroup({ role: 'etcd', members: 3 });
    const template = Template.fromStack(stack);
    const launchTemplates = template.findResources('AWS::EC2::LaunchTemplate');
    const profiles = template.findResources('AWS::IAM::InstanceProfile');
    const roleOfGroup = Object.values(template.findResources('AWS::AutoScaling::AutoScalingGroup')).map((asg) => {
      const lt = launchTemplates[asg.Properties.LaunchTemplate.LaunchTemplateId.Ref];
      return profiles[lt.Properties.LaunchTemplateData.IamInstanceProfile.Arn['Fn::GetAtt'][0]].Properties.Roles[0].Ref;
    });
    expect(roleOfGroup).toEqual(group.memberRoles.map((role) => stack.getLogicalId(role.node.defaultChild as CfnElement)));
    expect(new Set(roleOfGroup).size).toBe(3);
    expect(group.roles).toEqual(group.memberRoles);
    expect(group.launchTemplates).toHaveLength(3);
    // Every member boots the same way: it reads its tags and signals its own group.
    for (const role of group.memberRoles) {
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: stack.getLogicalId(role.node.defaultChild as CfnElement) }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'ec2:DescribeTags' }), Match.objectLike({ Action: 'cloudformation:SignalResource' })]) },
      });
    }
  });

  test("refuses 'role' on members, saying what to use instead", () => {
    const { group } = nodeGroup({ role: 'etcd', members: 3 });
    expect(() => group.role).toThrow(/3 members have one instance role each; grant to each of `roles` .* or to `memberRoles\[N\]`/);
  });

  test('members are groups of one, spread round-robin over the subnets', () => {
    const { stack } = nodeGroup({ role: 'etcd', members: 3 });
    const groups = Object.values(Template.fromStack(stack).findResources('AWS::AutoScaling::AutoScalingGroup'));
    expect(groups.map((g) => g.Properties.VPCZoneIdentifier)).toEqual([
      ['subnet-0a000000000000001'],
      ['subnet-0b000000000000002'],
      ['subnet-0a000000000000001'],
    ]);
  });

  test.each<[string, Partial<NodeGroupProps>, RegExp]>([
    ['neither capacity nor members', {}, /exactly one of 'capacity'.*'members'.*'pools'/],
    ['both capacity and members', { capacity: { min: 1, max: 2 }, members: 3 }, /exactly one of 'capacity'/],
    ['no subnets', { capacity: { min: 1, max: 2 }, subnets: [] }, /'subnets' must name at least one subnet/],
    ['zero members', { members: 0 }, /'members' must be a whole number of at least 1, got 0/],
    ['desired outside min and max', { capacity: { min: 1, desired: 7, max: 5 } }, /'capacity.desired' must lie between min 1 and max 5, got 7/],
    ['no room to roll', { capacity: { min: 2, max: 2 } }, /'capacity.max' \(2\) must exceed 'capacity.min' \(2\)/],
    ['negative minimum', { capacity: { min: -1, max: 2 } }, /whole numbers min >= 0/],
    // Members have a role each: one name cannot serve them all.
    ['a name for members\' roles', { members: 3, identityName: 'c-etcd' }, /'identityName' names a pool's one role/],
    ['a name IAM refuses', { capacity: { min: 1, max: 2 }, identityName: 'c worker' }, /'identityName' names a pool's one role: at most 64 .*got 'c worker'/],
  ])('rejects %s', (_, overrides, message) => {
    expect(() => nodeGroup(overrides)).toThrow(message);
  });
});

describe('NodeGroup pools', () => {
  const userData = (name: string) => ec2.UserData.custom(`{"pool":"${name}"}`);
  const general: NodePoolProps = { id: '', capacity: { min: 1, max: 4 }, instanceTypes: [new ec2.InstanceType('m6i.large')], userData: userData('general') };
  const spot: NodePoolProps = {
    id: 'PoolSpot',
    capacity: { min: 0, max: 20 },
    instanceTypes: ['m6i.large', 'm5.large', 'm5a.large'].map((type) => new ec2.InstanceType(type)),
    spot: { onDemandBaseCapacity: 1, onDemandPercentageAboveBaseCapacity: 10, allocationStrategy: autoscaling.SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED },
    userData: userData('spot'),
    rootVolumeSize: Size.gibibytes(100),
    groupTags: { 'k8s.io/cluster-autoscaler/node-template/label/pool': 'spot' },
  };
  const pooled = (pools: NodePoolProps[], extra: Partial<NodeGroupProps> = {}) =>
    nodeGroup({ instanceType: undefined, userData: undefined, identityName: 'c-1-worker-node', pools, ...extra });

  test('each pool is a group of its own; the pools share one role, one named instance profile and one security group', () => {
    const { stack, group } = pooled([general, spot]);
    const template = Template.fromStack(stack);
    expect(group.autoScalingGroups).toHaveLength(2);
    template.resourceCountIs('AWS::IAM::Role', 1);
    template.resourceCountIs('AWS::IAM::InstanceProfile', 1);
    template.resourceCountIs('AWS::EC2::SecurityGroup', 1);
    const profile = Object.keys(template.findResources('AWS::IAM::InstanceProfile'))[0];
    const templates = Object.values(template.findResources('AWS::EC2::LaunchTemplate'));
    expect(templates.map((t) => t.Properties.LaunchTemplateData.IamInstanceProfile)).toEqual([{ Arn: { 'Fn::GetAtt': [profile, 'Arn'] } }, { Arn: { 'Fn::GetAtt': [profile, 'Arn'] } }]);
    // Each its own user data and root volume; the first type in the template.
    expect(templates.map((t) => t.Properties.LaunchTemplateData.UserData)).toEqual([{ 'Fn::Base64': '{"pool":"general"}' }, { 'Fn::Base64': '{"pool":"spot"}' }]);
    expect(templates.map((t) => t.Properties.LaunchTemplateData.BlockDeviceMappings[0].Ebs.VolumeSize)).toEqual([20, 100]);
    expect(templates.map((t) => t.Properties.LaunchTemplateData.InstanceType)).toEqual(['m6i.large', 'm6i.large']);
  });

  test('the pool with the empty id keeps the ids of a one-pool group: moving to pools replaces nothing', () => {
    const ids = (stack: Stack) => Object.keys(Template.fromStack(stack).toJSON().Resources).sort();
    const one = nodeGroup({ capacity: general.capacity, identityName: 'c-1-worker-node', userData: general.userData });
    expect(ids(pooled([general]).stack)).toEqual(ids(one.stack));
    expect(Template.fromStack(pooled([general]).stack).toJSON()).toEqual(Template.fromStack(one.stack).toJSON());
  });

  test('one instance type on demand is a plain launch template; several types or Spot make a mixed-instances group', () => {
    const onDemandMix: NodePoolProps = { ...general, id: 'PoolMix', instanceTypes: [new ec2.InstanceType('m6i.large'), new ec2.InstanceType('m5.large')] };
    const { stack } = pooled([general, spot, onDemandMix]);
    const groups = Object.values(Template.fromStack(stack).findResources('AWS::AutoScaling::AutoScalingGroup'));
    expect(groups[0].Properties.LaunchTemplate).toBeDefined();
    expect(groups[0].Properties.MixedInstancesPolicy).toBeUndefined();
    expect(groups[1].Properties.LaunchTemplate).toBeUndefined();
    expect(groups[1].Properties.MixedInstancesPolicy).toMatchObject({
      InstancesDistribution: { OnDemandBaseCapacity: 1, OnDemandPercentageAboveBaseCapacity: 10, SpotAllocationStrategy: 'price-capacity-optimized' },
      LaunchTemplate: { Overrides: [{ InstanceType: 'm6i.large' }, { InstanceType: 'm5.large' }, { InstanceType: 'm5a.large' }] },
    });
    expect(groups[1].Properties).toMatchObject({ MinSize: '0', MaxSize: '20' });
    expect(groups[2].Properties.MixedInstancesPolicy.InstancesDistribution).toEqual({ OnDemandPercentageAboveBaseCapacity: 100 });
  });

  test("a pool's group tags are on its group only, not on its instances nor on the other pools", () => {
    const { stack } = pooled([general, spot]);
    const groups = Object.values(Template.fromStack(stack).findResources('AWS::AutoScaling::AutoScalingGroup'));
    const nodeTemplateTag = { Key: 'k8s.io/cluster-autoscaler/node-template/label/pool', Value: 'spot', PropagateAtLaunch: false };
    expect(groups[1].Properties.Tags).toContainEqual(nodeTemplateTag);
    expect(groups[0].Properties.Tags).not.toContainEqual(expect.objectContaining({ Key: nodeTemplateTag.Key }));
  });

  test('every pool leaves drained: each group has the termination hook', () => {
    const { stack } = pooled([general, spot], { terminationDrainTimeout: Duration.seconds(799) });
    Template.fromStack(stack).resourceCountIs('AWS::AutoScaling::LifecycleHook', 2);
  });

  test.each<[string, NodePoolProps[], RegExp]>([
    ['no pools', [], /'pools' must name at least one pool/],
    ['two pools of one id', [general, { ...spot, id: '' }], /pool ids must be unique, got '' more than once/],
    ['a pool without instance types', [{ ...spot, instanceTypes: [] }], /pool 'PoolSpot': 'instanceTypes' must name at least one/],
    ['a Spot share above 100', [{ ...spot, spot: { ...spot.spot!, onDemandPercentageAboveBaseCapacity: 101 } }], /pool 'PoolSpot': 'spot' needs/],
    ['a pool with no room to roll', [{ ...spot, capacity: { min: 3, max: 3 } }], /pool PoolSpot: 'capacity.max' \(3\) must exceed/],
  ])('rejects %s', (_, pools, message) => {
    expect(() => pooled(pools)).toThrow(message);
  });

  test("a pool group names no group-wide instance type or user data, and a one-pool group needs them", () => {
    expect(() => nodeGroup({ capacity: { min: 1, max: 2 }, userData: undefined })).toThrow(/'instanceType' and 'userData' are required with 'capacity' or 'members'/);
  });
});
