import { parseArgs } from 'node:util';
import { CliError, EXIT_USAGE } from './errors';

/** A DNS label part: lowercase letters, digits and '-', no leading or trailing '-'. */
const DNS_LABEL_PART = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
/** `<stack>-<version>` is a DNS label (API DNS name, secret paths): at most 63 characters. */
const MAX_CLUSTER_NAME_LENGTH = 63;

/** A parsed command line naming a cluster. */
export interface ClusterArgs {
  readonly stack: string;
  readonly version: string;
  /** `<stack>-<version>`. */
  readonly cluster: string;
  /** `--output` / `-o`, when the command takes it and it was given. */
  readonly output?: string;
  /** `--help` / `-h` was given. */
  readonly help: boolean;
  /** The boolean options of the command that were given. */
  readonly flags: ReadonlySet<string>;
  /** The string options of the command that were given, by name. */
  readonly options: ReadonlyMap<string, string>;
}

/**
 * Parses `<stack> <version> [--output FILE]` (the option only when `acceptsOutput`), and the
 * command's own boolean and string options.
 * @throws CliError with EXIT_USAGE and the usage line, for anything else
 */
export function parseClusterArgs(
  argv: readonly string[],
  usage: string,
  acceptsOutput: boolean,
  booleanOptions: readonly string[] = [],
  stringOptions: readonly string[] = [],
): ClusterArgs {
  const fail = (problem: string): never => {
    throw new CliError(`${problem}\n${usage}`, EXIT_USAGE);
  };
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        ...(acceptsOutput ? { output: { type: 'string' as const, short: 'o' } } : {}),
        ...Object.fromEntries(booleanOptions.map((name) => [name, { type: 'boolean' as const }])),
        ...Object.fromEntries(stringOptions.map((name) => [name, { type: 'string' as const }])),
      },
    });
  } catch (error) {
    return fail((error as Error).message);
  }
  const help = parsed.values.help === true;
  const output = typeof parsed.values.output === 'string' ? parsed.values.output : undefined;
  const values = parsed.values as Record<string, unknown>;
  const flags = new Set(booleanOptions.filter((name) => values[name] === true));
  const options = new Map(stringOptions.flatMap((name) => (typeof values[name] === 'string' ? [[name, values[name] as string] as const] : [])));
  if (help) {
    return { stack: '', version: '', cluster: '', output, help, flags, options };
  }
  const [stack, version, ...extra] = parsed.positionals;
  if (stack === undefined || version === undefined) {
    return fail('Missing arguments: both <stack> and <version> are required.');
  }
  if (extra.length > 0) {
    return fail(`Unexpected arguments: ${extra.join(' ')}`);
  }
  for (const [name, value] of [['stack', stack], ['version', version]] as const) {
    if (!DNS_LABEL_PART.test(value)) {
      fail(`Invalid ${name} "${value}": use lowercase letters, digits and '-' (not at the start or end).`);
    }
  }
  const cluster = `${stack}-${version}`;
  if (cluster.length > MAX_CLUSTER_NAME_LENGTH) {
    fail(`Cluster name "${cluster}" is longer than ${MAX_CLUSTER_NAME_LENGTH} characters (a DNS label).`);
  }
  return { stack, version, cluster, output, help, flags, options };
}
