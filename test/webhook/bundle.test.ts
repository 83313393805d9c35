import { readFileSync } from 'fs';
import { builtinModules } from 'module';
import * as path from 'path';
import { BUNDLE_FILE_NAME, bundleWebhookServer } from '../../webhook/bundle';
import { runToExit, runUntilListening, validConfigFile } from './process-fixtures';
import { CLUSTER_GROUP, post, request, ROLE_GROUPS, subjectAccessReview, temporaryDirectory, unusedLocalUrl } from './fixtures';

describe('bundleWebhookServer', () => {
  let bundle: string;
  beforeAll(() => {
    bundle = bundleWebhookServer(temporaryDirectory());
  });

  test('writes one executable file with a shebang, requiring only Node built-ins (the AWS SDK for EC2 is bundled in)', () => {
    expect(path.basename(bundle)).toBe(BUNDLE_FILE_NAME);
    const text = readFileSync(bundle, 'utf8');
    expect(text.startsWith('#!/usr/bin/env node\n')).toBe(true);
    // `[require("@aws-sdk/signature-v4-crt");]` is the SDK's error message about its optional
    // CRT signer (never loaded here: SigV4 in JavaScript signs EC2 calls), not a require.
    const required = [...text.matchAll(/(?<!\[)require\("([^"]+)"\)/g)].map((m) => m[1]);
    expect(required.length).toBeGreaterThan(5);
    expect(required.filter((name) => !builtinModules.includes(name.replace(/^node:/, '')))).toEqual([]);
    expect(text).toMatch(/DescribeInstancesCommand/);
    expect(text).not.toMatch(/aws-cdk-lib/);
  });

  test('is deterministic, so the asset hash changes only with the code', () => {
    expect(readFileSync(bundleWebhookServer(temporaryDirectory()), 'utf8')).toBe(readFileSync(bundle, 'utf8'));
  });

  test('runs standalone from a directory without node_modules', async () => {
    const { child, url, exited } = await runUntilListening(bundle, ['--config', validConfigFile(await unusedLocalUrl()), '--listen', '127.0.0.1:0'], path.dirname(bundle));
    try {
      expect((await request(url, 'GET', '/healthz')).text).toBe('ok');
      const review = subjectAccessReview({ groups: [CLUSTER_GROUP, ROLE_GROUPS.ReadOnly], resourceAttributes: { verb: 'get', resource: 'pods', namespace: 'team-a' } });
      expect((await post(url, '/authorize', review)).json().status.allowed).toBe(true);
    } finally {
      child.kill('SIGTERM');
    }
    expect((await exited).code).toBe(0);
  });

  test('exits 3 on an invalid config', async () => {
    const { code, stderr } = await runToExit(bundle, ['--config', '/nonexistent.yaml'], path.dirname(bundle));
    expect([code, stderr]).toEqual([3, expect.stringContaining('--config: cannot read')]);
  });
});
