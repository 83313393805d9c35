/**
 * The code of our Lambda functions, bundled by esbuild in this process (no child process per
 * function) and once per content (lib/build/content-cache.ts): the key covers the bundler's
 * options, the entry, every source file of the app and the lock file, so any change that could
 * change a bundle makes a new one. The output is a plain asset directory: CloudFormation sees
 * the same content hash for the same bundle, whoever built it.
 *
 * Options as aws-lambda-nodejs gives a Node.js 22 function (aws-cdk-lib NodejsFunction:
 * CommonJS, target node22, the runtime's AWS SDK v3 left out as `@aws-sdk/*`).
 */
import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { BuildOptions, buildSync, version as esbuildVersion } from 'esbuild';
import { appRelative, cachedDirectory, hashOfSources } from '../build/content-cache';

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

/** The directory holding `index.js`, the bundle of `entry`: from the cache, or built into it. */
export function bundleHandler(entry: string): string {
  const key = { options: BUILD_OPTIONS, esbuild: esbuildVersion, entry: appRelative(entry), sources: hashOfSources() };
  return cachedDirectory('lambda', path.basename(path.dirname(entry)), key, 'index.js', (dir) => {
    const result = buildSync({ ...BUILD_OPTIONS, entryPoints: [entry], outfile: path.join(dir, 'index.js') });
    if (result.errors.length > 0) throw new Error(`bundling ${entry} failed: ${result.errors.map((e) => e.text).join('; ')}`);
  });
}

/** Lambda code for the `handler` export of a TypeScript `entry` file (handler `index.handler`). */
export function bundledHandlerCode(entry: string): lambda.Code {
  return lambda.Code.fromAsset(bundleHandler(entry));
}
