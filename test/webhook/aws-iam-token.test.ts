import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as https from 'https';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import {
  httpsSend,
  httpsSendWith,
  IAM_TOKEN_PREFIX,
  IamTokenResult,
  IamTokenVerifierOptions,
  isIamToken,
  principalOf,
  StsResponse,
  StsSend,
  verifyIamToken,
} from '../../webhook/aws-iam-token';

// Output of `aws eks get-token --cluster-name demo --region eu-central-1` (aws-cli 1.45.11)
// with AWS's documented example key AKIAIOSFODNN7EXAMPLE, signed at 2026-12-04T01:34:51Z.
const CLI_TOKEN = 'k8s-aws-v1.aHR0cHM6Ly9zdHMuZXUtY2VudHJhbC0xLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXJJZGVudGl0eSZWZXJzaW9uPTIwMTEtMDYtMTUmWC1BbXotQWxnb3JpdGhtPUFXUzQtSE1BQy1TSEEyNTYmWC1BbXotQ3JlZGVudGlhbD1BS0lBSU9TRk9ETk43RVhBTVBMRSUyRjIwMjYxMjA0JTJGZXUtY2VudHJhbC0xJTJGc3RzJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAyNjEyMDRUMDEzNDUxWiZYLUFtei1FeHBpcmVzPTYwJlgtQW16LVNpZ25lZEhlYWRlcnM9aG9zdCUzQngtazhzLWF3cy1pZCZYLUFtei1TaWduYXR1cmU9ZWU5ZmFjZTRkMTQ5NmZlZWQ4Mzg0NWVmZmE1YzVmMWVmODRkYjVkZTM4YjFhNDU5NDMxOTM2Y2U4NzliMjcxMQ';
const CLI_URL = 'https://sts.eu-central-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256'
  + '&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261204%2Feu-central-1%2Fsts%2Faws4_request&X-Amz-Date=20261204T013451Z&X-Amz-Expires=60'
  + '&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=ee9face4d1496feed83845effa5c5f1ef84db5de38b1a459431936ce879b2711';
const SIGNED_AT = Date.UTC(2026, 11, 4, 1, 34, 51);
const AMZ_DATE = '20261204T013451Z';
const MINUTE = 60_000;
const SIGNATURE = 'ee9face4d1496feed83845effa5c5f1ef84db5de38b1a459431936ce879b2711';

const ROLE_ARN = 'arn:aws:sts::123456789012:assumed-role/Admin/alice';
const OK_BODY = JSON.stringify({
  GetCallerIdentityResponse: {
    GetCallerIdentityResult: { Arn: ROLE_ARN, Account: '123456789012', UserId: 'AROAEXAMPLEEXAMPLE:alice' },
    ResponseMetadata: { RequestId: 'r' },
  },
});

type Param = readonly [string, string];
const DEFAULT_PARAMS: readonly Param[] = [
  ['Action', 'GetCallerIdentity'],
  ['Version', '2011-06-15'],
  ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
  ['X-Amz-Credential', 'AKIAIOSFODNN7EXAMPLE%2F20261204%2Feu-central-1%2Fsts%2Faws4_request'],
  ['X-Amz-Date', AMZ_DATE],
  ['X-Amz-Expires', '60'],
  ['X-Amz-SignedHeaders', 'host%3Bx-k8s-aws-id'],
  ['X-Amz-Signature', SIGNATURE],
];

/** A pre-signed URL like the CLI's, with parameters replaced (undefined drops one) or added. */
function presigned(changes: Readonly<Record<string, string | undefined>> = {}, base = 'https://sts.eu-central-1.amazonaws.com/'): string {
  const params: Param[] = DEFAULT_PARAMS.filter(([name]) => changes[name] !== undefined || !(name in changes)).map(([name, value]) => [name, changes[name] ?? value]);
  for (const [name, value] of Object.entries(changes)) if (value !== undefined && !DEFAULT_PARAMS.some(([n]) => n === name)) params.push([name, value]);
  return `${base}?${params.map(([name, value]) => `${name}=${value}`).join('&')}`;
}

const tokenOf = (url: string) => `${IAM_TOKEN_PREFIX}${Buffer.from(url, 'utf8').toString('base64url')}`;

