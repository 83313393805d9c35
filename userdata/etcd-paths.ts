/**
 * Where an etcd member keeps things: shared by the member's scripts (userdata/etcd-*.ts) and
 * by the snapshot bucket's grants (lib/constructs/etcd-snapshot-bucket.ts).
 */
import { bin, CONFIG_DIR } from './paths';
import { ETCD_VERSION } from './versions';

export const ETCD_DATA_MOUNT = '/var/lib/etcd';
/** etcd's data dir is a subdirectory: the volume root holds lost+found, etcd wants 0700 and empty. */
export const ETCD_DATA_DIR = `${ETCD_DATA_MOUNT}/data`;
/** Where etcd-restore keeps the data dir it replaced (never deleted by a script). */
export const ETCD_DATA_ASIDE_PREFIX = `${ETCD_DATA_MOUNT}/data.replaced-`;

export const ETCD_HOME = `/opt/etcd/${ETCD_VERSION}`;
export const ETCD_BINARY = `${ETCD_HOME}/etcd`;
export const ETCDCTL_BINARY = `${ETCD_HOME}/etcdctl`;
/** Offline tool of the same release: snapshot status and restore (moved there from etcdctl in 3.5). */
export const ETCDUTL_BINARY = `${ETCD_HOME}/etcdutl`;

export const ETCD_ENV = `${CONFIG_DIR}/etcd.env`;
/**
 * Optional, written only by etcd-replace-member: `INITIAL_CLUSTER_STATE=existing` for the one
 * start of a re-added member on an empty data dir. Volatile: a reboot forgets it, and the
 * guard then refuses the empty dir again. No `ETCD_` prefix: etcd 3.5 reads ETCD_* variables
 * itself and exits when one shadows a flag (go.etcd.io/etcd/pkg/v3 v3.5.27, flags/flag.go, verifyEnv).
 */
export const ETCD_JOIN_ENV = '/run/kubernetes-on-aws/etcd-join.env';

export const ETCDCTL_MEMBER = bin('etcdctl-member');
export const BOOTSTRAP_RECORD_SCRIPT = bin('etcd-bootstrap-record');
export const GUARD_SCRIPT = bin('etcd-guard');
export const SNAPSHOT_SCRIPT = bin('etcd-snapshot');

/**
 * Key prefixes in the snapshot bucket (one bucket per cluster): a lifecycle rule expires
 * `history/`; `latest/` always holds each member's newest snapshot; `bootstrapped/etcd-N`
 * exists once member N has been healthy in a cluster (the blank-data guard reads it).
 */
export const SNAPSHOT_HISTORY_PREFIX = 'history/';
export const SNAPSHOT_LATEST_PREFIX = 'latest/';
export const BOOTSTRAP_RECORD_PREFIX = 'bootstrapped/';
export const STATUS_SCRIPT = bin('etcd-status');
export const REPLACE_MEMBER_SCRIPT = bin('etcd-replace-member');
export const RESTORE_SCRIPT = bin('etcd-restore');
export const ETCD_UNIT = 'etcd.service';
export const SNAPSHOT_TIMER_UNIT = 'etcd-snapshot.timer';
export const DEFRAG_SCRIPT = bin('etcd-defrag');
