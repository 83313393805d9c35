import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// .ci/apt-get-wait against a real apt-get holding the package lists lock, as a second
// `apt-get update` on the machine does. Everything lives in a temporary directory (lists,
// an empty sources.list, no package cache), so nothing is downloaded and the system's apt
// state is not touched. apt 2.6 takes the lists lock before it runs APT::Update::Pre-Invoke
// (apt-pkg/update.cc ListUpdate, then AcquireUpdate), so a Pre-Invoke `sleep` holds it.

const WAIT_SCRIPT = path.join(__dirname, '..', '.ci', 'apt-get-wait');

describe('.ci/apt-get-wait', () => {
  let dir: string;
  let aptOptions: string[];
  let holder: ChildProcess | undefined;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apt-lock-'));
    fs.mkdirSync(path.join(dir, 'lists'));
    fs.mkdirSync(path.join(dir, 'sources.list.d'));
    fs.writeFileSync(path.join(dir, 'sources.list'), '');
    aptOptions = [
      `Dir::State::Lists=${dir}/lists`,
      `Dir::Etc::SourceList=${dir}/sources.list`,
      `Dir::Etc::SourceParts=${dir}/sources.list.d`,
      'Dir::Cache::pkgcache=',
      'Dir::Cache::srcpkgcache=',
    ].flatMap((option) => ['-o', option]);
  });

  afterEach(() => {
    // The whole group: apt-get and the shell running its Pre-Invoke sleep.
    if (holder?.pid !== undefined && holder.exitCode === null) process.kill(-holder.pid, 'SIGKILL');
    holder = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Starts an `apt-get update` that holds the lists lock for `seconds`; resolves once it holds it. */
  async function holdListsLock(seconds: number): Promise<void> {
    const held = path.join(dir, 'held');
    holder = spawn('apt-get', [...aptOptions, '-o', `APT::Update::Pre-Invoke::=touch ${held}; sleep ${seconds}`, 'update', '-qq'], {
      stdio: 'ignore',
      detached: true,
    });
    while (!fs.existsSync(held)) await new Promise((resolve) => setTimeout(resolve, 50));
  }

  function run(command: string[], env: Record<string, string> = {}) {
    const started = Date.now();
    const result = spawnSync(command[0], command.slice(1), { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C', ...env } });
    return { status: result.status, stderr: result.stderr, seconds: (Date.now() - started) / 1000 };
  }

  test('plain apt-get update fails at once on a held lists lock, even with DPkg::Lock::Timeout', async () => {
    await holdListsLock(8);
    const result = run(['apt-get', ...aptOptions, '-o', 'DPkg::Lock::Timeout=60', 'update', '-qq']);
    expect(result.status).toBe(100);
    expect(result.stderr).toMatch(/Could not get lock .*lists\/lock/);
    expect(result.seconds).toBeLessThan(6);
  });

  test('waits for the lock and then succeeds', async () => {
    await holdListsLock(3);
    const result = run([WAIT_SCRIPT, ...aptOptions, 'update', '-qq']);
    expect(result).toMatchObject({ status: 0 });
    expect(result.stderr).toMatch(/another process holds an apt lock; waiting up to 600s/);
    expect(result.stderr).not.toMatch(/Could not get lock/);
    expect(result.seconds).toBeGreaterThan(1);
  });

  test('gives up after APT_LOCK_WAIT_SECONDS, with apt-get\'s error and status', async () => {
    await holdListsLock(30);
    const result = run([WAIT_SCRIPT, ...aptOptions, 'update', '-qq'], { APT_LOCK_WAIT_SECONDS: '2' });
    expect(result.status).toBe(100);
    expect(result.stderr).toMatch(/Could not get lock .*lists\/lock/);
    expect(result.seconds).toBeLessThan(10);
  });

  test('fails at once on any other error', () => {
    const result = run([WAIT_SCRIPT, ...aptOptions, 'no-such-command']);
    expect(result.status).toBe(100);
    expect(result.stderr).toMatch(/Invalid operation no-such-command/);
    expect(result.stderr).not.toMatch(/waiting/);
    expect(result.seconds).toBeLessThan(10);
  });
});

describe('.ci/run', () => {
  const script = fs.readFileSync(path.join(__dirname, '..', '.ci', 'run'), 'utf8');
  const commands = script.split('\n').filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));

  test('calls apt-get only through .ci/apt-get-wait', () => {
    const aptLines = commands.filter((line) => /\bapt(-get)?\b/.test(line));
    expect(aptLines.length).toBeGreaterThanOrEqual(2);
    for (const line of aptLines) expect(line).toMatch(/^\.ci\/apt-get-wait (update|install) /);
  });

  test("ends with exactly the README's test command", () => {
    expect(commands[commands.length - 1]).toBe('npm test');
  });
});
