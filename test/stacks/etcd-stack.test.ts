import { Match } from 'aws-cdk-lib/assertions';
import { templateSnapshot } from '../template-snapshot';
import { SynthesizedCluster, resourcesOfType, synthesizeCluster } from '../util';

describe('EtcdStack', () => {
  let cluster: SynthesizedCluster;
  beforeAll(() => {
    cluster = synthesizeCluster();
  });
  const etcd = () => cluster.templates.etcd;

  test('runs each of the 3 members in its own Auto Scaling group of exactly one, one per zone', () => {
    const groups = Object.values(resourcesOfType(etcd(), 'AWS::AutoScaling::AutoScalingGroup'));
    expect(groups).toHaveLength(3);
    const subnets = groups.map((g) => {
      expect(g.Properties).toMatchObject({ MinSize: '1', MaxSize: '1', DesiredCapacity: '1' });
      return g.Properties.VPCZoneIdentifier;
    });
    expect(subnets).toEqual([['subnet-0a000000000000001'], ['subnet-0b000000000000002'], ['subnet-0c000000000000003']]);
  });

  test('tags each member with its index, and updates members one after another after a health signal', () => {
    const groups = Object.entries(resourcesOfType(etcd(), 'AWS::AutoScaling::AutoScalingGroup'));
    groups.forEach(([, group], index) => {
      expect(group.Properties.Tags).toEqual(
        expect.arrayContaining([
          { Key: 'kubernetes-on-aws:etcd-member', Value: String(index), PropagateAtLaunch: true },
          { Key: 'kubernetes.io/cluster/kube-aws-test-1', Value: 'owned', PropagateAtLaunch: true },
        ]),
      );
      expect(group.UpdatePolicy.AutoScalingRollingUpdate).toMatchObject({
        MaxBatchSize: 1,
        MinInstancesInService: 0,
        WaitOnResourceSignals: true,
      });
      expect(group.CreationPolicy.ResourceSignal).toMatchObject({ Count: 1 });
    });
    // No member boots before its certificates exist.
    const [secretsId] = Object.keys(etcd().findResources('Custom::ClusterSecrets'));
    for (const [, group] of groups) expect(group.DependsOn).toContain(secretsId);
    // Member N waits for member N-1: never two members down at once.
    expect(groups[1][1].DependsOn).toContain(groups[0][0]);
    expect(groups[2][1].DependsOn).toContain(groups[1][0]);
  });

  test('gives each member a network interface and a retained, encrypted data volume in its zone', () => {
    const interfaces = Object.values(resourcesOfType(etcd(), 'AWS::EC2::NetworkInterface'));
    expect(interfaces.map((i) => i.Properties.SubnetId)).toEqual([
      'subnet-0a000000000000001',
      'subnet-0b000000000000002',
      'subnet-0c000000000000003',
    ]);
    const volumes = Object.values(resourcesOfType(etcd(), 'AWS::EC2::Volume'));
    expect(volumes.map((v) => v.Properties.AvailabilityZone)).toEqual(['eu-central-1a', 'eu-central-1b', 'eu-central-1c']);
    volumes.forEach((volume, index) => {
      expect(volume).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      expect(volume.Properties).toMatchObject({ Encrypted: true, VolumeType: 'gp3', Size: 20 });
      expect(volume.Properties.Tags).toEqual(expect.arrayContaining([{ Key: 'kubernetes-on-aws:etcd-member', Value: String(index) }]));
    });
  });

  test('publishes an A record per member and both -ssl SRV records for discovery', () => {
    const t = etcd();
    [0, 1, 2].forEach((index) => {
      t.hasResourceProperties('AWS::Route53::RecordSet', {
        Name: `etcd-${index}.etcd.kube-aws-test-1.team.example.org.`,
        Type: 'A',
        HostedZoneId: 'Z0123456789EXAMPLE',
        ResourceRecords: [{ 'Fn::GetAtt': [Match.stringLikeRegexp(`IdentitiesMember${index}Interface`), 'PrimaryPrivateIpAddress'] }],
      });
    });
    const members = [0, 1, 2].map((i) => `etcd-${i}.etcd.kube-aws-test-1.team.example.org`);
    t.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: '_etcd-server-ssl._tcp.etcd.kube-aws-test-1.team.example.org.',
      Type: 'SRV',
      ResourceRecords: members.map((m) => `0 0 2380 ${m}`),
    });
    t.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: '_etcd-client-ssl._tcp.etcd.kube-aws-test-1.team.example.org.',
      Type: 'SRV',
      ResourceRecords: members.map((m) => `0 0 2379 ${m}`),
    });
  });

  test('lets peers talk on 2380 and clients on 2379 among members only', () => {
    const rules = Object.values(resourcesOfType(etcd(), 'AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties);
    expect(rules.map((r) => [r.IpProtocol, r.FromPort, r.ToPort]).sort()).toEqual([
      ['tcp', 2379, 2379],
      ['tcp', 2380, 2380],
    ]);
    for (const rule of rules) expect(rule.SourceSecurityGroupId).toEqual(rule.GroupId);
    // Clients (masters) are let in by the master stack, so etcd depends on nobody.
    expect(JSON.stringify(etcd().toJSON())).not.toMatch(/ImportValue/);
  });

  test('keeps snapshots in an encrypted, versioned, private, TLS-only, retained bucket', () => {
    const t = etcd();
    t.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BucketName: 'kube-aws-test-1-etcd-123456789012-eu-central-1',
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        // The members write history/ (userdata/etcd.ts): that is what expires.
        LifecycleConfiguration: {
          Rules: [
            Match.objectLike({ Prefix: 'history/', ExpirationInDays: 7, Status: 'Enabled' }),
            Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 1 }, Status: 'Enabled' }),
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
      }),
    });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('lets members write and read snapshots, attach their own identity, never delete', () => {
    const [policy] = Object.values(resourcesOfType(etcd(), 'AWS::IAM::Policy'));
    const statements: any[] = policy.Properties.PolicyDocument.Statement;
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(
      expect.arrayContaining(['s3:PutObject', 's3:GetObject', 's3:ListBucket', 'ec2:AttachVolume', 'ec2:AttachNetworkInterface']),
    );
    expect(actions.filter((a: string) => /Delete|\*$/.test(a))).toEqual([]);
    const attach = statements.find((s) => [s.Action].flat().includes('ec2:AttachVolume'));
    expect(attach.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/kubernetes.io/cluster/kube-aws-test-1': 'owned' } });
  });

  test('matches the reviewed snapshot (a change detector; the tests above say what matters)', () => {
    expect(templateSnapshot(etcd())).toMatchSnapshot();
  });
});