interface SpyCall { url: URL; headers: Readonly<Record<string, string>>; timeoutMs: number }
function spySend(answer: StsResponse | (() => Promise<StsResponse>) = { status: 200, body: OK_BODY }): StsSend & { calls: SpyCall[] } {
  const calls: SpyCall[] = [];
  const send = (url: URL, headers: Readonly<Record<string, string>>, timeoutMs: number) => {
    calls.push({ url, headers, timeoutMs });
    return typeof answer === 'function' ? answer() : Promise.resolve(answer);
  };
  return Object.assign(send, { calls });
}

function options(send: StsSend, overrides: Partial<IamTokenVerifierOptions> = {}): IamTokenVerifierOptions {
  return { clusterId: 'demo', partition: 'aws', region: 'eu-central-1', timeoutMs: 2000, now: () => SIGNED_AT + MINUTE, send, ...overrides };
}

/** Verifies and returns the result with the spy, for "was STS asked?" assertions. */
async function verify(token: string, overrides: Partial<IamTokenVerifierOptions> = {}, answer?: StsResponse) {
  const send = spySend(answer);
  const result = await verifyIamToken(token, options(send, overrides));
  return { result, send };
}

function expectRejectedUnsent(outcome: { result: IamTokenResult; send: { calls: SpyCall[] } }, reason: RegExp) {
  expect(outcome.result).toEqual({ kind: 'rejected', reason: expect.stringMatching(reason) });
  expect(outcome.send.calls).toHaveLength(0);
}

describe('isIamToken', () => {
  test('recognises the k8s-aws-v1. prefix only', () => {
    expect(isIamToken(CLI_TOKEN)).toBe(true);
    expect(isIamToken('k8s-aws-v2.abc')).toBe(false);
    expect(isIamToken('some-oauth-token')).toBe(false);
  });
});

describe('verifyIamToken: a token from aws eks get-token', () => {
  test('the fixture is the CLI URL (guards the helpers below)', () => {
    expect(Buffer.from(CLI_TOKEN.slice(IAM_TOKEN_PREFIX.length), 'base64url').toString()).toBe(CLI_URL);
    expect(presigned()).toBe(CLI_URL);
  });

  test('is sent to STS as is, with OUR cluster id and accept: application/json, and yields the caller', async () => {
    const { result, send } = await verify(CLI_TOKEN, { clusterId: 'prod' });
    expect(result).toEqual({
      kind: 'caller',
      caller: { arn: ROLE_ARN, account: '123456789012', userId: 'AROAEXAMPLEEXAMPLE:alice', expiresAt: SIGNED_AT + 15 * MINUTE },
    });
    expect(send.calls).toHaveLength(1);
    expect(send.calls[0].url.href).toBe(CLI_URL);
    // The token was signed for "demo": STS compares the signature against the header we send.
    expect(send.calls[0].headers).toEqual({ 'x-k8s-aws-id': 'prod', 'accept': 'application/json' });
    expect(send.calls[0].timeoutMs).toBe(2000);
  });
});

