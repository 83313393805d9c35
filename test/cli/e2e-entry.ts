import { runE2e } from '../../lib/cli/e2e/e2e-command';

// Test-only entry for `kube-aws e2e` in a child process (fixtures/e2e/run-e2e.cjs runs it with
// ts-node, as bin/kube-aws.js runs the CLI): the production wiring, with the load balancer's URL
// replaced by $KUBE_AWS_E2E_TEST_LB_URL (a local HTTP server) when set, since no fake can answer
// on the ELB's name and port 80. Every other dependency is the real one: the address the fake
// cluster gives is still checked (loadBalancerHost) before this URL is used. The production CLI
// has no such way in: bin/kube-aws.ts calls runE2e without overrides, and no option sets it.

export function main(argv: readonly string[]): Promise<number> {
  const lbUrl = process.env.KUBE_AWS_E2E_TEST_LB_URL;
  return runE2e(argv, lbUrl ? { loadBalancerUrl: () => lbUrl } : {});
}
