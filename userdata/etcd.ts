/**
 * An etcd member: what runs on an etcd node, in one file.
 *
 * Boot order: node-identity (member index N from the tag) -> etcd-attach (the member's own
 * network interface and data volume, found by tags) -> etcd-format (only a blank volume) ->
 * var-lib-etcd.mount -> fetch-secrets (member TLS) -> etcd-guard (no restart on blank data once
 * bootstrapped: etcd-bootstrap-guard.ts) -> etcd -> cfn-signal; etcd-snapshot.timer uploads a
 * snapshot to S3 every minute (etcd-snapshot.ts); certificate-refresh.timer re-fetches the
 * member certificate daily, which etcd picks up on its next handshakes (certificate-refresh.ts).
 */
import { certificateRefreshParts } from './certificate-refresh';
import { bootstrapGuardFiles } from './etcd-bootstrap-guard';
import {
  ETCD_BINARY,
  ETCD_DATA_DIR,
  ETCD_DATA_MOUNT,
  ETCD_ENV,
  ETCD_HOME,
  ETCD_JOIN_ENV,
  ETCD_UNIT,
  ETCDCTL_BINARY,
  ETCDCTL_MEMBER,
  DEFRAG_SCRIPT,
  GUARD_SCRIPT,
  SNAPSHOT_SCRIPT,
  SNAPSHOT_TIMER_UNIT,
} from './etcd-paths';
import { DEFRAG_CALENDAR, defragFiles } from './etcd-defrag';
import { replaceMemberFiles } from './etcd-replace-member';
import { restoreFiles } from './etcd-restore';
import { SNAPSHOT_CALENDAR, SNAPSHOT_TIMEOUT_SECONDS, snapshotFiles } from './etcd-snapshot';
import { statusFiles } from './etcd-status';
import { directory, envFile, remoteFile, script } from './files';
import { healthSignalParts } from './health-signal';
import { IgnitionConfig, ignitionConfig, mergeParts, NodeParts } from './ignition';
import { ETCD_CLIENT_PORT, ETCD_PEER_PORT } from './network';
import { AFTER_IDENTITY, AWS, AWS_UNIT_DEPENDENCIES, nodeBootstrapParts } from './node-bootstrap';
import { bin, CLUSTER_ENV, ETCD_PKI_DIR, NODE_ENV } from './paths';
import { FETCH_SECRETS_UNIT, fetchSecretsParts } from './secrets';
import { EtcdNodeInput, etcdDomain, validateEtcdInput } from './types';
import { command, unit } from './units';
import { ETCD_TARBALL, ETCD_VERSION } from './versions';
import { ClusterSecretNames } from './secret-names';

export { SNAPSHOT_HISTORY_PREFIX, SNAPSHOT_LATEST_PREFIX, BOOTSTRAP_RECORD_PREFIX } from './etcd-paths';

/** Filesystem label of the data volume; the mount finds the volume by it. */
export const ETCD_DATA_LABEL = 'etcd-data';
/** EBS device name requested at attach; Nitro instances expose it as NVMe (found by volume id). */
export const ETCD_VOLUME_DEVICE_NAME = '/dev/xvdf';
/** Device index of the member's network interface (0 is the instance's primary). */
export const ETCD_ENI_DEVICE_INDEX = 1;
/**
 * Route metric of the member's interface, below the primary interface's (networkd's DHCP
 * default, 1024): its routes win, so the member's address is the source of every
 * connection the node opens. etcd dials its peers without choosing a source address, and
 * peers check the caller's certificate against the address the call comes from: the
 * certificate names etcd-N.<domain>, whose A record is the member's address.
 */
export const ETCD_ENI_ROUTE_METRIC = 10;
/**
 * The backend's size limit: etcd's largest recommended quota (8 GiB; etcd v3.5.27
 * server/etcdserver/quota.go MaxQuotaBytes, above which etcd warns), set explicitly rather
 * than left at the 2 GiB default (quota.go DefaultQuotaBytes). Past it etcd raises a NOSPACE
 * alarm and refuses writes until compaction, defragmentation and `alarm disarm`.
 */
export const ETCD_QUOTA_BACKEND_BYTES = 8 * 1024 * 1024 * 1024;

