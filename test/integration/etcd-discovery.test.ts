/**
 * Issue 5: etcd discovery and data safety, proven against real etcd and a real DNS server.
 *
 * The records come from the synthesized etcd stack, the etcd flags from the Ignition config
 * the members boot with (the S3 asset of the synthesized stack), the certificates from the
 * secrets Lambda's own generator. Three etcd members, each in its own network namespace at
 * the address its A record stands for, bootstrap through `--discovery-srv` alone, with
 * dnsmasq serving the records. Then: a member dies and the data stays readable and writable;
 * it comes back on its data dir and catches up; a snapshot restores into a new cluster.
 *
 * Needs root, `ip netns`, etcd, etcdctl and dnsmasq (see prerequisites.ts): in CI it fails
 * without them, elsewhere it is skipped with a warning.
 */
import { spawnSync } from 'child_process';
import { basename, join } from 'path';
import { BUILD_TIMEOUT_MS, EtcdTestCluster } from './etcd-cluster';
import { EtcdMember } from './etcd-member';
import { etcdTool } from './etcd-release';
import { Etcdctl, restoreSnapshot } from './etcdctl';
import { eventually } from './eventually';
import { describeWithRealEtcd } from './prerequisites';
import { flagValue, flagsUnknownTo } from './rendered-etcd-unit';

describeWithRealEtcd('etcd discovery against real etcd members and dnsmasq', discoveryScenario);

/** The data written along the way; the restored cluster must hold exactly these keys. */
const KEY_PREFIX = '/issue-5/';
const key = (name: string) => `${KEY_PREFIX}${name}`;
/** For calls expected to fail: etcdctl otherwise retries for its full dial and command timeouts. */
const FAIL_FAST = ['--dial-timeout=1s', '--command-timeout=1s'];

