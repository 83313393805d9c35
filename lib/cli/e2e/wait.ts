import { setTimeout as sleepFor } from 'node:timers/promises';
import { ClusterReadError } from '../validate/cluster-reader';

/** A step's verdict that it failed, with what it saw: the detail of its summary row. */
export class StepFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StepFailure';
  }
}

/** Time as the suite sees it (tests move it by hand). */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`; rejects at once when `signal` aborts (Ctrl-C). */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** Real time: Date.now, and a sleep that Ctrl-C's signal cuts short. */
export const REAL_CLOCK: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleepFor(ms, undefined, { signal }),
};

/** One look at what is awaited: done with a value, or still waiting with what was seen. */
export type Probe<T> = { readonly done: T } | { readonly waiting: string };

/** How waits poll. */
export interface WaitProps {
  readonly clock: Clock;
  /** Between two looks. */
  readonly intervalMs: number;
  /** Aborted by Ctrl-C: the wait ends at once. */
  readonly signal: AbortSignal;
}

/**
 * Looks at `what` every interval until `probe` says done, and fails after `timeoutMs` with what
 * it last saw. A read error is something seen, not the end (an API server restarting, a load
 * balancer's DNS name not yet resolvable); a StepFailure from the probe ends the wait (a
 * restarted container, a failed Job: waiting longer would not help).
 */
export async function waitFor<T>(props: WaitProps, what: string, timeoutMs: number, probe: () => Promise<Probe<T>>): Promise<T> {
  const deadline = props.clock.now() + timeoutMs;
  let last = 'nothing yet';
  for (;;) {
    if (props.signal.aborted) throw interrupted(what, last);
    try {
      const seen = await probe();
      if ('done' in seen) return seen.done;
      last = seen.waiting;
    } catch (error) {
      if (error instanceof StepFailure) throw error;
      last = error instanceof ClusterReadError ? error.message : `${(error as Error).message ?? error}`;
    }
    const left = deadline - props.clock.now();
    if (left <= 0) throw new StepFailure(`timed out after ${seconds(timeoutMs)} waiting for ${what}; last seen: ${last}`);
    try {
      await props.clock.sleep(Math.min(props.intervalMs, left), props.signal);
    } catch {
      throw interrupted(what, last);
    }
  }
}

function interrupted(what: string, last: string): StepFailure {
  return new StepFailure(`interrupted (Ctrl-C) while waiting for ${what}; last seen: ${last}`);
}

/** `90s`, `0.5s`: a timeout as the summary says it. */
export function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))}s`;
}
