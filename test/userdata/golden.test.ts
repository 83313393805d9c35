/**
 * Golden files: each role's config, rendered from the literal inputs of fixtures.ts, pulled
 * apart into readable files under __golden__/<role>/ (every unit, drop-in and file its own
 * file, plus summary.txt with modes, owners, sources and the size). Review them in diffs.
 *
 * To rewrite them on purpose after a change: UPDATE_GOLDEN=1 npx jest test/userdata/golden
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { dirname, join, relative } from 'path';
import { etcdConfig } from '../../userdata/etcd';
import { IgnitionConfig } from '../../userdata/ignition';
import { masterConfig } from '../../userdata/master';
import { stubConfig } from '../../userdata/stub';
import { workerConfig } from '../../userdata/worker';
import { explode } from './config-files';
import { etcdInput, masterInput, stubAsset, workerInput } from './fixtures';

const GOLDEN_DIR = join(__dirname, '__golden__');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

function readTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.set(relative(dir, path), readFileSync(path, 'utf8'));
    }
  };
  try {
    walk(dir);
  } catch {
    // no golden files yet: the comparison below reports every file as missing
  }
  return out;
}

function writeTree(dir: string, tree: Map<string, string>): void {
  rmSync(dir, { recursive: true, force: true });
  for (const [path, text] of tree) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

const scenarios: [string, () => IgnitionConfig][] = [
  ['etcd', () => etcdConfig(etcdInput)],
  ['master', () => masterConfig(masterInput)],
  ['worker', () => workerConfig(workerInput)],
  ['stub', () => stubConfig(stubAsset)],
];

describe.each(scenarios)('%s golden files', (role, render) => {
  test(`match __golden__/${role}/ (UPDATE_GOLDEN=1 rewrites them)`, () => {
    // GIVEN
    const dir = join(GOLDEN_DIR, role);
    const rendered = explode(render());
    if (role === 'stub') rendered.set('user-data.json', `${JSON.stringify(render(), null, 2)}\n`);
    // WHEN
    if (UPDATE) writeTree(dir, rendered);
    const golden = readTree(dir);
    // THEN: same files, same contents (compared one by one for a readable diff)
    expect([...golden.keys()].sort()).toEqual([...rendered.keys()].sort());
    for (const [path, text] of rendered) {
      expect({ path, text: golden.get(path) }).toEqual({ path, text });
    }
  });
});
