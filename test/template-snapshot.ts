import { Template } from 'aws-cdk-lib/assertions';

/** Asset hashes change with every dependency bump; a snapshot shows where they go, not what they are. */
const ASSET_HASH = /[0-9a-f]{64}/g;

/**
 * A template made fit for a snapshot: asset hashes replaced by a marker, so that the
 * snapshot changes when the infrastructure does. A change detector only: the assertion
 * tests beside each snapshot say which values matter.
 */
export function templateSnapshot(template: Template): unknown {
  return JSON.parse(JSON.stringify(template.toJSON()).replace(ASSET_HASH, '<asset-hash>'));
}
