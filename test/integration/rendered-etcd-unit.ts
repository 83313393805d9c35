/**
 * The etcd member's command line, parsed out of the rendered `etcd.service` of the Ignition
 * config, and turned into the command line of a test member by mapping only what differs on
 * this machine: the binary, the data dir and the PKI dir. Every other flag (discovery,
 * cluster token and state, TLS and client-cert checks, advertised URLs) is used as rendered.
 */
import { basename, dirname } from 'path';
import { decodeDataUrl } from '../../userdata/files';
import { IgnitionConfig } from '../../userdata/ignition';

export const ETCD_UNIT = 'etcd.service';

export interface RenderedEtcdUnit {
  /** The binary the unit runs (the pinned release on the node). */
  readonly binary: string;
  /** Its arguments, `${VAR}` references unexpanded. */
  readonly args: readonly string[];
  /**
   * Variables of the unit's EnvironmentFile= files that the config writes itself (not those
   * written at boot, like node.env with the member index).
   */
  readonly staticEnvironment: Readonly<Record<string, string>>;
}

/** Reads `etcd.service` out of the config: its ExecStart= and its environment files. */
export function readEtcdUnit(config: IgnitionConfig): RenderedEtcdUnit {
  const unit = config.systemd?.units?.find((u) => u.name === ETCD_UNIT);
  if (!unit?.contents) throw new Error(`the etcd config has no ${ETCD_UNIT} with contents`);
  const directives = (key: string) =>
    unit.contents!.split('\n').filter((line) => line.startsWith(`${key}=`)).map((line) => line.slice(key.length + 1));
  const execStart = directives('ExecStart');
  if (execStart.length !== 1) throw new Error(`${ETCD_UNIT} should have one ExecStart=, has ${execStart.length}`);
  const [binary, ...args] = execStart[0].trim().split(/\s+/);

  const staticEnvironment: Record<string, string> = {};
  for (const path of directives('EnvironmentFile')) {
    const file = config.storage?.files?.find((f) => f.path === path);
    if (!file) continue; // written at boot
    for (const line of decodeDataUrl(file.contents.source).split('\n')) {
      const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
      if (match) staticEnvironment[match[1]] = match[2];
    }
  }
  return { binary, args, staticEnvironment };
}

/** A flag as rendered: `--name=value`, or `--name` alone for a boolean. */
export interface Flag {
  readonly name: string;
  readonly value?: string;
}

export function parseFlags(args: readonly string[]): Flag[] {
  return args.map((arg) => {
    const match = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`etcd argument '${arg}' is not of the form --name[=value]`);
    return match[2] === undefined ? { name: match[1] } : { name: match[1], value: match[2] };
  });
}

export function flagValue(flags: readonly Flag[], name: string): string | undefined {
  return flags.find((flag) => flag.name === name)?.value;
}

export interface MemberPaths {
  /** Replaces the rendered `--data-dir`. */
  readonly dataDir: string;
  /** Replaces the directory of every `--*-file` flag (the node's PKI dir); file names are kept. */
  readonly pkiDir: string;
}

/**
 * Member `index`'s flags: `${VAR}` expanded as systemd would (static env files, plus the
 * boot-time ETCD_MEMBER), then only the paths mapped. An unknown variable is an error, so a
 * new boot-time input cannot slip by unnoticed.
 */
export function memberFlags(unit: RenderedEtcdUnit, index: number, paths: MemberPaths): Flag[] {
  const environment: Record<string, string> = { ...unit.staticEnvironment, ETCD_MEMBER: String(index) };
  const expanded = unit.args.map((arg) =>
    arg.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => {
      if (!(name in environment)) throw new Error(`${ETCD_UNIT} uses \${${name}}, which the test does not know how to set`);
      return environment[name];
    }),
  );
  const flags = parseFlags(expanded);
  const pkiDirs = new Set(flags.filter((f) => f.name.endsWith('-file') && f.value).map((f) => dirname(f.value!)));
  if (pkiDirs.size !== 1) throw new Error(`expected all TLS files in one directory, found ${[...pkiDirs].join(', ')}`);
  return flags.map((flag) => {
    if (flag.name === 'data-dir') return { name: flag.name, value: paths.dataDir };
    if (flag.name.endsWith('-file') && flag.value) return { name: flag.name, value: `${paths.pkiDir}/${basename(flag.value)}` };
    return flag;
  });
}

export function renderFlags(flags: readonly Flag[]): string[] {
  return flags.map((flag) => (flag.value === undefined ? `--${flag.name}` : `--${flag.name}=${flag.value}`));
}

/** Rendered flags that `etcd --help` of the binary under test does not list (e.g. 3.5-only flags on 3.4). */
export function flagsUnknownTo(helpText: string, flags: readonly Flag[]): string[] {
  return flags.map((flag) => flag.name).filter((name) => !new RegExp(`^\\s*--${name}(?=[\\s=\\[])`, 'm').test(helpText));
}
