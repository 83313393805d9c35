/**
 * etcd-replace-member: re-creates THIS member from its peers (a blank or damaged volume), the
 * repair the blank-data guard names. The member is removed from the cluster and added again
 * (a new member id: its old log is gone), its data dir is kept aside, and etcd starts once as
 * `existing` on an empty dir, so that it takes its state from the quorum and from nowhere else
 * (etcd v3.5.27 server/etcdserver/server.go NewServer, case `!haveWAL && !cfg.NewCluster`:
 * the cluster comes from the peers, and start fails if none answers).
 */
import { ETCD_DATA_ASIDE_PREFIX, ETCD_DATA_DIR, ETCD_ENV, ETCD_JOIN_ENV, ETCD_UNIT, ETCDCTL_MEMBER, REPLACE_MEMBER_SCRIPT, SNAPSHOT_TIMER_UNIT } from './etcd-paths';
import { script } from './files';
import { IgnitionFile } from './ignition';
import { ETCD_PEER_PORT } from './network';
import { CLUSTER_ENV, NODE_ENV } from './paths';

/** How long the re-added member may take to catch up before the script gives up (it keeps trying). */
export const REPLACE_WAIT_SECONDS = 600;

const replaceMemberScript = `#!/bin/bash
# etcd-replace-member [--force]: re-creates this member (etcd-N) from the quorum of its peers:
# removes it from the cluster and adds it again, keeps its data dir aside, and starts etcd once
# as a member joining an existing cluster. Refuses while this member is healthy (--force).
set -euo pipefail
. ${CLUSTER_ENV}
. ${NODE_ENV}
. ${ETCD_ENV}
fail() { echo "etcd-replace-member: $*" >&2; exit 1; }
log() { echo "etcd-replace-member: $*"; }
me="etcd-$ETCD_MEMBER"
peer_url="https://$me.$ETCD_DOMAIN:${ETCD_PEER_PORT}"
if [ "\${1:-}" != --force ] && ${ETCDCTL_MEMBER} endpoint health >/dev/null 2>&1; then
  fail "$me is healthy; nothing to repair (--force re-creates it anyway)"
fi

# The timer too: etcd-snapshot.service Requires= etcd.service, so a snapshot due now would
# start etcd again on the data this script is about to move aside.
systemctl stop ${SNAPSHOT_TIMER_UNIT} ${ETCD_UNIT}
# member list -w simple: ID, status, name, peer URLs, client URLs, is learner.
members=$(${ETCDCTL_MEMBER} --via-peers member list -w simple) || fail "no peer answers: the quorum is lost; restore instead (etcd-restore)"
id=$(awk -F', ' -v url="$peer_url" '$4 == url { print $1 }' <<<"$members")
if [ -n "$id" ]; then
  ${ETCDCTL_MEMBER} --via-peers member remove "$id" >/dev/null
  log "removed $me (member $id) from the cluster"
fi
${ETCDCTL_MEMBER} --via-peers member add "$me" --peer-urls="$peer_url" >/dev/null
log "added $me again at $peer_url"

if [ -d ${ETCD_DATA_DIR} ]; then
  aside="${ETCD_DATA_ASIDE_PREFIX}$(date -u +%Y%m%dT%H%M%SZ)"
  mv ${ETCD_DATA_DIR} "$aside"
  log "kept the old data dir as $aside"
fi
install -d -m 0700 ${ETCD_DATA_DIR}
install -d -m 0755 "$(dirname ${ETCD_JOIN_ENV})"
echo INITIAL_CLUSTER_STATE=existing >${ETCD_JOIN_ENV}
systemctl start --no-block ${ETCD_UNIT} ${SNAPSHOT_TIMER_UNIT}
for _ in $(seq 1 $((${REPLACE_WAIT_SECONDS} / 5))); do
  if ${ETCDCTL_MEMBER} endpoint health >/dev/null 2>&1; then
    # Joined: its data dir exists now, and a later start must not join again.
    rm -f ${ETCD_JOIN_ENV}
    log "$me is healthy again"
    exit 0
  fi
  sleep 5
done
fail "$me is not healthy after ${REPLACE_WAIT_SECONDS} s; see journalctl -u ${ETCD_UNIT}, then etcd-status"
`;

export function replaceMemberFiles(): IgnitionFile[] {
  return [script(REPLACE_MEMBER_SCRIPT, replaceMemberScript)];
}
