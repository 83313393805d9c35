/**
 * systemd unit builder: a unit is data (sections of key/value lines), rendered to the
 * INI text systemd reads. Keys may repeat (After=, ExecStartPre=), so values are arrays.
 */
import { IgnitionDropin, IgnitionUnit } from './ignition';

/** A directive's value: one line, several lines of the same key, or absent. */
export type Directive = string | number | boolean | readonly (string | number)[] | undefined;

export type Section = Readonly<Record<string, Directive>>;

export interface UnitSections {
  readonly Unit?: Section;
  readonly Service?: Section;
  readonly Timer?: Section;
  readonly Mount?: Section;
  readonly Install?: Section;
}

/** Renders sections in the conventional order; booleans become yes/no. */
export function renderUnit(sections: UnitSections): string {
  const order: (keyof UnitSections)[] = ['Unit', 'Service', 'Timer', 'Mount', 'Install'];
  const blocks: string[] = [];
  for (const name of order) {
    const section = sections[name];
    if (!section) continue;
    const lines = [`[${name}]`];
    for (const [key, value] of Object.entries(section)) {
      if (value === undefined) continue;
      const values = Array.isArray(value) ? value : [value];
      for (const v of values) {
        const text = typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v);
        if (text.includes('\n')) {
          throw new Error(`unit directive ${name}.${key}: value must be one line, got ${JSON.stringify(text)}`);
        }
        lines.push(`${key}=${text}`);
      }
    }
    blocks.push(lines.join('\n'));
  }
  return `${blocks.join('\n\n')}\n`;
}

export interface UnitOptions {
  /** Enable the unit (Ignition creates the [Install] symlinks). @default true when it has an [Install] section */
  readonly enabled?: boolean;
}

/** A unit of ours, with its full contents. */
export function unit(name: string, sections: UnitSections, options: UnitOptions = {}): IgnitionUnit {
  if (!/^[a-zA-Z0-9@._-]+\.(service|timer|mount|target|path|socket)$/.test(name)) {
    throw new Error(`unit name '${name}' is not a valid systemd unit file name`);
  }
  const enabled = options.enabled ?? sections.Install !== undefined;
  return { name, enabled, contents: renderUnit(sections) };
}

/** Drop-ins on a unit the OS ships (containerd.service, docker.service). */
export function dropins(name: string, files: Readonly<Record<string, UnitSections>>, options: UnitOptions = {}): IgnitionUnit {
  const list: IgnitionDropin[] = Object.entries(files).map(([file, sections]) => ({ name: file, contents: renderUnit(sections) }));
  return options.enabled === undefined ? { name, dropins: list } : { name, enabled: options.enabled, dropins: list };
}

/** Joins a command and its arguments into one ExecStart= line (arguments must not need quoting). */
export function command(executable: string, args: readonly string[] = []): string {
  for (const arg of args) {
    if (/[\s"'\\]/.test(arg)) {
      throw new Error(`command ${executable}: argument ${JSON.stringify(arg)} would need quoting; pass it through a file`);
    }
  }
  return [executable, ...args].join(' ');
}
