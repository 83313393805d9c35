import { Match } from 'aws-cdk-lib/assertions';
import { SNAPSHOT_KEY_USAGE_ACTIONS } from '../../lib/constructs/etcd-snapshot-bucket';
import {
  Statement,
  actionsOf,
  allows,
  grantsAction,
  resolveIntrinsics,
  resourceTagContext,
  resourcesOf,
  statementsOfRole,
  tagsOf,
} from '../iam-policy';
import { templateSnapshot } from '../template-snapshot';
import { SynthesizedCluster, resourcesOfType, synthesizeCluster } from '../util';

const MEMBERS = [0, 1, 2];
const ACCOUNT_ROOT = 'arn:aws:iam::123456789012:root';
const BUCKET_ARN = 'arn:aws:s3:::kube-aws-test-1-etcd-123456789012-eu-central-1';

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

  /** The logical id of a resource whose id starts with `prefix` (one of a kind). */
  const idOf = (type: string, prefix: string) => {
    const ids = Object.keys(resourcesOfType(etcd(), type)).filter((id) => id.startsWith(prefix));
    expect(ids).toHaveLength(1);
    return ids[0];
  };
  const memberRole = (member: number) => idOf('AWS::IAM::Role', `MembersMember${member}Role`);
  const memberStatements = (member: number) => statementsOfRole(etcd(), memberRole(member));
  const snapshotKey = () => ({ 'Fn::GetAtt': [idOf('AWS::KMS::Key', 'SnapshotsKey'), 'Arn'] });

  test('gives each member its own instance role, and its launch template that role', () => {
    const groups = Object.values(resourcesOfType(etcd(), 'AWS::AutoScaling::AutoScalingGroup'));
    const templates = resourcesOfType(etcd(), 'AWS::EC2::LaunchTemplate');
    const profiles = resourcesOfType(etcd(), 'AWS::IAM::InstanceProfile');
    const roles = groups.map((group) => {
      const template = templates[group.Properties.LaunchTemplate.LaunchTemplateId.Ref];
      const profileId = template.Properties.LaunchTemplateData.IamInstanceProfile.Arn['Fn::GetAtt'][0];
      return profiles[profileId].Properties.Roles[0].Ref;
    });
    expect(roles).toEqual(MEMBERS.map(memberRole));
  });

  test('lets member N read its own certificates (etcd-member-N) and no other secret', () => {
    const secrets = resourcesOfType(etcd(), 'AWS::SecretsManager::Secret');
    const secretName = (ref: unknown) => secrets[(ref as { Ref: string }).Ref].Properties.Name;
    for (const member of MEMBERS) {
      const statements = memberStatements(member);
      const readable = statements.filter((s) => grantsAction(s, 'secretsmanager:GetSecretValue')).flatMap(resourcesOf).map(secretName);
      expect({ member, readable }).toEqual({ member, readable: [`kubernetes-on-aws/kube-aws-test-1/etcd-member-${member}`] });
      // The key opens only that secret too (Secrets Manager names it in the encryption context).
      const decrypt = statements.filter((s) => grantsAction(s, 'kms:Decrypt') && JSON.stringify(s.Resource).includes('SecretsKey'));
      expect(decrypt.map((s) => [s.Condition?.StringEquals['kms:EncryptionContext:SecretARN']].flat().map(secretName))).toEqual([
        [`kubernetes-on-aws/kube-aws-test-1/etcd-member-${member}`],
      ]);
    }
  });

  test("lets member N attach its own interface and volume to its own etcd instance, and nothing to anyone else's", () => {
    const groups = Object.values(resourcesOfType(etcd(), 'AWS::AutoScaling::AutoScalingGroup'));
    const launchedTags = (group: { Properties: any }) =>
      Object.fromEntries(group.Properties.Tags.filter((t: any) => t.PropagateAtLaunch).map((t: any) => [t.Key, t.Value]));
    const [master] = Object.values(resourcesOfType(cluster.templates.master, 'AWS::AutoScaling::AutoScalingGroup'));
    const [worker] = Object.values(resourcesOfType(cluster.templates.worker, 'AWS::AutoScaling::AutoScalingGroup'));
    const instance = 'arn:aws:ec2:eu-central-1:123456789012:instance/i-0123456789abcdef0';
    const interfaces = Object.entries(resourcesOfType(etcd(), 'AWS::EC2::NetworkInterface'));
    const volumes = Object.entries(resourcesOfType(etcd(), 'AWS::EC2::Volume'));
    const arn = (type: string, id: string) => ({ 'Fn::Join': ['', [`arn:aws:ec2:eu-central-1:123456789012:${type}/`, { Ref: id }]] });
    for (const member of MEMBERS) {
      const statements = memberStatements(member);
      const mayAttachTo = (tags: Record<string, string>) =>
        ['ec2:AttachVolume', 'ec2:AttachNetworkInterface'].map((action) => allows(statements, action, instance, resourceTagContext(tags)));
      expect(mayAttachTo(launchedTags(groups[member]))).toEqual([true, true]);
      for (const other of MEMBERS.filter((m) => m !== member)) expect(mayAttachTo(launchedTags(groups[other]))).toEqual([false, false]);
      expect(mayAttachTo(launchedTags(master))).toEqual([false, false]);
      expect(mayAttachTo(launchedTags(worker))).toEqual([false, false]);
      // The other half of the call: its own interface and volume, tagged to match, and no other.
      interfaces.forEach(([id, eni], index) =>
        expect(allows(statements, 'ec2:AttachNetworkInterface', arn('network-interface', id), resourceTagContext(tagsOf(eni)))).toBe(index === member),
      );
      volumes.forEach(([id, volume], index) =>
        expect(allows(statements, 'ec2:AttachVolume', arn('volume', id), resourceTagContext(tagsOf(volume)))).toBe(index === member),
      );
      expect(statements.flatMap(actionsOf).filter((a) => /Detach|Delete|\*/.test(a))).toEqual([]);
    }
  });

  test('keeps snapshots in a versioned, private, TLS-only, retained bucket, encrypted with its own key (bucket key on)', () => {
    const t = etcd();
    t.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BucketName: 'kube-aws-test-1-etcd-123456789012-eu-central-1',
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: snapshotKey() } },
          ],
        },
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
    // The key outlives the stack with the snapshots it opens; rotation keeps its old material.
    t.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({ EnableKeyRotation: true, Description: Match.stringLikeRegexp('etcd snapshots') }),
    });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('refuses uploads that would not be encrypted with the snapshot key', () => {
    const [policy] = Object.values(resourcesOfType(etcd(), 'AWS::S3::BucketPolicy'));
    const keyArn = 'arn:aws:kms:eu-central-1:123456789012:key/0f1e2d3c-0000-4000-8000-000000000000';
    const statements: Statement[] = [
      ...resolveIntrinsics(policy.Properties.PolicyDocument.Statement as Statement[], {
        [`${idOf('AWS::S3::Bucket', 'SnapshotsBucket')}.Arn`]: BUCKET_ARN,
        [`${idOf('AWS::KMS::Key', 'SnapshotsKey')}.Arn`]: keyArn,
      }),
      // What a member's own policy allows, so that only the bucket policy's denials decide.
      { Effect: 'Allow', Action: 's3:PutObject', Resource: '*' },
    ];
    const object = `${BUCKET_ARN}/latest/etcd-0.db`;
    const put = (headers: Record<string, unknown>) => allows(statements, 's3:PutObject', object, { 'aws:SecureTransport': 'true', ...headers });
    const sse = 's3:x-amz-server-side-encryption';
    const keyId = 's3:x-amz-server-side-encryption-aws-kms-key-id';
    // No header (what the members send): the bucket's default, this key.
    expect(put({})).toBe(true);
    expect(put({ [sse]: 'aws:kms', [keyId]: keyArn })).toBe(true);
    expect(put({ [sse]: 'AES256' })).toBe(false);
    expect(put({ [sse]: 'aws:kms:dsse', [keyId]: keyArn })).toBe(false);
    expect(put({ [sse]: 'aws:kms' })).toBe(false); // the account's aws/s3 key
    expect(put({ [sse]: 'aws:kms', [keyId]: 'arn:aws:kms:eu-central-1:123456789012:key/other' })).toBe(false);
    expect(put({ 's3:x-amz-server-side-encryption-customer-algorithm': 'AES256' })).toBe(false);
    expect(put({ 'aws:SecureTransport': 'false' })).toBe(false);
  });

  test("lets only the members' roles use the snapshot key, through S3 for this bucket; the account manages it but can't use it", () => {
    const [keyId] = Object.keys(resourcesOfType(etcd(), 'AWS::KMS::Key')).filter((id) => id.startsWith('SnapshotsKey'));
    const statements: Statement[] = resourcesOfType(etcd(), 'AWS::KMS::Key')[keyId].Properties.KeyPolicy.Statement;
    for (const statement of statements) expect(statement.Principal).toEqual({ AWS: ACCOUNT_ROOT });
    const viaS3 = { 'kms:ViaService': 's3.eu-central-1.amazonaws.com', 'kms:EncryptionContext:aws:s3:arn': BUCKET_ARN };
    const caller = (role: string) => ({ 'aws:PrincipalArn': { 'Fn::GetAtt': [role, 'Arn'] } });
    for (const action of [...SNAPSHOT_KEY_USAGE_ACTIONS, 'kms:ReEncryptFrom', 'kms:CreateGrant']) {
      for (const member of MEMBERS) {
        const expected = (SNAPSHOT_KEY_USAGE_ACTIONS as readonly string[]).includes(action);
        expect({ action, member, allowed: allows(statements, action, '*', { ...viaS3, ...caller(memberRole(member)) }) }).toEqual({ action, member, allowed: expected });
        // Not outside S3, nor for another bucket.
        expect(allows(statements, action, '*', { ...caller(memberRole(member)), 'kms:ViaService': 'secretsmanager.eu-central-1.amazonaws.com' })).toBe(false);
        expect(allows(statements, action, '*', { ...viaS3, ...caller(memberRole(member)), 'kms:EncryptionContext:aws:s3:arn': 'arn:aws:s3:::other' })).toBe(false);
      }
      // Anyone else in the account, whatever their IAM policies say: the masters, an administrator.
      const [masterRole] = Object.keys(resourcesOfType(cluster.templates.master, 'AWS::IAM::Role')).filter((id) => id.startsWith('MastersRole'));
      expect(allows(statements, action, '*', { ...viaS3, ...caller(masterRole) })).toBe(false);
      expect(allows(statements, action, '*', { ...viaS3, 'aws:PrincipalArn': 'arn:aws:iam::123456789012:role/Admin' })).toBe(false);
    }
    // The account still manages the key (CloudFormation updates and deletes it through IAM).
    for (const action of ['kms:PutKeyPolicy', 'kms:DescribeKey', 'kms:ScheduleKeyDeletion', 'kms:EnableKeyRotation']) {
      expect(allows(statements, action, '*', { 'aws:PrincipalArn': 'arn:aws:iam::123456789012:role/Admin' })).toBe(true);
    }
    // Each member's own policy names the key too (a key policy naming the account needs both).
    for (const member of MEMBERS) {
      const grants = memberStatements(member).filter((s) => JSON.stringify(s.Resource).includes('SnapshotsKey'));
      expect(grants.flatMap(actionsOf).sort()).toEqual([...SNAPSHOT_KEY_USAGE_ACTIONS].sort());
    }
  });

  test("lets member N write only its own snapshots, read any member's for a restore, never delete", () => {
    const objectArn = (key: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [idOf('AWS::S3::Bucket', 'SnapshotsBucket'), 'Arn'] }, `/${key}`]] });
    for (const member of MEMBERS) {
      const statements = memberStatements(member);
      const writes = statements.filter((s) => grantsAction(s, 's3:PutObject')).flatMap(resourcesOf);
      expect(writes).toEqual([objectArn(`bootstrapped/etcd-${member}`), objectArn(`history/etcd-${member}/*`), objectArn(`latest/etcd-${member}.db`)]);
      expect(statements.filter((s) => grantsAction(s, 's3:GetObject')).flatMap(resourcesOf)).toContainEqual(objectArn('*'));
      expect(statements.flatMap(actionsOf).filter((a) => /^s3:.*(Delete|\*)/.test(a))).toEqual([]);
    }
  });

  test('matches the reviewed snapshot (a change detector; the tests above say what matters)', () => {
    expect(templateSnapshot(etcd())).toMatchSnapshot();
  });
});
