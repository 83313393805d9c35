import { Template } from 'aws-cdk-lib/assertions';

/** Asset hashes change with every dependency bump; a snapshot shows where they go, not what they are. */
const ASSET_HASH = /[0-9a-f]{64}/g;
const MARKER = '<asset-hash>';

/** Lists of asset references are ordered by their hashes (IAM statement minimizing): order them by the rest. */
function sortAssetLists(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(sortAssetLists);
    const refersToAssets = items.some((item) => JSON.stringify(item).includes(MARKER));
    return refersToAssets ? items.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) : items;
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, sortAssetLists(item)]));
  }
  return value;
}

/**
 * A template made fit for a snapshot: asset hashes replaced by a marker, so that the
 * snapshot changes when the infrastructure does. A change detector only: the assertion
 * tests beside each snapshot say which values matter.
 */
export function templateSnapshot(template: Template): unknown {
  return sortAssetLists(JSON.parse(JSON.stringify(template.toJSON()).replace(ASSET_HASH, MARKER)));
}
