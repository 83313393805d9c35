import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { kubeconfig } from '../lib/cli/kubeconfig';
import { PROCESS_OUTPUT } from '../lib/cli/output';

/** `kubeconfig <stack> <version> [--output FILE]`: writes an admin kubeconfig. Resolves to the exit code. */
export function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  return kubeconfig(argv, {
    secretsManager: new SecretsManagerClient({}),
    cloudFormation: new CloudFormationClient({}),
    out: PROCESS_OUTPUT,
  });
}
