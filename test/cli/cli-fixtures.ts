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

/** The master stack as DescribeStacks shows it, with these outputs besides the API URL. */
export function masterStack(apiUrl: string, outputs: Readonly<Record<string, string>> = {}) {
  return {
    Stacks: [
      {
        StackName: 'kube-aws-test-1-master',
        StackId: 'arn:aws:cloudformation:eu-central-1:123456789012:stack/kube-aws-test-1-master/0a1b2c3d-0000-1111-2222-333344445555',
        CreationTime: new Date(),
        StackStatus: 'UPDATE_COMPLETE' as const,
        Outputs: [{ OutputKey: 'Other', OutputValue: 'x' }, { OutputKey: 'ApiUrl', OutputValue: apiUrl }, ...Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue }))],
      },
    ],
  };
}
