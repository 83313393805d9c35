/**
 * The code of our Lambda functions, bundled by esbuild in this process (no child process per
 * function) and once per content: the bundle of an entry is kept under
 * node_modules/.cache/kubernetes-on-aws/lambda/<key>, and a synth (or a test that
 * synthesizes) whose sources have not changed reuses it. The key covers the bundler's
 * options, the entry, every source file of the app and the lock file, so any change that could
 * change a bundle makes a new one. The output is a plain asset directory: CloudFormation sees
 * the same content hash for the same bundle, whoever built it.
 *
 * Options as aws-lambda-nodejs gives a Node.js 22 function (aws-cdk-lib NodejsFunction:
 * CommonJS, target node22, the runtime's AWS SDK v3 left out as `@aws-sdk/*`).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { BuildOptions, buildSync, version as esbuildVersion } from 'esbuild';

const ROOT = path.join(__dirname, '..', '..');
/** The app's sources a bundle can contain; node_modules is covered by the lock file. */
const SOURCE_DIRS = ['lib', 'manifests', 'userdata', 'webhook'];
const CACHE_DIR = path.join(ROOT, 'node_modules', '.cache', 'kubernetes-on-aws', 'lambda');

const BUILD_OPTIONS: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  external: ['@aws-sdk/*'],
  minify: false,
  sourcemap: false,
  logLevel: 'silent',
};

let sourcesHash: string | undefined;

/** One hash of every source file and the lock file, computed once per process. */
function hashOfSources(): string {
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

/** The directory holding `index.js`, the bundle of `entry`: from the cache, or built into it. */
export function bundleHandler(entry: string): string {
  const key = createHash('sha256')
    .update(JSON.stringify({ options: BUILD_OPTIONS, esbuild: esbuildVersion, entry: path.relative(ROOT, entry), sources: hashOfSources() }))
    .digest('hex')
    .slice(0, 32);
  const dir = path.join(CACHE_DIR, `${path.basename(path.dirname(entry))}-${key}`);
  if (fs.existsSync(path.join(dir, 'index.js'))) return dir;
  // Built aside and renamed into place: a parallel test worker never sees half a bundle.
  const building = `${dir}.building-${process.pid}`;
  fs.rmSync(building, { recursive: true, force: true });
  const result = buildSync({ ...BUILD_OPTIONS, entryPoints: [entry], outfile: path.join(building, 'index.js') });
  if (result.errors.length > 0) throw new Error(`bundling ${entry} failed: ${result.errors.map((e) => e.text).join('; ')}`);
  try {
    fs.renameSync(building, dir);
  } catch (error) {
    // Another process put the same bundle there first.
    fs.rmSync(building, { recursive: true, force: true });
    if (!fs.existsSync(path.join(dir, 'index.js'))) throw error;
  }
  return dir;
}

/** Lambda code for the `handler` export of a TypeScript `entry` file (handler `index.handler`). */
export function bundledHandlerCode(entry: string): lambda.Code {
  return lambda.Code.fromAsset(bundleHandler(entry));
}
