/**
 * Long-running child processes (etcd, dnsmasq) that must never outlive the test run.
 *
 * Each one is its own process group (`detached`), so a kill reaches whatever it forked.
 * Every spawned group is remembered until it has exited (for `killAll`) and handed to the
 * cleanup guard, which kills it should the test process die first.
 */
import { ChildProcess, spawn } from 'child_process';
import { closeSync, openSync, readFileSync } from 'fs';
import { trackForCleanup } from './cleanup-guard';

export interface RunningProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves once the process has exited (at once if it already has), with its exit signal or code. */
  readonly exited: Promise<ExitStatus>;
  /** True while the process runs. */
  isRunning(): boolean;
  /** The last lines of its stdout+stderr, for failure messages. */
  logTail(lines?: number): string;
}

/** How a process ended: `code` when it exited, `signal` when a signal ended it. */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const live = new Map<number, ChildProcess>();

/**
 * Starts `command` in a new process group with stdout and stderr appended to `logFile`.
 * `env` replaces the environment entirely: etcd and etcdctl read ETCD_* / ETCDCTL_* variables
 * as flags, so nothing of the test runner's environment may leak into them.
 */
export function startProcess(name: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv, logFile: string): RunningProcess {
  const log = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, { detached: true, stdio: ['ignore', log, log], env });
  } finally {
    closeSync(log); // the child holds its own descriptor
  }
  if (child.pid === undefined) {
    throw new Error(`${name}: could not start ${command}`);
  }
  const pid = child.pid;
  live.set(pid, child);
  trackForCleanup('group', pid);
  let running = true;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      live.delete(pid);
      resolve({ code, signal });
    });
  });
  child.once('error', () => undefined); // reported through 'exit' and the log
  return {
    name,
    pid,
    logFile,
    exited,
    isRunning: () => running,
    logTail: (lines = 25) => tail(logFile, lines),
  };
}

/** SIGKILLs the process group (a crash, as when an instance dies) and waits for the exit. */
export async function killProcess(proc: RunningProcess): Promise<void> {
  signalGroup(proc.pid, 'SIGCONT'); // a paused process dies of SIGKILL too, but say so plainly
  signalGroup(proc.pid, 'SIGKILL');
  await proc.exited;
}

/**
 * SIGTERM, as systemd stops a unit, then waits up to `timeoutMs` for the exit. A process still
 * running then is SIGKILLed (systemd's TimeoutStopSec= does the same) and reported: a
 * graceful stop that hangs is a finding, not something to paper over.
 */
export async function terminateProcess(proc: RunningProcess, timeoutMs: number): Promise<ExitStatus> {
  signalGroup(proc.pid, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
  const result = await Promise.race([proc.exited, timedOut]);
  clearTimeout(timer);
  if (result) return result;
  await killProcess(proc);
  throw new Error(`${proc.name} did not exit within ${timeoutMs} ms of SIGTERM (SIGKILLed):\n${proc.logTail()}`);
}

/** SIGSTOP / SIGCONT: the process freezes (a stalled VM, a long GC pause) and resumes. */
export function pauseProcess(proc: RunningProcess): void {
  signalGroup(proc.pid, 'SIGSTOP');
}

export function resumeProcess(proc: RunningProcess): void {
  signalGroup(proc.pid, 'SIGCONT');
}

/** SIGKILLs every group still running (see {@link waitForAllExited}). */
export function killAll(): void {
  for (const pid of live.keys()) signalGroup(pid, 'SIGKILL');
}

/** Waits until every started process has exited (after {@link killAll}). */
export async function waitForAllExited(timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (live.size > 0 && Date.now() < deadline) await sleep(50);
  if (live.size > 0) throw new Error(`processes still running after SIGKILL: ${[...live.keys()].join(', ')}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone
  }
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
