/**
 * A three-member etcd test cluster in one call, built from the synthesized etcd stack: its
 * SRV and A records served by dnsmasq, the members' flags from the uploaded Ignition config,
 * the certificates from the secrets Lambda's generator, each member in its own network
 * namespace. Plus the readers a data-safety assertion needs: every member's keys through its
 * own endpoint, and `endpoint hashkv` of all members at one revision.
 *
 * Two kinds of member: {@link EtcdTestCluster.create} runs etcd processes with the rendered
 * flags, under the test's control ({@link EtcdMember}: SIGKILL, SIGTERM, pause);
 * {@link EtcdTestCluster.createHosts} makes each member a host with the whole rendered
 * config, where etcd runs from its unit and the member's scripts run as an operator runs
 * them ({@link MemberHost}). Network faults are on {@link TestNetwork}
 * (`cluster.network.disconnect(i)`).
 */
import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { releaseCleanupGuard, trackForCleanup } from './cleanup-guard';
import { Bundle, generateEtcdPki, writeBundle } from './cluster-pki';
import { dnsmasqConfig, startDnsmasq } from './dnsmasq';
import { EtcdMember } from './etcd-member';
import { MemberHost } from './member-host';
import { describeRelease, etcdRelease } from './etcd-release';
import { ClientTls, Etcdctl, Target } from './etcdctl';
import { eventually } from './eventually';
import { HUB_ADDRESS, TestNetwork, memberAddress, removeStaleNamespaces } from './netns';
import { killAll, waitForAllExited } from './processes';
import { Flag, RenderedEtcdUnit, flagValue, memberFlags, parseFlags, readEtcdUnit } from './rendered-etcd-unit';
import { SynthesizedEtcd, readSynthesizedEtcd } from './synthesized-etcd';
import { tool } from './tools';
import { synthesizeCluster } from '../util';

/**
 * How long building and starting a test cluster may take: mostly the synthesis of the example
 * cluster, which takes 8 s on an idle 2-core machine and several times that under load. The
 * suite's own time is measured by bench/etcd-suite.ts, not bounded here.
 */
export const BUILD_TIMEOUT_MS = 240000;

/** Prints how long each phase took, prefixed by the test's name: the suite has a time budget. */
export class PhaseTimer {
  private readonly started = Date.now();
  private phaseStarted = this.started;

  constructor(private readonly label: string) {}

  done(name: string): void {
    const now = Date.now();
    console.log(`[${this.label}] ${name}: ${now - this.phaseStarted} ms (total ${now - this.started} ms)`);
    this.phaseStarted = now;
  }

  get totalMs(): number {
    return Date.now() - this.started;
  }
}

/** `etcdctl endpoint status -w simple`: `endpoint, id, version, db size, is leader, ...`. */
export interface EndpointStatus {
  readonly endpoint: string;
  readonly memberId: string;
  readonly isLeader: boolean;
}

/** A member's raft view, from `etcdctl endpoint status -w json`. */
export interface RaftView {
  readonly endpoint: string;
  /** Decimal member ids, kept as text: they exceed a double's precision. */
  readonly memberId: string;
  readonly leaderId: string;
  readonly raftTerm: number;
}

/** What the cluster needs of a member, whichever kind. */
export interface ClusterMember {
  readonly index: number;
  start(): void | Promise<void>;
  isRunning(): boolean;
  /** Its state and log tail, for failure messages. */
  describe(): string;
}

/** Makes member `index` in its namespace, with its certificate files. */
type MemberFactory<M extends ClusterMember> = (cluster: EtcdTestCluster<M>, index: number, namespace: string, pki: Bundle) => M;

export class EtcdTestCluster<M extends ClusterMember = EtcdMember> {
  /**
   * Synthesizes the example cluster, generates its certificates and builds the network and
   * dnsmasq; the members are etcd processes, created but not started (see {@link startAll}).
   */
  static create(label: string, timer = new PhaseTimer(label)): Promise<EtcdTestCluster<EtcdMember>> {
    return EtcdTestCluster.build(label, timer, (cluster, index, namespace, pki) => {
      writeBundle(join(cluster.workDir, `etcd-${index}`, 'pki'), pki);
      return new EtcdMember({ index, namespace, flags: cluster.flagsOf(index), logDir: cluster.workDir });
    });
  }

