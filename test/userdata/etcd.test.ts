/** The lines of the etcd member config that matter, asserted one by one. */
import { etcdConfig } from '../../userdata/etcd';
import { ETCD_TARBALL } from '../../userdata/versions';
import { allText, fileText, findFile, units, unitText } from './config-files';
import { etcdInput } from './fixtures';

const config = etcdConfig(etcdInput);
const etcdUnit = unitText(config, 'etcd.service');

describe('etcd member', () => {
  test('discovers peers by DNS SRV under etcd.<cluster>.<zone> and advertises its stable name', () => {
    expect(etcdUnit).toContain('--discovery-srv=etcd.kube-aws-test-1.team.example.org');
    expect(etcdUnit).toContain('--name=etcd-${ETCD_MEMBER}');
    expect(etcdUnit).toContain('--initial-advertise-peer-urls=https://etcd-${ETCD_MEMBER}.etcd.kube-aws-test-1.team.example.org:2380');
    expect(etcdUnit).toContain('--advertise-client-urls=https://etcd-${ETCD_MEMBER}.etcd.kube-aws-test-1.team.example.org:2379');
    expect(etcdUnit).toContain('--listen-peer-urls=https://0.0.0.0:2380');
    expect(etcdUnit).toContain('--listen-client-urls=https://0.0.0.0:2379');
    expect(etcdUnit).toContain('--initial-cluster-token=kube-aws-test-1');
  });

  test('starts as a member of a new cluster, unless the join override of a re-added member says existing', () => {
    expect(etcdUnit).toContain(' --initial-cluster-state=${INITIAL_CLUSTER_STATE} ');
    expect(fileText(config, '/etc/kubernetes-on-aws/etcd.env')).toContain('\nINITIAL_CLUSTER_STATE=new\n');
    // The override comes last (systemd: a later file's assignment wins) and may be absent ('-').
    expect(etcdUnit.match(/^EnvironmentFile=.*$/gm)?.at(-1)).toBe('EnvironmentFile=-/run/kubernetes-on-aws/etcd-join.env');
  });

  test('sets pre-vote and an 8 GiB backend quota explicitly', () => {
    // etcd v3.5.27 server/etcdmain/config.go: --pre-vote, --quota-backend-bytes; 8 GiB is
    // server/etcdserver/quota.go MaxQuotaBytes, the largest etcd recommends.
    expect(etcdUnit).toContain(' --pre-vote=true ');
    expect(etcdUnit).toContain(` --quota-backend-bytes=${8 * 1024 ** 3} `);
  });

  test('no variable of its environment files shadows a flag (etcd 3.5 exits on ETCD_<FLAG> beside --<flag>)', () => {
    // go.etcd.io/etcd/pkg/v3 v3.5.27 flags/flag.go verifyEnv: "conflicting environment variable is shadowed".
    const flags = [...etcdUnit.matchAll(/ --([a-z0-9-]+)/g)].map((m) => m[1]);
    const variables = ['cluster.env', 'etcd.env']
      .flatMap((f) => fileText(config, `/etc/kubernetes-on-aws/${f}`).split('\n'))
      .map((line) => line.split('=')[0])
      .concat('ETCD_MEMBER', 'INITIAL_CLUSTER_STATE');
    const shadowing = variables.filter((v) => flags.some((flag) => `ETCD_${flag.toUpperCase().replaceAll('-', '_')}` === v));
    expect(shadowing).toEqual([]);
  });

  test('runs the blank-data guard right before etcd, after the AWS CLI can run', () => {
    expect(etcdUnit).toMatch(/^ExecStartPre=\/usr\/bin\/install -d -m 0700 \/var\/lib\/etcd\/data\nExecStartPre=\/opt\/bin\/etcd-guard$/m);
    expect(etcdUnit).toMatch(/^Wants=docker\.service$/m);
    expect(etcdUnit).toMatch(/^After=docker\.service$/m);
  });

  test('uses TLS with client-certificate auth for clients and peers, from the fetched member files', () => {
    for (const flag of [
      '--client-cert-auth',
      '--peer-client-cert-auth',
      '--trusted-ca-file=/etc/etcd/pki/ca.crt',
      '--peer-trusted-ca-file=/etc/etcd/pki/ca.crt',
      '--cert-file=/etc/etcd/pki/member.crt',
      '--key-file=/etc/etcd/pki/member.key',
      '--peer-cert-file=/etc/etcd/pki/member.crt',
      '--peer-key-file=/etc/etcd/pki/member.key',
    ]) {
      expect(etcdUnit).toContain(` ${flag}`);
    }
  });

  test('reads its own member secret, exactly named, and needs it before etcd starts', () => {
    const fetch = unitText(config, 'fetch-secrets.service');
    expect(fetch).toContain('ExecStart=/opt/bin/fetch-secrets /etc/etcd/pki kubernetes-on-aws/kube-aws-test-1/etcd-member-${ETCD_MEMBER}:ca.crt,member.crt,member.key');
    expect(fetch).toContain('Before=etcd.service');
    expect(etcdUnit).toMatch(/^Requires=fetch-secrets\.service$/m);
    expect(etcdUnit).toMatch(/^After=fetch-secrets\.service$/m);
  });

  test('runs the pinned etcd 3.5 release, downloaded by Ignition and checked against its sha256', () => {
    const tarball = findFile(config, '/opt/etcd/etcd-v3.5.27-linux-amd64.tar.gz');
    expect(tarball.contents.source).toBe(ETCD_TARBALL.url);
    expect(tarball.contents.verification?.hash).toMatch(/^sha256-[0-9a-f]{64}$/);
    expect(etcdUnit).toContain('ExecStart=/opt/etcd/v3.5.27/etcd ');
  });

  test('attaches its tagged network interface at device index 1 and its tagged volume in its AZ', () => {
    const attach = fileText(config, '/opt/bin/etcd-attach');
    expect(attach).toContain('"Name=tag:kubernetes.io/cluster/$CLUSTER,Values=owned" "Name=tag:kubernetes-on-aws:etcd-member,Values=$ETCD_MEMBER"');
    expect(attach).toContain('ec2 describe-network-interfaces');
    expect(attach).toContain('--device-index 1');
    expect(attach).toContain('"Name=availability-zone,Values=$AVAILABILITY_ZONE"');
    expect(attach).toContain('ec2 attach-volume');
    expect(attach).toContain('/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${volume/-/}');
    // The member's routes win over the primary interface's, so peers see the member's address.
    expect(attach).toContain('[DHCPv4]\nRouteMetric=10\n');
    expect(attach).not.toContain('RouteTable=');
  });

  test('formats the data volume only when it has no filesystem, and never reformats', () => {
    const format = fileText(config, '/opt/bin/etcd-format');
    expect(format).toContain('blkid -p "$ETCD_DATA_DEVICE"');
    // mkfs appears once, only in the blkid "nothing found" (exit 2) branch
    expect(format.match(/mkfs/g)).toHaveLength(1);
    expect(format).toMatch(/ {2}2\)\n.*\n {4}mkfs\.ext4 -q -L etcd-data "\$ETCD_DATA_DEVICE"/);
    expect(format).toMatch(/ {2}\*\)\n.*refusing to format/);
    expect(format).not.toMatch(/mkfs[^\n]*-F/);
  });

  test('mounts the volume by label at /var/lib/etcd before etcd starts', () => {
    const mount = unitText(config, 'var-lib-etcd.mount');
    expect(mount).toContain('What=/dev/disk/by-label/etcd-data');
    expect(mount).toContain('Where=/var/lib/etcd');
    expect(etcdUnit).toMatch(/^Requires=var-lib-etcd\.mount$/m);
    expect(etcdUnit).toContain('--data-dir=/var/lib/etcd/data');
  });

  test('snapshots to s3://<bucket>/history/etcd-N/ every minute, and to latest/etcd-N.db', () => {
    const timer = unitText(config, 'etcd-snapshot.timer');
    expect(timer).toContain('OnCalendar=minutely');
    expect(timer).toContain('WantedBy=timers.target');
    expect(units(config).find((u) => u.name === 'etcd-snapshot.timer')?.enabled).toBe(true);
    const snapshot = fileText(config, '/opt/bin/etcd-snapshot');
    expect(snapshot).toContain('snapshot save "$file"');
    // The bucket's lifecycle rule expires history/ (lib/constructs/etcd-snapshot-bucket.ts).
    expect(snapshot).toContain('history_key="history/etcd-$ETCD_MEMBER/$(date -u +%Y-%m-%dT%H-%M-%SZ).db"');
    expect(snapshot).toContain('key="s3://$SNAPSHOT_BUCKET/$history_key"');
    expect(snapshot).toContain('"s3://$SNAPSHOT_BUCKET/latest/etcd-$ETCD_MEMBER.db"');
    expect(fileText(config, '/etc/kubernetes-on-aws/etcd.env')).toContain('SNAPSHOT_BUCKET=kube-aws-test-1-etcd-snapshots\n');
  });

  test('snapshots only once etcd is up, bounded by the unit (30 min), not by a 10 s command timeout', () => {
    const snapshot = unitText(config, 'etcd-snapshot.service');
    expect(snapshot).toMatch(/^Requires=etcd\.service$/m);
    expect(snapshot).toMatch(/^After=etcd\.service$/m);
    expect(snapshot).toMatch(/^TimeoutStartSec=1800$/m);
    expect(fileText(config, '/opt/bin/etcd-snapshot')).toContain('etcdctl-member --no-command-timeout snapshot save');
  });

  test('defragments nightly, each member in its own 5-minute slot (the script picks the slot)', () => {
    const timer = unitText(config, 'etcd-defrag.timer');
    expect(timer).toContain('OnCalendar=*-*-* 03:00/5:00 UTC');
    expect(units(config).find((u) => u.name === 'etcd-defrag.timer')?.enabled).toBe(true);
    expect(unitText(config, 'etcd-defrag.service')).toContain('ExecStart=/opt/bin/etcd-defrag');
  });

  test('carries the operator scripts the README procedures call', () => {
    for (const name of ['etcd-status', 'etcd-replace-member', 'etcd-restore', 'etcd-defrag', 'etcd-guard', 'etcd-bootstrap-record']) {
      expect(findFile(config, `/opt/bin/${name}`).mode).toBe(0o755);
    }
  });

  test('signals its ASG only when its own endpoint is healthy', () => {
    expect(fileText(config, '/opt/bin/node-health-check')).toContain('etcdctl-member endpoint health');
    // Run for real in etcd-scripts.test.ts ("addresses this member's own client URL").
    expect(fileText(config, '/opt/bin/etcdctl-member')).toContain('url() { echo "https://etcd-$1.$ETCD_DOMAIN:2379"; }\nendpoints=$(url "$ETCD_MEMBER")');
    expect(unitText(config, 'cfn-signal.service')).toMatch(/^After=etcd\.service$/m);
  });

  test('identity comes from the etcd role tag and member index', () => {
    expect(fileText(config, '/etc/kubernetes-on-aws/cluster.env')).toBe(
      'CLUSTER=kube-aws-test-1\nZONE=team.example.org\nREGION=eu-central-1\nNODE_ROLE=etcd\n',
    );
    expect(fileText(config, '/opt/bin/node-identity')).toContain('etcd_member=$(tag kubernetes-on-aws:etcd-member)');
    expect(allText(config)).not.toContain('undefined');
  });

  test('refuses an even member count, naming the field', () => {
    expect(() => etcdConfig({ ...etcdInput, memberCount: 2 })).toThrow(/etcd\.memberCount: must be odd.*got 2/);
  });
});
