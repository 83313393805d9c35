/** Exit code for a wrong command line: 2, as most Unix tools use for usage errors. */
export const EXIT_USAGE = 2;
/** Exit code for any other failure. */
export const EXIT_FAILURE = 1;

/** An error whose message is meant for the person at the terminal, with its exit code. */
export class CliError extends Error {
  constructor(message: string, public readonly exitCode: number = EXIT_FAILURE) {
    super(message);
    this.name = 'CliError';
  }
}

/** Prints a CliError's message (an unexpected error's stack) to `stderr`; returns the exit code. */
export function reportFailure(error: unknown, stderr: (text: string) => void): number {
  if (error instanceof CliError) {
    stderr(`error: ${error.message}\n`);
    return error.exitCode;
  }
  stderr(`unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return EXIT_FAILURE;
}

/** What the failing call was after, to say it in the message. */
export interface AwsErrorContext {
  /** The cluster, `<stack>-<version>`. */
  readonly cluster: string;
  /** What was read, e.g. `secret kubernetes-on-aws/c/admin`. */
  readonly resource: string;
}

/**
 * Turns an AWS SDK error into a CliError that says what is wrong and how to fix it;
 * anything unrecognised keeps its own message.
 */
export function explainAwsError(error: unknown, context: AwsErrorContext): CliError {
  const { name, message } = error instanceof Error ? error : { name: '', message: String(error) };
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return new CliError(
      'No AWS credentials found. Sign in first (e.g. `aws sso login --profile NAME` and set AWS_PROFILE=NAME, ' +
        'or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY).',
    );
  }
  if (/region is missing/i.test(message)) {
    return new CliError('No AWS region set. Set AWS_REGION (or a region in your AWS profile) to the cluster\'s region.');
  }
  if (name === 'ResourceNotFoundException' || (name === 'ValidationError' && /does not exist/i.test(message))) {
    return new CliError(
      `Cluster ${context.cluster} not found: ${context.resource} does not exist in this account and region. ` +
        'Check the stack name, the version and AWS_REGION / AWS_PROFILE.',
    );
  }
  if (name === 'AccessDeniedException' || name === 'AccessDenied') {
    return new CliError(
      `Access denied reading ${context.resource} of cluster ${context.cluster}. ` +
        'Use a role the cluster grants read access to (ClusterSecrets.grantAdminRead), or ask its owners.',
    );
  }
  return new CliError(`Reading ${context.resource} of cluster ${context.cluster} failed: ${message}`);
}
