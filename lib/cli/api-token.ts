import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AdminBundle } from '../secrets/bundles';
import { ClusterSecretNames } from '../../userdata/secret-names';
import { parseClusterArgs } from './args';
import { CliError, explainAwsError, reportFailure } from './errors';
import { CliOutput } from './output';

export const GET_API_TOKEN_USAGE = 'Usage: get-api-token <stack> <version>   (prints the admin token of cluster <stack>-<version>)';

/** The admin token of `cluster`, from its admin secret. */
export async function readAdminToken(client: SecretsManagerClient, cluster: string): Promise<string> {
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

/** `get-api-token <stack> <version>`: prints the token; returns the exit code. */
export async function getApiToken(argv: readonly string[], client: SecretsManagerClient, out: CliOutput): Promise<number> {
  try {
    const args = parseClusterArgs(argv, GET_API_TOKEN_USAGE, false);
    if (args.help) {
      out.stdout(`${GET_API_TOKEN_USAGE}\n`);
      return 0;
    }
    out.stdout(`${await readAdminToken(client, args.cluster)}\n`);
    return 0;
  } catch (error) {
    return reportFailure(error, out.stderr);
  }
}
