/**
 * cfn-signal.service: tells the instance's Auto Scaling group (CloudFormation creation and
 * update policies) that this node is healthy, only once its role's check passes; at the
 * deadline it signals FAILURE so CloudFormation rolls back at once instead of timing out.
 */
import { script } from './files';
import { NodeParts } from './ignition';
import { AFTER_IDENTITY, AWS, AWS_UNIT_DEPENDENCIES } from './node-bootstrap';
import { bin, CLUSTER_ENV, NODE_ENV, STATE_DIR } from './paths';
import { unit } from './units';

export const HEALTH_CHECK_SCRIPT = bin('node-health-check');
export const SIGNAL_SCRIPT = bin('cfn-signal');
export const SIGNAL_UNIT = 'cfn-signal.service';
const SIGNALLED_STAMP = `${STATE_DIR}/cfn-signalled`;

/**
 * How long a node may take to become healthy (image pulls, etcd quorum, API readiness).
 * The ASG's signal timeout (CDK `signals` timeout) must be longer: PT20M leaves room.
 */
export const HEALTH_DEADLINE_SECONDS = 900;
/** Pause between two health checks. */
export const HEALTH_INTERVAL_SECONDS = 10;

const signalScript = `#!/bin/bash
# cfn-signal: runs ${HEALTH_CHECK_SCRIPT} until it passes or the deadline, then signals
# SUCCESS or FAILURE for this instance to its Auto Scaling group's CloudFormation resource.
set -euo pipefail
. ${CLUSTER_ENV}
. ${NODE_ENV}
deadline=$(( $(date +%s) + HEALTH_DEADLINE_SECONDS ))
status=FAILURE
while [ "$(date +%s)" -lt "$deadline" ]; do
  if ${HEALTH_CHECK_SCRIPT}; then
    status=SUCCESS
    break
  fi
  sleep "$HEALTH_INTERVAL_SECONDS"
done
echo "cfn-signal: signalling $status for $INSTANCE_ID to $CFN_STACK/$CFN_RESOURCE"
for attempt in 1 2 3 4 5; do
  if ${AWS} cloudformation signal-resource --region "$REGION" \\
      --stack-name "$CFN_STACK" --logical-resource-id "$CFN_RESOURCE" \\
      --unique-id "$INSTANCE_ID" --status "$status"; then
    touch ${SIGNALLED_STAMP}
    [ "$status" = SUCCESS ]
    exit
  fi
  echo "cfn-signal: signal-resource failed (attempt $attempt/5)" >&2
  sleep 10
done
exit 1
`;

export interface HealthSignalOptions {
  /** The role's health check: a bash script that exits 0 only when the node is healthy. */
  readonly healthCheck: string;
  /** Units whose start the check waits for (ordering only: the check itself decides). */
  readonly after: readonly string[];
}

export function healthSignalParts(options: HealthSignalOptions): NodeParts {
  return {
    directories: [],
    files: [script(SIGNAL_SCRIPT, signalScript), script(HEALTH_CHECK_SCRIPT, options.healthCheck)],
    units: [
      unit(SIGNAL_UNIT, {
        Unit: {
          Description: 'Signal the Auto Scaling group once this node is healthy (FAILURE at the deadline)',
          Wants: AWS_UNIT_DEPENDENCIES.Wants,
          Requires: [AWS_UNIT_DEPENDENCIES.Requires, ...AFTER_IDENTITY],
          After: [...AWS_UNIT_DEPENDENCIES.After, ...AFTER_IDENTITY, ...options.after],
          // One signal per instance: a reboot must not signal a finished deployment again.
          ConditionPathExists: `!${SIGNALLED_STAMP}`,
        },
        Service: {
          Type: 'oneshot',
          Environment: [`HEALTH_DEADLINE_SECONDS=${HEALTH_DEADLINE_SECONDS}`, `HEALTH_INTERVAL_SECONDS=${HEALTH_INTERVAL_SECONDS}`],
          ExecStart: SIGNAL_SCRIPT,
          // The deadline plus time for the signal itself (image pull, 5 tries).
          TimeoutStartSec: HEALTH_DEADLINE_SECONDS + 180,
        },
        Install: { WantedBy: 'multi-user.target' },
      }),
    ],
  };
}
