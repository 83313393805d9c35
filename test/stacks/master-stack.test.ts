import { Match } from 'aws-cdk-lib/assertions';
import { templateSnapshot } from '../template-snapshot';
import { SynthesizedCluster, resourcesOfType, synthesizeCluster } from '../util';

describe('MasterStack', () => {
  let cluster: SynthesizedCluster;
  beforeAll(() => {
    cluster = synthesizeCluster();
  });
  const master = () => cluster.templates.master;

  test('runs the masters in one group that never goes below the master count while rolling', () => {
    master().hasResource('AWS::AutoScaling::AutoScalingGroup', {
      Properties: Match.objectLike({ MinSize: '1', DesiredCapacity: '1', MaxSize: '2', HealthCheckType: 'ELB', HealthCheckGracePeriod: 480 }),
      UpdatePolicy: {
        AutoScalingRollingUpdate: Match.objectLike({ MaxBatchSize: 1, MinInstancesInService: 1, WaitOnResourceSignals: true }),
        AutoScalingScheduledAction: Match.anyValue(),
      },
      CreationPolicy: { ResourceSignal: { Count: 1, Timeout: 'PT20M' } },
    });
  });

  test('launches masters with IMDSv2 only and an encrypted root volume', () => {
    master().hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        InstanceType: 'm6i.large',
        ImageId: 'ami-0f1e2d3c4b5a69788',
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 2 },
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

  test('opens the API port to the load balancer, kubelet only among masters, and etcd from masters', () => {
    const rules = Object.values(resourcesOfType(master(), 'AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties);
    const byPort = (port: number) => rules.filter((r) => r.FromPort === port);
    expect(byPort(443)).toEqual([expect.objectContaining({ SourceSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^ApiSecurityGroup/), 'GroupId'] } })]);
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
    const [policy] = Object.values(resourcesOfType(master(), 'AWS::IAM::Policy'));
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
