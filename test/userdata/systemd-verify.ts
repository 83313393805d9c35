/**
 * `systemd-analyze verify` on the units of a rendered config, on a machine that is not Flatcar.
 *
 * How it works, and why:
 * - Units are written to a temporary directory put FIRST on SYSTEMD_UNIT_PATH (the trailing
 *   ':' appends the host's default unit path, so real targets like network-online.target and
 *   systemd-networkd.service resolve as on the node).
 * - Units the node has but this machine may not (Flatcar's docker.service and
 *   containerd.service) get a minimal stub unit in a second directory, so that Requires= and
 *   drop-ins are checked against something real; drop-ins sit beside our units in
 *   `<unit>.d/`, where systemd looks for them.
 * - verify checks that every Exec*= command exists and is executable. Our binaries (/opt/bin/...,
 *   the etcd tarball's files, /usr/bin/docker on a machine without docker) are not on this
 *   machine, and writing into the host's /opt would be intrusive (CI runs as root), so each
 *   missing executable is rewritten to the same path under a stub root in the temp directory,
 *   where an executable stub is created. Commands present on the host are left as they are.
 * - verify reports unknown keys and bad values as warnings with exit 0, so the caller must
 *   also assert that the output is empty, not only the exit code.
 */
import { spawnSync } from 'child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { IgnitionConfig } from '../../userdata/ignition';

const HOST_UNIT_DIRS = ['/etc/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'];
const DEPENDENCY_KEYS = ['Requires', 'Wants', 'After', 'Before', 'Requisite', 'BindsTo', 'PartOf', 'Unit', 'WantedBy', 'RequiredBy'];
const EXEC_KEY = /^(Exec(?:Start|StartPre|StartPost|Stop|StopPost|Reload|Condition))=(.*)$/;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function existsOnHost(unitName: string): boolean {
  return HOST_UNIT_DIRS.some((dir) => existsSync(join(dir, unitName)));
}

/** Rewrites Exec lines whose command is missing on this machine to a stub under `stubRoot`. */
function stubExecutables(text: string, stubRoot: string): string {
  return text
    .split('\n')
    .map((line) => {
      const match = EXEC_KEY.exec(line);
      if (!match || match[2] === '') return line;
      const [, key, value] = match;
      const prefix = /^[-@:+!]*/.exec(value)![0];
      const rest = value.slice(prefix.length);
      const executable = rest.split(/\s/, 1)[0];
      if (!executable.startsWith('/') || isExecutable(executable)) return line;
      const stub = join(stubRoot, executable);
      mkdirSync(dirname(stub), { recursive: true });
      writeFileSync(stub, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
      return `${key}=${prefix}${stub}${rest.slice(executable.length)}`;
    })
    .join('\n');
}

function referencedUnits(text: string): string[] {
  const names: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match && DEPENDENCY_KEYS.includes(match[1])) names.push(...match[2].split(/\s+/).filter((n) => n.includes('.')));
  }
  return names;
}

export interface VerifyResult {
  readonly status: number | null;
  readonly output: string;
  readonly verified: readonly string[];
}

export function systemdVerify(config: IgnitionConfig): VerifyResult {
  const root = mkdtempSync(join(tmpdir(), 'systemd-verify-'));
  try {
    const unitDir = join(root, 'units');
    const stubDir = join(root, 'stubs');
    const stubRoot = join(root, 'root');
    mkdirSync(unitDir);
    mkdirSync(stubDir);
    const ours = new Set<string>();
    const toVerify: string[] = [];
    const referenced = new Set<string>();
    for (const unit of config.systemd?.units ?? []) {
      if (unit.contents) {
        ours.add(unit.name);
        writeFileSync(join(unitDir, unit.name), stubExecutables(unit.contents, stubRoot));
        toVerify.push(join(unitDir, unit.name));
        referencedUnits(unit.contents).forEach((n) => referenced.add(n));
      }
      for (const dropin of unit.dropins ?? []) {
        mkdirSync(join(unitDir, `${unit.name}.d`), { recursive: true });
        writeFileSync(join(unitDir, `${unit.name}.d`, dropin.name), stubExecutables(dropin.contents, stubRoot));
        if (!unit.contents) referenced.add(unit.name);
      }
    }
    for (const name of referenced) {
      if (ours.has(name) || existsOnHost(name)) continue;
      const body = name.endsWith('.service') ? '\n[Service]\nExecStart=/bin/true\n' : '\n';
      writeFileSync(join(stubDir, name), `[Unit]\nDescription=stub of the node's ${name}\n${body}`);
      // OS units we only add drop-ins to are verified with those drop-ins applied.
      if ((config.systemd?.units ?? []).some((u) => u.name === name && !u.contents)) toVerify.push(join(stubDir, name));
    }
    const result = spawnSync('systemd-analyze', ['verify', ...toVerify], {
      encoding: 'utf8',
      env: { ...process.env, SYSTEMD_UNIT_PATH: `${unitDir}:${stubDir}:`, SYSTEMD_LOG_LEVEL: 'notice' },
    });
    return { status: result.status, output: `${result.stdout}${result.stderr}`.trim(), verified: toVerify.map((p) => p.slice(root.length + 1)) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
