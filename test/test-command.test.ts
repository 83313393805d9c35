import * as fs from 'fs';
import * as path from 'path';

// `npm test` is the README's one test command and what .ci/run calls: a type check, then jest
// on every core of CI's 2-core machine (jest's default would be one worker there).
describe('npm test', () => {
  const root = path.join(__dirname, '..');

  test('type-checks everything, then runs jest', () => {
    const scripts = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).scripts;
    expect(scripts.test).toMatch(/^tsc --noEmit && jest\b/);
  });

  test('runs jest on at least two workers', () => {
    const config = require(path.join(root, 'jest.config.js'));
    expect(config.maxWorkers).toBeGreaterThanOrEqual(2);
  });
});
