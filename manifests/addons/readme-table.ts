/**
 * The README's add-on table, made from the contracts so that it cannot drift from them
 * (test/manifests/addons/readme-table.test.ts compares it with README.md).
 */
import { BootstrapStep } from './bootstrap-chain';

export const ADDON_TABLE_BEGIN = '<!-- add-on table: generated from manifests/addons (readme-table.ts) -->';
export const ADDON_TABLE_END = '<!-- end of add-on table -->';

const PLACEMENT: Readonly<Record<string, string>> = { api: 'the API only (no pods)', masters: 'masters', 'every-node': 'every node', workers: 'workers' };

/** The table's lines, in bootstrap order. */
export function addonTable(steps: readonly BootstrapStep[]): string[] {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  return [
    '| Add-on | Version | What it does | Replaces (2016) | Runs on | Can be turned off | Delivered by |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...steps.map(({ addon, stack }) =>
      [
        `\`${addon.name}\``,
        addon.version,
        cell(addon.description),
        cell(addon.replaces ?? ''),
        PLACEMENT[addon.placement],
        addon.optional ? 'yes' : 'no',
        `${stack} stack`,
      ].join(' | '),
    ).map((row) => `| ${row} |`),
  ];
}
