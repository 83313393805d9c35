import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { AWS_REQUEST_HANDLER } from '../lib/cli/aws-request-handler';
import { KubeAwsCommand, kubeAws } from '../lib/cli/kube-aws';
import { PROCESS_OUTPUT } from '../lib/cli/output';

/**
 * The `main` of a sibling bin module, by its .ts file: `./kubeconfig` alone would resolve to
 * the npx entry point kubeconfig.js, which runs the command on load.
 */
function binMain(file: 'get-api-token.ts' | 'kubeconfig.ts'): KubeAwsCommand['run'] {
  return (argv) => (require(`./${file}`) as typeof import('./kubeconfig')).main(argv);
}

const COMMANDS: Readonly<Record<string, KubeAwsCommand>> = {
  validate: {
    summary: 'checks that a cluster is healthy: API server, etcd, nodes, add-ons, certificates',
    run: async (argv) => {
      // Loaded here only: the Kubernetes client is ESM, loaded through require() (Node >= 20.19).
      const { connectCluster, iamSignIn } = await import('../lib/cli/validate/cluster-api');
      const { validate } = await import('../lib/cli/validate/validate');
      const cloudFormation = new CloudFormationClient({ requestHandler: AWS_REQUEST_HANDLER });
      return validate(argv, {
        cloudFormation,
        autoScaling: new AutoScalingClient({ requestHandler: AWS_REQUEST_HANDLER }),
        cloudWatch: new CloudWatchClient({ requestHandler: AWS_REQUEST_HANDLER }),
        // The default credential chain, as the other clients use it.
        signIn: (facts) => iamSignIn(cloudFormation.config.credentials, facts.clusterGroup, facts.region),
        connect: (apiUrl, token, requestTimeoutMs) => connectCluster({ apiUrl, token, requestTimeoutMs }),
        out: PROCESS_OUTPUT,
      });
    },
  },
  e2e: {
    summary: 'runs the end-to-end suite against a cluster (in a namespace it deletes after)',
    run: async (argv) => (await import('../lib/cli/e2e/e2e-command')).runE2e(argv),
  },
  kubeconfig: { summary: 'writes a kubeconfig for a cluster', run: binMain('kubeconfig.ts') },
  'get-api-token': { summary: "prints a cluster's break-glass admin token", run: binMain('get-api-token.ts') },
};

/** `kube-aws <command> ...`: the project's CLI. Resolves to the exit code. */
export function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  return kubeAws(argv, COMMANDS, PROCESS_OUTPUT);
}
