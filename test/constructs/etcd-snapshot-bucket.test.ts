import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { EtcdSnapshotBucket, SNAPSHOT_KEY_USAGE_ACTIONS } from '../../lib/constructs/etcd-snapshot-bucket';
import { grantsAction, resourcesOf, Statement } from '../iam-policy';

const ENV = { account: '123456789012', region: 'eu-central-1' };

function bucket(removalPolicy?: RemovalPolicy) {
  const stack = new Stack(undefined, 'Test', { env: ENV });
  const snapshots = new EtcdSnapshotBucket(stack, 'Snapshots', { bucketName: 'c-1-etcd-123456789012-eu-central-1', removalPolicy });
  const role = new iam.Role(stack, 'Member0', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
  return { stack, snapshots, role };
}

describe('EtcdSnapshotBucket', () => {
  test('with nobody granted, nobody may use the key: the account only manages it', () => {
    const { stack } = bucket();
    const [key] = Object.values(Template.fromStack(stack).findResources('AWS::KMS::Key'));
    const statements = key.Properties.KeyPolicy.Statement;
    expect(statements.map((s: { Sid: string }) => s.Sid)).toEqual(['AccountManagesTheKeyButCannotUseIt']);
    for (const action of [...SNAPSHOT_KEY_USAGE_ACTIONS, 'kms:ReEncryptFrom', 'kms:CreateGrant', 'kms:GenerateDataKeyWithoutPlaintext']) {
      expect({ action, granted: grantsAction(statements[0], action) }).toEqual({ action, granted: false });
    }
  });

  test('the key goes with the bucket: retained by default, destroyed with a throwaway bucket', () => {
    const retained = Template.fromStack(bucket().stack);
    retained.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
    const destroyed = Template.fromStack(bucket(RemovalPolicy.DESTROY).stack);
    destroyed.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
    destroyed.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
  });

  test("member N may write its own bootstrap record and snapshots, and nobody else's; it may read any record (HeadObject) and list", () => {
    // GIVEN
    const { stack, snapshots, role } = bucket();
    // WHEN
    snapshots.grantSnapshotWrite(role, 2);
    // THEN
    const [policy] = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'));
    const statements: Statement[] = policy.Properties.PolicyDocument.Statement;
    // An object ARN renders as {Fn::Join: ['', [<bucket arn>, '/<key>']]}: the key is its last part.
    const keysOf = (action: string) =>
      statements.filter((s) => grantsAction(s, action)).flatMap(resourcesOf).map((r) => JSON.stringify(r).match(/"\/([^"]*)"\]\]\}$/)?.[1]);
    expect(keysOf('s3:PutObject')).toEqual(['history/etcd-2/*', 'latest/etcd-2.db', 'bootstrapped/etcd-2']);
    expect(keysOf('s3:GetObject')).toEqual(['*']);
    expect(statements.filter((s) => grantsAction(s, 's3:ListBucket'))).toHaveLength(1);
  });

  test.each([-1, 1.5, Number.NaN])('grantSnapshotWrite rejects member %p', (member) => {
    const { snapshots, role } = bucket();
    expect(() => snapshots.grantSnapshotWrite(role, member)).toThrow(/grantSnapshotWrite: member must be a non-negative integer/);
  });
});
