import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { AWS_REQUEST_HANDLER } from '../aws-request-handler';
import { PROCESS_OUTPUT } from '../output';
import { connectCluster, iamSignIn } from '../validate/cluster-api';
import { e2e, E2eDeps } from './e2e';
import { e2eClusterOf } from './e2e-api';

// Loads @kubernetes/client-node (through cluster-api.ts and e2e-api.ts): import this module only
// when the command runs, as the dispatcher does validate's.

/**
 * `kube-aws e2e` with the real AWS clients, sign-in and API connection; `overrides` replaces any
 * of them (the test entry points the load balancer at a local server).
 */
export function runE2e(argv: readonly string[], overrides: Partial<E2eDeps> = {}): Promise<number> {
  const cloudFormation = new CloudFormationClient({ requestHandler: AWS_REQUEST_HANDLER });
  return e2e(argv, {
    cloudFormation,
    // The default credential chain, as the CloudFormation client uses it.
    signIn: (facts) => iamSignIn(cloudFormation.config.credentials, facts.clusterGroup, facts.region),
    connect: (apiUrl, token, requestTimeoutMs) => e2eClusterOf(connectCluster({ apiUrl, token, requestTimeoutMs }), apiUrl, requestTimeoutMs),
    out: PROCESS_OUTPUT,
    ...overrides,
  });
}