const ETCD_TARBALL_PATH = `/opt/etcd/etcd-${ETCD_VERSION}-linux-amd64.tar.gz`;
/** Written at boot by etcd-attach: device, interface id, address and MAC. Volatile (/run). */
const MEMBER_RUNTIME_ENV = '/run/kubernetes-on-aws/etcd-member.env';
const NETWORKD_FILE = '/run/systemd/network/10-etcd-member.network';

const ATTACH_SCRIPT = bin('etcd-attach');
/** Tries of each EC2 call in etcd-attach: 1+2+...+32 s = about a minute of backoff in all. */
const ATTACH_API_ATTEMPTS = 7;
const FORMAT_SCRIPT = bin('etcd-format');

const UNITS = {
  install: 'etcd-install.service',
  attach: 'etcd-attach.service',
  format: 'etcd-format.service',
  mount: 'var-lib-etcd.mount',
  etcd: ETCD_UNIT,
  snapshot: 'etcd-snapshot.service',
  snapshotTimer: SNAPSHOT_TIMER_UNIT,
  defrag: 'etcd-defrag.service',
  defragTimer: 'etcd-defrag.timer',
} as const;

const PKI = {
  ca: `${ETCD_PKI_DIR}/ca.crt`,
  cert: `${ETCD_PKI_DIR}/member.crt`,
  key: `${ETCD_PKI_DIR}/member.key`,
};

/**
 * etcdctl with the member certificate, against this member's own client URL (or, with
 * --via-peers, every other member's: for repairs of this one). A 10 s command timeout, except
 * with --no-command-timeout: etcdctl 3.5 bounds `snapshot save` only when the flag is given
 * (etcd v3.5.27 etcdctl/ctlv3/command/snapshot_command.go snapshotSaveCommandFunc,
 * isCommandTimeoutFlagSet).
 */
const etcdctlMemberScript = `#!/bin/bash
# etcdctl-member [--no-command-timeout | --command-timeout=D] [--via-peers] ARGS...: etcdctl
# against this member's client URL (its DNS name, i.e. the address of its own network
# interface), or with --via-peers the other members' URLs, authenticated with the member
# certificate; commands time out after 10 s, D, or (--no-command-timeout) etcdctl's choice.
set -euo pipefail
. ${CLUSTER_ENV}
. ${NODE_ENV}
. ${ETCD_ENV}
url() { echo "https://etcd-$1.$ETCD_DOMAIN:${ETCD_CLIENT_PORT}"; }
endpoints=$(url "$ETCD_MEMBER")
timeout=(--command-timeout=10s)
while [ $# -gt 0 ]; do
  case $1 in
    --no-command-timeout) timeout=() ;;
    --command-timeout=*) timeout=("$1") ;;
    --via-peers)
      endpoints=$(for i in $(seq 0 $((ETCD_MEMBER_COUNT - 1))); do [ "$i" = "$ETCD_MEMBER" ] || url "$i"; done | paste -sd,)
      ;;
    *) break ;;
  esac
  shift
done
exec ${ETCDCTL_BINARY} --endpoints "$endpoints" \\
  --cacert ${PKI.ca} --cert ${PKI.cert} --key ${PKI.key} "\${timeout[@]}" "$@"
`;

/**
 * Attaches the member's network interface and data volume. Both are found by tags (cluster
 * tag + member index) and outlive instances: a replacement member keeps its address (what
 * the DNS record etcd-N points at) and its data.
 *
 * Why a lower route metric: the interface gets its address by DHCP like any other; with its
 * routes preferred over the primary interface's, the member's address is the source of
 * everything the node sends (peers check it against the certificate's names), and packets
 * from it leave through its own interface, whose source/destination check accepts them.
 * The .network file matches the interface by MAC, known only after the attach, so it is
 * written at boot into /run (volatile; rewritten on every boot).
 */