  /**
   * Like {@link create}, but each member is a host with the whole rendered config (see
   * member-host.ts), sharing one S3 directory; etcd is not started.
   */
  static createHosts(label: string, timer = new PhaseTimer(label)): Promise<EtcdTestCluster<MemberHost>> {
    return EtcdTestCluster.build(label, timer, (cluster, index, namespace, pki) => {
      const etcdutl = etcdRelease()?.etcdutl;
      if (!etcdutl) throw new Error(`member hosts need etcdutl of etcd 3.5, which ${describeRelease(etcdRelease()!)} lacks`);
      return new MemberHost({
        index,
        namespace,
        root: join(cluster.workDir, `host-${index}`),
        ignition: cluster.synthesized.ignition,
        pki,
        bucket: cluster.snapshotBucket,
        fakeDir: cluster.fakeS3Dir,
        etcdBinDir: dirname(etcdutl),
      });
    });
  }

  private static async build<M extends ClusterMember>(label: string, timer: PhaseTimer, makeMember: MemberFactory<M>): Promise<EtcdTestCluster<M>> {
    const stale = removeStaleNamespaces();
    if (stale.length > 0) console.warn(`[${label}] removed namespaces of an earlier, killed run: ${stale.join(', ')}`);
    console.log(`[${label}] ${describeRelease(etcdRelease()!)}`);
    const workDir = mkdtempSync(join(tmpdir(), `${label}-`));
    // From here on, every process, namespace and this directory is also handed to the cleanup
    // guard: a failed step is cleaned up by destroy(), a killed or interrupted run by the guard.
    trackForCleanup('path', workDir);
    const cluster = new EtcdTestCluster<M>(label, timer, workDir, readSynthesizedEtcd(synthesizeCluster()));
    timer.done('synthesize the cluster, read records and the uploaded etcd config');
    try {
      await cluster.buildMembers(makeMember);
    } catch (error) {
      await cluster.destroy(); // the caller never gets it to clean up
      throw error;
    }
    return cluster;
  }

  readonly unit: RenderedEtcdUnit;
  readonly renderedFlags: Flag[];
  /** The `--discovery-srv` domain. */
  readonly domain: string;
  readonly network = new TestNetwork();
  /** The API server's etcd client certificate, as files. */
  readonly etcdctlTls: ClientTls;
  /** etcdctl in the hub namespace with the API server's client certificate. */
  readonly etcdctl: Etcdctl;
  /** The running members (a test may replace them, e.g. with a restored one). */
  members: M[] = [];
  /** The snapshot bucket the members' etcd.env names. */
  readonly snapshotBucket: string;
  /** The directory that stands in for the snapshot bucket (see test/fakes/aws-s3-cli.ts). */
  readonly fakeS3Dir: string;

  private constructor(
    readonly label: string,
    readonly timer: PhaseTimer,
    readonly workDir: string,
    readonly synthesized: SynthesizedEtcd,
  ) {
    this.unit = readEtcdUnit(synthesized.ignition);
    this.renderedFlags = parseFlags(this.unit.args);
    this.domain = flagValue(this.renderedFlags, 'discovery-srv') ?? '(no --discovery-srv)';
    this.etcdctlTls = {
      caFile: join(workDir, 'client', 'etcd-ca.crt'),
      certFile: join(workDir, 'client', 'apiserver-etcd-client.crt'),
      keyFile: join(workDir, 'client', 'apiserver-etcd-client.key'),
    };
    this.etcdctl = new Etcdctl(this.network.hub, this.etcdctlTls);
    const bucket = /^SNAPSHOT_BUCKET=(.+)$/m.exec(this.unitEnvironment())?.[1];
    if (!bucket) throw new Error('etcd.env names no SNAPSHOT_BUCKET');
    this.snapshotBucket = bucket;
    this.fakeS3Dir = join(workDir, 'fake-s3');
    mkdirSync(this.fakeS3Dir);
  }

  private unitEnvironment(): string {
    return Object.entries(this.unit.staticEnvironment).map(([k, v]) => `${k}=${v}`).join('\n');
  }

  /** Member `index`'s rendered flags with this machine's paths (another data dir for a restore). */
  flagsOf(index: number, dataDir = join(this.workDir, `etcd-${index}`, 'data')): Flag[] {
    return memberFlags(this.unit, index, { dataDir, pkiDir: join(this.workDir, `etcd-${index}`, 'pki') });
  }

  clientUrl(index: number): string {
    return flagValue(this.flagsOf(index), 'advertise-client-urls')!;
  }

  /** An etcdctl target of these members' client URLs (all members when none are given). */
  endpoints(...indexes: number[]): Target {
    return { endpoints: (indexes.length > 0 ? indexes : this.indexes()).map((i) => this.clientUrl(i)) };
  }

  indexes(): number[] {
    return this.members.map((m) => m.index);
  }

  member(index: number): M {
    const member = this.members.find((m) => m.index === index);
    if (!member) throw new Error(`no member etcd-${index}`);
    return member;
  }

