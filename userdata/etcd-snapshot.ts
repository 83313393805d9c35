/**
 * etcd-snapshot: every minute, a member that is part of a quorum saves a snapshot and uploads
 * it with the revision it holds, so a restore can pick the newest across members.
 *
 * Recovery point: a member uploads only after a linearizable read succeeds on it (etcd serves
 * one only with a quorum: ReadIndex), and the snapshot it then saves holds at least that
 * read's revision. A member cut off from the quorum skips rather than upload a stale state,
 * so the newest snapshot across members lags the cluster by at most one timer period plus
 * the time of the save and the upload.
 */
import {
  BOOTSTRAP_RECORD_SCRIPT,
  ETCD_ENV,
  ETCDCTL_MEMBER,
  ETCDUTL_BINARY,
  SNAPSHOT_HISTORY_PREFIX,
  SNAPSHOT_LATEST_PREFIX,
  SNAPSHOT_SCRIPT,
} from './etcd-paths';
import { script } from './files';
import { IgnitionFile } from './ignition';
import { AWS } from './node-bootstrap';
import { CLUSTER_ENV, NODE_ENV } from './paths';

/** Snapshots to S3 every minute. */
export const SNAPSHOT_CALENDAR = 'minutely';
/** Outer bound of one run (the unit's start timeout): `snapshot save` itself has none. */
export const SNAPSHOT_TIMEOUT_SECONDS = 1800;
/** The key the linearizable read asks for; it need not exist (the answer's header carries the revision). */
export const SNAPSHOT_PROBE_KEY = 'kubernetes-on-aws/snapshot-probe';
/** Object metadata (x-amz-meta-*) of every uploaded snapshot. */
export const SNAPSHOT_REVISION_METADATA = 'revision';
export const SNAPSHOT_CLUSTER_METADATA = 'cluster-id';

/**
 * Shell function `field NAME TEXT`: the value of "NAME" in etcdctl's or etcdutl's `-w fields`
 * output (etcd v3.5.27 etcdctl/ctlv3/command/printer_fields.go hdr, etcdutl/etcdutl/
 * printer_fields.go DBStatus). Not jq: cluster ids are 64-bit, beyond a double's precision.
 */
export const FIELD_FUNCTION = `field() { sed -n "s/^\\"$1\\" : //p" <<<"$2"; }
`;

const snapshotScript = `#!/bin/bash
# etcd-snapshot: if this member is part of a quorum, saves a snapshot and uploads it to
# s3://$SNAPSHOT_BUCKET/${SNAPSHOT_HISTORY_PREFIX}etcd-N/<UTC time>.db and to
# s3://$SNAPSHOT_BUCKET/${SNAPSHOT_LATEST_PREFIX}etcd-N.db, with metadata ${SNAPSHOT_REVISION_METADATA}=<etcd revision>
# and ${SNAPSHOT_CLUSTER_METADATA}=<etcd cluster id>. Also records the member as bootstrapped.
set -euo pipefail
. ${CLUSTER_ENV}
. ${NODE_ENV}
. ${ETCD_ENV}
fail() { echo "etcd-snapshot: $*" >&2; exit 1; }
${FIELD_FUNCTION}
# A linearizable read needs a quorum (etcd ReadIndex): a member cut off from it would upload
# an old state, so it skips and the members of the quorum upload.
if ! read_header=$(${ETCDCTL_MEMBER} get --consistency=l -w fields ${SNAPSHOT_PROBE_KEY}); then
  echo "etcd-snapshot: etcd-$ETCD_MEMBER cannot serve a linearizable read (down or not in a quorum); no snapshot this time"
  exit 0
fi
read_revision=$(field Revision "$read_header")
cluster_id=$(field ClusterID "$read_header")
if [ -z "$read_revision" ] || [ -z "$cluster_id" ]; then fail "no revision or cluster id in etcdctl's answer: $read_header"; fi

# Healthy in a quorum: record it, so the guard refuses this member an empty data dir from now on.
rc=0
recorded=$(${BOOTSTRAP_RECORD_SCRIPT} get) || rc=$?
if [ $rc -eq 1 ] || { [ $rc -eq 0 ] && [ "$recorded" != "$cluster_id" ]; }; then
  ${BOOTSTRAP_RECORD_SCRIPT} put "$cluster_id"
elif [ $rc -ne 0 ]; then
  fail "cannot read this member's bootstrap record"
fi

dir=/var/lib/etcd-snapshots
install -d -m 0700 "$dir"
file="$dir/snapshot.db"
rm -f "$file" "$file.part"
# No command timeout: a large database takes longer than etcdctl-member's 10 s (the unit's
# start timeout bounds the run).
${ETCDCTL_MEMBER} --no-command-timeout snapshot save "$file" >/dev/null || fail "snapshot save failed"
revision=$(field Revision "$(${ETCDUTL_BINARY} snapshot status -w fields "$file")")
[ -n "$revision" ] || fail "etcdutl snapshot status shows no revision for $file"
[ "$revision" -ge "$read_revision" ] || fail "snapshot revision $revision is older than the linearizable read's $read_revision"
metadata="${SNAPSHOT_REVISION_METADATA}=$revision,${SNAPSHOT_CLUSTER_METADATA}=$cluster_id"
key="s3://$SNAPSHOT_BUCKET/${SNAPSHOT_HISTORY_PREFIX}etcd-$ETCD_MEMBER/$(date -u +%Y-%m-%dT%H-%M-%SZ).db"
${AWS} s3 cp --only-show-errors --metadata "$metadata" - "$key" <"$file" || fail "upload to $key failed"
# The copy's metadata: copied from the source in one part, taken from --metadata in parts
# (AWS CLI s3 cp, --metadata-directive): the same values either way.
${AWS} s3 cp --only-show-errors --metadata "$metadata" "$key" "s3://$SNAPSHOT_BUCKET/${SNAPSHOT_LATEST_PREFIX}etcd-$ETCD_MEMBER.db" \\
  || fail "copy of $key to ${SNAPSHOT_LATEST_PREFIX}etcd-$ETCD_MEMBER.db failed"
rm -f "$file"
echo "etcd-snapshot: uploaded $key at revision $revision"
`;

export function snapshotFiles(): IgnitionFile[] {
  return [script(SNAPSHOT_SCRIPT, snapshotScript)];
}