describe('verifyIamToken: token encoding (upstream token.go Verify)', () => {
  /** A valid token of exactly `length` characters, grown with a session token. */
  function tokenOfLength(length: number): string | undefined {
    for (let n = 0; n < 4000; n++) {
      const token = tokenOf(presigned({ 'X-Amz-Security-Token': 'A'.repeat(n) }));
      if (token.length === length) return token;
    }
    return undefined;
  }

  test('a token of 4095 characters is checked further; one of 4097 is refused for its length (maxTokenLenBytes 4 KiB)', async () => {
    // Unpadded base64 cannot be 4085 long, so 4095 is the longest token below the bound.
    const longest = tokenOfLength(4095)!;
    const tooLong = tokenOfLength(4097)!;
    expect((await verify(longest)).send.calls).toHaveLength(1);
    expectRejectedUnsent(await verify(tooLong), /longer than 4096/);
  });

  test('the prefix is required', async () => {
    const encoded = CLI_TOKEN.slice(IAM_TOKEN_PREFIX.length);
    expectRejectedUnsent(await verify(encoded), /prefix/);
    expectRejectedUnsent(await verify(`k8s-aws-v2.${encoded}`), /prefix/);
  });

  test('padding is refused (base64.RawURLEncoding), though a lenient decoder would take it', async () => {
    expect(CLI_TOKEN.length % 4).not.toBe(0);
    expectRejectedUnsent(await verify(`${CLI_TOKEN}==`), /base64url/);
  });

  test('the standard alphabet (+ and /) is refused, though it decodes to the same URL leniently', async () => {
    let token = '';
    for (let pad = 0; pad < 3 && !/[-_]/.test(token.slice(IAM_TOKEN_PREFIX.length)); pad++) token = tokenOf(presigned({ 'X-Amz-Security-Token': `${'a'.repeat(pad)}~~~~~~` }));
    const standard = `${IAM_TOKEN_PREFIX}${token.slice(IAM_TOKEN_PREFIX.length).replace(/-/g, '+').replace(/_/g, '/')}`;
    expect(standard).not.toBe(token);
    expect(Buffer.from(standard.slice(IAM_TOKEN_PREFIX.length), 'base64')).toEqual(Buffer.from(token.slice(IAM_TOKEN_PREFIX.length), 'base64url'));
    expect((await verify(token)).send.calls).toHaveLength(1);
    expectRejectedUnsent(await verify(standard), /base64url/);
  });

  test.each([
    ['a character outside the alphabet', `${CLI_TOKEN.slice(0, 40)}*${CLI_TOKEN.slice(40)}`],
    ['a space', `${CLI_TOKEN.slice(0, 40)} ${CLI_TOKEN.slice(40)}`],
    ['a newline', `${CLI_TOKEN}\n`],
    ['nothing after the prefix', IAM_TOKEN_PREFIX],
  ])('%s is refused', async (_, token) => {
    expectRejectedUnsent(await verify(token), /base64url/);
  });

  test('non-canonical trailing bits are refused, though they decode to the same bytes', async () => {
    const encoded = CLI_TOKEN.slice(IAM_TOKEN_PREFIX.length);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet[alphabet.indexOf(encoded[encoded.length - 1]) ^ 1];
    const mutated = `${encoded.slice(0, -1)}${last}`;
    expect(Buffer.from(mutated, 'base64url')).toEqual(Buffer.from(encoded, 'base64url'));
    expectRejectedUnsent(await verify(`${IAM_TOKEN_PREFIX}${mutated}`), /canonical/);
  });
});

