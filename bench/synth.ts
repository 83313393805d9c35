/**
 * Times the synth of the example cluster (bin/kubernetes-on-aws.ts with cdk.json's context)
 * beside a bare CDK app with one empty stack, in the same run, each started the way
 * `cdk synth` starts the app. Prints the medians and their ratio, and the cluster's synth from an
 * empty build cache (lib/build/content-cache.ts); then the synth with 1, 5 and 20 worker pools
 * (test/fixtures/worker-pools.ts), the first time (new templates to validate) and again, with
 * the worker template's size.
 *
 *   npx ts-node --transpile-only bench/synth.ts [runs]
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { manyPools } from '../test/fixtures/worker-pools';

const root = path.join(__dirname, '..');
const runs = Number(process.argv[2] ?? 5);
const context = JSON.parse(fs.readFileSync(path.join(root, 'cdk.json'), 'utf8')).context;

function timeApp(entry: string, appContext: object, inspect?: (outdir: string) => void): number {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-synth-'));
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [require.resolve('ts-node/dist/bin'), '--transpile-only', entry], {
    cwd: root,
    env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(appContext), CDK_OUTDIR: outdir },
    encoding: 'utf8',
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`${entry} failed:\n${result.stderr}`);
  inspect?.(outdir);
  fs.rmSync(outdir, { recursive: true, force: true });
  return seconds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Once from an empty cache (a fresh clone, or the first synth after a change of the sources or
// the lock file), then the runs compared: synths of unchanged sources, as `cdk diff` makes.
fs.rmSync(path.join(root, 'node_modules', '.cache', 'kubernetes-on-aws'), { recursive: true, force: true });
const cold = timeApp(path.join(root, 'bin', 'kubernetes-on-aws.ts'), context);

const cluster: number[] = [];
const bare: number[] = [];
// Alternate the two so that a busy moment of the machine weighs on both alike.
for (let i = 0; i < runs; i++) {
  // No context for the bare app: an empty stack is what CloudFormation validation refuses.
  bare.push(timeApp(path.join(root, 'bench', 'bare-app.ts'), {}));
  cluster.push(timeApp(path.join(root, 'bin', 'kubernetes-on-aws.ts'), context));
}
const [c, b] = [median(cluster), median(bare)];
console.log(`runs: ${runs} each, alternating`);
console.log(`bare app (one empty stack): median ${b.toFixed(2)} s`);
console.log(`example cluster (3 stacks): median ${c.toFixed(2)} s`);
console.log(`ratio cluster / bare: ${(c / b).toFixed(2)}x`);
console.log(`example cluster from an empty cache (bundles built, templates validated): ${cold.toFixed(2)} s`);

// Worker pools: does synth time grow linearly with the pools?
console.log('worker pools: first synth (templates new to the cache) / median of the next runs; worker template');
for (const count of [1, 5, 20]) {
  const poolsContext = { ...context, workerPools: manyPools(count) };
  let stats = '';
  const first = timeApp(path.join(root, 'bin', 'kubernetes-on-aws.ts'), poolsContext, (outdir) => {
    const template = fs.readFileSync(path.join(outdir, `${context.stack}-${context.version}-worker.template.json`), 'utf8');
    stats = `${Object.keys(JSON.parse(template).Resources).length} resources, ${(template.length / 1024).toFixed(0)} KiB`;
  });
  const again = median(Array.from({ length: Math.max(1, Math.min(runs, 3)) }, () => timeApp(path.join(root, 'bin', 'kubernetes-on-aws.ts'), poolsContext)));
  console.log(`  ${String(count).padStart(2)} pools: ${first.toFixed(2)} s / ${again.toFixed(2)} s; ${stats}`);
}
