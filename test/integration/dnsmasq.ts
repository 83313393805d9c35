/**
 * dnsmasq serving the etcd stack's records, standing in for the Route 53 hosted zone.
 *
 * What Go's resolver (etcd's) needs, measured with etcd 3.4: dnsmasq must be authoritative for
 * the zone (`local=/<zone>/`: never forward, answer "no such name" itself) and must answer AAAA
 * queries for the member names with NODATA rather than NXDOMAIN, or Go reports "no such host"
 * for a name that has an A record. `host-record=` gives that; `address=` would not.
 */
import { writeFileSync } from 'fs';
import { TestNetwork } from './netns';
import { RunningProcess, startProcess } from './processes';
import { SrvRecord } from './synthesized-etcd';
import { tool } from './tools';

export interface DnsZone {
  /** The hosted zone, e.g. `team.example.org`. */
  readonly zone: string;
  /** name -> IPv4 address. */
  readonly addresses: ReadonlyMap<string, string>;
  readonly srvRecords: readonly SrvRecord[];
}

export function dnsmasqConfig(zone: DnsZone, listenAddress: string): string {
  const lines = [
    `listen-address=${listenAddress}`,
    'bind-interfaces',
    'port=53',
    'no-resolv',
    'no-hosts',
    `local=/${zone.zone}/`,
    'log-queries',
    'log-facility=-',
  ];
  for (const [name, address] of zone.addresses) lines.push(`host-record=${name},${address}`);
  for (const record of zone.srvRecords) {
    for (const t of record.targets) lines.push(`srv-host=${record.name},${t.target},${t.port},${t.priority},${t.weight}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Starts dnsmasq in the foreground inside `ns` with only `configFile` (no /etc/dnsmasq.conf, no pid file). */
export function startDnsmasq(ns: string, configFile: string, config: string, logFile: string): RunningProcess {
  writeFileSync(configFile, config);
  const [command, args] = TestNetwork.inNamespace(ns, tool('dnsmasq'), [
    '--no-daemon',
    `--conf-file=${configFile}`,
    '--pid-file=',
    // dnsmasq drops to `nobody` after binding; root keeps it able to read the config we wrote
    '--user=root',
  ]);
  return startProcess('dnsmasq', command, args, { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, logFile);
}
