/**
 * Can the etcd discovery test run here? It needs root (network namespaces, port 53), the
 * `ip netns` of iproute2, etcd, etcdctl and dnsmasq. CI installs them all (.ci/run), so in CI
 * a missing one is a failure; elsewhere the test is skipped with a loud warning.
 */
import { spawnSync } from 'child_process';
import { findTool } from './tools';

export const REQUIRED_TOOLS = ['ip', 'etcd', 'etcdctl', 'dnsmasq'] as const;

/** `CI=true` (or 1), as CI systems and .ci/run's environment set it. */
export function inCi(): boolean {
  return ['true', '1'].includes((process.env.CI ?? '').toLowerCase());
}

/** What is missing, one reason per entry; empty when the test can run. */
export function missingPrerequisites(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('not running as root (network namespaces need it)');
  for (const name of REQUIRED_TOOLS) {
    if (!findTool(name)) missing.push(`${name} is not installed (apt-get install etcd-server etcd-client dnsmasq-base iproute2)`);
  }
  if (missing.length === 0) {
    // The real thing, briefly: containers without CAP_SYS_ADMIN have `ip` but no namespaces.
    const probe = `kaws-etcd-${process.pid}-probe`;
    const added = spawnSync(findTool('ip')!, ['netns', 'add', probe], { encoding: 'utf8' });
    if (added.status !== 0) missing.push(`cannot create a network namespace: ${added.stderr.trim() || added.error?.message}`);
    else spawnSync(findTool('ip')!, ['netns', 'del', probe]);
  }
  return missing;
}
