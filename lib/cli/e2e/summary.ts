import { formatResult } from '../validate/check-result';
import type { StepResult } from './step';

/**
 * The summary table, one row per step: result, step, seconds, detail, as validate prints its
 * lines (formatResult: aligned, and control characters from the cluster's text shown as `?`).
 */
export function summaryLines(results: readonly StepResult[]): string[] {
  return results.map((r) => formatResult({ status: r.passed ? 'PASS' : 'FAIL', check: r.name, detail: `${r.seconds.toFixed(0).padStart(4)}s  ${r.detail}` }));
}