const attachScript = `#!/bin/bash
# etcd-attach: attaches this member's network interface (device index ${ETCD_ENI_DEVICE_INDEX}) and
# data volume, both tagged kubernetes.io/cluster/$CLUSTER=owned and kubernetes-on-aws:etcd-member=N.
set -euo pipefail
. ${CLUSTER_ENV}
. ${NODE_ENV}
. ${ETCD_ENV}

fail() { echo "etcd-attach: $*" >&2; exit 1; }
# retry WHAT COMMAND...: runs COMMAND every 5 s until it succeeds, for up to 10 minutes.
retry() {
  local what=$1
  shift
  for attempt in $(seq 1 120); do
    if "$@"; then return 0; fi
    echo "etcd-attach: waiting for $what (attempt $attempt/120)" >&2
    sleep 5
  done
  fail "timed out waiting for $what"
}
# backoff WHAT COMMAND...: runs COMMAND until it succeeds, up to ${ATTACH_API_ATTEMPTS} times, waiting 1, 2, 4, ... s
# in between: the EC2 API throttles and fails transiently, and one failed call must not fail the boot.
backoff() {
  local what=$1 delay=1
  shift
  for attempt in $(seq 1 ${ATTACH_API_ATTEMPTS}); do
    if "$@"; then return 0; fi
    [ "$attempt" -lt ${ATTACH_API_ATTEMPTS} ] || break
    echo "etcd-attach: $what failed (attempt $attempt/${ATTACH_API_ATTEMPTS}); retrying in \${delay}s" >&2
    sleep "$delay"
    delay=$((delay * 2))
  done
  fail "$what failed ${ATTACH_API_ATTEMPTS} times"
}

# Members are etcd-0 .. etcd-(count-1).
[ "$ETCD_MEMBER" -lt "$ETCD_MEMBER_COUNT" ] || fail "member index $ETCD_MEMBER is outside this $ETCD_MEMBER_COUNT-member cluster"

filters=("Name=tag:kubernetes.io/cluster/$CLUSTER,Values=owned" "Name=tag:kubernetes-on-aws:etcd-member,Values=$ETCD_MEMBER")

# --- network interface -------------------------------------------------------------------
eni=$(backoff "describe-network-interfaces" ${AWS} ec2 describe-network-interfaces --region "$REGION" --filters "\${filters[@]}" \\
  --query 'NetworkInterfaces[].NetworkInterfaceId' --output text)
[ "$(wc -w <<<"$eni")" -eq 1 ] || fail "expected one network interface tagged etcd-member=$ETCD_MEMBER, found '$eni'"
eni_field() {
  backoff "describe-network-interfaces $eni" ${AWS} ec2 describe-network-interfaces --region "$REGION" --network-interface-ids "$eni" \\
    --query "NetworkInterfaces[0].$1" --output text
}
eni_available() { [ "$(eni_field Status)" = available ]; }
eni_attached_here() {
  [ "$(eni_field Attachment.InstanceId)" = "$INSTANCE_ID" ] && [ "$(eni_field Attachment.Status)" = attached ]
}
if ! eni_attached_here; then
  # A replaced member's old instance may still be shutting down: wait until it lets go.
  retry "network interface $eni to be available" eni_available
  # A retried attach whose first try went through fails: then the interface is ours already.
  attach_eni() {
    ${AWS} ec2 attach-network-interface --region "$REGION" --network-interface-id "$eni" \\
      --instance-id "$INSTANCE_ID" --device-index ${ETCD_ENI_DEVICE_INDEX} >/dev/null ||
      [ "$(eni_field Attachment.InstanceId)" = "$INSTANCE_ID" ]
  }
  backoff "attach-network-interface $eni" attach_eni
  retry "network interface $eni to be attached" eni_attached_here
fi
eni_ip=$(eni_field PrivateIpAddress)
eni_mac=$(eni_field MacAddress)

# --- data volume (same availability zone) ------------------------------------------------
volume=$(backoff "describe-volumes" ${AWS} ec2 describe-volumes --region "$REGION" \\
  --filters "\${filters[@]}" "Name=availability-zone,Values=$AVAILABILITY_ZONE" \\
  --query 'Volumes[].VolumeId' --output text)
[ "$(wc -w <<<"$volume")" -eq 1 ] || fail "expected one volume tagged etcd-member=$ETCD_MEMBER in $AVAILABILITY_ZONE, found '$volume'"
volume_field() {
  backoff "describe-volumes $volume" ${AWS} ec2 describe-volumes --region "$REGION" --volume-ids "$volume" \\
    --query "Volumes[0].$1" --output text
}
volume_available() { [ "$(volume_field State)" = available ]; }
volume_attached_here() {
  [ "$(volume_field 'Attachments[0].InstanceId')" = "$INSTANCE_ID" ] && [ "$(volume_field 'Attachments[0].State')" = attached ]
}
if ! volume_attached_here; then
  retry "volume $volume to be available" volume_available
  attach_volume() {
    ${AWS} ec2 attach-volume --region "$REGION" --volume-id "$volume" \\
      --instance-id "$INSTANCE_ID" --device ${ETCD_VOLUME_DEVICE_NAME} >/dev/null ||
      [ "$(volume_field 'Attachments[0].InstanceId')" = "$INSTANCE_ID" ]
  }
  backoff "attach-volume $volume" attach_volume
  retry "volume $volume to be attached" volume_attached_here
fi
# Nitro instances show EBS volumes as NVMe devices whose serial is the volume id without '-'.
device=/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_\${volume/-/}
device_present() { [ -b "$device" ]; }
retry "block device of $volume at $device" device_present

# --- routing for the member's address ----------------------------------------------------
install -d -m 0755 /run/kubernetes-on-aws /run/systemd/network
cat >${NETWORKD_FILE} <<NETWORK
[Match]
MACAddress=$eni_mac

[Link]
RequiredForOnline=no

[Network]
DHCP=ipv4

[DHCPv4]
RouteMetric=${ETCD_ENI_ROUTE_METRIC}
UseDNS=no
UseHostname=no
NETWORK
networkctl reload
address_up() { ip -4 -o addr show | grep -q " $eni_ip/"; }
retry "address $eni_ip on the member interface" address_up

cat >${MEMBER_RUNTIME_ENV} <<MEMBER
ETCD_DATA_DEVICE=$device
ETCD_ENI=$eni
ETCD_ENI_IP=$eni_ip
ETCD_VOLUME=$volume
MEMBER
echo "etcd-attach: member $ETCD_MEMBER has interface $eni ($eni_ip) and volume $volume ($device)"
`;

