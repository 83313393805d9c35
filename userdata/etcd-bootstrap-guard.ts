/**
 * The blank-data guard: a member that has once been healthy in a cluster never starts again
 * on an empty data directory.
 *
 * Why etcd does not protect this itself: with `--initial-cluster-state=new` and no WAL, etcd
 * 3.5 asks its peers whether the member was already bootstrapped and, when none answers in
 * time, treats "unreachable" as "no" (etcd v3.5.27 server/etcdserver/server.go NewServer,
 * case `!haveWAL && cfg.NewCluster`; cluster_util.go isMemberBootstrapped returns false on any
 * error). A member whose volume came back blank, started while its peers are down, then
 * creates itself anew, and with a lagging peer forms a quorum that lacks acknowledged writes.
 *
 * The fact "member N was bootstrapped" lives outside the volume, in the snapshot bucket
 * (`bootstrapped/etcd-N`, its metadata naming the cluster id), written by member N itself
 * once a linearizable read succeeds on it (etcd-snapshot, every minute). A member that never
 * started has no record and starts as `new`: its empty directory holds nothing to lose.
 */
import { BOOTSTRAP_RECORD_PREFIX, BOOTSTRAP_RECORD_SCRIPT, ETCD_DATA_DIR, ETCD_ENV, ETCD_JOIN_ENV, GUARD_SCRIPT } from './etcd-paths';
import { script } from './files';
import { IgnitionFile } from './ignition';
import { AWS } from './node-bootstrap';
import { CLUSTER_ENV, NODE_ENV } from './paths';

/** The README section that repairs a refused member (README.md "When etcd members fail"). */
export const REPAIR_PROCEDURE = 'etcd-replace-member (README "When etcd members fail")';

/**
 * The record's one interface: `get` and `put`. Tests back it with a fake AWS CLI; nothing in
 * production depends on a test hook.
 */
const recordScript = `#!/bin/bash
# etcd-bootstrap-record get | put CLUSTER_ID: the durable fact "member etcd-N has been healthy
# in a cluster", kept as s3://$SNAPSHOT_BUCKET/${BOOTSTRAP_RECORD_PREFIX}etcd-N (metadata cluster-id).
#   get     prints the recorded cluster id and exits 0; exits 1 when there is no record,
#           2 when S3 cannot tell (a caller must then assume the worst).
#   put ID  records the member as bootstrapped in cluster ID (again after a restore).
set -euo pipefail
. ${CLUSTER_ENV}
. ${NODE_ENV}
. ${ETCD_ENV}
key="${BOOTSTRAP_RECORD_PREFIX}etcd-$ETCD_MEMBER"
errors=$(mktemp)
trap 'rm -f "$errors"' EXIT
case "\${1:-}" in
  get)
    if id=$(${AWS} s3api head-object --bucket "$SNAPSHOT_BUCKET" --key "$key" \\
      --query 'Metadata."cluster-id"' --output text 2>"$errors"); then
      echo "$id"
      exit 0
    fi
    # S3 answers 404 for a missing key only to a caller allowed s3:ListBucket (the members
    # are); anything else (403, no network) is not "no record".
    if grep -q '(404)' "$errors"; then exit 1; fi
    echo "etcd-bootstrap-record: cannot read s3://$SNAPSHOT_BUCKET/$key: $(cat "$errors")" >&2
    exit 2
    ;;
  put)
    [ -n "\${2:-}" ] || { echo "usage: etcd-bootstrap-record put CLUSTER_ID" >&2; exit 64; }
    ${AWS} s3api put-object --bucket "$SNAPSHOT_BUCKET" --key "$key" --metadata "cluster-id=$2" >/dev/null
    echo "etcd-bootstrap-record: etcd-$ETCD_MEMBER is bootstrapped in cluster $2"
    ;;
  *)
    echo "usage: etcd-bootstrap-record get | put CLUSTER_ID" >&2
    exit 64
    ;;
esac
`;

/** ExecStartPre of etcd.service: exits non-zero (etcd does not start) on a refused empty data dir. */
const guardScript = `#!/bin/bash
# etcd-guard: refuses to start a member that was bootstrapped before on an empty data
# directory (a lost or replaced volume), which etcd would otherwise re-create from nothing.
set -euo pipefail
. ${CLUSTER_ENV}
. ${NODE_ENV}
. ${ETCD_ENV}
if [ -f ${ETCD_JOIN_ENV} ]; then . ${ETCD_JOIN_ENV}; fi
if [ -d ${ETCD_DATA_DIR}/member ]; then exit 0; fi
if [ "$INITIAL_CLUSTER_STATE" = existing ]; then
  # etcd-replace-member re-added this member: it joins from its peers or not at all.
  echo "etcd-guard: etcd-$ETCD_MEMBER starts on an empty data directory as a re-added member (existing cluster)"
  exit 0
fi
rc=0
cluster_id=$(${BOOTSTRAP_RECORD_SCRIPT} get) || rc=$?
case $rc in
  1)
    echo "etcd-guard: etcd-$ETCD_MEMBER has never been bootstrapped; first start on an empty data directory"
    ;;
  0)
    echo "etcd-guard: REFUSING to start etcd-$ETCD_MEMBER on an empty data directory: it was bootstrapped in cluster $cluster_id, and starting it anew can erase acknowledged writes. Repair: ${REPAIR_PROCEDURE}." >&2
    exit 1
    ;;
  *)
    echo "etcd-guard: REFUSING to start etcd-$ETCD_MEMBER on an empty data directory: cannot read its bootstrap record (exit $rc). Retrying on the next start." >&2
    exit 1
    ;;
esac
`;

export function bootstrapGuardFiles(): IgnitionFile[] {
  return [script(BOOTSTRAP_RECORD_SCRIPT, recordScript), script(GUARD_SCRIPT, guardScript)];
}
