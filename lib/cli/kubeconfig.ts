import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { dump } from 'js-yaml';
import { awsGetTokenExec } from '../../userdata/kubeconfig';
import { readBreakGlassToken } from './api-token';
import { readMasterStack } from './master-stack';
import { parseClusterArgs } from './args';
import { reportFailure } from './errors';
import { CliOutput } from './output';

export const KUBECONFIG_USAGE =
  'Usage: kubeconfig <stack> <version> [--output FILE] [--admin-token]\n' +
  '  Writes a kubeconfig for cluster <stack>-<version> to FILE, by default\n' +
  '  ~/.kube/<stack>-<version>.yaml; "-" prints it instead. It signs in with your AWS\n' +
  '  identity (aws eks get-token), which needs the AWS CLI and your IAM role or user in one\n' +
  '  of the cluster\'s *RoleArns settings. --admin-token writes the break-glass admin token\n' +
  '  instead (a secret in the file: for when IAM sign-in is not possible).';

/** The flag that writes the break-glass admin token instead of the IAM sign-in. */
export const ADMIN_TOKEN_FLAG = 'admin-token';

/** The kubeconfig holds a bearer token: readable by its owner only. */
const KUBECONFIG_FILE_MODE = 0o600;
const KUBE_DIR_MODE = 0o700;

/** How the kubeconfig's user signs in: the break-glass admin token, or the user's own AWS identity. */
export type KubeconfigCredential =
  | { readonly kind: 'admin-token'; readonly token: string }
  | { readonly kind: 'iam'; readonly region: string; readonly clusterGroup: string };

/** What a kubeconfig is made of. */
export interface KubeconfigInput {
  readonly cluster: string;
  readonly apiUrl: string;
  readonly credential: KubeconfigCredential;
}

/**
 * A kubeconfig with one cluster, user and context, all named after the cluster. No
 * certificate-authority-data: the API's load balancer presents an ACM certificate from
 * a public CA, which the system trust store verifies.
 */
export function renderKubeconfig(input: KubeconfigInput): string {
  const { credential } = input;
  const user = credential.kind === 'admin-token' ? `${input.cluster}-admin` : `${input.cluster}-iam`;
  return dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: input.cluster, cluster: { server: input.apiUrl } }],
    users: [{ name: user, user: credential.kind === 'admin-token' ? { token: credential.token } : { exec: awsGetTokenExec('aws', credential.clusterGroup, credential.region) } }],
    contexts: [{ name: input.cluster, context: { cluster: input.cluster, user } }],
    'current-context': input.cluster,
  });
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
    const args = parseClusterArgs(argv, KUBECONFIG_USAGE, true, [ADMIN_TOKEN_FLAG]);
    if (args.help) {
      deps.out.stdout(`${KUBECONFIG_USAGE}\n`);
      return 0;
    }
    const facts = await readMasterStack(deps.cloudFormation, args.cluster);
    // The break-glass token only when asked for: without it the file holds no secret.
    const credential: KubeconfigCredential = args.flags.has(ADMIN_TOKEN_FLAG)
      ? { kind: 'admin-token', token: await readBreakGlassToken(deps.secretsManager, facts, args.cluster) }
      : { kind: 'iam', region: facts.region, clusterGroup: facts.clusterGroup };
    const { apiUrl } = facts;
    const text = renderKubeconfig({ cluster: args.cluster, apiUrl, credential });
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