/**
 * Formats the data volume once: only when blkid finds no filesystem on it at all (exit 2).
 * An existing filesystem is never reformatted, and anything blkid cannot classify stops the
 * boot rather than risk the data.
 */
const formatScript = `#!/bin/bash
# etcd-format: makes an ext4 filesystem labelled ${ETCD_DATA_LABEL} on the member's data volume,
# ONLY if the volume has no filesystem (a new volume). Never reformats.
set -euo pipefail
. ${MEMBER_RUNTIME_ENV}
rc=0
blkid -p "$ETCD_DATA_DEVICE" >/dev/null 2>&1 || rc=$?
case $rc in
  0)
    label=$(blkid -p -o value -s LABEL "$ETCD_DATA_DEVICE" || true)
    if [ "$label" != ${ETCD_DATA_LABEL} ]; then
      echo "etcd-format: $ETCD_VOLUME has a filesystem labelled '$label', not ${ETCD_DATA_LABEL}; refusing to touch it" >&2
      exit 1
    fi
    echo "etcd-format: $ETCD_VOLUME already has its filesystem; keeping it"
    ;;
  2)
    echo "etcd-format: $ETCD_VOLUME is blank; creating ext4 labelled ${ETCD_DATA_LABEL}"
    mkfs.ext4 -q -L ${ETCD_DATA_LABEL} "$ETCD_DATA_DEVICE"
    udevadm settle
    ;;
  *)
    echo "etcd-format: blkid could not probe $ETCD_DATA_DEVICE (exit $rc); refusing to format" >&2
    exit 1
    ;;
esac
`;

const healthCheck = `#!/bin/bash
# node-health-check (etcd): this member answers 'endpoint health' on its own client URL,
# which needs the cluster's quorum.
exec ${ETCDCTL_MEMBER} endpoint health
`;

