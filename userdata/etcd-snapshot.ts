/**
 * etcd-snapshot: every minute, a member that is part of a quorum saves a snapshot and uploads
 * it with the revision it holds at least, so a restore can pick the newest across members.
 *
 * Recovery point: a member uploads only after a linearizable read succeeds on it (etcd serves
 * one only with a quorum: ReadIndex, after applying everything committed before it), and the
 * snapshot it then saves holds everything that read saw: the save commits the backend first
 * (etcd v3.5.27 server/mvcc/backend/backend.go Snapshot: batchTx.Commit()). So the read's
 * revision is recorded with the upload. A member cut off from the quorum skips rather than
 * upload a stale state, so the newest snapshot across members lags the cluster by at most
 * one timer period plus the time of the save and the upload.
 *
 * Not the revision `etcdutl snapshot status` prints: that is the highest revision of a key
 * still in the file (etcdutl/snapshot/v3_snapshot.go Status), 0 for a store without keys and
 * lower than the store's own once the latest writes were deletes that compaction removed.
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
/**
 * Object metadata (x-amz-meta-*) of every uploaded snapshot: `revision` is the revision the
 * snapshot holds at least (its linearizable read's), `cluster-id` the etcd cluster's id.
 */
export const SNAPSHOT_REVISION_METADATA = 'revision';
export const SNAPSHOT_CLUSTER_METADATA = 'cluster-id';
/**
 * The names of the API server's encryption keys found in the snapshot, `+`-separated, or
 * `none`: a restore needs every one of them in the control-plane secret's
 * encryption-config.yaml, or the Secrets they encrypted stay unreadable.
 */
export const SNAPSHOT_ENCRYPTION_KEYS_METADATA = 'encryption-keys';
/**
 * The prefix the API server stores before every encrypted value, `k8s:enc:<provider>:<version>:<key
 * name>:` (kubernetes/apiserver v0.35.1 pkg/server/options/encryptionconfig/config.go: the
 * secretbox, aescbc and aesgcm prefixes `k8s:enc:<provider>:v1:<key name>:`, KMS v2's
 * `k8s:enc:kms:v2:<plugin name>:`), as an extended regular expression whose fifth
 * `:`-separated field is the name. Key names are letters, digits, '.', '_' and '-' here.
 */
export const ENCRYPTED_VALUE_PREFIX = 'k8s:enc:[a-z0-9]+:v[0-9]+:[A-Za-z0-9._-]+:';
/**
 * The names our encryption keys have (lib/secrets/encryption-config.ts KEY_NAME, tested
 * against it), as an extended regular expression: only these are recorded, so that a user
 * who stores look-alike prefixes in a ConfigMap cannot fill the metadata.
 */
export const ENCRYPTION_KEY_NAME = 'key-[1-9][0-9]*(-[0-9a-f]+)?';
/** Room for the key names in the object's metadata (S3 allows 2 KB of user metadata in all). */
export const ENCRYPTION_KEYS_MAX_BYTES = 1024;
/** Recorded instead of the names when they do not fit. */
export const TOO_MANY_ENCRYPTION_KEYS = 'too-many-to-record';
/** The `history/` key the `latest/` copy was made from: immutable, what a restore downloads. */
export const SNAPSHOT_HISTORY_KEY_METADATA = 'history-key';

/**
 * Shell function `field NAME TEXT`: the value of "NAME" in etcdctl's `-w fields` output
 * (etcd v3.5.27 etcdctl/ctlv3/command/printer_fields.go hdr). Not jq: cluster ids are 64-bit, beyond a double's precision.
 */
const FIELD_FUNCTION = `field() { sed -n "s/^\\"$1\\" : //p" <<<"$2"; }
`;

const snapshotScript = `#!/bin/bash
# etcd-snapshot: if this member is part of a quorum, saves a snapshot and uploads it to
# s3://$SNAPSHOT_BUCKET/${SNAPSHOT_HISTORY_PREFIX}etcd-N/<UTC time>.db and to
# s3://$SNAPSHOT_BUCKET/${SNAPSHOT_LATEST_PREFIX}etcd-N.db, with metadata ${SNAPSHOT_REVISION_METADATA}=<etcd revision>,
# ${SNAPSHOT_CLUSTER_METADATA}=<etcd cluster id> and ${SNAPSHOT_ENCRYPTION_KEYS_METADATA}=<names of the encryption keys
# its Secrets need>. Also records the member as bootstrapped.
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
revision=$(field Revision "$read_header")
cluster_id=$(field ClusterID "$read_header")
if [ -z "$revision" ] || [ -z "$cluster_id" ]; then fail "no revision or cluster id in etcdctl's answer: $read_header"; fi

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
# start timeout bounds the run). etcdctl checks the sha256 etcd sends with the snapshot;
# etcdutl then reads the file as a database.
${ETCDCTL_MEMBER} --no-command-timeout snapshot save "$file" >/dev/null || fail "snapshot save failed"
${ETCDUTL_BINARY} snapshot status "$file" >/dev/null || fail "etcdutl cannot read the saved snapshot $file"
# The encryption keys a restore of this snapshot needs: every key name that prefixes a value in
# the file (old revisions and free pages included: at worst a name too many, never one too few,
# since bbolt writes a key and its value contiguously into one run of pages: go.etcd.io/bbolt
# node.go, node.write). grep exits 1 when nothing matches, 2 on an error.
rc=0
prefixes=$(grep -aoE '${ENCRYPTED_VALUE_PREFIX}' "$file") || rc=$?
[ $rc -le 1 ] || fail "cannot scan $file for encryption key names"
encryption_keys=$( (cut -d: -f5 <<<"$prefixes" | grep -xE '${ENCRYPTION_KEY_NAME}' || true) | sort -u | paste -sd+)
if [ \${#encryption_keys} -gt ${ENCRYPTION_KEYS_MAX_BYTES} ]; then
  echo "etcd-snapshot: more encryption key names than fit in the metadata; recorded as ${TOO_MANY_ENCRYPTION_KEYS}" >&2
  encryption_keys=${TOO_MANY_ENCRYPTION_KEYS}
fi
history_key="${SNAPSHOT_HISTORY_PREFIX}etcd-$ETCD_MEMBER/$(date -u +%Y-%m-%dT%H-%M-%SZ).db"
key="s3://$SNAPSHOT_BUCKET/$history_key"
metadata="${SNAPSHOT_REVISION_METADATA}=$revision,${SNAPSHOT_CLUSTER_METADATA}=$cluster_id,${SNAPSHOT_ENCRYPTION_KEYS_METADATA}=\${encryption_keys:-none},${SNAPSHOT_HISTORY_KEY_METADATA}=$history_key"
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