describe('verifyIamToken: the pre-signed URL must be an STS call (no SSRF)', () => {
  const QUERY = CLI_URL.slice(CLI_URL.indexOf('?'));
  test.each([
    ['plain http', `http://sts.eu-central-1.amazonaws.com/${QUERY}`, /scheme/],
    ['upper-case scheme', `HTTPS://sts.eu-central-1.amazonaws.com/${QUERY}`, /scheme/],
    ['another scheme', `file:///etc/passwd${QUERY}`, /scheme/],
    ['a foreign host', `https://evil.com/${QUERY}`, /not an STS/],
    ['an STS name as a prefix of a foreign host', `https://sts.amazonaws.com.evil.com/${QUERY}`, /not an STS/],
    ['an STS name as userinfo', `https://sts.amazonaws.com@evil.com/${QUERY}`, /userinfo/],
    ['userinfo before the STS host', `https://evil.com@sts.amazonaws.com/${QUERY}`, /userinfo/],
    ['a backslash (WHATWG reads it as a slash)', `https://sts.amazonaws.com\\@evil.com/${QUERY}`, /path/],
    ['a fragment hiding the real host', `https://evil.com#@sts.amazonaws.com/${QUERY}`, /fragment/],
    ['a fragment at the end', `https://sts.amazonaws.com/${QUERY}#x`, /fragment/],
    ['instance metadata', `https://169.254.169.254/${QUERY}`, /not an STS/],
    ['a decimal IP literal', `https://2852039166/${QUERY}`, /not an STS/],
    ['an IPv6 literal', `https://[::1]/${QUERY}`, /port|not an STS/],
    ['localhost', `https://localhost/${QUERY}`, /not an STS/],
    ['another port', `https://sts.amazonaws.com:8443/${QUERY}`, /port/],
    ['an empty port', `https://sts.amazonaws.com:/${QUERY}`, /port/],
    ['upper case', `https://STS.AMAZONAWS.COM/${QUERY}`, /not an STS/],
    ['a trailing dot', `https://sts.amazonaws.com./${QUERY}`, /not an STS/],
    ['an escaped dot', `https://sts.amazonaws.com%2eevil.com/${QUERY}`, /not an STS/],
    ['punycode', `https://sts.xn--amazonaws-ss4e.com/${QUERY}`, /not an STS/],
    ['a Cyrillic a (IDN homograph)', `https://sts.am\u0430zonaws.com/${QUERY}`, /non-ASCII/],
    ['a tab (WHATWG strips it)', `https://sts.amazon\taws.com/${QUERY}`, /non-printable/],
    ['a made-up region', `https://sts.evil.amazonaws.com/${QUERY}`, /not an STS/],
    ['a deeper name', `https://sts.a.eu-central-1.amazonaws.com/${QUERY}`, /not an STS/],
    ['another partition (aws-cn)', `https://sts.cn-north-1.amazonaws.com.cn/${QUERY}`, /not an STS/],
    ['a GovCloud host (upstream takes it: same domain)', `https://sts.us-gov-west-1.amazonaws.com/${QUERY}`, /not an STS/],
    ['the FIPS endpoint (not supported here)', `https://sts-fips.us-east-1.amazonaws.com/${QUERY}`, /not an STS/],
    ['the dual-stack endpoint (not supported here)', `https://sts.us-east-1.api.aws/${QUERY}`, /not an STS/],
    ['path /x', `https://sts.amazonaws.com/x${QUERY}`, /path/],
    ['path //', `https://sts.amazonaws.com//${QUERY}`, /path/],
    ['an escaped slash path', `https://sts.amazonaws.com/%2F${QUERY}`, /path/],
    ['no path', `https://sts.amazonaws.com${QUERY}`, /path/],
    ['no query', 'https://sts.amazonaws.com/', /query/],
  ] as const)('%s is refused without asking anyone', async (_, url, reason) => {
    expectRejectedUnsent(await verify(tokenOf(url)), reason);
  });

  test('an explicit :443 is https itself and is sent without it', async () => {
    const { result, send } = await verify(tokenOf(`https://sts.eu-central-1.amazonaws.com:443/${QUERY}`));
    expect(result.kind).toBe('caller');
    expect(send.calls[0].url.host).toBe('sts.eu-central-1.amazonaws.com');
  });

  test.each([
    ['aws', 'eu-central-1', 'sts.amazonaws.com'],
    ['aws', 'eu-central-1', 'sts.eu-central-1.amazonaws.com'],
    // The CLI signs for the caller's configured region, not the cluster's (upstream verifySTSHostnameFormat takes any).
    ['aws', 'eu-central-1', 'sts.us-west-2.amazonaws.com'],
    ['aws-cn', 'cn-north-1', 'sts.cn-north-1.amazonaws.com.cn'],
    ['aws-cn', 'cn-north-1', 'sts.cn-northwest-1.amazonaws.com.cn'],
    ['aws-us-gov', 'us-gov-west-1', 'sts.us-gov-west-1.amazonaws.com'],
    ['aws-us-gov', 'us-gov-west-1', 'sts.us-gov-east-1.amazonaws.com'],
  ] as const)('%s (%s) sends to %s', async (partition, region, host) => {
    const answer = { status: 200, body: OK_BODY.replace('arn:aws:', `arn:${partition}:`) };
    const { result, send } = await verify(tokenOf(presigned({}, `https://${host}/`)), { partition, region }, answer);
    expect(result.kind).toBe('caller');
    expect(send.calls[0].url.host).toBe(host);
  });

  test.each([
    // Upstream: "global endpoint unsupported in partition" for all but aws.
    ['aws-cn', 'cn-north-1', 'sts.amazonaws.com'],
    ['aws-cn', 'cn-north-1', 'sts.cn-north-1.amazonaws.com'],
    ['aws-cn', 'cn-north-1', 'sts.us-east-1.amazonaws.com.cn'],
    ['aws-us-gov', 'us-gov-west-1', 'sts.amazonaws.com'],
    ['aws-us-gov', 'us-gov-west-1', 'sts.us-east-1.amazonaws.com'],
    ['aws', 'eu-central-1', 'sts.eu-central-1.amazonaws.com.cn'],
  ] as const)('%s (%s) refuses %s', async (partition, region, host) => {
    expectRejectedUnsent(await verify(tokenOf(presigned({}, `https://${host}/`)), { partition, region }), /not an STS endpoint of partition/);
  });
});

