import { Duration, Lazy, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { BOOTSTRAP_RECORD_PREFIX, SNAPSHOT_HISTORY_PREFIX, SNAPSHOT_LATEST_PREFIX } from '../../userdata/etcd';

/** How long the minute-by-minute history of snapshots is kept. */
export const SNAPSHOT_HISTORY_RETENTION = Duration.days(7);

/** What S3 asks of KMS for a writer (GenerateDataKey, Encrypt) and a reader (Decrypt) of SSE-KMS objects. */
export const SNAPSHOT_KEY_USAGE_ACTIONS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'] as const;

/**
 * What the account may do with the key without being one of its users: manage it, never
 * use it. No `kms:*` and no `kms:CreateGrant`, so an IAM policy elsewhere in the account
 * (even `kms:Decrypt` on `*`) opens no snapshot; reading one takes a key-policy change first,
 * which CloudTrail records.
 */
export const SNAPSHOT_KEY_ADMIN_ACTIONS = [
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:Delete*',
  'kms:Describe*',
  'kms:Disable*',
  'kms:Enable*',
  'kms:Get*',
  'kms:List*',
  'kms:Put*',
  'kms:Revoke*',
  'kms:RotateKeyOnDemand',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:Update*',
] as const;

export interface EtcdSnapshotBucketProps {
  /** The bucket's name, known at synth so that nodes' static configs can name it. */
  readonly bucketName: string;
  /** What happens to the snapshots, and to the key they need, when the stack goes. @default RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Where etcd members save their snapshots: versioned, never public, TLS only, retained with
 * the stack, and encrypted with a key of its own that only the members use (they write, and
 * for a restore read, on their own instances: README "When etcd members fail"). Losing every
 * member is recoverable from here.
 *
 * A key of its own rather than the etcd secrets' key: that key's policy trusts the account's
 * IAM policies, its readers (the secrets Lambda, the masters for the API server's client
 * certificate) would share it, and its lifetime follows the secrets'. A snapshot holds every
 * Kubernetes Secret: its key trusts nobody but the members, and lives as long as the bucket.
 */
export class EtcdSnapshotBucket extends Construct {
  readonly bucket: s3.Bucket;
  /** Encrypts every snapshot (SSE-KMS, bucket key on); rotation keeps old key material, so old snapshots stay readable. */
  readonly encryptionKey: kms.Key;
  /** The roles that may use the key: the members', as they are granted. */
  private readonly keyUsers: iam.IRole[] = [];
  private readonly keyUsageConditions: Record<string, Record<string, unknown>>;

  constructor(scope: Construct, id: string, props: EtcdSnapshotBucketProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.keyUsageConditions = keyUsageConditions(Stack.of(this), props.bucketName);
    // A policy of our own: given one, CDK adds no `kms:*` statement for the account.
    this.encryptionKey = new kms.Key(this, 'Key', {
      description: `Encrypts the etcd snapshots in s3://${props.bucketName}`,
      enableKeyRotation: true,
      // A retained snapshot is useless without it.
      removalPolicy,
      policy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'AccountManagesTheKeyButCannotUseIt',
            principals: [new iam.AccountRootPrincipal()],
            actions: [...SNAPSHOT_KEY_ADMIN_ACTIONS],
            resources: ['*'],
          }),
        ],
      }),
    });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: props.bucketName,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.encryptionKey,
      // One data key per bucket and period instead of a KMS call per object (a snapshot a minute per member).
      bucketKeyEnabled: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy,
      lifecycleRules: [
        { prefix: SNAPSHOT_HISTORY_PREFIX, expiration: SNAPSHOT_HISTORY_RETENTION },
        // `latest/` is overwritten every minute; its older versions are a short safety net.
        { noncurrentVersionExpiration: Duration.days(1) },
      ],
    });
    for (const statement of this.denyOtherEncryption()) this.bucket.addToResourcePolicy(statement);
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        "Only the members' roles write here, a minute-by-minute stream of snapshots; access logs would mostly " +
        'record those writes. CloudTrail data events audit the bucket where the account enables them.',
    });
  }

  /**
   * Lets member `member` write its own snapshots (`history/etcd-N/`, `latest/etcd-N.db`, as
   * userdata/etcd-paths.ts names them) and its own bootstrap record (`bootstrapped/etcd-N`,
   * read by its blank-data guard), read any member's for a restore, and use the key for that
   * through S3; never delete (a stolen member credential can add versions, not erase a
   * record or a snapshot: the bucket is versioned).
   */
  grantSnapshotWrite(grantee: iam.IRole, member: number): void {
    if (!(Number.isInteger(member) && member >= 0)) {
      throw new Error(`EtcdSnapshotBucket.grantSnapshotWrite: member must be a non-negative integer, got ${member}`);
    }
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:PutObject'],
      resourceArns: [
        this.bucket.arnForObjects(`${SNAPSHOT_HISTORY_PREFIX}etcd-${member}/*`),
        this.bucket.arnForObjects(`${SNAPSHOT_LATEST_PREFIX}etcd-${member}.db`),
        this.bucket.arnForObjects(`${BOOTSTRAP_RECORD_PREFIX}etcd-${member}`),
      ],
    });
    // A restore starts every member from the same snapshot; the copy to latest/ reads too, and
    // so does the guard's HeadObject of the bootstrap record. ListBucket makes S3 answer 404,
    // not 403, for a missing record: the guard tells "never bootstrapped" from "cannot read".
    iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject'], resourceArns: [this.bucket.arnForObjects('*')] });
    iam.Grant.addToPrincipal({ grantee, actions: ['s3:ListBucket'], resourceArns: [this.bucket.bucketArn] });
    // Both policies must allow: the key's (which names the role) and the role's own.
    iam.Grant.addToPrincipal({
      grantee,
      actions: [...SNAPSHOT_KEY_USAGE_ACTIONS],
      resourceArns: [this.encryptionKey.keyArn],
      conditions: this.keyUsageConditions,
    });
    this.addKeyUser(grantee);
    const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    Validations.of(grantee).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`,
        reason: "Members read any snapshot of their own cluster's bucket: a restore starts every member from the same one.",
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${SNAPSHOT_HISTORY_PREFIX}etcd-${member}/*]`,
        reason: "Member N writes its own timestamped snapshots under history/etcd-N/ and nowhere else.",
      },
    );
  }

  /**
   * Names the role in the key policy. The account principal with a condition on the role's
   * ARN, rather than the role as principal: KMS checks that a principal exists when the
   * policy is set, and a role created in the same deployment may not be visible to it yet.
   */
  private addKeyUser(role: iam.IRole): void {
    if (this.keyUsers.length === 0) {
      this.encryptionKey.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'OnlyTheMembersUseTheKeyThroughS3',
          principals: [new iam.AccountRootPrincipal()],
          actions: [...SNAPSHOT_KEY_USAGE_ACTIONS],
          resources: ['*'],
          conditions: {
            ...this.keyUsageConditions,
            ArnEquals: { 'aws:PrincipalArn': Lazy.list({ produce: () => this.keyUsers.map((user) => user.roleArn) }) },
          },
        }),
      );
    }
    this.keyUsers.push(role);
  }

  /**
   * Uploads must leave their encryption to the bucket's default (this key) or name this key.
   * Each denial looks only at headers that are present (`Null: false`): the members' uploads
   * send none, and a multipart upload's parts never carry them. (Not `...IfExists`: a
   * negated operator on an absent key is true, and would deny exactly those uploads.)
   */
  private denyOtherEncryption(): iam.PolicyStatement[] {
    const sse = 's3:x-amz-server-side-encryption';
    const sseKey = 's3:x-amz-server-side-encryption-aws-kms-key-id';
    const deny = (sid: string, conditions: Record<string, Record<string, string>>) =>
      new iam.PolicyStatement({
        sid,
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects('*')],
        conditions,
      });
    return [
      deny('DenyEncryptionOtherThanKms', { Null: { [sse]: 'false' }, StringNotEquals: { [sse]: 'aws:kms' } }),
      deny('DenyOtherKmsKeys', { Null: { [sseKey]: 'false' }, StringNotEquals: { [sseKey]: this.encryptionKey.keyArn } }),
      // `aws:kms` without a key id means the account's aws/s3 key, not the bucket's default.
      deny('DenyKmsWithoutThisKey', { StringEquals: { [sse]: 'aws:kms' }, Null: { [sseKey]: 'true' } }),
      // Customer-provided keys (SSE-C) carry none of the headers above.
      deny('DenyCustomerProvidedKeys', {
        Null: { 's3:x-amz-server-side-encryption-customer-algorithm': 'false' },
      }),
    ];
  }
}

/**
 * The key serves S3 and this bucket only. With a bucket key, S3's encryption context is the
 * bucket's ARN (the object's without one): S3 User Guide, "Configuring an S3 Bucket Key".
 */
function keyUsageConditions(stack: Stack, bucketName: string): Record<string, Record<string, unknown>> {
  const bucketArn = stack.formatArn({ service: 's3', region: '', account: '', resource: bucketName });
  return {
    StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` },
    StringLike: { 'kms:EncryptionContext:aws:s3:arn': [bucketArn, `${bucketArn}/*`] },
  };
}
