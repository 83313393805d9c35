/**
 * A client writing unique keys in a loop, as the API server does, that records which writes
 * etcd acknowledged (etcdctl exited 0: the put was committed by a quorum and applied). A
 * write that failed or timed out may or may not have been committed, so it is counted but
 * never asserted on: only acknowledged writes are promised to survive.
 */
import { Etcdctl, Target } from './etcdctl';
import { sleep } from './processes';

/** Short timeouts: a write stuck on a dead leader gives up and the next one is tried. */
const WRITE_FLAGS = ['--dial-timeout=1s', '--command-timeout=2s'];

export class WriteLoad {
  private readonly acked = new Map<string, string>();
  private attempts = 0;
  private running = true;
  private readonly loop: Promise<void>;

  /** Starts writing `<prefix><n>` = `v<n>` through `target` until {@link stop}. */
  constructor(
    private readonly etcdctl: Etcdctl,
    private readonly target: Target,
    readonly prefix: string,
  ) {
    this.loop = this.run();
  }

  /** The writes acknowledged so far: key -> value. */
  get acknowledged(): ReadonlyMap<string, string> {
    return this.acked;
  }

  /** Waits until `count` more writes than now have been acknowledged: the cluster makes progress. */
  async progress(count: number, timeoutMs: number): Promise<void> {
    const goal = this.acked.size + count;
    const deadline = Date.now() + timeoutMs;
    while (this.acked.size < goal) {
      if (Date.now() > deadline) {
        throw new Error(`${this.prefix}: only ${this.acked.size} of ${goal} writes acknowledged after ${timeoutMs} ms (${this.attempts} tried)`);
      }
      await sleep(50);
    }
  }

  /** Stops after the write in flight; returns what was acknowledged. */
  async stop(): Promise<ReadonlyMap<string, string>> {
    this.running = false;
    await this.loop;
    return this.acked;
  }

  /** One line for the test output. */
  summary(): string {
    return `${this.acked.size} of ${this.attempts} writes acknowledged`;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const n = this.attempts++;
      const key = `${this.prefix}${String(n).padStart(6, '0')}`;
      const value = `v${n}`;
      const result = await this.etcdctl.run(this.target, [...WRITE_FLAGS, 'put', key, value], 10000);
      if (result.ok) this.acked.set(key, value);
      else await sleep(100); // no quorum: don't spin
    }
  }
}
