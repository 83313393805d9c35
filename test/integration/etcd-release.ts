/**
 * Which etcd the real-etcd tests run. Production runs the pinned 3.5 release; Debian
 * bookworm's etcd-server is 3.4. `.ci/fetch-etcd-3.5` unpacks Debian trixie's 3.5 packages
 * into {@link ETCD_35_DIR}: the tests use that when it is there and 3.4 from the system
 * otherwise. In CI, 3.4 is a failure unless the fetch failed and wrote down why
 * (`FETCH-FAILED` in that directory), so a silent fallback cannot hide a 3.5-only behaviour.
 */
import { spawnSync } from 'child_process';
import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import { findTool } from './tools';

/** Where `.ci/fetch-etcd-3.5` installs (its ETCD_35_DIR default). */
export const ETCD_35_DIR = process.env.ETCD_35_DIR ?? '/opt/etcd-3.5';
const FETCH_FAILED = join(ETCD_35_DIR, 'FETCH-FAILED');

export type EtcdBinary = 'etcd' | 'etcdctl';

export interface EtcdRelease {
  /** `etcd --version`, e.g. `3.5.16`. */
  readonly version: string;
  /** Where it comes from, for the test output. */
  readonly source: string;
  readonly etcd: string;
  readonly etcdctl: string;
  /** The offline tool (snapshot status and restore), 3.5 and later only; the member hosts need it. */
  readonly etcdutl?: string;
  /** Why it is not 3.5 (undefined when it is). */
  readonly fallbackReason?: string;
}

let cached: EtcdRelease | undefined | null = null;

/** The etcd under test: 3.5 from {@link ETCD_35_DIR} when installed, else the system's; undefined when neither is. */
export function etcdRelease(): EtcdRelease | undefined {
  if (cached !== null) return cached;
  const fetchedTool = (name: string) => join(ETCD_35_DIR, 'usr/bin', name);
  const fetched = {
    etcd: fetchedTool('etcd'),
    etcdctl: fetchedTool('etcdctl'),
    etcdutl: existsSync(fetchedTool('etcdutl')) ? fetchedTool('etcdutl') : undefined,
  };
  const fetchedVersion = existsSync(fetched.etcd) && existsSync(fetched.etcdctl) ? versionOf(fetched.etcd) : undefined;
  if (fetchedVersion?.startsWith('3.5.')) {
    cached = { version: fetchedVersion, source: `Debian trixie packages in ${ETCD_35_DIR}`, ...fetched };
  } else {
    const system = { etcd: findTool('etcd'), etcdctl: findTool('etcdctl') };
    const systemVersion = system.etcd && system.etcdctl ? versionOf(system.etcd) : undefined;
    const failed = existsSync(FETCH_FAILED) ? readFileSync(FETCH_FAILED, 'utf8').trim() : undefined;
    cached =
      systemVersion === undefined
        ? undefined
        : {
            version: systemVersion,
            source: `the system (${system.etcd})`,
            etcd: system.etcd!,
            etcdctl: system.etcdctl!,
            fallbackReason: failed
              ? `.ci/fetch-etcd-3.5 failed: ${failed}`
              : `no etcd 3.5 in ${ETCD_35_DIR} (run .ci/fetch-etcd-3.5 as root)${fetchedVersion ? `; found ${fetchedVersion}` : ''}`,
          };
  }
  return cached;
}

/** Why this run may not use the release it found, in CI: 3.4 without a recorded fetch failure. */
export function releaseProblem(release: EtcdRelease, ci: boolean): string | undefined {
  if (!release.fallbackReason || !ci) return undefined;
  if (existsSync(FETCH_FAILED)) return undefined; // stated reason: run on 3.4 and say so
  return `CI must test etcd 3.5 like production, but ${release.fallbackReason}`;
}

/** The absolute path of `etcd` or `etcdctl` of the release under test. */
export function etcdTool(name: EtcdBinary): string {
  const release = etcdRelease();
  if (!release) throw new Error('no etcd installed (run .ci/fetch-etcd-3.5, or apt-get install etcd-server etcd-client)');
  return release[name];
}

/** One line for the test output: which etcd runs. */
export function describeRelease(release: EtcdRelease): string {
  return `etcd ${release.version} from ${release.source}${release.fallbackReason ? ` -- NOT the 3.5 production runs: ${release.fallbackReason}` : ''}`;
}

function versionOf(binary: string): string | undefined {
  const result = spawnSync(binary, ['--version'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' }, timeout: 10000 });
  return /^etcd Version: (\S+)/m.exec(result.stdout ?? '')?.[1];
}
