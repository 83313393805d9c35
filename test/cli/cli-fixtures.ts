import { CliOutput } from '../../lib/cli/output';

/** Collects what a command prints. */
export function captureOutput(): CliOutput & { stdoutText: () => string; stderrText: () => string } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout: (text) => void stdout.push(text),
    stderr: (text) => void stderr.push(text),
    stdoutText: () => stdout.join(''),
    stderrText: () => stderr.join(''),
  };
}

/** An SDK error as the AWS SDK v3 throws them: an Error with a service error name. */
export function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $metadata: {} });
}

export const ADMIN_TOKEN = 'q1oD3YxWq7r5Hk2yQ9sVxZ0uJt8mN4bLcE6fA1gR2pI';
