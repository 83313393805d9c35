/** etcd-status: what an operator (and the integration test) reads first. */
import { ETCDCTL_MEMBER, STATUS_SCRIPT } from './etcd-paths';
import { script } from './files';
import { IgnitionFile } from './ignition';

const statusScript = `#!/bin/bash
# etcd-status: every member's revision, raft term, leader and database size, every member's
# health, and the cluster's alarms (NOSPACE: the backend quota is full), as this member sees
# them. Exits non-zero when a member is unhealthy, unreachable or an alarm is raised.
set -uo pipefail
rc=0
${ETCDCTL_MEMBER} endpoint status --cluster -w table || rc=1
${ETCDCTL_MEMBER} endpoint health --cluster -w table || rc=1
alarms=$(${ETCDCTL_MEMBER} alarm list) || rc=1
if [ -n "$alarms" ]; then
  echo "etcd-status: alarms raised:"
  echo "$alarms"
  rc=1
fi
exit $rc
`;

export function statusFiles(): IgnitionFile[] {
  return [script(STATUS_SCRIPT, statusScript)];
}
