/**
 * The etcd member's scripts run for real, as rendered, against fakes: an AWS CLI that keeps S3
 * objects (and their metadata) in a directory, and etcdctl-member / etcdutl stand-ins whose
 * answers the test sets. The node's paths are mapped into a temporary directory, as in
 * boot-scripts.test.ts. Needs bash and sed.
 */
import { spawnSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { etcdConfig } from '../../userdata/etcd';
import { files, fileText } from './config-files';
import { etcdInput } from './fixtures';
import { fakeAwsS3Cli } from '../fakes/aws-s3-cli';
import { EncryptionKey, newEncryptionKey } from '../../lib/secrets/encryption-config';
import { ENCRYPTION_KEY_NAME } from '../../userdata/etcd-snapshot';

const BUCKET = etcdInput.snapshotBucket;
/** A 64-bit cluster id beyond a double's precision: the scripts must carry it as text. */
const CLUSTER_ID = '14841639068965178418';


/** etcdctl-member: a linearizable get answers from $FAKE/revision unless $FAKE/no-quorum; save copies $FAKE/db. */
const FAKE_ETCDCTL_MEMBER = `#!/bin/bash
echo "$*" >>"$FAKE/etcdctl.log"
no_timeout=
if [ "$1" = --no-command-timeout ]; then no_timeout=1; shift; fi
case "$1" in
  get)
    [ -f "$FAKE/no-quorum" ] && { echo "context deadline exceeded" >&2; exit 1; }
    printf '"ClusterID" : %s\\n"MemberID" : 1\\n"Revision" : %s\\n"RaftTerm" : 2\\n"Count" : 0\\n' "$(cat "$FAKE/cluster-id")" "$(cat "$FAKE/revision")" ;;
  snapshot)
    [ -n "$no_timeout" ] || { echo "save with a command timeout" >&2; exit 3; }
    [ -f "$FAKE/save-fails" ] && { echo "rpc error: code = Unavailable" >&2; exit 1; }
    cp "$FAKE/db" "$3" ;;
  *) echo "fake etcdctl-member: unexpected $*" >&2; exit 2 ;;
esac
`;

/**
 * etcdutl: snapshot status FILE fails when $FAKE/damaged-snapshot exists;
 * snapshot restore FILE ... --data-dir DIR ... makes DIR/member, with the file and arguments.
 */
const FAKE_ETCDUTL = `#!/bin/bash
case "$1 $2" in
  "snapshot status") [ ! -f "$FAKE/damaged-snapshot" ] || { echo "invalid database" >&2; exit 1; }; echo "1, 41, 3, 20 kB" ;;
  "snapshot restore")
    dir=$(sed -n 's/.* --data-dir \\([^ ]*\\) .*/\\1/p' <<<"$*")
    mkdir -p "$dir/member" && cp "$3" "$dir/member/snapshot" && echo "\${*:4}" >"$dir/member/restored-with" ;;
  *) echo "fake etcdutl: unexpected $*" >&2; exit 2 ;;
esac
`;

class Member {
  readonly root = mkdtempSync(join(tmpdir(), 'etcd-scripts-'));
  private readonly config = etcdConfig(etcdInput);

  constructor() {
    for (const d of ['bin', 'etc', 'etcd', 'pki', 'run', 'fake/s3', 'var/etcd/data']) mkdirSync(join(this.root, d), { recursive: true });
    // Every script as rendered (they call each other), then the fakes over the AWS CLI and etcdctl-member.
    for (const f of files(this.config).filter((f) => f.path.startsWith('/opt/bin/') && f.contents.source.startsWith('data:'))) {
      this.write(f.path.replace('/opt/', ''), this.mapPaths(fileText(this.config, f.path)), 0o755);
    }
    this.write('bin/aws', fakeAwsS3Cli(BUCKET), 0o755);
    this.write('bin/etcdctl-member', FAKE_ETCDCTL_MEMBER, 0o755);
    this.write('etcd/etcdutl', FAKE_ETCDUTL, 0o755);
    for (const env of ['cluster.env', 'etcd.env']) this.write(`etc/${env}`, this.mapPaths(fileText(this.config, `/etc/kubernetes-on-aws/${env}`)));
    this.write('etc/node.env', 'INSTANCE_ID=i-0123456789abcdef0\nAVAILABILITY_ZONE=eu-central-1a\nETCD_MEMBER=1\n');
  }

  mapPaths(text: string): string {
    return text
      .replaceAll('/opt/bin/', `${this.root}/bin/`)
      .replaceAll('/etc/kubernetes-on-aws/', `${this.root}/etc/`)
      .replaceAll('/run/kubernetes-on-aws', `${this.root}/run`)
      .replaceAll('/run/systemd/network', `${this.root}/run/network`)
      .replaceAll('/opt/etcd/v3.5.27/', `${this.root}/etcd/`)
      .replaceAll('/etc/etcd/pki/', `${this.root}/pki/`)
      .replaceAll('/var/lib/etcd-snapshots', `${this.root}/var/snapshots`)
      .replaceAll('/var/lib/etcd/', `${this.root}/var/etcd/`);
  }

  write(path: string, text: string, mode = 0o644): void {
    mkdirSync(join(this.root, path, '..'), { recursive: true });
    writeFileSync(join(this.root, path), text, { mode });
  }

  read(path: string): string {
    return readFileSync(join(this.root, path), 'utf8');
  }

  exists(path: string): boolean {
    return existsSync(join(this.root, path));
  }

  /** Runs /opt/bin/<name> as rendered (paths mapped); etcdctl-member itself is rendered back for its own test. */
  run(name: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) {
    const path = join(this.root, 'bin', name);
    writeFileSync(path, this.mapPaths(fileText(this.config, `/opt/bin/${name}`)), { mode: 0o755 });
    return spawnSync(path, args, { encoding: 'utf8', env: { ...process.env, FAKE: join(this.root, 'fake'), ...env }, timeout: 20000 });
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

let member: Member;
beforeEach(() => {
  member = new Member();
});
afterEach(() => member.remove());

describe('etcd-guard (ExecStartPre of etcd.service)', () => {
  const record = (clusterId: string) => {
    member.write('fake/s3/bootstrapped/etcd-1', '');
    member.write('fake/s3/bootstrapped/etcd-1.meta', `cluster-id=${clusterId}`);
  };

  test('lets a member that was never bootstrapped start on an empty data directory (a new cluster)', () => {
    const result = member.run('etcd-guard');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('etcd-1 has never been bootstrapped; first start on an empty data directory');
    expect(member.read('fake/aws.log')).toContain(`s3api head-object --bucket ${BUCKET} --key bootstrapped/etcd-1 `);
  });

  test('refuses a bootstrapped member an empty data directory, naming the repair procedure', () => {
    // GIVEN member 1 was healthy in a cluster once, and its volume came back blank
    record(CLUSTER_ID);
    // WHEN
    const result = member.run('etcd-guard');
    // THEN
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`REFUSING to start etcd-1 on an empty data directory: it was bootstrapped in cluster ${CLUSTER_ID}`);
    expect(result.stderr).toContain('Repair: etcd-replace-member');
  });

  test('refuses when it cannot tell (S3 unreachable or forbidden is not "never bootstrapped")', () => {
    member.write('fake/s3-error', '');
    const result = member.run('etcd-guard');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('cannot read its bootstrap record');
  });

  test('lets a member with data start, without asking S3', () => {
    record(CLUSTER_ID);
    mkdirSync(join(member.root, 'var/etcd/data/member'));
    const result = member.run('etcd-guard');
    expect(result.status).toBe(0);
    expect(member.exists('fake/aws.log')).toBe(false);
  });

  test('lets a re-added member start empty as `existing` (the join override of etcd-replace-member)', () => {
    record(CLUSTER_ID);
    member.write('run/etcd-join.env', 'INITIAL_CLUSTER_STATE=existing\n');
    const result = member.run('etcd-guard');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('starts on an empty data directory as a re-added member');
  });
});

describe('etcd-snapshot', () => {
  beforeEach(() => {
    // GIVEN a member in a quorum at revision 41
    member.write('fake/cluster-id', CLUSTER_ID);
    member.write('fake/revision', '41');
    member.write('fake/db', 'etcd database bytes');
  });

  test('after a linearizable read, saves without a command timeout and uploads with the revision and cluster id', () => {
    // WHEN
    const result = member.run('etcd-snapshot');
    // THEN
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const calls = member.read('fake/etcdctl.log').split('\n');
    expect(calls[0]).toBe('get --consistency=l -w fields kubernetes-on-aws/snapshot-probe');
    expect(calls[1]).toMatch(/^--no-command-timeout snapshot save .*\/var\/snapshots\/snapshot\.db$/);
    const [history] = readFileSync(join(member.root, 'fake/aws.log'), 'utf8').match(/history\/etcd-1\/[0-9T:-]+Z\.db/) ?? [];
    expect(member.read(`fake/s3/${history}`)).toBe('etcd database bytes');
    const recorded = `revision=41,cluster-id=${CLUSTER_ID},encryption-keys=none,history-key=${history}`;
    expect(member.read(`fake/s3/${history}.meta`).trim()).toBe(recorded);
    expect(member.read('fake/s3/latest/etcd-1.db')).toBe('etcd database bytes');
    expect(member.read('fake/s3/latest/etcd-1.db.meta').trim()).toBe(recorded);
    expect(result.stdout).toContain('at revision 41');
    expect(member.exists('var/snapshots/snapshot.db')).toBe(false);
  });

  test('records the names of our encryption keys that prefix values in the database, each once', () => {
    // GIVEN Secrets under two secretbox keys, amid binary bytes, a KMS v2 plugin's prefix and
    // look-alikes a user could store (not our key names: not recorded)
    const value = (prefix: string) => Buffer.concat([Buffer.from(prefix), Buffer.from([0, 255, 10, 58, 1])]);
    member.write(
      'fake/db',
      Buffer.concat([
        value('k8s:enc:secretbox:v1:key-2-5be0c1:'),
        value('k8s:enc:secretbox:v1:key-1-a93f07:'),
        value('k8s:enc:secretbox:v1:key-2-5be0c1:'),
        value('k8s:enc:kms:v2:aws-kms:'),
        value('k8s:enc:secretbox:v1::'),
        value('k8s:enc:secretbox:v1:key-0-zz:'),
      ]).toString('latin1'),
    );
    // WHEN
    const result = member.run('etcd-snapshot');
    // THEN
    expect(result.status).toBe(0);
    expect(member.read('fake/s3/latest/etcd-1.db.meta')).toContain(',encryption-keys=key-1-a93f07+key-2-5be0c1,');
  });

  test('records too-many-to-record, and still uploads, when the names would not fit in S3 metadata', () => {
    const names = Array.from({ length: 200 }, (_, i) => `k8s:enc:secretbox:v1:key-${i + 1}-abcdef:`);
    member.write('fake/db', names.join('\u0000'));
    const result = member.run('etcd-snapshot');
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('more encryption key names than fit in the metadata');
    expect(member.read('fake/s3/latest/etcd-1.db.meta')).toContain(',encryption-keys=too-many-to-record,');
  });

  test('the key-name pattern it records matches the names the secrets Lambda gives keys', () => {
    let earlier: EncryptionKey[] = [];
    for (let i = 0; i < 12; i++) earlier = [newEncryptionKey(earlier), ...earlier];
    const pattern = new RegExp(`^(${ENCRYPTION_KEY_NAME})$`);
    for (const key of earlier) expect(key.name).toMatch(pattern);
    expect('key-0-ab').not.toMatch(pattern);
  });

  test('records the member as bootstrapped in its cluster (what the guard reads), once', () => {
    member.run('etcd-snapshot');
    expect(member.read('fake/s3/bootstrapped/etcd-1.meta').trim()).toBe(`cluster-id=${CLUSTER_ID}`);
    member.run('etcd-snapshot');
    expect(member.read('fake/aws.log').match(/s3api put-object/g)).toHaveLength(1);
  });

  test('re-records the member when the cluster id changed (after a restore)', () => {
    member.write('fake/s3/bootstrapped/etcd-1', '');
    member.write('fake/s3/bootstrapped/etcd-1.meta', 'cluster-id=123');
    member.run('etcd-snapshot');
    expect(member.read('fake/s3/bootstrapped/etcd-1.meta').trim()).toBe(`cluster-id=${CLUSTER_ID}`);
  });

  test('skips, with a log line and no upload, when this member is not part of a quorum', () => {
    member.write('fake/no-quorum', '');
    const result = member.run('etcd-snapshot');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('etcd-1 cannot serve a linearizable read (down or not in a quorum); no snapshot this time');
    expect(member.exists('fake/aws.log')).toBe(false);
  });

  test.each<[string, () => void, RegExp]>([
    ['snapshot save fails', () => member.write('fake/save-fails', ''), /etcd-snapshot: snapshot save failed/],
    ['etcdutl cannot read the saved file', () => member.write('fake/damaged-snapshot', ''), /etcdutl cannot read the saved snapshot/],
    ['S3 refuses', () => member.write('fake/s3-error', ''), /cannot read this member's bootstrap record/],
  ])('fails the unit, uploading nothing, when %s', (_, breakIt, message) => {
    breakIt();
    const result = member.run('etcd-snapshot');
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(member.exists('fake/s3/latest/etcd-1.db')).toBe(false);
  });
});

describe('etcdctl-member', () => {
  beforeEach(() => member.write('etcd/etcdctl', '#!/bin/bash\necho "$*"\n', 0o755));

  test('bounds every command by 10 s, except with --no-command-timeout or another --command-timeout', () => {
    expect(member.run('etcdctl-member', ['endpoint', 'health']).stdout).toMatch(/ --command-timeout=10s endpoint health\n$/);
    expect(member.run('etcdctl-member', ['--command-timeout=4m', 'defrag']).stdout).toMatch(/ --command-timeout=4m defrag\n$/);
    const save = member.run('etcdctl-member', ['--no-command-timeout', 'snapshot', 'save', 'x']);
    expect(save.stdout).not.toContain('timeout');
    expect(save.stdout).toMatch(/ snapshot save x\n$/);
  });
});

/**
 * The fake EC2 API of etcd-attach: the member's interface eni-1 and volume vol-1, both free.
 * The first call of every operation fails as a throttled API does; the first
 * attach-network-interface fails after it went through (a lost answer).
 */
const FAKE_EC2 = `#!/bin/bash
echo "$*" >>"$FAKE/aws.log"
op=$2
if [ ! -f "$FAKE/tried-$op" ]; then
  touch "$FAKE/tried-$op"
  [ "$op" = attach-network-interface ] && touch "$FAKE/eni-attached"
  echo "An error occurred (RequestLimitExceeded) when calling the $op operation" >&2
  exit 254
fi
query=\${*: -3:1}
attached() { [ -f "$FAKE/$1-attached" ]; }
case "$op" in
  describe-network-interfaces)
    case "$query" in
      NetworkInterfaces[].NetworkInterfaceId) echo eni-1 ;;
      *.Attachment.InstanceId) if attached eni; then echo i-0123456789abcdef0; else echo None; fi ;;
      *.Attachment.Status) if attached eni; then echo attached; else echo None; fi ;;
      *.Status) if attached eni; then echo in-use; else echo available; fi ;;
      *.PrivateIpAddress) echo 10.0.1.99 ;;
      *.MacAddress) echo 0a:00:00:00:00:01 ;;
    esac ;;
  describe-volumes)
    case "$query" in
      "Volumes[].VolumeId") echo vol-1 ;;
      "Volumes[0].State") if attached volume; then echo in-use; else echo available; fi ;;
      *.State) if attached volume; then echo attached; else echo None; fi ;;
      *.InstanceId) if attached volume; then echo i-0123456789abcdef0; else echo None; fi ;;
    esac ;;
  attach-network-interface) touch "$FAKE/eni-attached" ;;
  attach-volume) touch "$FAKE/volume-attached" ;;
  *) echo "fake aws: unexpected $*" >&2; exit 2 ;;
esac
`;

describe('etcd-attach against a throttling EC2 API', () => {
  test('retries every call with backoff, and takes a lost attach answer for the attach it was', () => {
    // GIVEN a throttling API, and a stand-in for sleep (which logs, and returns at once)
    member.write('etc/cluster.env', 'CLUSTER=kube-aws-test-1\nREGION=eu-central-1\n');
    member.write('bin/aws', FAKE_EC2, 0o755);
    member.write('tools/sleep', '#!/bin/bash\necho "$1" >>"$FAKE/sleeps"\n', 0o755);
    // WHEN
    const result = member.run('etcd-attach', [], { PATH: `${join(member.root, 'tools')}:${process.env.PATH}` });
    // THEN both attachments are made, each attach call made once more only when it did not go through
    const calls = member.read('fake/aws.log').split('\n').map((line) => line.split(' ')[1]);
    expect(calls.filter((op) => op === 'attach-network-interface')).toHaveLength(1);
    expect(calls.filter((op) => op === 'attach-volume')).toHaveLength(2);
    expect(member.exists('fake/volume-attached')).toBe(true);
    expect(result.stderr).toContain('etcd-attach: describe-network-interfaces failed (attempt 1/7); retrying in 1s');
    expect(result.stderr).toContain('etcd-attach: attach-volume vol-1 failed (attempt 1/7); retrying in 1s');
    // and it stops only where a test machine must: there is no NVMe device for vol-1 here (the
    // block device wait comes before networkd's file and the member env)
    expect(result.stderr).toContain('timed out waiting for block device of vol-1');
    expect(result.status).toBe(1);
  });

  test('gives up after 7 tries, waiting 1, 2, 4, ... 32 s, and fails the unit', () => {
    member.write('etc/cluster.env', 'CLUSTER=kube-aws-test-1\nREGION=eu-central-1\n');
    member.write('bin/aws', '#!/bin/bash\necho "$*" >>"$FAKE/aws.log"\necho "Could not connect to the endpoint URL" >&2\nexit 255\n', 0o755);
    member.write('tools/sleep', '#!/bin/bash\necho "$1" >>"$FAKE/sleeps"\n', 0o755);
    const result = member.run('etcd-attach', [], { PATH: `${join(member.root, 'tools')}:${process.env.PATH}` });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('etcd-attach: describe-network-interfaces failed 7 times');
    expect(member.read('fake/sleeps').split('\n').filter(Boolean)).toEqual(['1', '2', '4', '8', '16', '32']);
  });
});

/**
 * etcdctl-member for the repair scripts: logs each call; `member list` shows etcd-1 (id
 * 2222) among its peers; `endpoint health` of this member fails until $FAKE/healthy exists
 * (the fake systemctl creates it when etcd starts, unless $FAKE/never-healthy).
 */
const FAKE_REPAIR_ETCDCTL = `#!/bin/bash
echo "$*" >>"$FAKE/etcdctl.log"
case "$*" in
  "endpoint health") [ -f "$FAKE/healthy" ] ;;
  "--via-peers member list -w simple")
    [ -f "$FAKE/no-quorum" ] && exit 1
    printf '%s\\n' "1111, started, etcd-0, https://etcd-0.etcd.kube-aws-test-1.team.example.org:2380, https://etcd-0.etcd.kube-aws-test-1.team.example.org:2379, false" \
      "2222, started, etcd-1, https://etcd-1.etcd.kube-aws-test-1.team.example.org:2380, https://etcd-1.etcd.kube-aws-test-1.team.example.org:2379, false" ;;
  "--via-peers member remove 2222"|"--via-peers member add etcd-1 --peer-urls=https://etcd-1.etcd.kube-aws-test-1.team.example.org:2380") ;;
  *) echo "fake etcdctl-member: unexpected $*" >&2; exit 2 ;;
esac
`;

/** systemctl: logs; a start copies the join override it would hand etcd, and etcd becomes healthy. */
const FAKE_SYSTEMCTL = `#!/bin/bash
echo "$*" >>"$FAKE/systemctl.log"
if [ "$1" = start ]; then
  cat "$JOIN_ENV" >"$FAKE/join-env-at-start" 2>/dev/null
  [ -f "$FAKE/never-healthy" ] || touch "$FAKE/healthy"
fi
`;

describe('etcd-replace-member', () => {
  let tools: string;
  beforeEach(() => {
    tools = join(member.root, 'tools');
    member.write('bin/etcdctl-member', FAKE_REPAIR_ETCDCTL, 0o755);
    member.write('tools/systemctl', FAKE_SYSTEMCTL, 0o755);
    member.write('tools/sleep', '#!/bin/bash\n', 0o755);
    // GIVEN a damaged data dir
    member.write('var/etcd/data/member/wal/0.wal', 'damaged');
  });
  const replace = (args: string[] = []) =>
    member.run('etcd-replace-member', args, { PATH: `${tools}:${process.env.PATH}`, JOIN_ENV: join(member.root, 'run/etcd-join.env') });

  test('removes and re-adds this member through its peers, keeps its data aside, and starts it once as existing', () => {
    // WHEN
    const result = replace();
    // THEN
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(member.read('fake/etcdctl.log').split('\n').filter((l) => l.startsWith('--via-peers'))).toEqual([
      '--via-peers member list -w simple',
      '--via-peers member remove 2222',
      '--via-peers member add etcd-1 --peer-urls=https://etcd-1.etcd.kube-aws-test-1.team.example.org:2380',
    ]);
    expect(member.read('fake/systemctl.log')).toBe('stop etcd-snapshot.timer etcd.service\nstart --no-block etcd.service etcd-snapshot.timer\n');
    expect(member.read('fake/join-env-at-start')).toBe('INITIAL_CLUSTER_STATE=existing\n');
    // joined: the override is gone, so a later start is an ordinary one
    expect(member.exists('run/etcd-join.env')).toBe(false);
    const aside = readdirSync(join(member.root, 'var/etcd')).filter((d) => d.startsWith('data.replaced-'));
    expect(aside).toHaveLength(1);
    expect(member.read(`var/etcd/${aside[0]}/member/wal/0.wal`)).toBe('damaged');
    expect(readdirSync(join(member.root, 'var/etcd/data'))).toEqual([]);
    expect(result.stdout).toContain('etcd-1 is healthy again');
  });

  test('refuses to touch a healthy member without --force', () => {
    member.write('fake/healthy', '');
    const result = replace();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('etcd-1 is healthy; nothing to repair');
    expect(member.exists('fake/systemctl.log')).toBe(false);
  });

  test('stops, changing no membership, when no peer answers (the quorum is lost: restore instead)', () => {
    member.write('fake/no-quorum', '');
    const result = replace();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('no peer answers: the quorum is lost; restore instead (etcd-restore)');
    expect(member.read('fake/etcdctl.log')).not.toMatch(/member (remove|add)/);
    expect(member.read('var/etcd/data/member/wal/0.wal')).toBe('damaged');
  });

  test('fails, leaving the override for the next start, when the member does not become healthy', () => {
    member.write('fake/never-healthy', '');
    const result = replace();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('etcd-1 is not healthy after 600 s');
    expect(member.read('run/etcd-join.env')).toBe('INITIAL_CLUSTER_STATE=existing\n');
  });
});

describe('etcd-status', () => {
  const STATUS_ETCDCTL = `#!/bin/bash
echo "$*" >>"$FAKE/etcdctl.log"
case "$1 $2" in
  "endpoint status") echo "| etcd-0 | rev 41 |" ;;
  "endpoint health") [ -f "$FAKE/unhealthy" ] && { echo "etcd-2 is unhealthy" >&2; exit 1; }; echo "all healthy" ;;
  "alarm list") cat "$FAKE/alarms" 2>/dev/null; true ;;
esac
`;
  beforeEach(() => member.write('bin/etcdctl-member', STATUS_ETCDCTL, 0o755));

  test("lists every member's status and health, and passes when all are healthy with no alarm", () => {
    const result = member.run('etcd-status');
    expect(result.status).toBe(0);
    expect(member.read('fake/etcdctl.log')).toBe('endpoint status --cluster -w table\nendpoint health --cluster -w table\nalarm list\n');
    expect(result.stdout).toContain('rev 41');
  });

  test.each([
    ['a member is unhealthy', 'unhealthy', ''],
    ['an alarm is raised', 'alarms', 'memberID:1 alarm:NOSPACE'],
  ])('fails when %s', (_, file, text) => {
    member.write(`fake/${file}`, text);
    const result = member.run('etcd-status');
    expect(result.status).toBe(1);
    if (text) expect(result.stdout).toContain(`alarms raised:\n${text}`);
  });
});

describe('etcd-restore', () => {
  const upload = (member_: number, revision: string | undefined, keys = 'key-1-a93f07+key-2-5be0c1') => {
    member.write(`fake/s3/latest/etcd-${member_}.db`, `db of etcd-${member_}`);
    member.write(
      `fake/s3/latest/etcd-${member_}.db.meta`,
      revision === undefined
        ? ''
        : `revision=${revision},cluster-id=${CLUSTER_ID}${keys ? `,encryption-keys=${keys}` : ''},history-key=history/etcd-${member_}/2026-12-03T19-30-00Z.db`,
    );
  };
  const tools = () => ({ PATH: `${join(member.root, 'tools')}:${process.env.PATH}` });
  beforeEach(() => member.write('tools/systemctl', '#!/bin/bash\necho "$*" >>"$FAKE/systemctl.log"\n', 0o755));

  test('plan picks the newest snapshot by recorded revision, not etcd-0, and prints one apply with a new token', () => {
    // GIVEN etcd-0 was partitioned (old snapshot), etcd-2's is newest, etcd-1's predates revisions
    upload(0, '1200');
    upload(1, undefined);
    upload(2, '5310');
    // WHEN
    const result = member.run('etcd-restore', ['plan']);
    // THEN
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('latest/etcd-1.db records no revision; leaving it out');
    expect(result.stdout).toContain('newest: latest/etcd-2.db at revision 5310');
    expect(result.stdout).toContain(
      'its Secrets are encrypted with the keys key-1-a93f07, key-2-5be0c1: each must be in encryption-config.yaml of the secret kubernetes-on-aws/kube-aws-test-1/control-plane',
    );
    // the immutable history/ object the latest/ copy came from, not latest/ (it changes)
    expect(result.stdout).toMatch(/\netcd-restore apply history\/etcd-2\/2026-12-03T19-30-00Z\.db 5310 kube-aws-test-1-restore-\d{8}T\d{6}Z\n$/);
  });

  test.each([
    ['none', 'its Secrets need no encryption key (none are encrypted)'],
    ['', 'WARNING: latest/etcd-0.db records no encryption keys (uploaded by an older etcd-snapshot)'],
  ])('plan says what the snapshot needs when its key list is %j', (keys, message) => {
    upload(0, '1200', keys);
    const result = member.run('etcd-restore', ['plan']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(message);
  });

  test('plan fails when no snapshot records a revision', () => {
    const result = member.run('etcd-restore', ['plan']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('no snapshot with a recorded revision');
  });

  test('apply restores this member with the new token into a fresh data dir, keeps the old aside, and starts etcd', () => {
    // GIVEN
    upload(2, '5310');
    member.write('var/etcd/data/member/wal/0.wal', 'old');
    // WHEN
    const result = member.run('etcd-restore', ['apply', 'latest/etcd-2.db', '5310', 'kube-aws-test-1-restore-20261203T193000Z'], tools());
    // THEN
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(member.read('var/etcd/data/member/snapshot')).toBe('db of etcd-2');
    const domain = 'etcd.kube-aws-test-1.team.example.org';
    expect(member.read('var/etcd/data/member/restored-with').trim()).toBe(
      `--name etcd-1 --data-dir ${member.root}/var/etcd/data.restoring ` +
        `--initial-cluster etcd-0=https://etcd-0.${domain}:2380,etcd-1=https://etcd-1.${domain}:2380,etcd-2=https://etcd-2.${domain}:2380 ` +
        `--initial-cluster-token kube-aws-test-1-restore-20261203T193000Z --initial-advertise-peer-urls https://etcd-1.${domain}:2380 ` +
        // past every revision the API servers and their watchers saw, all of it compacted
        '--bump-revision 1000000000 --mark-compacted',
    );
    const aside = readdirSync(join(member.root, 'var/etcd')).filter((d) => d.startsWith('data.replaced-'));
    expect(aside.map((d) => member.read(`var/etcd/${d}/member/wal/0.wal`))).toEqual(['old']);
    expect(member.read('fake/systemctl.log')).toBe('stop etcd-snapshot.timer etcd.service\nstart --no-block etcd.service etcd-snapshot.timer\n');
  });

  test.each([
    ['the cluster token is reused', ['latest/etcd-2.db', '5310', 'kube-aws-test-1'], /TOKEN must be new/],
    ['the snapshot moved on since the plan', ['latest/etcd-2.db', '5000', 'kube-aws-test-1-restore-x'], /is at revision 5310 now, not 5000/],
    ['the key is not a snapshot', ['../etc/passwd', '5310', 'kube-aws-test-1-restore-x'], /KEY must be history\/etcd-N\/<time>\.db or latest\/etcd-N\.db/],
  ])('apply refuses when %s, leaving the data dir alone', (_, args, message) => {
    upload(2, '5310');
    member.write('var/etcd/data/member/wal/0.wal', 'old');
    const result = member.run('etcd-restore', ['apply', ...args], tools());
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(member.read('var/etcd/data/member/wal/0.wal')).toBe('old');
  });
});

describe('etcd-defrag', () => {
  const DEFRAG_ETCDCTL = `#!/bin/bash
echo "$*" >>"$FAKE/etcdctl.log"
[ "$1 $2" = "endpoint health" ] && [ -f "$FAKE/unhealthy" ] && exit 1
exit 0
`;
  /** Runs etcd-defrag as member 1 at HH:MM UTC (a fake date prints MM for +%M). */
  const defragAt = (minute: string) => {
    member.write('tools/date', `#!/bin/bash\necho ${minute}\n`, 0o755);
    return member.run('etcd-defrag', [], { PATH: `${join(member.root, 'tools')}:${process.env.PATH}` });
  };
  beforeEach(() => member.write('bin/etcdctl-member', DEFRAG_ETCDCTL, 0o755));

  test('defragments only this member, in its own slot (member 1: minutes 05-09), with a 4 min bound', () => {
    const result = defragAt('07');
    expect(result.status).toBe(0);
    expect(member.read('fake/etcdctl.log')).toBe('endpoint health --cluster\n--command-timeout=4m defrag\n');
    expect(result.stdout).toContain('defragmented etcd-1');
  });

  test.each(['00', '04', '10', '55'])("does nothing in another member's slot (minute %s)", (minute) => {
    expect(defragAt(minute).status).toBe(0);
    expect(member.exists('fake/etcdctl.log')).toBe(false);
  });

  test('skips its turn while any member is unhealthy', () => {
    member.write('fake/unhealthy', '');
    const result = defragAt('05');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('not every member is healthy; not defragmenting etcd-1 today');
    expect(member.read('fake/etcdctl.log')).not.toContain('defrag');
  });
});

describe('etcdctl-member endpoints', () => {
  const domain = 'etcd.kube-aws-test-1.team.example.org';
  beforeEach(() => member.write('etcd/etcdctl', '#!/bin/bash\necho "$*"\n', 0o755));

  test("addresses this member's own client URL, with the member certificate", () => {
    const out = member.run('etcdctl-member', ['endpoint', 'health']).stdout;
    expect(out).toBe(
      `--endpoints https://etcd-1.${domain}:2379 --cacert ${member.root}/pki/ca.crt --cert ${member.root}/pki/member.crt ` +
        `--key ${member.root}/pki/member.key --command-timeout=10s endpoint health\n`,
    );
  });

  test('with --via-peers, every member but this one, for repairs of this one', () => {
    const out = member.run('etcdctl-member', ['--via-peers', 'member', 'list']).stdout;
    expect(out).toContain(`--endpoints https://etcd-0.${domain}:2379,https://etcd-2.${domain}:2379 `);
  });
});
