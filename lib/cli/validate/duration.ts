import { CliError, EXIT_USAGE } from '../errors';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** Go's time.ParseDuration shape without fractions (kubectl's `--request-timeout 1m30s`): whole numbers, each with a unit. */
const DURATION = /^(\d+(ms|s|m|h))+$/;

/**
 * `10m`, `90s`, `1m30s` in milliseconds.
 * @throws CliError with EXIT_USAGE naming the option and the valid shapes
 */
export function parseDuration(text: string, option: string, usage: string): number {
  const ms = DURATION.test(text) ? [...text.matchAll(/(\d+)(ms|s|m|h)/g)].reduce((sum, [, n, unit]) => sum + Number(n) * UNIT_MS[unit], 0) : NaN;
  if (!(ms > 0)) {
    throw new CliError(`Invalid ${option} "${text}": give a duration above zero such as 90s, 10m or 1m30s (units ms, s, m, h).\n${usage}`, EXIT_USAGE);
  }
  return ms;
}

/** The duration given as `--<option>` among a command's string options, or `fallback` when it was not given. */
export function durationOption(options: ReadonlyMap<string, string>, option: string, fallback: number, usage: string): number {
  const text = options.get(option);
  return text === undefined ? fallback : parseDuration(text, `--${option}`, usage);
}
