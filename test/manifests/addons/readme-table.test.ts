import { readFileSync } from 'fs';
import { join } from 'path';
import { bootstrapChain } from '../../../manifests/addons/bootstrap-chain';
import { ADDON_TABLE_BEGIN, ADDON_TABLE_END, addonTable } from '../../../manifests/addons/readme-table';
import { ADDONS } from '../../../manifests/addons/registry';

test("README's add-on table is the one the contracts make (regenerate it with the snippet in readme-table.ts's test on a change)", () => {
  const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
  const begin = readme.indexOf(ADDON_TABLE_BEGIN);
  const end = readme.indexOf(ADDON_TABLE_END);
  expect(begin).toBeGreaterThan(0);
  const documented = readme.slice(begin + ADDON_TABLE_BEGIN.length, end).trim().split('\n');
  expect(documented).toEqual(addonTable(bootstrapChain(ADDONS)));
});
