/**
 * A real etcd member process in its own network namespace, started with the rendered unit's
 * flags (see rendered-etcd-unit.ts). Its data dir survives a kill, like the member's EBS
 * volume survives its instance: `restart()` starts the same member on the same data.
 */
import { mkdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { Flag, renderFlags } from './rendered-etcd-unit';
import { TestNetwork } from './netns';
import { etcdTool } from './etcd-release';
import { ExitStatus, RunningProcess, killProcess, pauseProcess, resumeProcess, startProcess, terminateProcess } from './processes';

/**
 * How long a SIGTERMed member may take to exit. etcd stops its servers and syncs its WAL on
 * SIGTERM in well under a second here; systemd's default TimeoutStopSec= is 90 s, but a stop
 * that takes more than a few seconds on an idle test cluster is a bug worth seeing.
 */
const STOP_TIMEOUT_MS = 10000;

export interface EtcdMemberOptions {
  readonly index: number;
  /** The member's namespace: its address is the one its A record names. */
  readonly namespace: string;
  readonly flags: readonly Flag[];
  /** Where its log goes. */
  readonly logDir: string;
}

export class EtcdMember {
  private process?: RunningProcess;
  private starts = 0;

  constructor(readonly options: EtcdMemberOptions) {}

  get index(): number {
    return this.options.index;
  }

  start(): void {
    if (this.process?.isRunning()) throw new Error(`etcd-${this.index} is already running`);
    this.starts += 1;
    mkdirSync(this.options.logDir, { recursive: true });
    const [command, args] = TestNetwork.inNamespace(this.options.namespace, etcdTool('etcd'), renderFlags(this.options.flags));
    const logFile = join(this.options.logDir, `etcd-${this.index}.start-${this.starts}.log`);
    // A clean environment: etcd reads any ETCD_* variable as a flag (ETCD_UNSUPPORTED_ARCH included).
    this.process = startProcess(`etcd-${this.index}`, command, args, { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, logFile);
  }

  /** SIGKILL, as when its instance dies: no graceful leave from the cluster. */
  async kill(): Promise<void> {
    if (this.process) await killProcess(this.process);
  }

  /**
   * SIGTERM, as `systemctl stop` or a shutdown sends it; resolves with how it exited. Throws if
   * it is still running after `timeoutMs` (then it has been SIGKILLed).
   */
  async terminate(timeoutMs = STOP_TIMEOUT_MS): Promise<ExitStatus> {
    if (!this.process?.isRunning()) throw new Error(`etcd-${this.index} is not running`);
    return terminateProcess(this.process, timeoutMs);
  }

  /** SIGSTOP: frozen, connections open, answering nothing (a stalled instance). */
  pause(): void {
    if (this.process) pauseProcess(this.process);
  }

  /** SIGCONT after {@link pause}. */
  resume(): void {
    if (this.process) resumeProcess(this.process);
  }

  /** Starts it again with the same flags and data dir. */
  restart(): void {
    this.start();
  }

  isRunning(): boolean {
    return this.process?.isRunning() ?? false;
  }

  /** Its log since its latest start. */
  log(): string {
    return this.process ? readFileSync(this.process.logFile, 'utf8') : '';
  }

  /** For failure messages: whether it runs, and the end of its log. */
  describe(): string {
    const state = this.isRunning() ? 'running' : 'NOT running';
    return `etcd-${this.index} (${state}, pid ${this.process?.pid}):\n${this.process?.logTail() ?? '(never started)'}`;
  }
}
