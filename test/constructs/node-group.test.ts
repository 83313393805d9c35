import { CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { NodeGroup, NodeGroupProps } from '../../lib/constructs/node-group';

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
    ['neither capacity nor members', {}, /exactly one of 'capacity'.*and 'members'/],
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
