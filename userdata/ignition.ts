/**
 * Ignition spec 3.3.0 types: only the parts this project writes.
 *
 * Spec 3.3.0 because Debian's `ignition-validate` (what the tests run) checks up to 3.3.0;
 * Flatcar stable reads up to 3.5 and LTS up to 3.4, and `s3://` sources work in 3.3.
 * See https://coreos.github.io/ignition/configuration-v3_3/.
 */

export const IGNITION_VERSION = '3.3.0';

/** `sha512-<hex>` or `sha256-<hex>`: Ignition refuses a fetched file whose hash differs. */
export interface Verification {
  readonly hash: string;
}

/** A fetched resource: `s3://`, `https://` or a `data:` URL. */
export interface Resource {
  readonly source: string;
  readonly verification?: Verification;
}

/** A user or group by name (names exist on Flatcar: root, core, ...). */
export interface NodeOwner {
  readonly name: string;
}

export interface IgnitionFile {
  readonly path: string;
  readonly overwrite?: boolean;
  /** Decimal mode, as Ignition expects (0o644 === 420). */
  readonly mode: number;
  readonly user?: NodeOwner;
  readonly group?: NodeOwner;
  readonly contents: Resource;
}

export interface IgnitionDirectory {
  readonly path: string;
  readonly overwrite?: boolean;
  readonly mode: number;
  readonly user?: NodeOwner;
  readonly group?: NodeOwner;
}

export interface IgnitionDropin {
  readonly name: string;
  readonly contents: string;
}

export interface IgnitionUnit {
  readonly name: string;
  readonly enabled?: boolean;
  readonly mask?: boolean;
  readonly contents?: string;
  readonly dropins?: readonly IgnitionDropin[];
}

export interface IgnitionConfig {
  readonly ignition: {
    readonly version: string;
    readonly config?: {
      readonly replace?: Resource;
    };
  };
  readonly storage?: {
    readonly directories?: readonly IgnitionDirectory[];
    readonly files?: readonly IgnitionFile[];
  };
  readonly systemd?: {
    readonly units?: readonly IgnitionUnit[];
  };
}

/** What a role template produces before it is assembled into one config. */
export interface NodeParts {
  readonly directories: readonly IgnitionDirectory[];
  readonly files: readonly IgnitionFile[];
  readonly units: readonly IgnitionUnit[];
}

/** Concatenates parts (a role is the sum of shared and role-specific parts). */
export function mergeParts(...parts: readonly NodeParts[]): NodeParts {
  return {
    directories: parts.flatMap((p) => p.directories),
    files: parts.flatMap((p) => p.files),
    units: parts.flatMap((p) => p.units),
  };
}

/**
 * Assembles a full Ignition config. Entries are sorted by path / name so that the output
 * (and therefore the S3 asset hash that rolls the nodes) does not depend on assembly order,
 * and duplicates are refused: Ignition would fail at boot on two entries for one path.
 */
export function ignitionConfig(parts: NodeParts): IgnitionConfig {
  refuseSecrets(parts);
  refuseDuplicates('file or directory path', [...parts.files.map((f) => f.path), ...parts.directories.map((d) => d.path)]);
  refuseDuplicates('unit name', parts.units.map((u) => u.name));
  const byPath = <T extends { path: string }>(a: T, b: T) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return {
    ignition: { version: IGNITION_VERSION },
    storage: {
      directories: [...parts.directories].sort(byPath),
      files: [...parts.files].sort(byPath),
    },
    systemd: { units: [...parts.units].sort(byName) },
  };
}

function refuseDuplicates(what: string, values: readonly string[]): void {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) {
      throw new Error(`Ignition config: duplicate ${what} '${v}'; each may appear once (Ignition fails at boot otherwise).`);
    }
    seen.add(v);
  }
}

/** A private key in a config would be in an S3 asset: refuse it loudly (secrets come at boot). */
const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

function refuseSecrets(parts: NodeParts): void {
  for (const f of parts.files) {
    const source = f.contents.source;
    const text = source.startsWith('data:') ? decodeForCheck(source) : '';
    if (PRIVATE_KEY.test(text)) {
      throw new Error(`Ignition config: ${f.path} contains a PEM private key; secrets must be fetched at boot, never put in a config`);
    }
  }
  for (const u of parts.units) {
    if (PRIVATE_KEY.test(u.contents ?? '') || (u.dropins ?? []).some((d) => PRIVATE_KEY.test(d.contents))) {
      throw new Error(`Ignition config: unit ${u.name} contains a PEM private key; secrets must be fetched at boot`);
    }
  }
}

function decodeForCheck(url: string): string {
  const comma = url.indexOf(',');
  const meta = url.slice(0, comma);
  const payload = url.slice(comma + 1);
  return meta.endsWith(';base64') ? Buffer.from(payload, 'base64').toString('utf8') : decodeURIComponent(payload);
}
