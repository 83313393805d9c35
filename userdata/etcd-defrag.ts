/**
 * Defragmentation on a schedule, one member at a time: etcd frees space inside its database
 * file on compaction, but returns it to the filesystem, and below the backend quota, only when
 * defragmented; a member blocks its reads and writes while it defragments. The timer fires
 * every DEFRAG_SLOT_MINUTES in one hour of the night, and member N acts only in slot N, so
 * that members take turns (7 members at most: userdata/types.ts validateEtcdInput).
 */
import { DEFRAG_SCRIPT, ETCD_ENV, ETCDCTL_MEMBER } from './etcd-paths';
import { script } from './files';
import { IgnitionFile } from './ignition';
import { NODE_ENV } from './paths';

/** Minutes between two members' turns. */
export const DEFRAG_SLOT_MINUTES = 5;
/** The timer's schedule (UTC): 03:00, 03:05, ... 03:55. */
export const DEFRAG_CALENDAR = `*-*-* 03:00/${DEFRAG_SLOT_MINUTES}:00 UTC`;
/** One member's defragmentation, at most (etcdctl's --command-timeout; defrag always has one). */
export const DEFRAG_TIMEOUT = '4m';

const defragScript = `#!/bin/bash
# etcd-defrag: in this member's slot of the nightly schedule (minute / ${DEFRAG_SLOT_MINUTES} = N for etcd-N),
# defragments this member only, and only while every member is healthy: a member is
# unavailable while it defragments, and must not be the one that costs the quorum.
set -euo pipefail
. ${NODE_ENV}
. ${ETCD_ENV}
slot=$((10#$(date -u +%M) / ${DEFRAG_SLOT_MINUTES}))
if [ "$slot" -ne "$ETCD_MEMBER" ]; then exit 0; fi
if ! ${ETCDCTL_MEMBER} endpoint health --cluster >/dev/null; then
  echo "etcd-defrag: not every member is healthy; not defragmenting etcd-$ETCD_MEMBER today"
  exit 0
fi
# etcdctl 3.5 bounds defrag by --command-timeout (default 5 s), given or not (etcd v3.5.27
# etcdctl/ctlv3/command/defrag_command.go defragCommandFunc, commandCtx).
${ETCDCTL_MEMBER} --command-timeout=${DEFRAG_TIMEOUT} defrag
echo "etcd-defrag: defragmented etcd-$ETCD_MEMBER"
`;

export function defragFiles(): IgnitionFile[] {
  return [script(DEFRAG_SCRIPT, defragScript)];
}
