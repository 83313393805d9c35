/**
 * Can the real-etcd tests run here? They need root (network namespaces, port 53), the
 * `ip netns` of iproute2, dnsmasq, and etcd with etcdctl (3.5: see etcd-release.ts). CI
 * installs them all (.ci/run), so in CI a missing one is a failure; elsewhere the tests are
 * skipped with a loud warning.
 */
import { spawnSync } from 'child_process';
import { etcdRelease, releaseProblem } from './etcd-release';
import { findTool } from './tools';

export const REQUIRED_TOOLS = ['ip', 'dnsmasq'] as const;

/** `CI=true` (or 1), as CI systems and .ci/run's environment set it. */
export function inCi(): boolean {
  return ['true', '1'].includes((process.env.CI ?? '').toLowerCase());
}

/** What is missing, one reason per entry; empty when the test can run. */
export function missingPrerequisites(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('not running as root (network namespaces need it)');
  for (const name of REQUIRED_TOOLS) {
    if (!findTool(name)) missing.push(`${name} is not installed (apt-get install dnsmasq-base iproute2)`);
  }
  const release = etcdRelease();
  if (!release) missing.push('no etcd installed (run .ci/fetch-etcd-3.5 as root, or apt-get install etcd-server etcd-client)');
  const problem = release && releaseProblem(release, inCi());
  if (problem) missing.push(problem);
  if (missing.length === 0) {
    // The real thing, briefly: containers without CAP_SYS_ADMIN have `ip` but no namespaces.
    const probe = `kaws-etcd-${process.pid}-probe`;
    const added = spawnSync(findTool('ip')!, ['netns', 'add', probe], { encoding: 'utf8' });
    if (added.status !== 0) missing.push(`cannot create a network namespace: ${added.stderr.trim() || added.error?.message}`);
    else spawnSync(findTool('ip')!, ['netns', 'del', probe]);
  }
  return missing;
}

/**
 * `describe(title, body)` when the prerequisites are there; in CI without them, one failing
 * test that says what is missing; elsewhere a skip with a loud warning.
 */
export function describeWithRealEtcd(title: string, body: () => void): void {
  const missing = missingPrerequisites();
  if (missing.length > 0 && inCi()) {
    describe(title, () => {
      test('has its prerequisites in CI', () => {
        throw new Error(`CI must run the real-etcd tests, but: ${missing.join('; ')}. .ci/run installs them as root.`);
      });
    });
    return;
  }
  if (missing.length > 0) console.warn(`SKIPPING "${title}" (it runs in CI): ${missing.join('; ')}`);
  (missing.length === 0 ? describe : describe.skip)(title, body);
}
