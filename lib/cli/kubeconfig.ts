import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { dump } from 'js-yaml';
import { readAdminToken } from './api-token';
import { parseClusterArgs } from './args';
import { CliError, explainAwsError, reportFailure } from './errors';
import { CliOutput } from './output';

export const KUBECONFIG_USAGE =
  'Usage: kubeconfig <stack> <version> [--output FILE]\n' +
  '  Writes a kubeconfig for cluster <stack>-<version> (admin token) to FILE,\n' +
  '  by default ~/.kube/<stack>-<version>.yaml; "-" prints it instead.';

/** The master stack's output with the API URL (`https://<cluster>.<zone>`). */
export const API_URL_OUTPUT = 'ApiUrl';
/** The kubeconfig holds a bearer token: readable by its owner only. */
const KUBECONFIG_FILE_MODE = 0o600;
const KUBE_DIR_MODE = 0o700;

/** What a kubeconfig is made of. */
export interface KubeconfigInput {
  readonly cluster: string;
  readonly apiUrl: string;
  readonly token: string;
}

/**
 * A kubeconfig with one cluster, user and context, all named after the cluster. No
 * certificate-authority-data: the API's load balancer presents an ACM certificate from
 * a public CA, which the system trust store verifies.
 */
export function renderKubeconfig(input: KubeconfigInput): string {
  const user = `${input.cluster}-admin`;
  return dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: input.cluster, cluster: { server: input.apiUrl } }],
    users: [{ name: user, user: { token: input.token } }],
    contexts: [{ name: input.cluster, context: { cluster: input.cluster, user } }],
    'current-context': input.cluster,
  });
}

/** The API URL from the `ApiUrl` output of stack `<cluster>-master`. */
export async function readApiUrl(client: CloudFormationClient, cluster: string): Promise<string> {
  const stackName = `${cluster}-master`;
  let outputs;
  try {
    outputs = (await client.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0]?.Outputs;
  } catch (error) {
    throw explainAwsError(error, { cluster, resource: `stack ${stackName}` });
  }
  const apiUrl = outputs?.find((output) => output.OutputKey === API_URL_OUTPUT)?.OutputValue;
  if (!apiUrl) {
    throw new CliError(`Stack ${stackName} has no ${API_URL_OUTPUT} output: is its deployment finished?`);
  }
  return apiUrl;
}

/** The default kubeconfig path, one file per cluster so clusters never overwrite each other. */
export function defaultKubeconfigPath(cluster: string, home = homedir()): string {
  return path.join(home, '.kube', `${cluster}.yaml`);
}

/** The AWS clients and environment the command uses (tests inject them). */
export interface KubeconfigDeps {
  readonly secretsManager: SecretsManagerClient;
  readonly cloudFormation: CloudFormationClient;
  readonly out: CliOutput;
  readonly home?: string;
}

/** `kubeconfig <stack> <version> [--output FILE]`; returns the exit code. */
export async function kubeconfig(argv: readonly string[], deps: KubeconfigDeps): Promise<number> {
  try {
    const args = parseClusterArgs(argv, KUBECONFIG_USAGE, true);
    if (args.help) {
      deps.out.stdout(`${KUBECONFIG_USAGE}\n`);
      return 0;
    }
    const apiUrl = await readApiUrl(deps.cloudFormation, args.cluster);
    const token = await readAdminToken(deps.secretsManager, args.cluster);
    const text = renderKubeconfig({ cluster: args.cluster, apiUrl, token });
    if (args.output === '-') {
      deps.out.stdout(text);
      return 0;
    }
    const file = args.output ?? defaultKubeconfigPath(args.cluster, deps.home);
    await mkdir(path.dirname(file), { recursive: true, mode: KUBE_DIR_MODE });
    await writeFile(file, text, { mode: KUBECONFIG_FILE_MODE });
    await chmod(file, KUBECONFIG_FILE_MODE); // writeFile's mode only applies to a new file
    deps.out.stderr(`Wrote ${file}. Use it with: export KUBECONFIG=${file}\n`);
    return 0;
  } catch (error) {
    return reportFailure(error, deps.out.stderr);
  }
}
