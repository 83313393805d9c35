/**
 * A private network for the test, made of Linux network namespaces: one "hub" namespace
 * holding a bridge (dnsmasq and the etcdctl client live there) and one namespace per etcd
 * member, joined to the bridge by a veth pair with the member's own address.
 *
 * Why one namespace per member: etcd checks a peer's client certificate against the address
 * the connection comes from (its SANs must resolve to it). Members sharing one loopback all
 * connect from 127.0.0.1 and are refused; with a namespace each, member N connects from the
 * address its A record names, as on EC2.
 *
 * No namespace has a default route: nothing the test starts can reach any address outside
 * 10.99.0.0/24 of these namespaces. Each namespace gets /etc/netns/<ns>/resolv.conf, which
 * `ip netns exec` bind-mounts over /etc/resolv.conf, so every resolver inside asks dnsmasq.
 */
import { spawnSync } from 'child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { trackForCleanup } from './cleanup-guard';
import { tool } from './tools';

export const SUBNET_PREFIX_LENGTH = 24;
/** The hub's bridge address: dnsmasq listens here, and etcdctl connects from here. */
export const HUB_ADDRESS = '10.99.0.2';
/** Member N's address: stands in for the deploy-time address of its network interface. */
export const memberAddress = (index: number): string => `10.99.0.${11 + index}`;

const NETNS_CONFIG_DIR = '/etc/netns';
const RUN_NETNS_DIR = '/run/netns';
/** `kaws-etcd-<pid of the test process>-...`: tells our namespaces (and stale ones) apart. */
const NAME_PREFIX = 'kaws-etcd-';

export class TestNetwork {
  readonly hub: string;
  private readonly created: string[] = [];
  private readonly createdNetnsConfigDir: boolean;

  constructor(private readonly dnsServer: string = HUB_ADDRESS) {
    this.hub = this.namespaceName('hub');
    this.createdNetnsConfigDir = !existsSync(NETNS_CONFIG_DIR);
  }

  /** The hub namespace with its bridge `br0` at {@link HUB_ADDRESS}. */
  createHub(): void {
    this.createNamespace(this.hub);
    ip('-n', this.hub, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', this.hub, 'addr', 'add', `${HUB_ADDRESS}/${SUBNET_PREFIX_LENGTH}`, 'dev', 'br0');
    ip('-n', this.hub, 'link', 'set', 'br0', 'up');
  }

  /** Member N's namespace, its `eth0` at `address`, wired to the hub's bridge. Returns its name. */
  createMember(index: number, address: string): string {
    const name = this.namespaceName(`m${index}`);
    this.createNamespace(name);
    // Created from inside the hub, so no interface name ever exists in the host's namespace.
    const port = `m${index}`;
    ip('-n', this.hub, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name);
    ip('-n', this.hub, 'link', 'set', port, 'master', 'br0');
    ip('-n', this.hub, 'link', 'set', port, 'up');
    ip('-n', name, 'addr', 'add', `${address}/${SUBNET_PREFIX_LENGTH}`, 'dev', 'eth0');
    ip('-n', name, 'link', 'set', 'eth0', 'up');
    return name;
  }

  /**
   * A network fault: member N's port on the bridge goes down, so it reaches nothing and
   * nothing reaches it (peers, clients, DNS), while its process runs on, as when an instance
   * loses its network. Its open TCP connections stall rather than reset, as on a real cut.
   */
  disconnect(index: number): void {
    ip('-n', this.hub, 'link', 'set', `m${index}`, 'down');
  }

  /** Heals {@link disconnect}. */
  reconnect(index: number): void {
    ip('-n', this.hub, 'link', 'set', `m${index}`, 'up');
  }

  /** `command args` run inside namespace `ns` (as the argv for spawn). */
  static inNamespace(ns: string, command: string, args: readonly string[]): [string, string[]] {
    return [tool('ip'), ['netns', 'exec', ns, command, ...args]];
  }

  /** The namespaces this network made (for assertions and messages). */
  get namespaces(): readonly string[] {
    return [...this.created];
  }

  /** SIGKILLs every process in its namespaces, including those the test did not start itself. */
  killEverythingInside(): void {
    for (const name of this.created) killProcessesIn(name);
  }

  /**
   * Deletes every namespace it made and their /etc/netns entries. Kill the processes inside
   * first: a namespace with a process in it outlives its name.
   */
  destroy(): void {
    for (const name of this.created.splice(0).reverse()) removeNamespace(name);
    if (this.createdNetnsConfigDir) {
      try {
        rmdirSync(NETNS_CONFIG_DIR); // only if empty: another run may be using it
      } catch {
        // not empty or already gone
      }
    }
  }

  private namespaceName(suffix: string): string {
    return `${NAME_PREFIX}${process.pid}-${suffix}`;
  }

  private createNamespace(name: string): void {
    trackForCleanup('netns', name);
    ip('netns', 'add', name);
    this.created.push(name);
    ip('-n', name, 'link', 'set', 'lo', 'up');
    mkdirSync(join(NETNS_CONFIG_DIR, name), { recursive: true });
    writeFileSync(join(NETNS_CONFIG_DIR, name, 'resolv.conf'), `nameserver ${this.dnsServer}\noptions timeout:1 attempts:2\n`);
  }
}

/**
 * Removes namespaces left by an earlier run that died without cleaning up (SIGKILLed test
 * process: no exit handler runs). Only ours, by name, and only when the run that made them
 * is gone; the processes still inside them (by pid, from `ip netns pids`) are killed first.
 */
export function removeStaleNamespaces(): string[] {
  if (!existsSync(RUN_NETNS_DIR)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(RUN_NETNS_DIR)) {
    const owner = new RegExp(`^${NAME_PREFIX}(\\d+)-`).exec(name);
    if (!owner || isAlive(Number(owner[1]))) continue;
    killProcessesIn(name);
    removeNamespace(name);
    removed.push(name);
  }
  return removed;
}

function killProcessesIn(name: string): void {
  const pids = spawnSync(tool('ip'), ['netns', 'pids', name], { encoding: 'utf8' }).stdout ?? '';
  for (const pid of pids.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function removeNamespace(name: string): void {
  spawnSync(tool('ip'), ['netns', 'del', name], { stdio: 'ignore' });
  rmSync(join(NETNS_CONFIG_DIR, name), { recursive: true, force: true });
}

/** Whether a process of that pid exists (signal 0). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs `ip` with `args`; throws with its stderr when it fails. */
export function ip(...args: string[]): void {
  const result = spawnSync(tool('ip'), args, { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`ip ${args.join(' ')} failed (exit ${result.status}): ${result.stderr || result.error?.message}`);
  }
}
