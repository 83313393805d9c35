import { writeFileSync } from 'fs';
import * as path from 'path';
import { startWebhook } from '../../webhook/app';
import { parseWebhookConfig, validateWebhookConfig, WebhookConfigError } from '../../webhook/config';
import { CLUSTER_GROUP, configDocument, temporaryDirectory } from './fixtures';
import * as yaml from 'js-yaml';

const IAM = {
  clusterId: CLUSTER_GROUP,
  partition: 'aws',
  region: 'eu-central-1',
  nodeRoles: [{ roleArn: 'arn:aws:iam::123456789012:role/kube-aws-test-1-worker-node', instanceProfileArn: 'arn:aws:iam::123456789012:instance-profile/kube-aws-test-1-worker-node' }],
};

function approverFiles(): { caFile: string; tokenFile: string } {
  const directory = temporaryDirectory();
  const caFile = path.join(directory, 'ca.crt');
  const tokenFile = path.join(directory, 'approver.token');
  writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  writeFileSync(tokenFile, 'approver-token-0123456789\n');
  return { caFile, tokenFile };
}

describe('kubeletServingApprover in the webhook config', () => {
  const problemsOf = (section: unknown, withIam = true) =>
    validateWebhookConfig({ ...configDocument('https://auth.example.org/tokeninfo'), ...(withIam ? { iam: IAM } : {}), kubeletServingApprover: section }).problems;

  test('a complete section with the iam section is valid', () => {
    expect(problemsOf({ apiServer: 'https://127.0.0.1:443', ...approverFiles() })).toEqual([]);
  });

  test.each([
    ['plain HTTP (the token would travel in clear)', { apiServer: 'http://127.0.0.1:443', caFile: '/a', tokenFile: '/b' }, /kubeletServingApprover\.apiServer: must be https:\/\/<host>\[:port\]/],
    ['a path after the host', { apiServer: 'https://127.0.0.1:443/x', caFile: '/a', tokenFile: '/b' }, /kubeletServingApprover\.apiServer: must be https/],
    ['no token file', { apiServer: 'https://127.0.0.1:443', caFile: '/a' }, /kubeletServingApprover\.tokenFile: is required/],
    ['an unknown field', { apiServer: 'https://127.0.0.1:443', caFile: '/a', tokenFile: '/b', token: 'x' }, /kubeletServingApprover\.token: unknown field/],
  ])('refuses %s', (_, section, problem) => {
    expect(problemsOf(section)).toEqual([expect.stringMatching(problem)]);
  });

  test('refuses an approver without the iam section, which says which instances are nodes', () => {
    expect(problemsOf({ apiServer: 'https://127.0.0.1:443', caFile: '/a', tokenFile: '/b' }, false)).toEqual([expect.stringMatching(/^kubeletServingApprover: needs the iam section/)]);
  });
});

describe('startWebhook with an approver', () => {
  const config = (files: { caFile: string; tokenFile: string }) =>
    parseWebhookConfig(yaml.dump({ ...configDocument('https://auth.example.org/tokeninfo'), iam: IAM, kubeletServingApprover: { apiServer: 'https://127.0.0.1:1', ...files } }));

  test('runs it beside the server and stops it on close', async () => {
    const running = await startWebhook(config(approverFiles()), { port: 0 });
    try {
      expect(running.approver).toBeDefined();
    } finally {
      await running.close();
    }
  });

  test('an unreadable or empty token file is a config error naming the field, before anything listens', async () => {
    const files = approverFiles();
    await expect(startWebhook(config({ ...files, tokenFile: '/nonexistent/approver.token' }), { port: 0 })).rejects.toThrow(
      new WebhookConfigError(['kubeletServingApprover.tokenFile: cannot read /nonexistent/approver.token: ENOENT']),
    );
    writeFileSync(files.tokenFile, '\n');
    await expect(startWebhook(config(files), { port: 0 })).rejects.toThrow(/kubeletServingApprover\.tokenFile: .* is empty/);
  });

  test('without the section no approver runs', async () => {
    const running = await startWebhook(parseWebhookConfig(yaml.dump(configDocument('https://auth.example.org/tokeninfo'))), { port: 0 });
    try {
      expect(running.approver).toBeUndefined();
    } finally {
      await running.close();
    }
  });
});