  /** Every member's state and log tail, for failure messages. */
  logs = (): string => this.members.map((m) => m.describe()).join('\n\n');

  /** Starts every member and waits until all are healthy, found through the SRV records. */
  async startAll(timeoutMs = 30000): Promise<void> {
    for (const member of this.members) await member.start();
    await this.waitHealthy(timeoutMs);
  }

  /**
   * Waits until every member's client URL, as published in the cluster and found through the
   * `_etcd-client-ssl` SRV records, reports healthy. (etcdctl's `endpoint health` ignores
   * --discovery-srv unless --cluster asks the members for all their client URLs; without it, it
   * silently checks the default 127.0.0.1:2379.)
   */
  async waitHealthy(timeoutMs = 30000): Promise<void> {
    await eventually(
      'all members healthy',
      async () => {
        const result = await this.etcdctl.run({ discoverySrv: this.domain }, ['endpoint', 'health', '--cluster']);
        const output = `${result.stdout}${result.stderr}`;
        const healthy = this.indexes().every((i) => new RegExp(`^${escapeRegExp(this.clientUrl(i))} is healthy`, 'm').test(output));
        if (!result.ok || !healthy) throw new Error(output);
      },
      { timeoutMs, context: this.logs },
    );
  }

  async status(...indexes: number[]): Promise<EndpointStatus[]> {
    return parseEndpointStatus(await this.etcdctl.check(this.endpoints(...indexes), ['endpoint', 'status', '-w', 'simple']));
  }

  /** Each given member's own view of leader and term (asks each member separately). */
  async raftViews(...indexes: number[]): Promise<RaftView[]> {
    const output = await this.etcdctl.check(this.endpoints(...indexes), ['endpoint', 'status', '-w', 'json']);
    const parsed = JSON.parse(output.replace(/:(\d{16,})/g, ':"$1"')) as {
      Endpoint: string;
      Status: { header: { member_id: string | number }; leader: string | number; raftTerm: number };
    }[];
    return parsed.map((s) => ({
      endpoint: s.Endpoint,
      memberId: String(s.Status.header.member_id),
      leaderId: String(s.Status.leader),
      raftTerm: Number(s.Status.raftTerm),
    }));
  }

  /** The member that is leader, as the given members (default all) see it; waits for one. */
  async leader(among: number[] = this.indexes(), timeoutMs = 15000): Promise<M> {
    return eventually(
      `a leader among etcd-${among.join(', etcd-')}`,
      async () => {
        const leader = (await this.status(...among)).find((s) => s.isLeader);
        if (!leader) throw new Error('no member reports itself leader');
        return this.members.find((m) => this.clientUrl(m.index) === leader.endpoint)!;
      },
      { timeoutMs, context: this.logs },
    );
  }

  /**
   * Every key under `prefix` with its value, read linearizably through member `index`'s own
   * endpoint: the member confirms with the leader that it has applied everything committed,
   * then answers from its own copy. So a key missing here is missing on that member. (etcd
   * v3.5.27 server/etcdserver/v3_server.go: Range calls linearizableReadNotify unless the
   * request is serializable, then reads the member's own store.)
   */
  async keysOn(index: number, prefix: string): Promise<Map<string, string>> {
    const output = await this.etcdctl.check(this.endpoints(index), ['get', prefix, '--prefix', '--consistency=l']);
    const lines = output.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const keys = new Map<string, string>();
    for (let i = 0; i + 1 < lines.length; i += 2) keys.set(lines[i], lines[i + 1]);
    return keys;
  }

  /**
   * Throws unless every member (all running ones) holds every acknowledged key with the
   * acknowledged value, read through its own endpoint, and all agree on `endpoint hashkv` at
   * one revision. Waits for a lagging member to catch up, not for a missing write to appear:
   * a linearizable read already waits for the member to apply what was committed.
   */
  async assertNoAcknowledgedWriteLost(acknowledged: ReadonlyMap<string, string>, prefix: string, timeoutMs = 20000): Promise<void> {
    if (acknowledged.size === 0) throw new Error('no write was acknowledged: nothing was tested');
    for (const member of this.members) {
      const keys = await eventually(`a linearizable read through etcd-${member.index}`, () => this.keysOn(member.index, prefix), {
        timeoutMs,
        context: this.logs,
      });
      const lost = [...acknowledged].filter(([key, value]) => keys.get(key) !== value);
      if (lost.length > 0) {
        throw new Error(
          `etcd-${member.index} lacks ${lost.length} of ${acknowledged.size} acknowledged writes, e.g. ${lost
            .slice(0, 5)
            .map(([k, v]) => `${k}=${v} (has ${keys.get(k) ?? 'nothing'})`)
            .join(', ')}\n\n${this.logs()}`,
        );
      }
    }
    await this.assertHashKvAgrees(timeoutMs);
  }

