import { CliError, EXIT_USAGE, reportFailure } from './errors';
import { CliOutput } from './output';

/** A subcommand: its one-line summary, and how to run it (loaded on use: validate loads the Kubernetes client). */
export interface KubeAwsCommand {
  /** One line for `kube-aws --help`. */
  readonly summary: string;
  /** Runs the subcommand with the arguments after its name; resolves to the exit code. */
  readonly run: (argv: readonly string[]) => Promise<number>;
}

/** `kube-aws --help`: the subcommands and their summaries. */
export function kubeAwsUsage(commands: Readonly<Record<string, KubeAwsCommand>>): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  return [
    'Usage: kube-aws <command> [arguments]   (kube-aws <command> --help for its own)',
    'Commands:',
    ...Object.entries(commands).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`),
  ].join('\n');
}

/** `kube-aws <command> ...`: runs the named subcommand; returns the exit code. */
export async function kubeAws(argv: readonly string[], commands: Readonly<Record<string, KubeAwsCommand>>, out: CliOutput): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out[name === undefined ? 'stderr' : 'stdout'](`${kubeAwsUsage(commands)}\n`);
    return name === undefined ? EXIT_USAGE : 0;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    return reportFailure(new CliError(`Unknown command "${name}".\n${kubeAwsUsage(commands)}`, EXIT_USAGE), out.stderr);
  }
  return command.run(rest);
}