function etcdFlags(domain: string, cluster: string): string[] {
  const member = `etcd-\${ETCD_MEMBER}.${domain}`;
  return [
    '--name=etcd-${ETCD_MEMBER}',
    `--data-dir=${ETCD_DATA_DIR}`,
    // DNS discovery: _etcd-server-ssl._tcp.<domain> lists the peers (etcd refuses SRV
    // discovery with TLS unless the -ssl records exist).
    `--discovery-srv=${domain}`,
    `--initial-advertise-peer-urls=https://${member}:${ETCD_PEER_PORT}`,
    `--advertise-client-urls=https://${member}:${ETCD_CLIENT_PORT}`,
    `--listen-peer-urls=https://0.0.0.0:${ETCD_PEER_PORT}`,
    `--listen-client-urls=https://0.0.0.0:${ETCD_CLIENT_PORT}`,
    // Ignored once the data dir exists: a replaced member restarts from its volume.
    `--initial-cluster-token=${cluster}`,
    // `new` (etcd.env) but for a re-added member's first start (etcd-join.env: existing).
    '--initial-cluster-state=${INITIAL_CLUSTER_STATE}',
    // 3.5's default, explicit: without it a member rejoining after a partition forces an
    // election (etcd v3.5.27 server/embed/config.go NewConfig PreVote: true; etcdmain/config.go --pre-vote).
    '--pre-vote=true',
    // etcd v3.5.27 server/etcdmain/config.go --quota-backend-bytes.
    `--quota-backend-bytes=${ETCD_QUOTA_BACKEND_BYTES}`,
    '--client-cert-auth',
    `--trusted-ca-file=${PKI.ca}`,
    `--cert-file=${PKI.cert}`,
    `--key-file=${PKI.key}`,
    '--peer-client-cert-auth',
    `--peer-trusted-ca-file=${PKI.ca}`,
    `--peer-cert-file=${PKI.cert}`,
    `--peer-key-file=${PKI.key}`,
  ];
}

