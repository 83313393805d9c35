import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AdminBundle } from '../secrets/bundles';
import { ClusterSecretNames } from '../../userdata/secret-names';
import { parseClusterArgs } from './args';
import { CliError, explainAwsError, reportFailure } from './errors';
import { BREAK_GLASS_OUTPUT } from '../stack-outputs';
import { MasterStackFacts, readMasterStack } from './master-stack';
import { CliOutput } from './output';

export const GET_API_TOKEN_USAGE = 'Usage: get-api-token <stack> <version>   (prints the break-glass admin token of cluster <stack>-<version>, when it accepts one)';

/**
 * The break-glass admin token of `cluster`, refused with what to do when its API servers do
 * not accept it (context breakGlassAdminToken, off by default): a token that works nowhere
 * would only leave a secret lying in a file.
 */
export async function readBreakGlassToken(client: SecretsManagerClient, facts: MasterStackFacts, cluster: string): Promise<string> {
  if (!facts.breakGlassAdminToken) {
    throw new CliError(
      `Cluster ${cluster} does not accept its break-glass admin token (stack ${cluster}-master: ${BREAK_GLASS_OUTPUT} is disabled). ` +
        'Sign in with your AWS identity instead (npx kubeconfig without --admin-token), or deploy with --context breakGlassAdminToken=true first.',
    );
  }
  return readAdminToken(client, cluster);
}

/** The admin token of `cluster`, from its admin secret. */
async function readAdminToken(client: SecretsManagerClient, cluster: string): Promise<string> {
  const secretName = new ClusterSecretNames(cluster).admin;
  let secretString: string | undefined;
  try {
    secretString = (await client.send(new GetSecretValueCommand({ SecretId: secretName }))).SecretString;
  } catch (error) {
    throw explainAwsError(error, { cluster, resource: `secret ${secretName}` });
  }
  const token = adminTokenOf(secretString);
  if (token === undefined) {
    throw new CliError(`Secret ${secretName} holds no admin-token: the cluster's secrets were not generated (see lib/secrets/README.md).`);
  }
  return token;
}

function adminTokenOf(secretString: string | undefined): string | undefined {
  try {
    const token = (JSON.parse(secretString ?? '') as Partial<AdminBundle>)['admin-token'];
    return typeof token === 'string' && token !== '' ? token : undefined;
  } catch {
    return undefined; // not JSON: the caller reports it like a missing token
  }
}

/** The AWS clients `get-api-token` uses (tests inject them). */
export interface ApiTokenClients {
  readonly secretsManager: SecretsManagerClient;
  readonly cloudFormation: CloudFormationClient;
}

/** `get-api-token <stack> <version>`: prints the token; returns the exit code. */
export async function getApiToken(argv: readonly string[], clients: ApiTokenClients, out: CliOutput): Promise<number> {
  try {
    const args = parseClusterArgs(argv, GET_API_TOKEN_USAGE, false);
    if (args.help) {
      out.stdout(`${GET_API_TOKEN_USAGE}\n`);
      return 0;
    }
    const facts = await readMasterStack(clients.cloudFormation, args.cluster);
    out.stdout(`${await readBreakGlassToken(clients.secretsManager, facts, args.cluster)}\n`);
    return 0;
  } catch (error) {
    return reportFailure(error, out.stderr);
  }
}
