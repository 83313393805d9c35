/**
 * One JSON object per line on stderr: journald keeps it, `jq` reads it.
 *
 * Callers pass fields, never raw tokens: nothing here can tell a token from any
 * other string, so the rule is kept at the call sites (and checked by the tests).
 */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export function jsonLineLogger(write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const emit = (level: string, message: string, fields?: Record<string, unknown>) =>
    write(JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields }) + '\n');
  return {
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
  };
}

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined };

/** Starts a one-shot timer and returns its canceller. */
export type Schedule = (run: () => void, delayMs: number) => () => void;

/** Node's setTimeout, unref'd: a pending summary never keeps the process alive on its own. */
export const unrefTimer: Schedule = (run, delayMs) => {
  const timer = setTimeout(run, delayMs);
  timer.unref();
  return () => clearTimeout(timer);
};

export interface RateLimitedLogOptions {
  readonly logger: Logger;
  readonly level: 'info' | 'warn';
  /** The message of every line, e.g. `access denied`; summaries say `<message> (summary)`. */
  readonly message: string;
  /** Length of one counting interval. @default DENIAL_SUMMARY_INTERVAL_MS */
  readonly intervalMs?: number;
  /** Keys logged in full at once in an interval (the rest only counted). @default IMMEDIATE_LINES_PER_INTERVAL */
  readonly immediatePerInterval?: number;
  /** Keys a summary names (the largest counts); the rest are in its totals. @default SUMMARY_KEYS */
  readonly summaryKeys?: number;
  /** @default unrefTimer */
  readonly schedule?: Schedule;
}

/** A minute keeps a flood at a line or two a minute and still shows who was denied while it lasts. */
export const DENIAL_SUMMARY_INTERVAL_MS = 60_000;
/** The first few denials of an interval in full, so a one-off mistake shows its details at once. */
export const IMMEDIATE_LINES_PER_INTERVAL = 10;
/** Bounds a summary line's size when thousands of distinct junk tokens arrive. */
export const SUMMARY_KEYS = 20;
/** Bounds the memory one interval's counts take; further new keys are counted as OTHER_KEYS. */
export const MAX_COUNTED_KEYS = 10_000;
export const OTHER_KEYS = '(other)';

/**
 * Repeated events (denials) as a few lines: the first occurrence of a key in an interval is
 * logged at once with its fields (up to immediatePerInterval keys), then every occurrence
 * is counted, and at the end of the interval one summary line gives the counts per key.
 */
export class RateLimitedLog {
  private readonly counts = new Map<string, number>();
  private loggedAtOnce = 0;
  private cancelTimer?: () => void;

  constructor(private readonly options: RateLimitedLogOptions) {}

  /** Records one occurrence; `fields` are logged only if it is the first of its key this interval. */
  note(key: string, fields: Record<string, unknown>): void {
    if (!this.counts.has(key) && this.counts.size >= MAX_COUNTED_KEYS) key = OTHER_KEYS;
    const seen = this.counts.get(key) ?? 0;
    this.counts.set(key, seen + 1);
    if (seen === 0 && this.loggedAtOnce < (this.options.immediatePerInterval ?? IMMEDIATE_LINES_PER_INTERVAL)) {
      this.loggedAtOnce += 1;
      this.options.logger[this.options.level](this.options.message, fields);
    }
    this.cancelTimer ??= (this.options.schedule ?? unrefTimer)(() => this.flush(), this.options.intervalMs ?? DENIAL_SUMMARY_INTERVAL_MS);
  }

  /**
   * Ends the interval: one summary line if anything went unlogged (occurrences beyond each
   * key's first, or keys past the immediate lines). Called by the timer and on shutdown.
   */
  flush(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    let total = 0;
    for (const count of this.counts.values()) total += count;
    const unlogged = total - this.loggedAtOnce;
    if (unlogged > 0) {
      const largest = [...this.counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, this.options.summaryKeys ?? SUMMARY_KEYS);
      this.options.logger[this.options.level](`${this.options.message} (summary)`, {
        intervalSeconds: (this.options.intervalMs ?? DENIAL_SUMMARY_INTERVAL_MS) / 1000,
        total,
        notLoggedAtOnce: unlogged,
        distinctKeys: this.counts.size,
        counts: Object.fromEntries(largest),
      });
    }
    this.counts.clear();
    this.loggedAtOnce = 0;
  }
}
