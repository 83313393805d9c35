/**
 * Work done once per content: a build whose inputs have not changed since the last synth (or
 * the last test that synthesized) is read back from node_modules/.cache/kubernetes-on-aws
 * instead of being done again. The caller names everything the result depends on in its key;
 * a different key is a different entry, so nothing is ever stale, only unused.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
export const CACHE_ROOT = path.join(ROOT, 'node_modules', '.cache', 'kubernetes-on-aws');
/** The app's own sources a build can contain; node_modules is covered by the lock file. */
const SOURCE_DIRS = ['lib', 'manifests', 'userdata', 'webhook'];

let sourcesHash: string | undefined;

/** One hash of every source file of the app and the lock file, computed once per process. */
export function hashOfSources(): string {
  if (sourcesHash !== undefined) return sourcesHash;
  const hash = createHash('sha256');
  const visit = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(file);
      else if (/\.(ts|js|json)$/.test(entry.name)) hash.update(path.relative(ROOT, file)).update('\0').update(fs.readFileSync(file)).update('\0');
    }
  };
  for (const dir of SOURCE_DIRS) visit(path.join(ROOT, dir));
  hash.update(fs.readFileSync(path.join(ROOT, 'package-lock.json')));
  sourcesHash = hash.digest('hex');
  return sourcesHash;
}

/** The path of `file` relative to the app's root, for keys that must not depend on the checkout's place. */
export function appRelative(file: string): string {
  return path.relative(ROOT, file);
}

/**
 * The directory `<kind>/<name>-<hash of key>`: as cached, or made by `build`, which fills the
 * empty directory it is given. `done` is a file `build` always writes; a directory without
 * it is not an entry.
 */
export function cachedDirectory(kind: string, name: string, key: unknown, done: string, build: (dir: string) => void): string {
  const digest = createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 32);
  const dir = path.join(CACHE_ROOT, kind, `${name}-${digest}`);
  if (fs.existsSync(path.join(dir, done))) return dir;
  // Built aside and renamed into place: a parallel test worker never sees half an entry.
  const building = `${dir}.building-${process.pid}`;
  fs.rmSync(building, { recursive: true, force: true });
  fs.mkdirSync(building, { recursive: true });
  try {
    build(building);
    if (!fs.existsSync(path.join(building, done))) throw new Error(`the ${kind} build of ${name} did not write ${done}`);
  } catch (error) {
    fs.rmSync(building, { recursive: true, force: true });
    throw error;
  }
  try {
    fs.renameSync(building, dir);
  } catch (error) {
    // Another process put the same entry there first.
    fs.rmSync(building, { recursive: true, force: true });
    if (!fs.existsSync(path.join(dir, done))) throw error;
  }
  return dir;
}
