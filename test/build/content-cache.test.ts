/** Builds once per key: the second call with the same key reuses the first one's directory. */
import * as fs from 'fs';
import * as path from 'path';
import { CACHE_ROOT, cachedDirectory } from '../../lib/build/content-cache';

describe('cachedDirectory', () => {
  const key = { test: 'content-cache', at: `${process.pid}-${Date.now()}` };
  afterAll(() => fs.rmSync(path.join(CACHE_ROOT, 'test'), { recursive: true, force: true }));

  test('builds a key once; another key is another entry', () => {
    let builds = 0;
    const build = (dir: string) => {
      builds += 1;
      fs.writeFileSync(path.join(dir, 'out.txt'), 'built');
    };
    const dir = cachedDirectory('test', 'entry', key, 'out.txt', build);
    expect(cachedDirectory('test', 'entry', key, 'out.txt', build)).toBe(dir);
    expect(builds).toBe(1);
    expect(fs.readFileSync(path.join(dir, 'out.txt'), 'utf8')).toBe('built');
    expect(cachedDirectory('test', 'entry', { ...key, other: true }, 'out.txt', build)).not.toBe(dir);
    expect(builds).toBe(2);
  });

  test('a build that does not write its result is an error, and leaves no entry behind', () => {
    const failing = { ...key, failing: true };
    expect(() => cachedDirectory('test', 'entry', failing, 'out.txt', () => undefined)).toThrow('the test build of entry did not write out.txt');
    const built = cachedDirectory('test', 'entry', failing, 'out.txt', (dir) => fs.writeFileSync(path.join(dir, 'out.txt'), 'second'));
    expect(fs.readFileSync(path.join(built, 'out.txt'), 'utf8')).toBe('second');
    expect(fs.readdirSync(path.dirname(built)).filter((name) => name.includes('.building-'))).toEqual([]);
  });
});