function etcdParts(input: EtcdNodeInput): NodeParts {
  const domain = etcdDomain(input);
  // The join override last, so that its value wins; '-': usually absent.
  const envFiles = [CLUSTER_ENV, NODE_ENV, ETCD_ENV, `-${ETCD_JOIN_ENV}`];
  return {
    directories: [directory('/opt/etcd')],
    files: [
      envFile(ETCD_ENV, {
        ETCD_DOMAIN: domain,
        ETCD_MEMBER_COUNT: input.memberCount,
        SNAPSHOT_BUCKET: input.snapshotBucket,
        INITIAL_CLUSTER_STATE: 'new',
      }),
      remoteFile(ETCD_TARBALL_PATH, ETCD_TARBALL.url, ETCD_TARBALL.hash),
      script(ETCDCTL_MEMBER, etcdctlMemberScript),
      script(ATTACH_SCRIPT, attachScript),
      script(FORMAT_SCRIPT, formatScript),
      ...bootstrapGuardFiles(),
      ...snapshotFiles(),
      ...statusFiles(),
      ...replaceMemberFiles(),
      ...restoreFiles(),
      ...defragFiles(),
    ],
    units: [
      unit(UNITS.install, {
        Unit: {
          Description: `Unpack etcd ${ETCD_VERSION} (tarball checked by Ignition against its sha256)`,
          ConditionPathExists: `!${ETCD_BINARY}`,
        },
        Service: {
          Type: 'oneshot',
          RemainAfterExit: true,
          ExecStart: [
            command('/usr/bin/mkdir', ['-p', ETCD_HOME]),
            command('/usr/bin/tar', ['-xzf', ETCD_TARBALL_PATH, '-C', ETCD_HOME, '--strip-components=1', '--no-same-owner']),
          ],
        },
      }),
      unit(UNITS.attach, {
        Unit: {
          Description: "Attach this member's network interface and data volume (found by tags)",
          Wants: AWS_UNIT_DEPENDENCIES.Wants,
          Requires: [AWS_UNIT_DEPENDENCIES.Requires, ...AFTER_IDENTITY],
          After: [...AWS_UNIT_DEPENDENCIES.After, ...AFTER_IDENTITY, 'systemd-networkd.service'],
        },
        Service: {
          Type: 'oneshot',
          RemainAfterExit: true,
          ExecStart: ATTACH_SCRIPT,
          // Up to 10 minutes waiting for a replaced member's interface, then the volume.
          TimeoutStartSec: 1500,
        },
      }),
      unit(UNITS.format, {
        Unit: {
          Description: 'Create the etcd data filesystem on a blank volume (never reformats)',
          Requires: UNITS.attach,
          After: UNITS.attach,
          Before: UNITS.mount,
        },
        Service: { Type: 'oneshot', RemainAfterExit: true, ExecStart: FORMAT_SCRIPT },
      }),
      unit(UNITS.mount, {
        Unit: {
          Description: 'etcd data volume',
          // Not a boot-time local filesystem: the volume is attached over the AWS API, after the
          // network. Default dependencies would order it before local-fs.target (a cycle).
          DefaultDependencies: false,
          Requires: UNITS.format,
          After: ['local-fs.target', UNITS.format],
          Conflicts: 'umount.target',
          Before: 'umount.target',
        },
        Mount: {
          What: `/dev/disk/by-label/${ETCD_DATA_LABEL}`,
          Where: ETCD_DATA_MOUNT,
          Type: 'ext4',
          Options: 'noatime',
        },
      }),
      unit(UNITS.etcd, {
        Unit: {
          Description: `etcd ${ETCD_VERSION} member (TLS, DNS SRV discovery under ${domain})`,
          Requires: [UNITS.install, UNITS.attach, UNITS.mount, FETCH_SECRETS_UNIT],
          After: [UNITS.install, UNITS.attach, UNITS.mount, FETCH_SECRETS_UNIT, ...AWS_UNIT_DEPENDENCIES.After],
          // Wants, not Requires: only the guard on an empty data dir calls the AWS CLI (and
          // refuses when it cannot); a member with data starts without docker.
          Wants: [AWS_UNIT_DEPENDENCIES.Wants, AWS_UNIT_DEPENDENCIES.Requires],
        },
        Service: {
          // etcd tells systemd when it has joined the cluster.
          Type: 'notify',
          EnvironmentFile: envFiles,
          ExecStartPre: [command('/usr/bin/install', ['-d', '-m', '0700', ETCD_DATA_DIR]), GUARD_SCRIPT],
          ExecStart: command(ETCD_BINARY, etcdFlags(domain, input.cluster)),
          Restart: 'always',
          RestartSec: 5,
          // The first members wait for each other's quorum: no start timeout.
          TimeoutStartSec: 'infinity',
          LimitNOFILE: 65536,
        },
        Install: { WantedBy: 'multi-user.target' },
      }),
      unit(UNITS.snapshot, {
        Unit: {
          Description: 'Save an etcd snapshot and upload it to S3',
          Wants: AWS_UNIT_DEPENDENCIES.Wants,
          // Never before etcd is up (etcd.service is Type=notify: up once it has joined).
          Requires: [AWS_UNIT_DEPENDENCIES.Requires, UNITS.etcd],
          After: [...AWS_UNIT_DEPENDENCIES.After, UNITS.etcd],
        },
        Service: { Type: 'oneshot', ExecStart: SNAPSHOT_SCRIPT, TimeoutStartSec: SNAPSHOT_TIMEOUT_SECONDS },
      }),
      unit(UNITS.snapshotTimer, {
        Unit: { Description: 'etcd snapshot to S3 every minute' },
        Timer: { OnCalendar: SNAPSHOT_CALENDAR, AccuracySec: '1s', Unit: UNITS.snapshot },
        Install: { WantedBy: 'timers.target' },
      }),
      unit(UNITS.defrag, {
        Unit: { Description: "Defragment this etcd member's database, in its turn", Requires: UNITS.etcd, After: UNITS.etcd },
        Service: { Type: 'oneshot', ExecStart: DEFRAG_SCRIPT },
      }),
      unit(UNITS.defragTimer, {
        Unit: { Description: 'etcd defragmentation, one member at a time, nightly' },
        Timer: { OnCalendar: DEFRAG_CALENDAR, AccuracySec: '1s', Unit: UNITS.defrag },
        Install: { WantedBy: 'timers.target' },
      }),
    ],
  };
}

/** The full Ignition config of an etcd member (an S3 asset; the user data is the stub). */
export function etcdConfig(input: EtcdNodeInput): IgnitionConfig {
  validateEtcdInput(input);
  const secrets = {
    dir: ETCD_PKI_DIR,
    secrets: [{ id: new ClusterSecretNames(input.cluster).etcdMember('${ETCD_MEMBER}'), files: ['ca.crt', 'member.crt', 'member.key'] }],
  };
  return ignitionConfig(
    mergeParts(
      nodeBootstrapParts(input, 'etcd'),
      fetchSecretsParts({ ...secrets, before: [UNITS.etcd] }),
      certificateRefreshParts({
        secrets,
        // Nothing to restart: member.crt and member.key are read on every TLS handshake
        // (certificate-refresh.ts: etcd v3.5.27 client/pkg/transport/listener.go), and the
        // refresh never changes the CA (fetch-secrets --refresh), which etcd reads at start only.
        restarts: [],
        after: [UNITS.etcd],
      }),
      etcdParts(input),
      healthSignalParts({ healthCheck, after: [UNITS.etcd] }),
    ),
  );
}

