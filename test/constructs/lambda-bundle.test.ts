/**
 * Lambda bundles are made once per content: the second synth of the same sources reuses the
 * first one's bundle (no esbuild run), and the bundle is a working CommonJS module with the
 * `handler` export the functions name (`index.handler`).
 */
import * as fs from 'fs';
import * as path from 'path';
import { bundleHandler } from '../../lib/constructs/lambda-bundle';

const ENTRY = path.join(__dirname, '..', '..', 'lib', 'version-guard', 'handler.ts');

describe('bundleHandler', () => {
  test('bundles an entry once: the same sources give the same directory, untouched on the second call', () => {
    const dir = bundleHandler(ENTRY);
    const written = fs.statSync(path.join(dir, 'index.js')).mtimeMs;
    expect(bundleHandler(ENTRY)).toBe(dir);
    expect(fs.statSync(path.join(dir, 'index.js')).mtimeMs).toBe(written);
    expect(path.basename(dir)).toMatch(/^version-guard-[0-9a-f]{32}$/);
  });

  test('another entry is another bundle', () => {
    expect(bundleHandler(path.join(__dirname, '..', '..', 'lib', 'leftovers', 'handler.ts'))).not.toBe(bundleHandler(ENTRY));
  });

  test('the bundle exports `handler` and leaves the runtime\'s AWS SDK out', () => {
    const file = path.join(bundleHandler(ENTRY), 'index.js');
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toContain('require("@aws-sdk/client-cloudformation")');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundled = require(file) as { handler: unknown; upgradeProblem: (a: string, b: string) => string | undefined };
    expect(typeof bundled.handler).toBe('function');
    expect(bundled.upgradeProblem('v1.35.1', 'v1.37.0')).toMatch(/skips a minor version/);
  });
});
