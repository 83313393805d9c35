import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { IgnitionConfig, stubUserData } from '../../userdata';
import { VerifiedAsset } from './verified-asset';

/** EC2's limit on user data (before base64). */
export const EC2_USER_DATA_LIMIT_BYTES = 16 * 1024;

export interface IgnitionUserDataProps {
  /** The role's full Ignition config. */
  readonly config: IgnitionConfig;
}

/**
 * A node role's Ignition config delivered as an S3 asset, and the small EC2 user data that
 * has Ignition replace itself with it (fetched with the instance role, checked against its
 * sha512). A changed config changes the hash in the user data, so the launch template gets
 * a new version and the nodes roll. The user data stays far below EC2's 16 KB.
 */
export class IgnitionUserData extends Construct {
  /** The stub for the launch template. */
  readonly userData: ec2.UserData;
  /** The stub's text, for size checks. */
  readonly userDataText: string;
  /** The full config. */
  readonly config: VerifiedAsset;

  constructor(scope: Construct, id: string, props: IgnitionUserDataProps) {
    super(scope, id);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ignition-')), 'config.ign');
    fs.writeFileSync(file, JSON.stringify(props.config));
    this.config = new VerifiedAsset(this, 'Config', { path: file });
    this.userDataText = stubUserData(this.config.ignitionSource);
    const size = Buffer.byteLength(this.userDataText);
    if (size > EC2_USER_DATA_LIMIT_BYTES) {
      throw new Error(`IgnitionUserData: the user data is ${size} bytes, over EC2's limit of ${EC2_USER_DATA_LIMIT_BYTES}`);
    }
    this.userData = ec2.UserData.custom(this.userDataText);
  }

  /** Lets the nodes' Ignition fetch the config. */
  grantRead(grantee: iam.IGrantable): void {
    this.config.grantRead(grantee);
  }
}