  /**
   * `etcdctl endpoint hashkv` of every member at one revision: the hash of the whole MVCC key
   * space up to it, so equal hashes mean equal histories, not only equal latest values.
   * Without --rev each member hashes up to its own latest revision, so the revisions are
   * compared too. (etcd v3.5.27 etcdctl/ctlv3/command/ep_command.go, epHashKVCommandFunc and
   * its --rev flag; server/etcdserver/api/v3rpc/maintenance.go, HashKV.)
   */
  async assertHashKvAgrees(timeoutMs = 20000): Promise<{ revision: number; hash: number }> {
    return eventually(
      'every member to report the same revision and hashkv',
      async () => {
        const output = await this.etcdctl.check(this.endpoints(), ['endpoint', 'hashkv', '-w', 'json']);
        const results = JSON.parse(output) as { Endpoint: string; HashKV: { header: { revision: number }; hash: number } }[];
        const distinct = new Set(results.map((r) => `${r.HashKV.header.revision}/${r.HashKV.hash}`));
        if (results.length !== this.members.length || distinct.size !== 1) throw new Error(`hashkv differs: ${output}`);
        return { revision: results[0].HashKV.header.revision, hash: results[0].HashKV.hash };
      },
      { timeoutMs, context: this.logs },
    );
  }

  /** Kills every process, deletes the namespaces and the work dir; throws if a namespace is left. */
  async destroy(): Promise<void> {
    killAll();
    await waitForAllExited();
    const namespaces = this.network.namespaces;
    // Hosts start etcd through systemctl, in its own session: whatever runs in a namespace goes.
    this.network.killEverythingInside();
    this.network.destroy();
    rmSync(this.workDir, { recursive: true, force: true });
    releaseCleanupGuard();
    const left = spawnSync(tool('ip'), ['netns', 'list'], { encoding: 'utf8' }).stdout;
    const leftOver = namespaces.filter((ns) => left.includes(ns));
    console.log(`[${this.label}] cleaned up ${namespaces.length} namespaces; whole run ${this.timer.totalMs} ms`);
    if (leftOver.length > 0) throw new Error(`network namespaces left behind: ${leftOver.join(', ')}`);
  }

  private async buildMembers(makeMember: MemberFactory<M>): Promise<void> {
    const pki = await generateEtcdPki(this.synthesized.secretsInput);
    writeBundle(join(this.workDir, 'client'), pki.apiServerClient);
    this.timer.done('generate the etcd certificates');

    this.network.createHub();
    const addresses = new Map<string, string>();
    for (const record of this.synthesized.memberRecords) {
      const index = record.memberIndex;
      addresses.set(record.name, memberAddress(index));
      const namespace = this.network.createMember(index, memberAddress(index));
      this.members.push(makeMember(this, index, namespace, pki.member(index)));
    }
    this.members.sort((a, b) => a.index - b.index);
    const zone = { zone: this.synthesized.zoneName, addresses, srvRecords: this.synthesized.srvRecords };
    const dnsmasq = startDnsmasq(this.network.hub, join(this.workDir, 'dnsmasq.conf'), dnsmasqConfig(zone, HUB_ADDRESS), join(this.workDir, 'dnsmasq.log'));
    const srvName = `_etcd-server-ssl._tcp.${this.domain}`;
    await eventually('dnsmasq to answer the SRV query', async () => checkSrvResolves(this.network.hub, srvName), {
      timeoutMs: 5000,
      context: () => dnsmasq.logTail(),
    });
    this.timer.done('network namespaces and dnsmasq');
  }
}

export function parseEndpointStatus(text: string): EndpointStatus[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [endpoint, memberId, , , isLeader] = line.split(', ');
      return { endpoint, memberId, isLeader: isLeader === 'true' };
    });
}

export const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Resolves an SRV name from inside a namespace, through its resolv.conf (i.e. dnsmasq), with
 * Node's resolver: a readiness check that also fails early and clearly if DNS is broken.
 */
function checkSrvResolves(ns: string, name: string): void {
  const script = `require('dns').promises.resolveSrv(${JSON.stringify(name)}).then((r) => { if (r.length === 0) process.exit(1); }, (e) => { console.error(e.message); process.exit(1); })`;
  const [command, args] = TestNetwork.inNamespace(ns, process.execPath, ['-e', script]);
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 5000 });
  if (result.status !== 0) throw new Error(`SRV ${name}: ${result.stderr || result.error?.message}`);
}
