import { createHash } from 'crypto';
import * as fs from 'fs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { S3Asset } from '../../userdata';

export interface VerifiedAssetProps {
  /** The file to upload. */
  readonly path: string;
}

/**
 * A file uploaded as an S3 asset, with the sha512 that Ignition checks when it fetches it
 * from `s3://` with the instance role.
 */
export class VerifiedAsset extends Construct {
  readonly asset: s3assets.Asset;
  /** Where Ignition finds the file, and the hash it checks. */
  readonly ignitionSource: S3Asset;

  constructor(scope: Construct, id: string, props: VerifiedAssetProps) {
    super(scope, id);
    this.asset = new s3assets.Asset(this, 'Asset', { path: props.path });
    this.ignitionSource = {
      source: this.asset.s3ObjectUrl,
      sha512: createHash('sha512').update(fs.readFileSync(props.path)).digest('hex'),
    };
  }

  /** Lets the nodes fetch this one object: not the rest of the shared assets bucket. */
  grantRead(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject'],
      resourceArns: [this.asset.bucket.arnForObjects(this.asset.s3ObjectKey)],
    });
  }
}
