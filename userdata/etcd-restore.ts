/**
 * etcd-restore: every member from the newest snapshot, as a new cluster.
 *
 * `plan` picks the newest `latest/etcd-N.db` by the revision its upload recorded (a member
 * behind, partitioned or down uploads nothing newer: etcd-snapshot.ts) and prints one
 * `apply` command for every member. `apply` restores this member with a NEW cluster token, so
 * the restored cluster has a new cluster id and a member missed by the restore, or started on
 * its old data, is refused by its peers ("cluster ID mismatch") instead of reverting the
 * restore. etcdutl, not etcdctl: 3.5 moved `snapshot restore` there (etcd v3.5.27
 * etcdctl/ctlv3/command/snapshot_command.go: "Moved to `etcdutl snapshot restore ...`";
 * etcdutl/etcdutl/snapshot_command.go for the flags used).
 */
import {
  ETCD_DATA_ASIDE_PREFIX,
  ETCD_DATA_DIR,
  ETCD_DATA_MOUNT,
  ETCD_ENV,
  ETCD_JOIN_ENV,
  ETCD_UNIT,
  ETCDUTL_BINARY,
  RESTORE_SCRIPT,
  SNAPSHOT_HISTORY_PREFIX,
  SNAPSHOT_LATEST_PREFIX,
  SNAPSHOT_TIMER_UNIT,
} from './etcd-paths';
import { SNAPSHOT_ENCRYPTION_KEYS_METADATA, SNAPSHOT_HISTORY_KEY_METADATA, SNAPSHOT_REVISION_METADATA, TOO_MANY_ENCRYPTION_KEYS } from './etcd-snapshot';
import { script } from './files';
import { IgnitionFile } from './ignition';
import { ETCD_PEER_PORT } from './network';
import { AWS } from './node-bootstrap';
import { CLUSTER_ENV, NODE_ENV } from './paths';
import { ClusterSecretNames, ENCRYPTION_CONFIG_FILE } from './secret-names';

/** The control-plane secret of cluster `$CLUSTER`, as the script names it. */
const CONTROL_PLANE_SECRET = new ClusterSecretNames('$CLUSTER').controlPlane;

/**
 * How far a restore moves the revision on, and it marks everything before as compacted
 * (etcd v3.5.27 etcdutl/etcdutl/snapshot_command.go --bump-revision, --mark-compacted): the
 * API servers' watch caches and their clients hold revisions up to the cluster's newest,
 * beyond the snapshot's; without a bump, new writes would reuse those numbers and watches
 * would miss them. The compaction makes every watcher re-list. One billion, as etcd's
 * recovery guide suggests: more than a cluster writes between a snapshot and its restore.
 */
export const RESTORE_REVISION_BUMP = 1_000_000_000;

