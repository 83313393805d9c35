/**
 * Polling for distributed-system conditions (a member healthy, a write replicated): retries
 * until the check passes or the deadline passes, then fails with the last reason and
 * whatever context helps (e.g. the members' logs).
 */
import { sleep } from './processes';

export interface EventuallyOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** Appended to the failure message (called only on failure). */
  readonly context?: () => string;
}

/** Runs `check` until it resolves without throwing; returns its value. */
export async function eventually<T>(what: string, check: () => Promise<T>, options: EventuallyOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  do {
    try {
      return await check();
    } catch (error) {
      lastError = error;
    }
    await sleep(options.intervalMs ?? 250);
  } while (Date.now() < deadline);
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}: ${reason}${options.context ? `\n\n${options.context()}` : ''}`);
}
