import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { AddressInfo, Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { GET_API_TOKEN_USAGE } from '../../lib/cli/api-token';
import { EXIT_USAGE } from '../../lib/cli/errors';
import { KUBECONFIG_USAGE } from '../../lib/cli/kubeconfig';
import { KubeAwsCommand, kubeAws } from '../../lib/cli/kube-aws';
import { VALIDATE_USAGE } from '../../lib/cli/validate/validate';
import { captureOutput } from './cli-fixtures';

jest.setTimeout(60_000);
/** A child still running by then is hung: killed, so that the test fails on its output instead of leaving it behind. */
const CHILD_TIMEOUT_MS = 45_000;

describe('kube-aws dispatcher', () => {
  const ran: (readonly string[])[] = [];
  const COMMANDS: Record<string, KubeAwsCommand> = {
    one: { summary: 'the first', run: async (argv) => (ran.push(argv), 7) },
    'two-words': { summary: 'the second', run: async () => 0 },
  };
  beforeEach(() => (ran.length = 0));

  test('runs the named command with the arguments after its name, and returns its exit code', async () => {
    const out = captureOutput();
    expect(await kubeAws(['one', 'a', '--b'], COMMANDS, out)).toBe(7);
    expect(ran).toEqual([['a', '--b']]);
  });

  test('--help lists the commands on stdout, exit 0; nothing at all is a usage error', async () => {
    const help = captureOutput();
    expect(await kubeAws(['--help'], COMMANDS, help)).toBe(0);
    expect(help.stdoutText()).toBe('Usage: kube-aws <command> [arguments]   (kube-aws <command> --help for its own)\nCommands:\n  one        the first\n  two-words  the second\n');

    const none = captureOutput();
    expect(await kubeAws([], COMMANDS, none)).toBe(EXIT_USAGE);
    expect(none.stderrText()).toContain('Commands:');
  });

  test.each(['nope', 'toString', '__proto__'])('unknown command %j: usage error naming it, nothing run', async (name) => {
    const out = captureOutput();
    expect(await kubeAws([name], COMMANDS, out)).toBe(EXIT_USAGE);
    expect(out.stderrText()).toMatch(new RegExp(`^error: Unknown command "${name}"\\.`));
    expect(ran).toEqual([]);
  });
});

describe('the npx entry points', () => {
  const ROOT = path.join(__dirname, '..', '..');
  async function node(args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    const env = { PATH: process.env.PATH, HOME: mkdtempSync(path.join(tmpdir(), 'kube-aws-home-')), ...extraEnv };
    try {
      const { stdout, stderr } = await promisify(execFile)('node', [...args], { cwd: ROOT, env, timeout: CHILD_TIMEOUT_MS, killSignal: 'SIGKILL' });
      return { code: 0, stdout, stderr };
    } catch (error) {
      return error as { code: number; stdout: string; stderr: string };
    }
  }

  test('kube-aws runs get-api-token, kubeconfig and validate as subcommands', async () => {
    const results = await Promise.all([
      node(['bin/kube-aws.js', 'get-api-token', '--help']),
      node(['bin/kube-aws.js', 'kubeconfig', '--help']),
      node(['bin/kube-aws.js', 'validate', '--help']),
    ]);
    expect(results).toEqual([
      { code: 0, stdout: `${GET_API_TOKEN_USAGE}\n`, stderr: '' },
      { code: 0, stdout: `${KUBECONFIG_USAGE}\n`, stderr: '' },
      { code: 0, stdout: `${VALIDATE_USAGE}\n`, stderr: '' },
    ]);
  });

  test('get-api-token and kubeconfig still work as their own bins', async () => {
    const results = await Promise.all([node(['bin/get-api-token.js', '--help']), node(['bin/kubeconfig.js', '--help'])]);
    expect(results).toEqual([
      { code: 0, stdout: `${GET_API_TOKEN_USAGE}\n`, stderr: '' },
      { code: 0, stdout: `${KUBECONFIG_USAGE}\n`, stderr: '' },
    ]);
  });

  test('kube-aws with an unknown command: usage error, exit 2', async () => {
    const r = await node(['bin/kube-aws.js', 'delete-everything']);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toMatch(/^error: Unknown command "delete-everything"\.\nUsage: kube-aws <command>/);
  });

  test('a CloudFormation endpoint that never answers: validate and e2e give up after the request timeout (10s), not hang', async () => {
    // Accepts connections and never answers; the SDK's own endpoint variable points CloudFormation at it.
    const sockets: Socket[] = [];
    const server = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const env = {
      AWS_ENDPOINT_URL_CLOUDFORMATION: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      AWS_REGION: 'eu-central-1',
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'x',
      AWS_EC2_METADATA_DISABLED: 'true',
      // One attempt: the timeout, not the retries, is under test.
      AWS_MAX_ATTEMPTS: '1',
    };
    try {
      const results = await Promise.all([node(['bin/kube-aws.js', 'validate', 'kube-aws-test', '1'], env), node(['bin/kube-aws.js', 'e2e', 'kube-aws-test', '1'], env)]);
      for (const r of results) {
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/^error: .*(timeout|timed out)/im);
      }
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
