/**
 * Test helpers: pull an Ignition config apart into readable text files (golden files,
 * assertions), run ignition-validate, and find units and files by name.
 */
import { execFileSync, spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { decodeDataUrl } from '../../userdata/files';
import { IgnitionConfig, IgnitionFile, IgnitionUnit } from '../../userdata/ignition';

export const octal = (mode: number): string => `0${mode.toString(8)}`;

export function files(config: IgnitionConfig): readonly IgnitionFile[] {
  return config.storage?.files ?? [];
}

export function units(config: IgnitionConfig): readonly IgnitionUnit[] {
  return config.systemd?.units ?? [];
}

export function findFile(config: IgnitionConfig, path: string): IgnitionFile {
  const found = files(config).find((f) => f.path === path);
  if (!found) throw new Error(`no file ${path} in config; files: ${files(config).map((f) => f.path).join(', ')}`);
  return found;
}

/** Decoded contents of an inline file. */
export function fileText(config: IgnitionConfig, path: string): string {
  return decodeDataUrl(findFile(config, path).contents.source);
}

export function unitText(config: IgnitionConfig, name: string): string {
  const found = units(config).find((u) => u.name === name);
  if (!found?.contents) throw new Error(`no unit ${name} with contents; units: ${units(config).map((u) => u.name).join(', ')}`);
  return found.contents;
}

/** Every inline text of the config (files decoded, units, drop-ins), for searches. */
export function allText(config: IgnitionConfig): string {
  const texts = files(config).map((f) => (f.contents.source.startsWith('data:') ? decodeDataUrl(f.contents.source) : f.contents.source));
  for (const u of units(config)) {
    texts.push(u.contents ?? '', ...(u.dropins ?? []).map((d) => d.contents));
  }
  return texts.join('\n');
}

/**
 * The config as a map of relative path -> text: each unit, drop-in and inline file its own
 * file, downloaded files as a note of source and hash, and a summary of modes and owners.
 */
export function explode(config: IgnitionConfig): Map<string, string> {
  const out = new Map<string, string>();
  const summary: string[] = [`ignition ${config.ignition.version}`, '', 'directories:'];
  for (const d of config.storage?.directories ?? []) {
    summary.push(`  ${octal(d.mode)} ${d.user?.name ?? '-'}:${d.group?.name ?? '-'} ${d.path}/`);
  }
  summary.push('', 'files:');
  for (const f of files(config)) {
    const owner = `${f.user?.name ?? '-'}:${f.group?.name ?? '-'}`;
    if (f.contents.source.startsWith('data:')) {
      out.set(`files${f.path}`, decodeDataUrl(f.contents.source));
      summary.push(`  ${octal(f.mode)} ${owner} ${f.path}`);
    } else {
      const note = `source: ${f.contents.source}\nverification: ${f.contents.verification?.hash ?? 'NONE'}\n`;
      out.set(`files${f.path}.remote`, note);
      summary.push(`  ${octal(f.mode)} ${owner} ${f.path} <- ${f.contents.source} (${f.contents.verification?.hash.split('-')[0] ?? 'unverified'})`);
    }
  }
  summary.push('', 'units:');
  for (const u of units(config)) {
    if (u.contents) out.set(`units/${u.name}`, u.contents);
    for (const d of u.dropins ?? []) out.set(`units/${u.name}.d/${d.name}`, d.contents);
    const what = [u.enabled ? 'enabled' : u.enabled === false ? 'disabled' : 'as shipped', ...(u.dropins ?? []).map((d) => `drop-in ${d.name}`)];
    summary.push(`  ${u.name} (${what.join(', ')})`);
  }
  summary.push('', `size: ${JSON.stringify(config).length} bytes of JSON`);
  out.set('summary.txt', `${summary.join('\n')}\n`);
  return out;
}

export interface ToolResult {
  readonly status: number | null;
  readonly output: string;
}

/** Runs /usr/bin/ignition-validate on the config; exit 0 and no output means valid. */
export function ignitionValidate(config: IgnitionConfig): ToolResult {
  const dir = mkdtempSync(join(tmpdir(), 'ignition-validate-'));
  try {
    const path = join(dir, 'config.ign');
    writeFileSync(path, JSON.stringify(config));
    const result = spawnSync('/usr/bin/ignition-validate', [path], { encoding: 'utf8' });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `bash -n`: the script parses (no execution). */
export function bashSyntax(text: string): ToolResult {
  const result = spawnSync('bash', ['-n'], { input: text, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

export function hasTool(path: string): boolean {
  try {
    execFileSync(path, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
