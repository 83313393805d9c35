/**
 * Issue 10: the members' own scripts, run end to end against three real etcd members as an
 * operator runs them (member-host.ts: each member a host with the whole rendered config,
 * etcd started from its unit through `systemctl`, S3 in a shared directory). The scenarios
 * share one cluster, in order: first start and snapshots, a blank member refused and
 * replaced, a restore from the newest snapshot, defragmentation, and a full backend quota.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { join } from 'path';
import { ETCD_JOIN_ENV, ETCD_UNIT, SNAPSHOT_TIMER_UNIT } from '../../userdata/etcd-paths';
import { ETCD_QUOTA_BACKEND_BYTES } from '../../userdata/etcd';
import { RESTORE_REVISION_BUMP } from '../../userdata/etcd-restore';
import { BUILD_TIMEOUT_MS, EtcdTestCluster } from './etcd-cluster';
import { eventually } from './eventually';
import { MemberHost } from './member-host';
import { describeWithRealEtcd } from './prerequisites';
import { WriteLoad } from './write-load';

const WRITES = 15;
const SNAPSHOT_SERVICE = 'etcd-snapshot.service';

describeWithRealEtcd("the etcd members' scripts, run on real members as an operator runs them", operations);

function operations(): void {
  let cluster: EtcdTestCluster<MemberHost>;
  const hosts = () => cluster.members;
  const host = (index: number) => cluster.member(index);
  /** An object of the shared fake bucket, on this machine. */
  const s3 = (key: string) => join(cluster.fakeS3Dir, 's3', key);
  const metadata = (key: string): Record<string, string> =>
    Object.fromEntries(readFileSync(`${s3(key)}.meta`, 'utf8').trim().split(',').map((pair) => pair.split('=') as [string, string]));

  /** The cluster id, as the members report it (decimal text: beyond a double's precision). */
  async function clusterId(...indexes: number[]): Promise<string> {
    const fields = await cluster.etcdctl.check(cluster.endpoints(...indexes), ['get', 'kubernetes-on-aws/probe', '-w', 'fields']);
    return /^"ClusterID" : (\d+)$/m.exec(fields)![1];
  }

  /** The cluster's current revision, from a linearizable read. */
  async function currentRevision(): Promise<number> {
    const fields = await cluster.etcdctl.check(cluster.endpoints(), ['get', 'kubernetes-on-aws/probe', '-w', 'fields']);
    return Number(/^"Revision" : (\d+)$/m.exec(fields)![1]);
  }

  /** Waits until the given members report healthy through their own endpoints. */
  async function healthy(...indexes: number[]): Promise<void> {
    await eventually('the members healthy', () => cluster.etcdctl.check(cluster.endpoints(...indexes), ['endpoint', 'health']), {
      timeoutMs: 30000,
      context: cluster.logs,
    });
  }

  /** Writes through every member's endpoint until `count` are acknowledged; returns them. */
  async function write(name: string, count = WRITES, ...indexes: number[]): Promise<ReadonlyMap<string, string>> {
    const load = new WriteLoad(cluster.etcdctl, cluster.endpoints(...indexes), `/issue-10/ops/${name}/`);
    try {
      await load.progress(count, 15000);
    } finally {
      await load.stop();
    }
    return load.acknowledged;
  }

  /** The data dirs the scripts kept aside on a member's volume. */
  const asideDirs = (member: MemberHost) => readdirSync(member.volume).filter((dir) => dir.startsWith('data.replaced-'));
  /** `systemctl start etcd-snapshot.service`, as its timer does every minute. */
  const snapshot = (index: number) => host(index).check('systemctl', ['start', SNAPSHOT_SERVICE]);
  const stopEtcd = (index: number) => host(index).check('systemctl', ['stop', ETCD_UNIT]);

  beforeAll(async () => {
    cluster = await EtcdTestCluster.createHosts('etcd-ops');
    await cluster.startAll();
    cluster.timer.done('bootstrap 3 member hosts through systemctl');
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await cluster?.destroy();
  });

  test('first start: the guard lets never-bootstrapped members start; etcd-snapshot records each and uploads with its revision', async () => {
    const id = await clusterId();
    for (const member of hosts()) {
      expect(member.log()).toContain(`etcd-guard: etcd-${member.index} has never been bootstrapped; first start on an empty data directory`);
      await snapshot(member.index);
      expect(metadata(`bootstrapped/etcd-${member.index}`)).toEqual({ 'cluster-id': id });
      const latest = metadata(`latest/etcd-${member.index}.db`);
      expect(latest).toEqual({
        revision: expect.stringMatching(/^\d+$/),
        'cluster-id': id,
        'encryption-keys': 'none',
        'history-key': expect.stringMatching(new RegExp(`^history/etcd-${member.index}/[0-9TZ-]+\\.db$`)),
      });
      expect(readFileSync(s3(latest['history-key']))).toEqual(readFileSync(s3(`latest/etcd-${member.index}.db`)));
      expect(readFileSync(s3(`latest/etcd-${member.index}.db`)).length).toBeGreaterThan(0);
    }
    const status = await host(0).run('/opt/bin/etcd-status');
    expect(status.code).toBe(0);
    for (const i of cluster.indexes()) expect(status.stdout).toContain(cluster.clientUrl(i));
    expect(status.stdout).not.toContain('alarms raised');
    cluster.timer.done('first start, snapshots and status');
  }, 60000);

  test('a blank member starting first while its peers are down is refused; etcd-replace-member brings it back with every write', async () => {
    // GIVEN writes acknowledged by the leader and a follower while the third member is down
    const leader = (await cluster.leader()).index;
    const [follower, lagging] = cluster.indexes().filter((i) => i !== leader);
    await stopEtcd(lagging);
    const acknowledged = await write('blank-member', WRITES, leader, follower);
    // ... then the other two stop, and the follower's volume comes back blank
    await stopEtcd(leader);
    await stopEtcd(follower);
    rmSync(host(follower).dataDir, { recursive: true, force: true });

    // WHEN the blank member starts first
    const refused = await host(follower).systemctl('start', ETCD_UNIT);

    // THEN it does not start, and says why and what repairs it
    expect(refused.code).not.toBe(0);
    expect(host(follower).isRunning()).toBe(false);
    expect(host(follower).log()).toContain(
      `etcd-guard: REFUSING to start etcd-${follower} on an empty data directory: it was bootstrapped in cluster ${recordedClusterId(follower)}`,
    );
    expect(host(follower).log()).toContain('Repair: etcd-replace-member');

    // WHEN the others start, and the operator runs the repair on the blank member
    await host(lagging).start();
    await host(leader).start();
    await healthy(leader, lagging);
    const repair = await host(follower).check('/opt/bin/etcd-replace-member');

    // THEN it is a member again with every acknowledged write, and the join override is gone
    expect(repair.stdout).toMatch(new RegExp(`removed etcd-${follower} \\(member [0-9a-f]+\\) from the cluster`));
    expect(repair.stdout).toContain(`etcd-${follower} is healthy again`);
    await cluster.assertNoAcknowledgedWriteLost(acknowledged, `/issue-10/ops/blank-member/`);
    expect(readdirSync(host(follower).path('/run/kubernetes-on-aws'))).not.toContain(ETCD_JOIN_ENV.split('/').pop());
    // ... and it restarts on its data like any member
    await stopEtcd(follower);
    await host(follower).start();
    await healthy(...cluster.indexes());
    cluster.timer.done('blank member refused, then replaced');
  }, 90000);

  /** The cluster id member `index`'s bootstrap record names (written by its snapshot). */
  const recordedClusterId = (index: number): string => metadata(`bootstrapped/etcd-${index}`)['cluster-id'];

  test('etcd-restore: plan picks the newest snapshot across members and names its encryption keys; apply restores all as a new cluster', async () => {
    // GIVEN etcd-0's snapshot is older than the others' (it lagged), a Secret encrypted with a
    // named key, and writes after the last snapshot
    const oldId = await clusterId();
    const early = await write('restore-early');
    await snapshot(0);
    const late = await write('restore-late');
    await cluster.etcdctl.check(cluster.endpoints(), ['put', '/registry/secrets/default/token', 'k8s:enc:secretbox:v1:key-7-c0ffee:ciphertext']);
    await snapshot(1);
    await snapshot(2);
    const revisions = [0, 1, 2].map((i) => Number(metadata(`latest/etcd-${i}.db`).revision));
    expect(revisions[0]).toBeLessThan(Math.min(revisions[1], revisions[2]));
    const afterSnapshots = await write('restore-after');
    const revisionBefore = await currentRevision();
    expect((await cluster.keysOn(0, '/issue-10/ops/restore-after/')).size).toBe(afterSnapshots.size);

    // WHEN the operator stops etcd everywhere, then plans
    for (const member of hosts()) await member.check('systemctl', ['stop', SNAPSHOT_TIMER_UNIT, ETCD_UNIT]);
    const plan = await host(0).check('/opt/bin/etcd-restore', ['plan']);
    const newest = Math.max(...revisions);
    expect(plan.stdout).toContain(`at revision ${newest}.`);
    expect(plan.stdout).toContain('its Secrets are encrypted with the keys key-7-c0ffee:');
    const apply = plan.stdout.trim().split('\n').pop()!.split(' ');
    expect(apply.slice(0, 2)).toEqual(['etcd-restore', 'apply']);
    expect(apply[2]).toMatch(/^history\/etcd-[12]\/[0-9TZ-]+\.db$/); // immutable, not latest/
    // ... and applies on every member
    const asideBefore = hosts().map(asideDirs);
    for (const member of hosts()) {
      const applied = await member.check('/opt/bin/etcd-restore', apply.slice(1));
      expect(applied.stdout).toContain(`etcd-${member.index} restored from ${apply[2]} at revision ${newest}, cluster token ${apply[4]}`);
    }

    // THEN a new cluster, with everything up to the snapshot and nothing after it
    await cluster.waitHealthy();
    expect(await clusterId()).not.toBe(oldId);
    await cluster.assertNoAcknowledgedWriteLost(new Map([...early, ...late]), '/issue-10/ops/restore-');
    for (const i of cluster.indexes()) {
      const after = await cluster.keysOn(i, '/issue-10/ops/restore-after/');
      expect(after.size).toBe(0); // the recovery point: writes after the newest snapshot are gone
      expect((await cluster.keysOn(i, '/registry/secrets/')).get('/registry/secrets/default/token')).toBe('k8s:enc:secretbox:v1:key-7-c0ffee:ciphertext');
    }
    // ... at a revision past any the old cluster's clients saw (the restore's bump)
    const revisionAfter = await currentRevision();
    expect(revisionAfter).toBeGreaterThan(revisionBefore);
    expect(revisionAfter).toBeGreaterThanOrEqual(newest + RESTORE_REVISION_BUMP);
    for (const member of hosts()) {
      // the data it had before the restore, kept whole
      const added = asideDirs(member).filter((dir) => !asideBefore[member.index].includes(dir));
      expect(added).toHaveLength(1);
      expect(readdirSync(join(member.volume, added[0], 'member')).sort()).toEqual(['snap', 'wal']);
    }
    // ... and the next snapshot records the member under the new cluster id
    await snapshot(0);
    expect(metadata('bootstrapped/etcd-0')['cluster-id']).toBe(await clusterId());
    cluster.timer.done('restore from the newest snapshot');
  }, 90000);

  test('etcd-defrag defragments only the member whose slot it is, and only while every member is healthy', async () => {
    const defragLines = (index: number) => host(index).log().split('\n').filter((line) => line.includes('finished defragmenting directory')).length;
    const before = cluster.indexes().map(defragLines);
    // 03:05 UTC: etcd-1's slot
    for (const member of hosts()) await member.check('/opt/bin/etcd-defrag', [], { TEST_UTC_MINUTE: '05' });
    expect(cluster.indexes().map((i) => defragLines(i) - before[i])).toEqual([0, 1, 0]);

    await stopEtcd(2);
    const skipped = await host(0).check('/opt/bin/etcd-defrag', [], { TEST_UTC_MINUTE: '00' });
    expect(skipped.stdout).toContain('not every member is healthy; not defragmenting etcd-0 today');
    expect(defragLines(0)).toBe(before[0]);
    await host(2).start();
    await cluster.waitHealthy();
    cluster.timer.done('defragmentation');
  }, 60000);

  test('a full backend quota raises NOSPACE: etcd-status fails naming it, and so does the health check; the README procedure clears it', async () => {
    // GIVEN the members' one changed setting: a 4 MiB quota, so that it fills in seconds
    const quota = 4 * 1024 * 1024;
    for (const member of hosts()) {
      await stopEtcd(member.index);
      const unit = member.path(`/etc/systemd/system/${ETCD_UNIT}`);
      const text = readFileSync(unit, 'utf8');
      expect(text).toContain(`--quota-backend-bytes=${ETCD_QUOTA_BACKEND_BYTES}`);
      writeFileSync(unit, text.replace(`--quota-backend-bytes=${ETCD_QUOTA_BACKEND_BYTES}`, `--quota-backend-bytes=${quota}`));
    }
    await cluster.startAll();
    // WHEN writes fill it
    // 120 KiB: one command-line argument holds at most 128 KiB (Linux MAX_ARG_STRLEN).
    const value = 'x'.repeat(120 * 1024);
    let refusal = '';
    for (let n = 0; n < 128 && !refusal; n++) {
      const result = await cluster.etcdctl.run(cluster.endpoints(), ['put', `/issue-10/ops/fill/${n}`, value]);
      if (!result.ok) refusal = result.stderr;
    }
    expect(refusal).toContain('database space exceeded');
    // THEN
    const status = await host(0).run('/opt/bin/etcd-status');
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/alarms raised:\n.*alarm:NOSPACE/);
    const health = await host(1).run('/opt/bin/node-health-check');
    expect(health.code).not.toBe(0);
    expect(`${health.stdout}${health.stderr}`).toContain('NOSPACE');

    // WHEN the operator frees space as the README says: deletes (allowed under NOSPACE), compacts,
    // defragments every member, disarms
    const member = '/opt/bin/etcdctl-member';
    await host(0).check(member, ['del', '/issue-10/ops/fill/', '--prefix']);
    const revision = /^"Revision" : (\d+)$/m.exec((await host(0).check(member, ['get', 'x', '-w', 'fields'])).stdout)![1];
    await host(0).check(member, ['compact', revision]);
    for (const m of hosts()) await m.check(member, ['defrag']);
    await host(0).check(member, ['alarm', 'disarm']);
    // THEN writes are taken again, and etcd-status is clean
    await write('after-nospace');
    const clean = await host(0).run('/opt/bin/etcd-status');
    expect(clean.stdout).not.toContain('alarms raised');
    expect(clean.code).toBe(0);
    cluster.timer.done('NOSPACE visible, then cleared');
  }, 60000);
}
