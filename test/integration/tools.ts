/**
 * Where the host tools of the real-etcd tests are (Debian packages etcd-server,
 * etcd-client, dnsmasq-base, iproute2: what .ci/run installs). Looked up in the usual system
 * directories, not PATH: the test runs them as root, often with a minimal PATH.
 */
import { existsSync } from 'fs';

const SYSTEM_DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The absolute path of `name`, or undefined when it is not installed. */
export function findTool(name: string): string | undefined {
  return SYSTEM_DIRS.map((dir) => `${dir}/${name}`).find((path) => existsSync(path));
}

/** The absolute path of `name`; throws when missing (check prerequisites first). */
export function tool(name: string): string {
  const path = findTool(name);
  if (!path) throw new Error(`${name} is not installed (looked in ${SYSTEM_DIRS.join(', ')})`);
  return path;
}
