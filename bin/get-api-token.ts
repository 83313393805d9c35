import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { getApiToken } from '../lib/cli/api-token';
import { PROCESS_OUTPUT } from '../lib/cli/output';

/** `get-api-token <stack> <version>`: prints the cluster's break-glass admin token. Resolves to the exit code. */
export function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  return getApiToken(argv, { secretsManager: new SecretsManagerClient({}), cloudFormation: new CloudFormationClient({}) }, PROCESS_OUTPUT);
}
