/**
 * Synthesizing loads no AWS SDK client: the stacks share only names with the code that calls
 * AWS (lib/stack-outputs.ts, webhook/identities.ts), and an SDK client costs a synth hundreds of
 * milliseconds to load.
 */
import { execFileSync } from 'child_process';
import * as path from 'path';

test('the app\'s modules load no @aws-sdk package', () => {
  const root = path.join(__dirname, '..', '..');
  const loaded = execFileSync(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-e', "require('./lib/cluster'); require('./lib/config'); console.log(JSON.stringify(Object.keys(require.cache)))"],
    { cwd: root, encoding: 'utf8' },
  );
  const sdkModules = (JSON.parse(loaded) as string[]).filter((file) => file.includes(`${path.sep}@aws-sdk${path.sep}`));
  expect(sdkModules).toEqual([]);
});
