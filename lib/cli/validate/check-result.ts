/**
 * One line of `kube-aws validate`: a check's verdict on one subject. Pure data, so every check
 * is a function from what was read to lines, testable without a cluster.
 */

/** PASS and FAIL decide the exit code; WARN only with `--strict`. */
export type CheckStatus = 'PASS' | 'WARN' | 'FAIL';

export interface CheckResult {
  readonly status: CheckStatus;
  /** Which check, e.g. `api-server`, `nodes`, `deployment`, `certificates`. */
  readonly check: string;
  /** What was checked and what was found, for the person at the terminal. */
  readonly detail: string;
}

/** The check column's width: the longest check name, so details line up. */
const CHECK_WIDTH = 'certificates'.length;

/**
 * Control characters (C0, DEL, C1): details quote text from the cluster (condition reasons and
 * messages, which a node's or controller's credential sets), which must not move the cursor,
 * recolour or retitle the user's terminal, nor forge a line.
 */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

/** `PASS  api-server    /readyz ok (etcd ok)`, with control characters shown as `?`. */
export function formatResult(result: CheckResult): string {
  return `${result.status}  ${result.check.padEnd(CHECK_WIDTH)}  ${result.detail.replace(CONTROL_CHARACTERS, '?')}`;
}

/** Whether the results let validate succeed: no FAIL, and with `strict` no WARN either. */
export function allPassed(results: readonly CheckResult[], strict: boolean): boolean {
  return results.every((r) => r.status === 'PASS' || (r.status === 'WARN' && !strict));
}

export const pass = (check: string, detail: string): CheckResult => ({ status: 'PASS', check, detail });
export const warn = (check: string, detail: string): CheckResult => ({ status: 'WARN', check, detail });
export const fail = (check: string, detail: string): CheckResult => ({ status: 'FAIL', check, detail });
