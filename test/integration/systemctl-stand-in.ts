/**
 * `systemctl` for a member host (member-host.ts): the member's scripts stop and start units
 * with it, and the test starts etcd with it, so etcd runs from its rendered unit file exactly
 * as far as these directives go: `EnvironmentFile=` (a leading `-`: optional), `${VAR}`
 * expansion, every `ExecStartPre=` in order (a failure fails the start, as the blank-data
 * guard relies on), then `ExecStart=`; `stop` sends SIGTERM and waits, then SIGKILL after
 * TimeoutStopSec's default of 90 s (systemd.service(5), systemd-system.conf(5)
 * DefaultTimeoutStopSec=).
 *
 * Where it differs from systemd, on purpose:
 * - `start` of a long-running service returns once its process runs (the member's scripts
 *   only use `--no-block`; the test waits for health itself), and a failed start is not
 *   retried (`Restart=always` would retry every `RestartSec=`, and fail the same way).
 * - A timer is only marked active or inactive: the test runs `etcd-snapshot.service` itself,
 *   as the timer would.
 * - `Type=oneshot` services run in the foreground, with their output in the unit's log.
 * Each unit's output goes to /var/log/<unit>.log (its journal).
 */
export const SYSTEMCTL_STAND_IN = `#!/bin/bash
# systemctl stand-in for the real-etcd tests: start | stop | is-active UNIT...
set -uo pipefail
units=/etc/systemd/system state=/run/test-systemd
install -d "$state" /var/log
fail() { echo "systemctl (test stand-in): $*" >&2; exit 1; }
directives() { sed -n "s/^$1=//p" "$units/$2"; }
# expand TEXT: systemd's \${VAR} expansion; an unset variable is a test failure, not an empty word.
expand() {
  local text=$1 out=''
  while [[ $text =~ ^([^$]*)\\$\\{([A-Za-z0-9_]+)\\}(.*)$ ]]; do
    [ -n "\${!BASH_REMATCH[2]+set}" ] || { echo "unit uses unset \\\${\${BASH_REMATCH[2]}}" >&2; return 1; }
    out+="\${BASH_REMATCH[1]}\${!BASH_REMATCH[2]}"
    text=\${BASH_REMATCH[3]}
  done
  echo "$out$text"
}
load_environment() {
  local file
  for file in $(directives EnvironmentFile "$1"); do
    if [[ $file == -* ]]; then file=\${file#-}; [ -f "$file" ] || continue; fi
    [ -f "$file" ] || { echo "EnvironmentFile $file is missing" >&2; return 1; }
    set -a; . "$file"; set +a
  done
}
# run_line UNIT DIRECTIVE-VALUE [background]: one Exec line, expanded and split into words.
run_line() {
  local words
  read -r -a words <<<"$(expand "$2")" || return 1
  if [ "\${3:-}" = background ]; then
    # Its own session, like a service: it outlives this call and its mount namespace.
    setsid "\${words[@]}" >>"/var/log/$1.log" 2>&1 </dev/null &
    echo $! >"$state/$1.pid"
    started_at $! >"$state/$1.started"
  else
    "\${words[@]}" >>"/var/log/$1.log" 2>&1
  fi
}
# started_at PID: the process's start time (field 22 of /proc/PID/stat, after the command name).
started_at() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }
running() {
  local pid
  pid=$(cat "$state/$1.pid" 2>/dev/null) || return 1
  # A zombie has exited: nobody may reap it (its parent, this script, is long gone).
  [ -r "/proc/$pid/stat" ] && [ "$(sed 's/^.*) //' "/proc/$pid/stat" | cut -d' ' -f1)" != Z ] || return 1
  # The same process, not another that got its pid since (pids wrap at pid_max, 32768 here):
  # a reused pid would make a stopped unit look running, and start would skip it.
  [ "$(started_at "$pid")" = "$(cat "$state/$1.started" 2>/dev/null)" ]
}
start() {
  local unit=$1 line
  [ -f "$units/$unit" ] || fail "Unit $unit not found."
  if [[ $unit == *.timer ]]; then echo active >"$state/$unit.state"; return 0; fi
  running "$unit" && return 0
  (
    load_environment "$unit" || exit 1
    while read -r line; do
      [ -n "$line" ] || continue
      run_line "$unit" "$line" || { echo "$unit: ExecStartPre=$line failed" >>"/var/log/$unit.log"; exit 1; }
    done <<<"$(directives ExecStartPre "$unit")"
    if [ "$(directives Type "$unit")" = oneshot ]; then
      while read -r line; do run_line "$unit" "$line" || exit 1; done <<<"$(directives ExecStart "$unit")"
    else
      run_line "$unit" "$(directives ExecStart "$unit")" background
    fi
  )
  local rc=$?
  if [ $rc -ne 0 ]; then
    echo failed >"$state/$unit.state"
    echo "Job for $unit failed because the control process exited with error code." >&2
    return 1
  fi
  echo active >"$state/$unit.state"
}
stop() {
  local unit=$1 pid
  [ -f "$units/$unit" ] || fail "Unit $unit not loaded."
  echo inactive >"$state/$unit.state"
  running "$unit" || return 0
  pid=$(cat "$state/$unit.pid")
  kill -TERM "$pid"
  for _ in $(seq 1 900); do running "$unit" || return 0; sleep 0.1; done
  kill -KILL "$pid"
}
command=\${1:-}
shift || true
[ "\${1:-}" = --no-block ] && shift
case $command in
  start | stop)
    for unit in "$@"; do "$command" "$unit" || exit 1; done ;;
  is-active)
    recorded=$(cat "$state/$1.state" 2>/dev/null || echo inactive)
    # A service whose process is gone is no longer active, whatever was recorded.
    if [ "$recorded" = active ] && [ -f "$state/$1.pid" ] && ! running "$1"; then recorded=inactive; fi
    echo "$recorded"
    [ "$recorded" = active ] ;;
  *) fail "unsupported: systemctl $command $*" ;;
esac
`;
