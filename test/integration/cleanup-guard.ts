/**
 * A watchdog that cleans up after the test process if it dies without doing so itself.
 *
 * Why not `process.on('exit')`: inside a Jest test, `process` is Jest's copy of the real
 * one, and handlers registered on it never run when the worker exits. Nor would any handler
 * run on SIGKILL. So a small shell process, in its own session (a Ctrl-C of the test's
 * terminal does not reach it), reads what to clean up from a pipe: `group <pgid>`,
 * `netns <name>`, `path <dir>`. When the pipe closes (the test process is gone, however it
 * ended) it kills those process groups and every process in those namespaces, deletes the
 * namespaces and removes those paths.
 * A test that cleaned up itself sends `release` first, so nothing is killed twice (a
 * process group id could have been reused meanwhile).
 */
import { ChildProcess, spawn } from 'child_process';
import { tool } from './tools';

const GUARD_SCRIPT = `
trap '' INT TERM HUP
groups=() namespaces=() paths=()
while read -r kind value; do
  case "$kind" in
    group) groups+=("$value") ;;
    netns) namespaces+=("$value") ;;
    path) paths+=("$value") ;;
    release) groups=() namespaces=() paths=() ;;
  esac
done
for g in "\${groups[@]}"; do kill -KILL -- "-$g" 2>/dev/null; done
sleep 0.2
for n in "\${namespaces[@]}"; do kill -KILL $("$IP" netns pids "$n" 2>/dev/null) 2>/dev/null; done
sleep 0.2
for n in "\${namespaces[@]}"; do "$IP" netns del "$n" 2>/dev/null; rm -rf "/etc/netns/$n"; done
rmdir /etc/netns 2>/dev/null
for p in "\${paths[@]}"; do rm -rf "$p"; done
exit 0
`;

type Kind = 'group' | 'netns' | 'path';

let guard: ChildProcess | undefined;

/** Has the guard clean up `value` should this process die first. */
export function trackForCleanup(kind: Kind, value: string | number): void {
  if (/\s/.test(String(value))) throw new Error(`cleanup guard: '${value}' contains whitespace`);
  guardProcess().stdin!.write(`${kind} ${value}\n`);
}

/** Everything was cleaned up by the test: the guard forgets it all and exits. */
export function releaseCleanupGuard(): void {
  if (!guard) return;
  guard.stdin!.end('release\n');
  guard = undefined;
}

function guardProcess(): ChildProcess {
  if (!guard) {
    guard = spawn('/bin/bash', ['-c', GUARD_SCRIPT], {
      detached: true, // own session and process group: signals to the test's group miss it
      stdio: ['pipe', 'ignore', 'ignore'],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', IP: tool('ip') },
    });
    // Neither the guard nor its pipe may keep the test process alive.
    guard.unref();
    (guard.stdin as unknown as { unref?: () => void }).unref?.();
  }
  return guard;
}