describe('verifyIamToken: query parameters (upstream parameterWhitelist, hasSignedClusterIDHeader)', () => {
  test.each([
    ['a parameter outside the allowed list', { 'Foo': 'bar' }, /allowed list/],
    ['an X-Amz- parameter outside the list', { 'X-Amz-Foo': 'bar' }, /allowed list/],
    ['a parameter twice', { 'Action': 'GetCallerIdentity&Action=GetCallerIdentity' }, /twice/],
    ['a parameter twice in different case', { 'action': 'GetCallerIdentity' }, /twice/],
    ['another action', { Action: 'AssumeRole' }, /Action/],
    ['the action in other case', { Action: 'getcalleridentity' }, /Action/],
    ['no action', { Action: undefined }, /Action/],
    ['another API version', { Version: '2099-01-01' }, /Version/],
    ['no signed cluster header', { 'X-Amz-SignedHeaders': 'host' }, /x-k8s-aws-id/],
    ['the cluster header only as a substring', { 'X-Amz-SignedHeaders': 'host%3Bx-k8s-aws-idx' }, /x-k8s-aws-id/],
    ['the cluster header as a prefix', { 'X-Amz-SignedHeaders': 'x-k8s-aws-id-other%3Bhost' }, /x-k8s-aws-id/],
    ['no SignedHeaders', { 'X-Amz-SignedHeaders': undefined }, /x-k8s-aws-id/],
    ['X-Amz-Expires 0', { 'X-Amz-Expires': '0' }, /X-Amz-Expires/],
    ['X-Amz-Expires negative', { 'X-Amz-Expires': '-1' }, /X-Amz-Expires/],
    ['X-Amz-Expires 901', { 'X-Amz-Expires': '901' }, /X-Amz-Expires/],
    ['X-Amz-Expires not an integer', { 'X-Amz-Expires': '60.5' }, /X-Amz-Expires/],
    ['X-Amz-Expires with a leading zero', { 'X-Amz-Expires': '060' }, /X-Amz-Expires/],
    ['no X-Amz-Date', { 'X-Amz-Date': undefined }, /X-Amz-Date is missing or not YYYYMMDDTHHMMSSZ/],
    ['an ISO 8601 X-Amz-Date', { 'X-Amz-Date': '2026-12-04T01%3A34%3A51Z' }, /X-Amz-Date is missing or not YYYYMMDDTHHMMSSZ/],
    // 01:33:91 would roll over into 01:34:31, well inside the window.
    ['an X-Amz-Date that does not exist', { 'X-Amz-Date': '20261204T013391Z' }, /X-Amz-Date is missing or not YYYYMMDDTHHMMSSZ/],
    ['a broken percent escape', { 'X-Amz-Credential': 'AKIA%2' }, /percent/],
    ['a raw character SigV4 always encodes', { 'X-Amz-Credential': 'AKIA+x' }, /SigV4/],
  ] as const)('%s is refused', async (_, changes, reason) => {
    expectRejectedUnsent(await verify(tokenOf(presigned(changes as Record<string, string | undefined>))), reason);
  });

  test.each([
    ['a parameter without =', `${CLI_URL}&Version`],
    ['a value holding a raw =', CLI_URL.replace('Version=2011-06-15', 'Version=2011-06-15=')],
    ['an empty parameter', CLI_URL.replace('&Version', '&&Version')],
    ['an empty name', `${CLI_URL}&=x`],
  ])('%s is refused', async (_, url) => {
    expectRejectedUnsent(await verify(tokenOf(url)), /name=value/);
  });

  test.each([
    ['parameter names in any case', { 'Action': undefined, 'aCtIoN': 'GetCallerIdentity' }],
    ['the cluster header in upper case', { 'X-Amz-SignedHeaders': 'host%3BX-K8S-AWS-ID' }],
    ['X-Amz-Expires 900', { 'X-Amz-Expires': '900' }],
    ['no X-Amz-Expires', { 'X-Amz-Expires': undefined }],
    ['no Version', { Version: undefined }],
    ['a session token', { 'X-Amz-Security-Token': 'FwoGZXIvYXdzEXAMPLE%2B%2F%3Dabc' }],
  ] as const)('%s are taken', async (_, changes) => {
    const { result, send } = await verify(tokenOf(presigned(changes as Record<string, string | undefined>)));
    expect(result.kind).toBe('caller');
    expect(send.calls).toHaveLength(1);
  });
});

