import { buildSync } from 'esbuild';
import { chmodSync, mkdirSync } from 'fs';
import * as path from 'path';

export const BUNDLE_FILE_NAME = 'kube-auth-webhook.js';

/**
 * Bundles the webhook server into one dependency-free file, `<outDir>/kube-auth-webhook.js`,
 * for masters to run with a pinned Node image: nothing to build or install at boot.
 * The output is deterministic, so the asset hash (and the masters) only change when the
 * code does. Returns the file's path.
 */
export function bundleWebhookServer(outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  const outfile = path.join(outDir, BUNDLE_FILE_NAME);
  const result = buildSync({
    stdin: {
      // The entry point: run the CLI and exit with its code.
      contents: "require('./cli').main(process.argv.slice(2)).then((code) => { process.exitCode = code; });",
      resolveDir: __dirname,
      sourcefile: 'kube-auth-webhook-entry.js',
      loader: 'js',
    },
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: false,
    sourcemap: false,
    legalComments: 'inline',
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'silent',
  });
  if (result.errors.length > 0) throw new Error(`bundling the webhook failed: ${result.errors.map((e) => e.text).join('; ')}`);
  chmodSync(outfile, 0o755);
  return outfile;
}