function discoveryScenario(): void {
  let cluster: EtcdTestCluster;
  // Shorthands for the cluster's helpers, as the assertions below read them.
  const flagsOf = (index: number, dataDir?: string) => cluster.flagsOf(index, dataDir);
  const clientUrl = (index: number) => cluster.clientUrl(index);
  const endpoints = (...indexes: number[]) => cluster.endpoints(...indexes);
  const allIndexes = () => cluster.indexes();
  const logs = () => cluster.logs();
  /** Prints how long the phase took: the whole test must stay well under a minute. */
  const phaseDone = (name: string) => cluster.timer.done(name);

  beforeAll(async () => {
    cluster = await EtcdTestCluster.create('etcd-discovery');
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await cluster?.destroy();
  });

  test('the uploaded etcd unit bootstraps through SRV discovery with TLS and certificate checks, in flags this etcd knows', () => {
    const { renderedFlags, synthesized, domain, unit } = cluster;
    const names = renderedFlags.map((f) => f.name);
    // Discovery by SRV records only: a static --initial-cluster would make the rest moot.
    expect(names).not.toContain('initial-cluster');
    expect(synthesized.srvRecords.map((r) => r.name)).toEqual(
      expect.arrayContaining([`_etcd-server-ssl._tcp.${domain}`, `_etcd-client-ssl._tcp.${domain}`]),
    );
    expect(names).toEqual(
      expect.arrayContaining(['initial-cluster-token', 'initial-cluster-state', 'client-cert-auth', 'peer-client-cert-auth']),
    );
    expect(names).toEqual(expect.arrayContaining(['trusted-ca-file', 'cert-file', 'key-file', 'peer-trusted-ca-file', 'peer-cert-file', 'peer-key-file']));
    // Member N advertises the name of its A record, on the ports the SRV records name.
    const srvPort = (service: string, target: string) =>
      synthesized.srvRecords.find((r) => r.name === `${service}._tcp.${domain}`)?.targets.find((t) => t.target === target)?.port;
    for (const record of synthesized.memberRecords) {
      expect(flagValue(flagsOf(record.memberIndex), 'initial-advertise-peer-urls')).toBe(
        `https://${record.name}:${srvPort('_etcd-server-ssl', record.name)}`,
      );
      expect(clientUrl(record.memberIndex)).toBe(`https://${record.name}:${srvPort('_etcd-client-ssl', record.name)}`);
    }
    // The node runs the pinned 3.5 release (the only path mapped besides data and PKI); this
    // is Debian trixie's 3.5 (etcd-release.ts), or bookworm's 3.4 where that could not be
    // fetched: then any flag 3.4 lacks fails here, by name.
    expect(basename(unit.binary)).toBe('etcd');
    const help = spawnSync(etcdTool('etcd'), ['--help'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    expect(flagsUnknownTo(`${help.stdout}${help.stderr}`, renderedFlags)).toEqual([]);
  });

  test('three members bootstrap from the synthesized SRV records alone, and every endpoint is healthy over TLS', async () => {
    const { etcdctl, network, workDir } = cluster;
    expect(cluster.indexes()).toEqual([0, 1, 2]);
    // The client finds the members through `_etcd-client-ssl._tcp` too: startAll waits until
    // every member's client URL, listed by `endpoint health --cluster --discovery-srv`, is healthy.
    await cluster.startAll();
    const list = parseMemberList(await etcdctl.check(endpoints(0), ['member', 'list', '-w', 'simple']));
    expect(list.map((m) => [m.name, m.peerUrl]).sort()).toEqual(
      allIndexes().map((i) => [`etcd-${i}`, flagValue(flagsOf(i), 'initial-advertise-peer-urls')]),
    );
    await etcdctl.check(endpoints(...allIndexes()), ['put', key('written-by-all-three'), 'v1']);
    // --client-cert-auth is in force: the same call that works with the client certificate
    // fails without one, and the member logs why.
    const anonymous = new Etcdctl(network.hub, { caFile: join(workDir, 'client', 'etcd-ca.crt') });
    expect((await etcdctl.run(endpoints(0), [...FAIL_FAST, 'get', key('written-by-all-three')])).ok).toBe(true);
    expect((await anonymous.run(endpoints(0), [...FAIL_FAST, 'get', key('written-by-all-three')])).ok).toBe(false);
    expect(cluster.member(0).log()).toContain("client didn't provide a certificate");
    phaseDone('bootstrap 3 members via SRV discovery, health, first write, anonymous client refused');
  }, 45000);

  let killed: EtcdMember;
  let killedMemberId: string;

  test('with the leader killed, the data stays readable and writable', async () => {
    const { etcdctl } = cluster;
    const status = await cluster.status();
    const leader = status.find((s) => s.isLeader);
    expect(leader).toBeDefined();
    killed = cluster.members.find((m) => clientUrl(m.index) === leader!.endpoint)!;
    killedMemberId = leader!.memberId;
    await killed.kill();
    const survivors = allIndexes().filter((i) => i !== killed.index);

    // The dead member really is gone: its endpoint fails.
    expect((await etcdctl.run(endpoints(killed.index), [...FAIL_FAST, 'endpoint', 'health'])).ok).toBe(false);
    phaseDone(`kill the leader etcd-${killed.index}`);
    // The survivors elect a new leader; reads (linearizable: need quorum) and writes go on.
    const putWhileDown = () => etcdctl.check(endpoints(...survivors), [...FAIL_FAST, 'put', key('written-while-one-was-down'), 'v2']);
    await eventually('a write with one member down', putWhileDown, {
      timeoutMs: 15000,
      context: logs,
    });
    expect(await etcdctl.check(endpoints(...survivors), ['get', key('written-by-all-three'), '--print-value-only'])).toBe('v1\n');
    phaseDone('elect a new leader, read and write with two members');
  }, 30000);

  test('the killed member restarts on its data dir, rejoins as itself and serves what it missed from its own endpoint', async () => {
    const { etcdctl } = cluster;
    killed.restart();
    // Serializable read: answered from this member's own data, not forwarded to the leader.
    const value = await eventually(
      `etcd-${killed.index} to catch up`,
      () => etcdctl.check(endpoints(killed.index), ['get', key('written-while-one-was-down'), '--print-value-only', '--consistency=s']),
      { timeoutMs: 20000, context: logs },
    );
    expect(value).toBe('v2\n');
    await etcdctl.check(endpoints(...allIndexes()), ['endpoint', 'health']);
    // Same member (not a new one added): --initial-cluster-state=new is ignored on existing data.
    const list = parseMemberList(await etcdctl.check(endpoints(killed.index), ['member', 'list', '-w', 'simple']));
    expect(list).toHaveLength(3);
    expect(list.find((m) => m.name === `etcd-${killed.index}`)?.id).toBe(killedMemberId);
    phaseDone(`restart etcd-${killed.index} on its data dir, catch up`);
  }, 30000);

  test('a snapshot restores into a fresh single-member cluster with every key', async () => {
    const { etcdctl, workDir, renderedFlags } = cluster;
    for (const name of ['a', 'b', 'c']) await etcdctl.check(endpoints(...allIndexes()), ['put', key(`more/${name}`), `value-${name}`]);
    const before = await etcdctl.check(endpoints(...allIndexes()), ['get', KEY_PREFIX, '--prefix']);
    expect(before.split('\n').filter(Boolean)).toHaveLength(2 * 5); // key and value lines of 5 keys
    const snapshot = join(workDir, 'snapshot.db');
    // From the member that was down: it has everything, or the restore below would miss keys.
    await etcdctl.check(endpoints(killed.index), ['snapshot', 'save', snapshot]);

    for (const member of cluster.members) await member.kill();
    const restoredIndex = 0;
    const restoredDir = join(workDir, 'restored', 'data');
    const peerUrl = flagValue(flagsOf(restoredIndex), 'initial-advertise-peer-urls')!;
    const token = flagValue(renderedFlags, 'initial-cluster-token')!;
    await restoreSnapshot({ snapshotFile: snapshot, dataDir: restoredDir, name: `etcd-${restoredIndex}`, peerUrl, clusterToken: `${token}-restored` });
    // The member's own unit flags on the restored data dir (discovery is skipped: the data exists).
    const restored = new EtcdMember({
      index: restoredIndex,
      namespace: cluster.member(restoredIndex).options.namespace,
      flags: flagsOf(restoredIndex, restoredDir),
      logDir: join(workDir, 'restored'),
    });
    cluster.members = [restored];
    restored.start();
    const after = await eventually('the restored member to serve', () => etcdctl.check(endpoints(restoredIndex), ['get', KEY_PREFIX, '--prefix']), {
      timeoutMs: 15000,
      context: logs,
    });
    expect(after).toBe(before);
    const list = parseMemberList(await etcdctl.check(endpoints(restoredIndex), ['member', 'list', '-w', 'simple']));
    expect(list.map((m) => m.name)).toEqual([`etcd-${restoredIndex}`]);
    phaseDone('snapshot, restore into a one-member cluster, compare every key');
  }, 30000);
}

/** `etcdctl member list -w simple`: `id, status, name, peer URLs, client URLs, is learner`. */
function parseMemberList(text: string): { id: string; name: string; peerUrl: string }[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id, , name, peerUrl] = line.split(', ');
      return { id, name, peerUrl };
    });
}
