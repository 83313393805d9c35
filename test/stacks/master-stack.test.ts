import { Match } from 'aws-cdk-lib/assertions';
import { Statement, allows, statementsOfRole } from '../iam-policy';
import { templateSnapshot } from '../template-snapshot';
import { SynthesizedCluster, resourcesOfType, synthesizeCluster } from '../util';
import { POD_IDENTITY_WEBHOOK_METRICS_PORT, POD_IDENTITY_WEBHOOK_PORT } from '../../userdata/network';

const CLUSTER_TAG = 'kubernetes.io/cluster/kube-aws-test-1';
const EC2_ARN = 'arn:aws:ec2:eu-central-1:123456789012';
const ELB_ARN = 'arn:aws:elasticloadbalancing:eu-central-1:123456789012';

describe('MasterStack', () => {
  let cluster: SynthesizedCluster;
  beforeAll(() => {
    cluster = synthesizeCluster();
  });
  const master = () => cluster.templates.master;

  test('says whether the API servers accept the break-glass admin token: not unless the context asks (the CLI reads this output)', () => {
    expect(cluster.templates.master.findOutputs('BreakGlassAdminToken').BreakGlassAdminToken.Value).toBe('disabled');
    const withToken = synthesizeCluster({ breakGlassAdminToken: 'true' });
    expect(withToken.templates.master.findOutputs('BreakGlassAdminToken').BreakGlassAdminToken.Value).toBe('enabled');
  });

  test('runs the masters in one group that never goes below the master count while rolling', () => {
    master().hasResource('AWS::AutoScaling::AutoScalingGroup', {
      Properties: Match.objectLike({ MinSize: '1', DesiredCapacity: '1', MaxSize: '2' }),
      UpdatePolicy: {
        AutoScalingRollingUpdate: Match.objectLike({ MaxBatchSize: 1, MinInstancesInService: 1, WaitOnResourceSignals: true }),
        AutoScalingScheduledAction: Match.anyValue(),
      },
      CreationPolicy: { ResourceSignal: { Count: 1, Timeout: 'PT20M' } },
    });
  });

  test("replaces a master only when EC2 finds it broken; the load balancer's /readyz decides only where traffic goes", () => {
    // An etcd outage fails /readyz (and /livez) on every master at once: acting on it would
    // replace them all. (kubernetes/apiserver v0.35.1 addEtcdHealthEndpoint.)
    const [group] = Object.values(resourcesOfType(master(), 'AWS::AutoScaling::AutoScalingGroup'));
    expect(group.Properties.HealthCheckType).toBe('EC2');
    const [targetGroupRef] = group.Properties.TargetGroupARNs;
    const targetGroup = resourcesOfType(master(), 'AWS::ElasticLoadBalancingV2::TargetGroup')[targetGroupRef.Ref];
    expect(targetGroup.Properties).toMatchObject({ HealthCheckPath: '/readyz', HealthCheckProtocol: 'HTTPS' });
  });

  test('launches masters with IMDSv2 only and an encrypted root volume', () => {
    master().hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        InstanceType: 'm6i.large',
        ImageId: 'ami-0f1e2d3c4b5a69788',
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { Encrypted: true, VolumeSize: 20, VolumeType: 'gp3', DeleteOnTermination: true } }],
      }),
    });
  });

  test('terminates TLS on 443 with an ACM certificate for the API name and re-encrypts to the masters', () => {
    const t = master();
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing', Type: 'network' });
    t.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: 'kube-aws-test-1.team.example.org',
      ValidationMethod: 'DNS',
      DomainValidationOptions: [{ DomainName: 'kube-aws-test-1.team.example.org', HostedZoneId: 'Z0123456789EXAMPLE' }],
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'TLS',
      Certificates: [{ CertificateArn: { Ref: Match.stringLikeRegexp('ApiCertificate') } }],
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 443,
      Protocol: 'TLS',
      TargetType: 'instance',
      HealthCheckProtocol: 'HTTPS',
      HealthCheckPath: '/readyz',
    });
  });

  test('uses the given certificate instead of creating one', () => {
    const arn = 'arn:aws:acm:eu-central-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b';
    const t = synthesizeCluster({ certificateArn: arn }).templates.master;
    t.resourceCountIs('AWS::CertificateManager::Certificate', 0);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Certificates: [{ CertificateArn: arn }] });
  });

  test('publishes the API at <stack>-<version>.<zone> and outputs its URL', () => {
    master().hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'kube-aws-test-1.team.example.org.',
      Type: 'A',
      AliasTarget: Match.objectLike({ DNSName: Match.anyValue() }),
    });
    master().hasOutput('ApiUrl', { Value: 'https://kube-aws-test-1.team.example.org' });
  });

  test('serves the API inside the VPC at internal.<stack>-<version>.<zone>: internal, node subnets, TCP passthrough to the masters', () => {
    const t = master();
    const [internal] = Object.entries(resourcesOfType(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer')).filter(([, r]) => r.Properties.Scheme === 'internal');
    expect(internal[1].Properties.Subnets).toEqual(cluster.config.network.nodeSubnetIds);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      LoadBalancerArn: { Ref: internal[0] },
      Port: 443,
      Protocol: 'TCP',
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: Match.stringLikeRegexp('^InternalApiMasters') } }],
    });
    t.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      TargetGroupARNs: Match.arrayWith([{ Ref: Match.stringLikeRegexp('^InternalApiMasters') }]),
    });
    t.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'internal.kube-aws-test-1.team.example.org.',
      Type: 'A',
      AliasTarget: Match.objectLike({ HostedZoneId: { 'Fn::GetAtt': [internal[0], 'CanonicalHostedZoneID'] } }),
    });
    expect(cluster.stacks.master.internalApiUrl).toBe('https://internal.kube-aws-test-1.team.example.org');
  });

  test('no security group rule of the cluster opens the pod identity webhook\'s ports (it is for the local API server only)', () => {
    const stacks = [master(), cluster.templates.worker];
    const rules = stacks.flatMap((template) => [
      ...Object.values(resourcesOfType(template, 'AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties),
      ...Object.values(resourcesOfType(template, 'AWS::EC2::SecurityGroup')).flatMap((g) => g.Properties.SecurityGroupIngress ?? []),
    ]);
    expect(rules.length).toBeGreaterThan(5);
    const opens = (rule: { IpProtocol: string; FromPort?: number; ToPort?: number }, port: number) =>
      rule.IpProtocol === '-1' || (rule.IpProtocol === 'tcp' && (rule.FromPort ?? 0) <= port && port <= (rule.ToPort ?? 65535));
    for (const port of [POD_IDENTITY_WEBHOOK_PORT, POD_IDENTITY_WEBHOOK_METRICS_PORT]) expect({ port, rules: rules.filter((r) => opens(r, port)) }).toEqual({ port, rules: [] });
  });

  test('opens the API port to the two load balancers, kubelet only among masters, and etcd from masters', () => {
    const rules = Object.values(resourcesOfType(master(), 'AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties);
    const byPort = (port: number) => rules.filter((r) => r.FromPort === port);
    expect(byPort(443).map((r) => r.SourceSecurityGroupId['Fn::GetAtt'][0]).sort()).toEqual([
      // the add-on applier, into the internal endpoint only (never straight to the masters)
      expect.stringMatching(/^AddonApplierSecurityGroup/),
      expect.stringMatching(/^ApiSecurityGroup/),
      expect.stringMatching(/^InternalApiSecurityGroup/),
    ]);
    expect(byPort(10250)).toEqual([expect.objectContaining({ SourceSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^MastersSecurityGroup/), 'GroupId'] } })]);
    // The etcd rule is a cross-stack reference to the etcd stack's security group.
    expect(byPort(2379)).toEqual([
      expect.objectContaining({
        GroupId: { 'Fn::ImportValue': expect.stringMatching(/^kube-aws-test-1-etcd:.*MembersSecurityGroup/) },
        SourceSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^MastersSecurityGroup/), 'GroupId'] },
      }),
    ]);
    master().hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'API load balancer of kube-aws-test-1.team.example.org',
      SecurityGroupIngress: [Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 })],
    });
  });

  test('narrows the API to the allowed CIDRs', () => {
    const t = synthesizeCluster({ apiAllowedCidrs: ['203.0.113.0/24'] }).templates.master;
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^API load balancer'),
      SecurityGroupIngress: [Match.objectLike({ CidrIp: '203.0.113.0/24', FromPort: 443 })],
    });
  });

  test("gives the masters' role no wildcard actions, and changes only to the cluster's own resources", () => {
    // The masters' own policy; each add-on's is checked with its contract (test/manifests/addons).
    const [policy] = Object.entries(resourcesOfType(master(), 'AWS::IAM::Policy'))
      .filter(([id]) => id.startsWith('MastersRoleDefaultPolicy'))
      .map(([, p]) => p);
    const statements: any[] = policy.Properties.PolicyDocument.Statement;
    for (const s of statements) {
      for (const action of [s.Action].flat()) expect(action).not.toMatch(/\*/);
      const mutating = [s.Action].flat().some((a: string) => !/:(Describe|List|Get)/.test(a));
      const scoped = s.Condition !== undefined || (s.Resource !== '*' && !JSON.stringify(s.Resource).includes('"*"'));
      if (mutating) expect({ sid: s.Sid, scoped }).toEqual({ sid: s.Sid, scoped: true });
    }
    expect(statements).toEqual(
      expect.arrayContaining([expect.objectContaining({ Action: 'cloudformation:SignalResource', Resource: { Ref: 'AWS::StackId' } })]),
    );
  });

  describe("the cloud controller's AWS permissions", () => {
    let statements: Statement[];
    beforeAll(() => {
      const [role] = Object.keys(resourcesOfType(master(), 'AWS::IAM::Role')).filter((id) => id.startsWith('MastersRole'));
      // Without the add-ons' policies (the EBS CSI driver's volume actions are its own).
      statements = statementsOfRole(master(), role, /^AddonPolicy/);
    });
    /** A request's tags: each value as aws:RequestTag/<key>, the keys as aws:TagKeys. */
    const tagging = (tags: Record<string, string>) => ({
      ...Object.fromEntries(Object.entries(tags).map(([key, value]) => [`aws:RequestTag/${key}`, value])),
      'aws:TagKeys': Object.keys(tags),
    });
    const created = tagging({ [CLUSTER_TAG]: 'owned' });
    const owned = { [`aws:ResourceTag/${CLUSTER_TAG}`]: 'owned' };

    test("can't make an existing resource of the account the cluster's own", () => {
      // Tagging an existing security group, instance or load balancer as owned: denied.
      expect(allows(statements, 'ec2:CreateTags', `${EC2_ARN}:security-group/sg-0foreign`, created)).toBe(false);
      expect(allows(statements, 'ec2:CreateTags', `${EC2_ARN}:instance/i-0etcd`, created)).toBe(false);
      expect(allows(statements, 'ec2:CreateTags', `${EC2_ARN}:volume/vol-0etcd`, created)).toBe(false);
      expect(allows(statements, 'elasticloadbalancing:AddTags', `${ELB_ARN}:loadbalancer/net/foreign/0123`, created)).toBe(false);
      expect(allows(statements, 'elasticloadbalancing:AddTags', `${ELB_ARN}:targetgroup/foreign/0123`, created)).toBe(false);
      // ...nor take a group it owns away from the cluster tag's value.
      expect(allows(statements, 'ec2:CreateTags', `${EC2_ARN}:security-group/sg-0owned`, { ...owned, ...created })).toBe(false);
    });

    test('tags what it creates, in the creating request', () => {
      expect(allows(statements, 'ec2:CreateTags', `${EC2_ARN}:security-group/sg-0new`, { ...created, 'ec2:CreateAction': 'CreateSecurityGroup' })).toBe(true);
      for (const [action, resource] of [
        ['CreateLoadBalancer', 'loadbalancer/net/a0123/0123'],
        ['CreateLoadBalancer', 'loadbalancer/a0123'],
        ['CreateTargetGroup', 'targetgroup/k8s-a0123/0123'],
        ['CreateListener', 'listener/net/a0123/0123/4567'],
      ]) {
        expect(allows(statements, `elasticloadbalancing:${action}`, `${ELB_ARN}:${resource}`, created)).toBe(true);
        expect(allows(statements, 'elasticloadbalancing:AddTags', `${ELB_ARN}:${resource}`, { ...created, 'elasticloadbalancing:CreateAction': action })).toBe(true);
        // Untagged, it can't create at all.
        expect(allows(statements, `elasticloadbalancing:${action}`, `${ELB_ARN}:${resource}`, {})).toBe(false);
      }
    });

    test("retags the cluster's own load balancers with a Service's extra tags, never with a kubernetes.io/cluster key", () => {
      // cloud-provider-aws v1.35.2 pkg/providers/v1/aws_loadbalancer.go ensureLoadBalancer ->
      // aws.go addLoadBalancerTags: the additional-resource-tags annotation on an existing classic load balancer.
      const retag = (resource: string, context: Record<string, unknown>) => allows(statements, 'elasticloadbalancing:AddTags', `${ELB_ARN}:${resource}`, context);
      expect(retag('loadbalancer/a0123', { ...owned, ...tagging({ 'kubernetes.io/service-name': 'x' }) })).toBe(true);
      expect(retag('loadbalancer/net/a0123/0123', { ...owned, ...tagging({ 'kubernetes.io/service-name': 'x' }) })).toBe(true);
      // Another cluster's tag would hand it to that cluster's controller and masters: denied, alone or among others.
      expect(retag('loadbalancer/a0123', { ...owned, ...tagging({ 'kubernetes.io/cluster/other': 'owned' }) })).toBe(false);
      expect(retag('loadbalancer/a0123', { ...owned, ...tagging({ 'kubernetes.io/service-name': 'x', 'kubernetes.io/cluster/other': 'owned' }) })).toBe(false);
      expect(retag('loadbalancer/a0123', { ...owned, ...tagging({ [CLUSTER_TAG]: 'shared' }) })).toBe(false);
      // A request naming no tag key can't slip through ForAllValues (true on an absent or empty key).
      expect(retag('loadbalancer/a0123', owned)).toBe(false);
      expect(retag('loadbalancer/a0123', { ...owned, 'aws:TagKeys': [] })).toBe(false);
      // Not the account's other load balancers, nor target groups or listeners (the controller never retags those).
      expect(retag('loadbalancer/foreign', tagging({ 'kubernetes.io/service-name': 'x' }))).toBe(false);
      expect(retag('targetgroup/k8s-a0123/0123', { ...owned, ...tagging({ 'kubernetes.io/service-name': 'x' }) })).toBe(false);
    });

    test("retags no security group, not even the cluster's own (the controller tags them in CreateSecurityGroup only)", () => {
      // cloud-provider-aws v1.35.2 pkg/providers/v1/tags.go readRepairClusterTags -> createTags
      // always sends this cluster's key: no retag of an owned group ever names other keys only.
      const attempts: Record<string, string>[] = [{ 'kubernetes.io/service-name': 'x' }, { 'kubernetes.io/cluster/other': 'owned' }, { [CLUSTER_TAG]: 'owned' }];
      for (const tags of attempts) {
        expect(allows(statements, 'ec2:CreateTags', `${EC2_ARN}:security-group/sg-0owned`, { ...owned, ...tagging(tags) })).toBe(false);
      }
    });

    test("creates security groups in the cluster's VPC only, each tagged as the cluster's", () => {
      // CreateSecurityGroup is authorized on the new group and on the VPC: both halves must pass.
      const create = (vpc: string, context: Record<string, unknown>) =>
        allows(statements, 'ec2:CreateSecurityGroup', `${EC2_ARN}:vpc/${vpc}`, context) &&
        allows(statements, 'ec2:CreateSecurityGroup', `${EC2_ARN}:security-group/*`, context);
      expect(create('vpc-0a1b2c3d4e5f60718', created)).toBe(true);
      expect(create('vpc-0a1b2c3d4e5f60718', {})).toBe(false);
      expect(create('vpc-0ffffffffffffffff', created)).toBe(false);
    });

    test("may create ELB's service-linked role for an account's first load balancer, and no other role", () => {
      const elbRole = 'arn:aws:iam::123456789012:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing';
      expect(allows(statements, 'iam:CreateServiceLinkedRole', elbRole, { 'iam:AWSServiceName': 'elasticloadbalancing.amazonaws.com' })).toBe(true);
      expect(allows(statements, 'iam:CreateServiceLinkedRole', elbRole, { 'iam:AWSServiceName': 'autoscaling.amazonaws.com' })).toBe(false);
      const other = 'arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling';
      expect(allows(statements, 'iam:CreateServiceLinkedRole', other, { 'iam:AWSServiceName': 'autoscaling.amazonaws.com' })).toBe(false);
    });

    test('has what cloud-provider-aws documents for the control plane, minus what this cluster turns off', () => {
      // kubernetes/cloud-provider-aws docs/prerequisites.md, "Control Plane Policy" (v1.35.2).
      const documented = [
        'autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeLaunchConfigurations', 'autoscaling:DescribeTags',
        'ec2:DescribeInstances', 'ec2:DescribeRegions', 'ec2:DescribeRouteTables', 'ec2:DescribeSecurityGroups',
        'ec2:DescribeSubnets', 'ec2:DescribeVolumes', 'ec2:DescribeAvailabilityZones', 'ec2:CreateSecurityGroup',
        'ec2:CreateTags', 'ec2:CreateVolume', 'ec2:ModifyInstanceAttribute', 'ec2:ModifyVolume', 'ec2:AttachVolume',
        'ec2:AuthorizeSecurityGroupIngress', 'ec2:CreateRoute', 'ec2:DeleteRoute', 'ec2:DeleteSecurityGroup',
        'ec2:DeleteVolume', 'ec2:DetachVolume', 'ec2:RevokeSecurityGroupIngress', 'ec2:DescribeVpcs',
        'ec2:DescribeInstanceTopology', 'elasticloadbalancing:AddTags', 'elasticloadbalancing:AttachLoadBalancerToSubnets',
        'elasticloadbalancing:ApplySecurityGroupsToLoadBalancer', 'elasticloadbalancing:CreateLoadBalancer',
        'elasticloadbalancing:CreateLoadBalancerPolicy', 'elasticloadbalancing:CreateLoadBalancerListeners',
        'elasticloadbalancing:ConfigureHealthCheck', 'elasticloadbalancing:DeleteLoadBalancer',
        'elasticloadbalancing:DeleteLoadBalancerListeners', 'elasticloadbalancing:DescribeLoadBalancers',
        'elasticloadbalancing:DescribeLoadBalancerAttributes', 'elasticloadbalancing:DetachLoadBalancerFromSubnets',
        'elasticloadbalancing:DeregisterInstancesFromLoadBalancer', 'elasticloadbalancing:ModifyLoadBalancerAttributes',
        'elasticloadbalancing:RegisterInstancesWithLoadBalancer', 'elasticloadbalancing:SetLoadBalancerPoliciesForBackendServer',
        'elasticloadbalancing:CreateListener', 'elasticloadbalancing:CreateTargetGroup', 'elasticloadbalancing:DeleteListener',
        'elasticloadbalancing:DeleteTargetGroup', 'elasticloadbalancing:DescribeListeners',
        'elasticloadbalancing:DescribeLoadBalancerPolicies', 'elasticloadbalancing:DescribeTargetGroups',
        'elasticloadbalancing:DescribeTargetHealth', 'elasticloadbalancing:ModifyListener', 'elasticloadbalancing:ModifyTargetGroup',
        'elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets',
        'elasticloadbalancing:SetLoadBalancerPoliciesOfListener', 'elasticloadbalancing:SetSecurityGroups',
        'iam:CreateServiceLinkedRole', 'kms:DescribeKey',
      ];
      const turnedOff = [
        // Volumes are the EBS CSI driver's, not the controller's (the in-tree volume plugins are gone).
        'ec2:DescribeVolumes', 'ec2:CreateVolume', 'ec2:ModifyVolume', 'ec2:AttachVolume', 'ec2:DeleteVolume', 'ec2:DetachVolume',
        // Routes: flannel's VXLAN routes pods; no controller configures cloud routes (userdata/master.ts).
        'ec2:CreateRoute', 'ec2:DeleteRoute',
        // Only with NLBSecurityGroupMode=Managed (cloud-provider-aws v1.35.2 pkg/providers/v1/aws.go), not set here.
        'elasticloadbalancing:SetSecurityGroups',
      ];
      const granted = (action: string) => statements.some((s) => s.Effect === 'Allow' && [s.Action].flat().includes(action));
      expect(documented.filter((action) => !turnedOff.includes(action) && !granted(action))).toEqual([]);
      expect(turnedOff.filter(granted)).toEqual([]);
    });
  });

  test('launches no master before the control-plane secrets exist', () => {
    const [secretsId] = Object.keys(master().findResources('Custom::ClusterSecrets'));
    const [group] = Object.values(resourcesOfType(master(), 'AWS::AutoScaling::AutoScalingGroup'));
    expect(group.DependsOn).toContain(secretsId);
  });

  test('keeps its secrets across updates; raising controlPlaneSecretsGeneration asks for new ones', () => {
    master().hasResourceProperties('Custom::ClusterSecrets', { Regenerate: '0' });
    const rotated = synthesizeCluster({ controlPlaneSecretsGeneration: 1 });
    rotated.templates.master.hasResourceProperties('Custom::ClusterSecrets', { Regenerate: '1' });
    expect(rotated.templates.etcd.toJSON()).toEqual(cluster.templates.etcd.toJSON());
  });

  test('depends on the etcd stack only', () => {
    expect(cluster.stacks.master.dependencies.map((s) => s.stackName)).toEqual(['kube-aws-test-1-etcd']);
  });

  test('matches the reviewed snapshot (a change detector; the tests above say what matters)', () => {
    expect(templateSnapshot(master())).toMatchSnapshot();
  });
});