const restoreScript = `#!/bin/bash
# etcd-restore plan: prints the newest snapshot across members (by recorded revision), the
#   encryption keys its Secrets need, and the command to run on every member.
# etcd-restore apply KEY REVISION TOKEN: stops etcd on this member, restores it from
#   s3://$SNAPSHOT_BUCKET/KEY (which must hold REVISION) as a member of a new cluster with
#   token TOKEN, keeps the old data dir aside, and starts etcd.
set -euo pipefail
. ${CLUSTER_ENV}
. ${NODE_ENV}
. ${ETCD_ENV}
fail() { echo "etcd-restore: $*" >&2; exit 1; }
peer_url() { echo "https://etcd-$1.$ETCD_DOMAIN:${ETCD_PEER_PORT}"; }
case "\${1:-}" in
  plan)
    best=-1
    for i in $(seq 0 $((ETCD_MEMBER_COUNT - 1))); do
      key="${SNAPSHOT_LATEST_PREFIX}etcd-$i.db"
      if ! revision=$(${AWS} s3api head-object --bucket "$SNAPSHOT_BUCKET" --key "$key" \\
        --query 'Metadata.${SNAPSHOT_REVISION_METADATA}' --output text); then
        echo "etcd-restore: cannot read $key; leaving it out" >&2
        continue
      fi
      if ! [[ $revision =~ ^[0-9]+$ ]]; then
        echo "etcd-restore: $key records no revision; leaving it out" >&2
        continue
      fi
      echo "etcd-restore: $key is at revision $revision"
      if [ "$revision" -gt "$best" ]; then best=$revision; best_key=$key; fi
    done
    [ "$best" -ge 0 ] || fail "no snapshot with a recorded revision in s3://$SNAPSHOT_BUCKET/${SNAPSHOT_LATEST_PREFIX}"
    echo "etcd-restore: newest: $best_key at revision $best."
    metadata_of() { ${AWS} s3api head-object --bucket "$SNAPSHOT_BUCKET" --key "$best_key" --query "Metadata.\\"$1\\"" --output text; }
    # Apply downloads the immutable history/ object the latest/ copy was made from: latest/
    # changes with every upload, a restored member's included.
    source=$(metadata_of ${SNAPSHOT_HISTORY_KEY_METADATA}) || fail "cannot read the metadata of $best_key"
    if [ "$source" = None ]; then
      echo "etcd-restore: WARNING: $best_key names no history/ object (uploaded by an older etcd-snapshot): apply will download $best_key itself, which changes with the next upload"
      source=$best_key
    fi
    keys=$(metadata_of ${SNAPSHOT_ENCRYPTION_KEYS_METADATA}) || fail "cannot read the metadata of $best_key"
    case $keys in
      none) echo "etcd-restore: its Secrets need no encryption key (none are encrypted)" ;;
      None | '') echo "etcd-restore: WARNING: $best_key records no encryption keys (uploaded by an older etcd-snapshot): its Secrets need the keys that were current when it was taken" ;;
      ${TOO_MANY_ENCRYPTION_KEYS}) echo "etcd-restore: WARNING: $best_key holds more encryption key names than were recorded: keep every key that ${ENCRYPTION_CONFIG_FILE} of ${CONTROL_PLANE_SECRET} ever had" ;;
      *) echo "etcd-restore: its Secrets are encrypted with the keys \${keys//+/, }: each must be in ${ENCRYPTION_CONFIG_FILE} of the secret ${CONTROL_PLANE_SECRET}, or those Secrets stay unreadable (lib/secrets/README.md, \"What a restore needs\")" ;;
    esac
    echo "With etcd stopped on every member (systemctl stop ${SNAPSHOT_TIMER_UNIT} ${ETCD_UNIT}), run on every member:"
    echo "etcd-restore apply $source $best $CLUSTER-restore-$(date -u +%Y%m%dT%H%M%SZ)"
    ;;
  apply)
    [ $# -eq 4 ] || fail "usage: etcd-restore apply KEY REVISION TOKEN (as etcd-restore plan prints it)"
    key=$2 revision=$3 token=$4
    [[ $key =~ ^(${SNAPSHOT_LATEST_PREFIX}etcd-[0-9]+|${SNAPSHOT_HISTORY_PREFIX}etcd-[0-9]+/[0-9TZ-]+)\\.db$ ]] || fail "KEY must be ${SNAPSHOT_HISTORY_PREFIX}etcd-N/<time>.db or ${SNAPSHOT_LATEST_PREFIX}etcd-N.db, got '$key'"
    [[ $token =~ ^[A-Za-z0-9._-]+$ ]] || fail "TOKEN must be letters, digits, '.', '_' or '-', got '$token'"
    [ "$token" != "$CLUSTER" ] || fail "TOKEN must be new: a restore that keeps the cluster's token lets members on old data in"
    systemctl stop ${SNAPSHOT_TIMER_UNIT} ${ETCD_UNIT}
    dir=/var/lib/etcd-snapshots
    install -d -m 0700 "$dir"
    file="$dir/restore.db"
    # One call returns the object and its metadata: the revision checked is the file's.
    got=$(${AWS} s3api get-object --bucket "$SNAPSHOT_BUCKET" --key "$key" \\
      --query 'Metadata.${SNAPSHOT_REVISION_METADATA}' --output text "$file" ) || fail "cannot download $key"
    [ "$got" = "$revision" ] || fail "$key is at revision $got now, not $revision: a member still uploads; stop etcd everywhere and plan again"
    initial_cluster=$(for i in $(seq 0 $((ETCD_MEMBER_COUNT - 1))); do echo "etcd-$i=$(peer_url "$i")"; done | paste -sd,)
    restoring=${ETCD_DATA_MOUNT}/data.restoring
    rm -rf "$restoring"
    ${ETCDUTL_BINARY} snapshot restore "$file" --name "etcd-$ETCD_MEMBER" --data-dir "$restoring" \\
      --initial-cluster "$initial_cluster" --initial-cluster-token "$token" \\
      --initial-advertise-peer-urls "$(peer_url "$ETCD_MEMBER")" \\
      --bump-revision ${RESTORE_REVISION_BUMP} --mark-compacted
    if [ -d ${ETCD_DATA_DIR} ]; then
      aside="${ETCD_DATA_ASIDE_PREFIX}$(date -u +%Y%m%dT%H%M%SZ)"
      mv ${ETCD_DATA_DIR} "$aside"
      echo "etcd-restore: kept the old data dir as $aside"
    fi
    mv "$restoring" ${ETCD_DATA_DIR}
    chmod 0700 ${ETCD_DATA_DIR}
    rm -f ${ETCD_JOIN_ENV} "$file"
    # Stopped during the restore, started after: no snapshot of a half-restored member.
    # etcd-snapshot re-records the member's bootstrap record under the new cluster id.
    systemctl start --no-block ${ETCD_UNIT} ${SNAPSHOT_TIMER_UNIT}
    echo "etcd-restore: etcd-$ETCD_MEMBER restored from $key at revision $revision, cluster token $token; it has a quorum once enough members are restored (etcd-status)"
    ;;
  *)
    fail "usage: etcd-restore plan | apply KEY REVISION TOKEN"
    ;;
esac
`;

export function restoreFiles(): IgnitionFile[] {
  return [script(RESTORE_SCRIPT, restoreScript)];
}