describe('verifyIamToken: time (upstream presignedURLExpiration)', () => {
  const at = (now: number) => verify(CLI_TOKEN, { now: () => now });

  test('valid until 15 minutes after X-Amz-Date, whatever X-Amz-Expires (60 here) says', async () => {
    expect((await at(SIGNED_AT + 10 * MINUTE)).result.kind).toBe('caller');
    expect((await at(SIGNED_AT + 15 * MINUTE)).result.kind).toBe('caller');
    expectRejectedUnsent(await at(SIGNED_AT + 15 * MINUTE + 1000), /expired/);
  });

  test('a short X-Amz-Expires does not shorten it either', async () => {
    const token = tokenOf(presigned({ 'X-Amz-Expires': '1' }));
    expect((await verify(token, { now: () => SIGNED_AT + 14 * MINUTE })).result.kind).toBe('caller');
  });

  test('up to 5 minutes of clock skew into the future, no more', async () => {
    expect((await at(SIGNED_AT - 5 * MINUTE)).result.kind).toBe('caller');
    expectRejectedUnsent(await at(SIGNED_AT - 5 * MINUTE - 1000), /future/);
  });
});

describe('verifyIamToken: what STS answers', () => {
  test.each([
    [{ status: 403, body: '{"Error":{"Code":"SignatureDoesNotMatch"}}' }, 'rejected'],
    [{ status: 400, body: '{"Error":{"Code":"InvalidAction"}}' }, 'rejected'],
    [{ status: 302, body: '' }, 'rejected'],
    [{ status: 301, body: '' }, 'rejected'],
    [{ status: 400, body: '{"Error":{"Code":"Throttling","Message":"Rate exceeded","Type":"Sender"},"RequestId":"x"}' }, 'unavailable'],
    [{ status: 400, body: '<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>' }, 'unavailable'],
    [{ status: 429, body: '' }, 'unavailable'],
    [{ status: 500, body: '' }, 'unavailable'],
    [{ status: 503, body: '' }, 'unavailable'],
    [{ status: 200, body: 'not json' }, 'unavailable'],
    [{ status: 200, body: '{}' }, 'unavailable'],
    [{ status: 200, body: OK_BODY.replace(ROLE_ARN, '') }, 'unavailable'],
    [{ status: 200, body: OK_BODY.replace('"AROAEXAMPLEEXAMPLE:alice"', '42') }, 'unavailable'],
    [{ status: 200, body: OK_BODY.replace('arn:aws:', 'arn:aws-cn:') }, 'unavailable'],
    [{ status: 200, body: OK_BODY.replace(ROLE_ARN, 'not-an-arn') }, 'unavailable'],
    [{ status: 200, body: OK_BODY.replace('"Account":"123456789012"', '"Account":"210987654321"') }, 'unavailable'],
    [{ status: 200, body: OK_BODY.replace(/123456789012/g, '12345678901') }, 'unavailable'],
  ])('%j is %s', async (answer, kind) => {
    const { result, send } = await verify(CLI_TOKEN, {}, answer);
    expect(result.kind).toBe(kind);
    // A redirect is answered once and never followed.
    expect(send.calls).toHaveLength(1);
  });

  test('a failing send is unavailable', async () => {
    const send = spySend(() => Promise.reject(new Error('ECONNREFUSED')));
    expect(await verifyIamToken(CLI_TOKEN, options(send))).toEqual({ kind: 'unavailable', reason: expect.stringMatching(/ECONNREFUSED/) });
  });

  test('a send that never settles is unavailable after timeoutMs', async () => {
    const send = spySend(() => new Promise<StsResponse>(() => undefined));
    const started = Date.now();
    const result = await verifyIamToken(CLI_TOKEN, options(send, { timeoutMs: 50 }));
    expect(result).toEqual({ kind: 'unavailable', reason: expect.stringMatching(/within 50 ms/) });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  test('a send that throws synchronously does not make verifyIamToken throw', async () => {
    const send: StsSend = () => {
      throw new Error('boom');
    };
    expect((await verifyIamToken(CLI_TOKEN, options(send))).kind).toBe('unavailable');
  });
});

describe('verifyIamToken: configuration', () => {
  test.each([
    [{ region: 'cn-north-1' }],
    [{ partition: 'aws-us-gov', region: 'us-east-1' }],
    [{ region: 'Eu-Central-1' }],
    [{ clusterId: '' }],
    [{ clusterId: 'a\r\nb' }],
    [{ timeoutMs: 0 }],
  ] as const)('%j is reported, and nothing is sent', async (overrides) => {
    const { result, send } = await verify(CLI_TOKEN, overrides as Partial<IamTokenVerifierOptions>);
    expect(result).toEqual({ kind: 'unavailable', reason: expect.stringMatching(/misconfigured/) });
    expect(send.calls).toHaveLength(0);
  });
});

describe('verifyIamToken: reasons never hold the token', () => {
  test('neither the token, its encoding, its signature nor a foreign host appear in any reason', async () => {
    const tokens = [
      CLI_TOKEN,
      `${CLI_TOKEN}==`,
      tokenOf(CLI_URL.replace('sts.eu-central-1.amazonaws.com', 'evil.com')),
      tokenOf(presigned({ Foo: 'bar' })),
      tokenOf(presigned({ 'X-Amz-Date': '20200101T000000Z' })),
      tokenOf(presigned({ 'X-Amz-SignedHeaders': 'host' })),
    ];
    const answers = [{ status: 403, body: `{"Error":"${SIGNATURE}"}` }, { status: 500, body: SIGNATURE }, { status: 200, body: SIGNATURE }];
    for (const token of tokens) {
      for (const answer of answers) {
        const { result } = await verify(token, {}, answer);
        expect(result.kind).not.toBe('caller');
        const reason = (result as { reason: string }).reason;
        for (const secret of [token, token.slice(IAM_TOKEN_PREFIX.length, 40), SIGNATURE, 'evil.com', 'AKIAIOSFODNN7EXAMPLE']) expect(reason).not.toContain(secret);
      }
    }
  });
});

describe('principalOf (upstream pkg/arn Canonicalize, StripPath)', () => {
  test.each([
    ['arn:aws:sts::123456789012:assumed-role/Admin/alice', { kind: 'role', arn: 'arn:aws:iam::123456789012:role/Admin', account: '123456789012', sessionName: 'alice' }],
    ['arn:aws:sts::123456789012:assumed-role/Org/Team/Admin/alice', { kind: 'role', arn: 'arn:aws:iam::123456789012:role/Admin', account: '123456789012', sessionName: 'alice' }],
    ['arn:aws-cn:sts::123456789012:assumed-role/node/i-0123456789abcdef0', { kind: 'role', arn: 'arn:aws-cn:iam::123456789012:role/node', account: '123456789012', sessionName: 'i-0123456789abcdef0' }],
    ['arn:aws-us-gov:sts::123456789012:assumed-role/Admin/bob@example.com', { kind: 'role', arn: 'arn:aws-us-gov:iam::123456789012:role/Admin', account: '123456789012', sessionName: 'bob@example.com' }],
    ['arn:aws:iam::123456789012:user/Alice', { kind: 'user', arn: 'arn:aws:iam::123456789012:user/Alice', account: '123456789012' }],
    ['arn:aws:iam::123456789012:user/dev/Alice', { kind: 'user', arn: 'arn:aws:iam::123456789012:user/dev/Alice', account: '123456789012' }],
  ])('%s', (arn, principal) => {
    expect(principalOf(arn)).toEqual(principal);
  });

  test.each([
    'arn:aws:iam::123456789012:root',
    'arn:aws:sts::123456789012:federated-user/Bob',
    'arn:aws:iam::123456789012:role/Admin',
    'arn:aws:sts::123456789012:assumed-role/Admin',
    'arn:aws:sts::123456789012:assumed-role/Admin/',
    'arn:aws:sts::123456789012:assumed-role//alice',
    'arn:aws:sts::123456789012:assumed-role/Ad min/alice',
    'arn:aws:iam::123456789012:user/',
    'arn:aws:s3:::bucket/key',
    'arn:aws:sts::12345678901:assumed-role/Admin/alice',
    'arn:aws-iso:sts::123456789012:assumed-role/Admin/alice',
    'arn:aws:sts:eu-central-1:123456789012:assumed-role/Admin/alice',
    'arn:aws:sts::123456789012:assumed-role/Admin/alice:x',
    'not an arn',
    '',
  ])('%s is no principal', (arn) => {
    expect(principalOf(arn)).toBeUndefined();
  });
});

describe('httpsSend against a local HTTPS server', () => {
  let dir: string;
  let key: string;
  let cert: string;
  let server: https.Server;
  let base: string;
  let handler: (request: import('http').IncomingMessage, response: import('http').ServerResponse) => void;
  const requests: { url: string; headers: import('http').IncomingHttpHeaders }[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aws-iam-token-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    key = fs.readFileSync(path.join(dir, 'key.pem'), 'utf8');
    cert = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    server = https.createServer({ key, cert }, (request, response) => {
      requests.push({ url: request.url ?? '', headers: request.headers });
      handler(request, response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `https://localhost:${(server.address() as net.AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    requests.length = 0;
  });

  test('sends our headers and returns status and body', async () => {
    handler = (_, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(OK_BODY);
    const send = httpsSendWith({ ca: cert });
    const answer = await send(new URL(`${base}/?Action=GetCallerIdentity`), { 'x-k8s-aws-id': 'prod', 'accept': 'application/json' }, 2000);
    expect(answer).toEqual({ status: 200, body: OK_BODY });
    expect(requests).toHaveLength(1);
    expect(requests[0].url).toBe('/?Action=GetCallerIdentity');
    expect(requests[0].headers['x-k8s-aws-id']).toBe('prod');
    expect(requests[0].headers.accept).toBe('application/json');
  });

  test('end to end: verifyIamToken over httpsSend, with the STS host routed here', async () => {
    handler = (_, response) => response.writeHead(200).end(OK_BODY);
    const local = httpsSendWith({ ca: cert });
    const routed: StsSend = (url, headers, timeoutMs) => local(new URL(`${base}${url.pathname}${url.search}`), headers, timeoutMs);
    const result = await verifyIamToken(CLI_TOKEN, options(routed, { clusterId: 'prod' }));
    expect(result.kind).toBe('caller');
    expect(requests[0].url).toBe(CLI_URL.slice(CLI_URL.indexOf('/', 'https://'.length)));
    expect(requests[0].headers['x-k8s-aws-id']).toBe('prod');
  });

  test('does not follow a redirect', async () => {
    handler = (request, response) => {
      if (request.url === '/elsewhere') response.writeHead(200).end(OK_BODY);
      else response.writeHead(302, { location: `${base}/elsewhere` }).end();
    };
    const answer = await httpsSendWith({ ca: cert })(new URL(`${base}/`), {}, 2000);
    expect(answer.status).toBe(302);
    expect(requests.map((r) => r.url)).toEqual(['/']);
  });

  test('gives up on a server that never answers, within the timeout', async () => {
    handler = () => undefined;
    const started = Date.now();
    await expect(httpsSendWith({ ca: cert })(new URL(`${base}/`), {}, 200)).rejects.toThrow(/did not answer within 200 ms/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test('the timeout covers the TLS handshake too (a TCP peer that says nothing)', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      await expect(httpsSendWith({ ca: cert })(new URL(`https://localhost:${port}/`), {}, 200)).rejects.toThrow(/did not answer within 200 ms/);
    } finally {
      silent.close();
    }
  });

  test('bounds the body size', async () => {
    handler = (_, response) => response.writeHead(200).end('x'.repeat(200 * 1024));
    await expect(httpsSendWith({ ca: cert })(new URL(`${base}/`), {}, 2000)).rejects.toThrow(/exceeds 65536 bytes/);
    handler = (_, response) => response.writeHead(200).end('x'.repeat(1000));
    await expect(httpsSendWith({ ca: cert, maxBodyBytes: 999 })(new URL(`${base}/`), {}, 2000)).rejects.toThrow(/exceeds 999 bytes/);
  });

  test('the default httpsSend trusts only public roots, and never sends plain http', async () => {
    handler = (_, response) => response.writeHead(200).end(OK_BODY);
    await expect(httpsSend(new URL(`${base}/`), {}, 2000)).rejects.toThrow(/request failed/);
    await expect(httpsSend(new URL('http://127.0.0.1:1/'), {}, 2000)).rejects.toThrow(/only https/);
    expect(requests).toHaveLength(0);
  });
});
