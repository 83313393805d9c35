/**
 * The EC2 user data: a small Ignition config that replaces itself with the role's full
 * config, fetched from S3 by Ignition with the instance role and checked against its sha512.
 * A changed role config changes the hash here, so the launch template changes and the
 * Auto Scaling group rolls the nodes. EC2 user data is limited to 16 KB; this is < 1 KB.
 */
import { IGNITION_VERSION, IgnitionConfig } from './ignition';
import { S3Asset, validateS3Asset } from './types';

export function stubConfig(asset: S3Asset): IgnitionConfig {
  validateS3Asset(asset, 'stub');
  return {
    ignition: {
      version: IGNITION_VERSION,
      config: {
        replace: { source: asset.source, verification: { hash: `sha512-${asset.sha512}` } },
      },
    },
  };
}

/** The user data string itself: compact JSON (Ignition reads it as is, no base64 inside). */
export function stubUserData(asset: S3Asset): string {
  return JSON.stringify(stubConfig(asset));
}
