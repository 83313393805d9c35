import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { SNAPSHOT_HISTORY_PREFIX } from '../../userdata/etcd';

/** How long the minute-by-minute history of snapshots is kept. */
export const SNAPSHOT_HISTORY_RETENTION = Duration.days(7);

export interface EtcdSnapshotBucketProps {
  /** The bucket's name, known at synth so that nodes' static configs can name it. */
  readonly bucketName: string;
  /** What happens to the snapshots when the stack goes. @default RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Where etcd members save their snapshots: encrypted, versioned, never public, TLS only,
 * retained with the stack. Losing every member is recoverable from here.
 */
export class EtcdSnapshotBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: EtcdSnapshotBucketProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: props.bucketName,
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      lifecycleRules: [
        { prefix: SNAPSHOT_HISTORY_PREFIX, expiration: SNAPSHOT_HISTORY_RETENTION },
        // `latest/` is overwritten every minute; its older versions are a short safety net.
        { noncurrentVersionExpiration: Duration.days(1) },
      ],
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        "Only the members' role writes here, a minute-by-minute stream of snapshots; access logs would mostly " +
        'record those writes. CloudTrail data events audit the bucket where the account enables them.',
    });
  }

  /** Lets members write their snapshots and read them back for a restore; never delete. */
  grantSnapshotWrite(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:PutObject', 's3:GetObject'],
      resourceArns: [this.bucket.arnForObjects('*')],
    });
    iam.Grant.addToPrincipal({ grantee, actions: ['s3:ListBucket'], resourceArns: [this.bucket.bucketArn] });
    const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    Validations.of(grantee.grantPrincipal instanceof iam.Role ? grantee.grantPrincipal : this).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`,
      reason: 'Members write and read any snapshot object of their own cluster\'s snapshot bucket, and nothing else.',
    });
  }
}
