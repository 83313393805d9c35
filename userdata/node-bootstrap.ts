/**
 * What every node does first, whatever its role: talk to IMDSv2, run the AWS CLI, and learn
 * who it is from its EC2 tags.
 */
import { directory, envFile, MODE_PRIVATE_DIR, script } from './files';
import { NodeParts } from './ignition';
import { bin, CLUSTER_ENV, CONFIG_DIR, NODE_ENV, STATE_DIR } from './paths';
import { ClusterIdentity, NodeRole } from './types';
import { unit } from './units';
import { IMAGES } from './versions';

export const IMDS = bin('imds');
export const AWS = bin('aws');
export const NODE_IDENTITY_SCRIPT = bin('node-identity');
export const NODE_IDENTITY_UNIT = 'node-identity.service';

/** The units every unit that reads node.env or calls AWS is ordered after. */
export const AFTER_IDENTITY = [NODE_IDENTITY_UNIT];

/** Every IMDS read goes through here: IMDSv2 only (the launch template disables v1). */
const imdsScript = `#!/bin/bash
# imds PATH: prints one instance-metadata value, read with an IMDSv2 session token.
set -euo pipefail
base=http://169.254.169.254/latest
token=$(curl -fsS --retry 10 --retry-connrefused --retry-delay 1 -X PUT \\
  -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "$base/api/token")
exec curl -fsS --retry 10 --retry-connrefused --retry-delay 1 \\
  -H "X-aws-ec2-metadata-token: $token" "$base/meta-data/$1"
`;

/**
 * The one way our units call AWS: Flatcar has no aws cli, so run the pinned official image.
 * --network host: the CLI reads the instance role's credentials from IMDSv2 like any host
 * process; the launch templates' hop limit of 1 keeps bridged containers (pods) out.
 * -i: standard input is passed through, so `aws s3 cp - s3://...` streams a file.
 */
const awsScript = `#!/bin/bash
# aws ARGS...: the AWS CLI (${IMAGES.awsCli}) with the instance role's credentials.
set -euo pipefail
region=\${AWS_REGION:-}
if [ -z "$region" ]; then
  region=$(${IMDS} placement/region)
fi
exec docker run --rm -i --network host \\
  -e AWS_REGION="$region" -e AWS_DEFAULT_REGION="$region" \\
  -e AWS_EC2_METADATA_V1_DISABLED=true -e AWS_PAGER= \\
  ${IMAGES.awsCli} "$@"
`;

/**
 * Reads the instance's own tags with ec2:DescribeTags: IMDS can expose tags, but not keys
 * containing '/', and ours do (kubernetes.io/cluster/<cluster>). Checks that the tags name
 * this cluster and the role this config was rendered for, then writes node.env.
 */
const nodeIdentityScript = `#!/bin/bash
# node-identity: writes ${NODE_ENV} from IMDSv2 and this instance's EC2 tags.
set -euo pipefail
. ${CLUSTER_ENV}

instance_id=$(${IMDS} instance-id)
az=$(${IMDS} placement/availability-zone)
private_dns=$(${IMDS} local-hostname)
private_ip=$(${IMDS} local-ipv4)

# Tags may lag the launch by a few seconds: retry for up to 5 minutes.
tags=''
for attempt in $(seq 1 30); do
  if tags=$(${AWS} ec2 describe-tags --region "$REGION" \\
        --filters "Name=resource-id,Values=$instance_id" --output json) \\
     && [ "$(jq '.Tags | length' <<<"$tags")" -gt 0 ]; then
    break
  fi
  echo "node-identity: tags of $instance_id not readable yet (attempt $attempt/30)" >&2
  tags=''
  sleep 10
done
if [ -z "$tags" ]; then
  echo "node-identity: could not read the tags of $instance_id; check the instance role's ec2:DescribeTags" >&2
  exit 1
fi

tag() { jq -r --arg k "$1" '[.Tags[] | select(.Key == $k) | .Value][0] // ""' <<<"$tags"; }

owned=$(tag "kubernetes.io/cluster/$CLUSTER")
role=$(tag kubernetes-on-aws:role)
cfn_stack=$(tag kubernetes-on-aws:cfn-stack)
cfn_resource=$(tag kubernetes-on-aws:cfn-resource)
etcd_member=$(tag kubernetes-on-aws:etcd-member)

fail() { echo "node-identity: $*" >&2; exit 1; }
[ "$owned" = owned ] || fail "tag kubernetes.io/cluster/$CLUSTER is '$owned', expected 'owned': this config belongs to cluster $CLUSTER"
[ "$role" = "$NODE_ROLE" ] || fail "tag kubernetes-on-aws:role is '$role', but this config is for role $NODE_ROLE"
[ -n "$cfn_stack" ] || fail "tag kubernetes-on-aws:cfn-stack is missing"
[ -n "$cfn_resource" ] || fail "tag kubernetes-on-aws:cfn-resource is missing"
if [ "$NODE_ROLE" = etcd ]; then
  [[ "$etcd_member" =~ ^[0-9]+$ ]] || fail "tag kubernetes-on-aws:etcd-member is '$etcd_member', expected a member index"
fi
for value in "$instance_id" "$az" "$private_dns" "$private_ip" "$cfn_stack" "$cfn_resource"; do
  [[ "$value" =~ ^[A-Za-z0-9._:/-]+$ ]] || fail "unexpected characters in '$value'"
done

tmp=$(mktemp ${NODE_ENV}.XXXXXX)
cat >"$tmp" <<ENV
INSTANCE_ID=$instance_id
AVAILABILITY_ZONE=$az
PRIVATE_DNS_NAME=$private_dns
PRIVATE_IP=$private_ip
CFN_STACK=$cfn_stack
CFN_RESOURCE=$cfn_resource
ETCD_MEMBER=$etcd_member
ENV
chmod 0644 "$tmp"
mv -f "$tmp" ${NODE_ENV}
echo "node-identity: $NODE_ROLE node $instance_id ($private_dns) of $CLUSTER, stack $cfn_stack"
`;

/** Units that call AWS need docker (the CLI runs as a container) and the network. */
export const AWS_UNIT_DEPENDENCIES = {
  Wants: 'network-online.target',
  After: ['network-online.target', 'docker.service'],
  Requires: 'docker.service',
} as const;

export function nodeBootstrapParts(identity: ClusterIdentity, role: NodeRole): NodeParts {
  return {
    directories: [directory(CONFIG_DIR), directory(STATE_DIR, MODE_PRIVATE_DIR)],
    files: [
      script(IMDS, imdsScript),
      script(AWS, awsScript),
      script(NODE_IDENTITY_SCRIPT, nodeIdentityScript),
      envFile(CLUSTER_ENV, { CLUSTER: identity.cluster, ZONE: identity.zone, REGION: identity.region, NODE_ROLE: role }),
    ],
    units: [
      unit(NODE_IDENTITY_UNIT, {
        Unit: {
          Description: 'Read this node identity from IMDSv2 and its EC2 tags into node.env',
          ...AWS_UNIT_DEPENDENCIES,
        },
        Service: {
          Type: 'oneshot',
          RemainAfterExit: true,
          ExecStart: NODE_IDENTITY_SCRIPT,
        },
        Install: { WantedBy: 'multi-user.target' },
      }),
    ],
  };
}
