/**
 * etcdctl run inside the test's hub namespace (so it resolves names through dnsmasq), over
 * TLS with the API server's etcd client certificate: what a real client of this etcd uses.
 */
import { execFile } from 'child_process';
import { TestNetwork } from './netns';
import { etcdTool } from './etcd-release';

export interface EtcdctlResult {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ClientTls {
  readonly caFile: string;
  /** The client certificate and key; without them, etcd's client-cert check must refuse us. */
  readonly certFile?: string;
  readonly keyFile?: string;
}

/** Which members to talk to: explicit client URLs, or the `_etcd-client-ssl` SRV records of a domain. */
export type Target = { readonly endpoints: readonly string[] } | { readonly discoverySrv: string };

export class Etcdctl {
  constructor(
    private readonly namespace: string,
    private readonly tls: ClientTls,
  ) {}

  /** Runs `etcdctl <global flags> ARGS`; never throws for a non-zero exit (see `ok`). */
  run(target: Target, args: readonly string[], timeoutMs = 15000): Promise<EtcdctlResult> {
    const targetFlags =
      'endpoints' in target ? [`--endpoints=${target.endpoints.join(',')}`] : [`--discovery-srv=${target.discoverySrv}`];
    const [command, argv] = TestNetwork.inNamespace(this.namespace, etcdTool('etcdctl'), [
      ...targetFlags,
      `--cacert=${this.tls.caFile}`,
      ...(this.tls.certFile ? [`--cert=${this.tls.certFile}`] : []),
      ...(this.tls.keyFile ? [`--key=${this.tls.keyFile}`] : []),
      '--dial-timeout=2s',
      '--command-timeout=5s',
      ...args,
    ]);
    return new Promise((resolve) => {
      // A clean environment: etcdctl reads ETCDCTL_* variables as flags. API v3 is 3.4's default.
      const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ETCDCTL_API: '3' };
      execFile(command, argv, { env, timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8' }, (error, stdout, stderr) => {
        resolve({ ok: !error, stdout, stderr: error && !stderr ? String(error.message) : stderr });
      });
    });
  }

  /** Like {@link run}, but throws with etcdctl's output when it fails. */
  async check(target: Target, args: readonly string[]): Promise<string> {
    const result = await this.run(target, args);
    if (!result.ok) throw new Error(`etcdctl ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`);
    return result.stdout;
  }
}

export interface RestoreOptions {
  readonly snapshotFile: string;
  readonly dataDir: string;
  /** The restored member's name and peer URL. */
  readonly name: string;
  readonly peerUrl: string;
  readonly clusterToken: string;
  /** Every member of the restored cluster, `name=peerURL,...`; by default only this member. */
  readonly initialCluster?: string;
}

/**
 * `etcdctl snapshot restore`: offline, no network. etcd 3.4 and 3.5 have it in etcdctl;
 * 3.6 moved it to `etcdutl snapshot restore` with the same flags (DESIGN.md).
 */
export function restoreSnapshot(options: RestoreOptions): Promise<void> {
  const args = [
    'snapshot',
    'restore',
    options.snapshotFile,
    `--data-dir=${options.dataDir}`,
    `--name=${options.name}`,
    `--initial-cluster=${options.initialCluster ?? `${options.name}=${options.peerUrl}`}`,
    `--initial-advertise-peer-urls=${options.peerUrl}`,
    `--initial-cluster-token=${options.clusterToken}`,
  ];
  return new Promise((resolve, reject) => {
    const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ETCDCTL_API: '3' };
    execFile(etcdTool('etcdctl'), args, { env, timeout: 15000, killSignal: 'SIGKILL', encoding: 'utf8' }, (error, stdout, stderr) =>
      error ? reject(new Error(`etcdctl ${args.join(' ')} failed:\n${stdout}${stderr}`)) : resolve(),
    );
  });
}
