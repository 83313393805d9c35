import { iamToken } from '../../lib/addons/iam-token';
import { verifyIamToken } from '../../webhook/aws-iam-token';

// `aws eks get-token --cluster-name demo --region eu-central-1` (aws-cli 1.45.11) with AWS's
// documented example key pair, signed at 2026-12-04T01:34:51Z: the same fixture as
// test/webhook/aws-iam-token.test.ts.
const CLI_TOKEN = 'k8s-aws-v1.aHR0cHM6Ly9zdHMuZXUtY2VudHJhbC0xLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXJJZGVudGl0eSZWZXJzaW9uPTIwMTEtMDYtMTUmWC1BbXotQWxnb3JpdGhtPUFXUzQtSE1BQy1TSEEyNTYmWC1BbXotQ3JlZGVudGlhbD1BS0lBSU9TRk9ETk43RVhBTVBMRSUyRjIwMjYxMjA0JTJGZXUtY2VudHJhbC0xJTJGc3RzJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAyNjEyMDRUMDEzNDUxWiZYLUFtei1FeHBpcmVzPTYwJlgtQW16LVNpZ25lZEhlYWRlcnM9aG9zdCUzQngtazhzLWF3cy1pZCZYLUFtei1TaWduYXR1cmU9ZWU5ZmFjZTRkMTQ5NmZlZWQ4Mzg0NWVmZmE1YzVmMWVmODRkYjVkZTM4YjFhNDU5NDMxOTM2Y2U4NzliMjcxMQ';
const EXAMPLE_CREDENTIALS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const SIGNED_AT = new Date(Date.UTC(2026, 11, 4, 1, 34, 51));

describe('iamToken: the add-on applier signs in as its own IAM role', () => {
  test('makes, byte for byte, the token the AWS CLI makes from the same key, cluster, region and time', async () => {
    expect(await iamToken({ clusterId: 'demo', region: 'eu-central-1', credentials: EXAMPLE_CREDENTIALS, signingDate: SIGNED_AT })).toBe(CLI_TOKEN);
  });

  test('signs another cluster id to another signature (the webhook sends its own, so a token for another cluster fails at STS)', async () => {
    const other = await iamToken({ clusterId: 'aws:123456789012:eu-central-1:other-1', region: 'eu-central-1', credentials: EXAMPLE_CREDENTIALS, signingDate: SIGNED_AT });
    expect(other).not.toBe(CLI_TOKEN);
  });

  test('carries a role session token, and passes every check the webhook makes before it calls STS, which it then asks with the cluster id', async () => {
    const clusterId = 'aws:123456789012:eu-central-1:kube-aws-test-1';
    const token = await iamToken({ clusterId, region: 'eu-central-1', credentials: { ...EXAMPLE_CREDENTIALS, sessionToken: 'FwoGZXIvYXdzEXAMPLE/+=' }, signingDate: SIGNED_AT });
    const sent: { url: URL; headers: Readonly<Record<string, string>> }[] = [];
    const result = await verifyIamToken(token, {
      clusterId,
      partition: 'aws',
      region: 'eu-central-1',
      timeoutMs: 1000,
      now: () => SIGNED_AT.getTime() + 60_000,
      send: async (url, headers) => {
        sent.push({ url, headers });
        return { status: 200, body: JSON.stringify({ GetCallerIdentityResponse: { GetCallerIdentityResult: { Arn: 'arn:aws:sts::123456789012:assumed-role/kube-aws-test-1-addon-applier/fn', Account: '123456789012', UserId: 'AROA:fn' } } }) };
      },
    });
    expect(result).toMatchObject({ kind: 'caller', caller: { arn: 'arn:aws:sts::123456789012:assumed-role/kube-aws-test-1-addon-applier/fn' } });
    expect(sent).toHaveLength(1);
    expect(sent[0].url.host).toBe('sts.eu-central-1.amazonaws.com');
    expect(sent[0].url.searchParams.get('X-Amz-Security-Token')).toBe('FwoGZXIvYXdzEXAMPLE/+=');
    expect(sent[0].headers['x-k8s-aws-id']).toBe(clusterId);
  });

  test('signs for the partition of its region', async () => {
    const token = await iamToken({ clusterId: 'demo', region: 'cn-north-1', credentials: EXAMPLE_CREDENTIALS, signingDate: SIGNED_AT });
    expect(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString()).toMatch(/^https:\/\/sts\.cn-north-1\.amazonaws\.com\.cn\/\?Action=GetCallerIdentity&/);
  });
});
