/**
 * The real validators on every rendered config: ignition-validate (spec 3.3.0),
 * systemd-analyze verify on every unit, bash -n and shellcheck on every script. Sizes are printed.
 */
import { spawnSync } from 'child_process';
import { existsSync } from 'fs';
import { etcdConfig } from '../../userdata/etcd';
import { decodeDataUrl } from '../../userdata/files';
import { IgnitionConfig } from '../../userdata/ignition';
import { masterConfig } from '../../userdata/master';
import { stubConfig } from '../../userdata/stub';
import { workerConfig } from '../../userdata/worker';
import { bashSyntax, files, ignitionValidate, ToolResult } from './config-files';
import { etcdInput, masterInput, stubAsset, workerInput } from './fixtures';
import { systemdVerify } from './systemd-verify';

/**
 * shellcheck (Debian package `shellcheck`) on a script's text. SC1091 ("not following a sourced
 * file") is left out: the sourced env files exist only on the node, written by envFile().
 */
function shellcheck(text: string): ToolResult {
  const result = spawnSync('shellcheck', ['--shell=bash', '--exclude=SC1091', '-'], { input: text, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}
// Under CI the tools are installed by .ci/run: run, and fail loudly if one is missing.
const haveShellcheck = existsSync('/usr/bin/shellcheck') || !!process.env.CI;

const roles: [string, () => IgnitionConfig][] = [
  ['etcd', () => etcdConfig(etcdInput)],
  ['master', () => masterConfig(masterInput)],
  ['worker', () => workerConfig(workerInput)],
];

describe.each(roles)('%s config', (role, render) => {
  const config = render();

  test('passes ignition-validate with no findings', () => {
    // WHEN
    const result = ignitionValidate(config);
    // THEN
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  test('every unit passes systemd-analyze verify with no findings', () => {
    // WHEN
    const result = systemdVerify(config);
    // THEN
    expect(result.verified.length).toBe(config.systemd?.units?.length);
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  test('every shell script parses (bash -n)', () => {
    const scripts = files(config).filter((f) => f.contents.source.startsWith('data:') && decodeDataUrl(f.contents.source).startsWith('#!/bin/bash'));
    expect(scripts.length).toBeGreaterThan(3);
    for (const script of scripts) {
      const result = bashSyntax(decodeDataUrl(script.contents.source));
      expect({ path: script.path, ...result }).toEqual({ path: script.path, status: 0, output: '' });
      expect(script.mode).toBe(0o755);
    }
  });

  (haveShellcheck ? test : test.skip)('every shell script passes shellcheck', () => {
    const scripts = files(config).filter((f) => f.contents.source.startsWith('data:') && decodeDataUrl(f.contents.source).startsWith('#!/bin/bash'));
    for (const script of scripts) {
      expect({ path: script.path, ...shellcheck(decodeDataUrl(script.contents.source)) }).toEqual({ path: script.path, status: 0, output: '' });
    }
  });

  test('size is printed', () => {
    const bytes = JSON.stringify(config).length;
    console.log(`${role} Ignition config: ${bytes} bytes (${(bytes / 1024).toFixed(1)} KiB) of JSON, an S3 asset`);
    expect(bytes).toBeGreaterThan(0);
  });
});

test('the stub passes ignition-validate', () => {
  const result = ignitionValidate(stubConfig(stubAsset));
  expect(result.output).toBe('');
  expect(result.status).toBe(0);
});

(haveShellcheck ? test : test.skip)('shellcheck catches an unquoted expansion (the harness is not a no-op)', () => {
  expect(shellcheck('#!/bin/bash\nrm $1\n').output).toMatch(/SC2086/);
});

test('systemd-analyze verify catches a broken unit (the harness is not a no-op)', () => {
  // GIVEN a unit with an unknown key and a dependency on a unit that exists nowhere
  const broken: IgnitionConfig = {
    ignition: { version: '3.3.0' },
    systemd: { units: [{ name: 'broken.service', contents: '[Unit]\nDescription=x\n\n[Service]\nExecStart=/opt/bin/x\nBogus=1\n' }] },
  };
  // WHEN
  const result = systemdVerify(broken);
  // THEN
  expect(result.output).toMatch(/Unknown key 'Bogus'/);
});
