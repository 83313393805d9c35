/**
 * File and directory builders: every file a node gets is declared here as data
 * (path, mode, owner, contents), never pasted into a shell heredoc.
 */
import { IgnitionDirectory, IgnitionFile, NodeOwner, Resource } from './ignition';

const ROOT: NodeOwner = { name: 'root' };

/** Modes as octal literals; Ignition's JSON takes the decimal value. */
export const MODE_PRIVATE = 0o600;
export const MODE_CONFIG = 0o644;
export const MODE_EXECUTABLE = 0o755;
export const MODE_PRIVATE_DIR = 0o700;
export const MODE_DIR = 0o755;

/**
 * Encodes text as an RFC 2397 data URL, choosing the shorter of percent-encoding and
 * base64 (both are read by Ignition; shorter keeps the S3 asset small and deterministic).
 */
export function dataUrl(text: string): string {
  const percent = `data:,${encodeURIComponent(text)}`;
  const base64 = `data:;base64,${Buffer.from(text, 'utf8').toString('base64')}`;
  return percent.length <= base64.length ? percent : base64;
}

/** Inverse of {@link dataUrl}: the golden files and assertion tests read contents back. */
export function decodeDataUrl(url: string): string {
  const match = /^data:([^,]*),(.*)$/s.exec(url);
  if (!match) {
    throw new Error(`not a data URL: '${url.slice(0, 40)}...'`);
  }
  const [, meta, payload] = match;
  return meta.endsWith(';base64') ? Buffer.from(payload, 'base64').toString('utf8') : decodeURIComponent(payload);
}

export interface FileOptions {
  /** File mode. @default 0o644 */
  readonly mode?: number;
  /** Owning user and group. @default root */
  readonly owner?: string;
}

/** A file whose contents are in the config itself (never a secret: configs are S3 assets). */
export function file(path: string, contents: string, options: FileOptions = {}): IgnitionFile {
  return fileFrom(path, { source: dataUrl(contents) }, options);
}

/** An executable script (shell, mode 0755). */
export function script(path: string, contents: string): IgnitionFile {
  if (!contents.startsWith('#!')) {
    throw new Error(`script ${path}: must start with a '#!' line`);
  }
  return file(path, contents, { mode: MODE_EXECUTABLE });
}

/**
 * A file Ignition downloads at first boot and checks against `hash`
 * (`sha256-<hex>` or `sha512-<hex>`); a mismatch fails the boot instead of running it.
 */
export function remoteFile(path: string, source: string, hash: string, options: FileOptions = {}): IgnitionFile {
  if (!/^(sha256-[0-9a-f]{64}|sha512-[0-9a-f]{128})$/.test(hash)) {
    throw new Error(`remote file ${path}: verification hash must be 'sha256-<64 hex>' or 'sha512-<128 hex>', got '${hash}'`);
  }
  return fileFrom(path, { source, verification: { hash } }, options);
}

function fileFrom(path: string, contents: Resource, options: FileOptions): IgnitionFile {
  assertAbsolute(path);
  const owner: NodeOwner = options.owner ? { name: options.owner } : ROOT;
  return { path, overwrite: true, mode: options.mode ?? MODE_CONFIG, user: owner, group: owner, contents };
}

/** A directory, created with its mode before any file is written into it. */
export function directory(path: string, mode: number = MODE_DIR): IgnitionDirectory {
  assertAbsolute(path);
  return { path, overwrite: false, mode, user: ROOT, group: ROOT };
}

/**
 * An environment file readable by both systemd (`EnvironmentFile=`) and the shell (`. file`):
 * values are restricted to characters both parse the same way, so nothing needs quoting.
 */
export function envFile(path: string, values: Readonly<Record<string, string | number>>): IgnitionFile {
  const lines = Object.entries(values).map(([key, raw]) => {
    const value = String(raw);
    if (!/^[A-Z][A-Z0-9_]*$/.test(key)) {
      throw new Error(`env file ${path}: key '${key}' must be UPPER_SNAKE_CASE`);
    }
    if (!/^[A-Za-z0-9._:/,@=+-]*$/.test(value)) {
      throw new Error(`env file ${path}: value of ${key} '${value}' has characters that need quoting; use [A-Za-z0-9._:/,@=+-] only`);
    }
    return `${key}=${value}`;
  });
  return file(path, `${lines.join('\n')}\n`);
}

function assertAbsolute(path: string): void {
  if (!path.startsWith('/') || path.includes('..') || path.endsWith('/')) {
    throw new Error(`path '${path}' must be absolute, normalized and not end with '/'`);
  }
}
