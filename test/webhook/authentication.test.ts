import { RETRY_AFTER_SECONDS } from '../../webhook/authenticator';
import { RunningWebhook } from '../../webhook/app';
import { DEFAULT_TOKEN_INFO_FIELDS } from '../../webhook/config';
import { jsonLineLogger } from '../../webhook/logger';
import { identityFromTokenInfo, MAX_BEARER_TOKEN_LENGTH } from '../../webhook/token-info-client';
import { post, startTestWebhook, startTokenInfoStub, TokenInfoStub, tokenReview, unusedLocalUrl } from './fixtures';

const USER_TOKEN = 'user-token-abc.DEF_123';
const JDOE = { uid: 'jdoe', groups: ['aws:123456789012:eu-central-1:kube-aws-test-1', 'team-readers'], scope: ['uid'] };

let stub: TokenInfoStub;
let webhook: RunningWebhook;
let clock: number;
const logLines: string[] = [];

beforeEach(async () => {
  clock = 1_000_000;
  logLines.length = 0;
  stub = await startTokenInfoStub();
  stub.users.set(USER_TOKEN, JDOE);
  webhook = await startTestWebhook(stub.url, {}, { now: () => clock, logger: jsonLineLogger((line) => logLines.push(line)) });
});
afterEach(async () => {
  await webhook.close();
  await stub.close();
});

const authenticate = async (token: string, apiVersion = 'authentication.k8s.io/v1') => {
  const answer = await post(webhook.url, '/authenticate', tokenReview(token, apiVersion));
  expect(answer.status).toBe(200);
  return answer.json();
};

describe.each(['authentication.k8s.io/v1', 'authentication.k8s.io/v1beta1'])('POST /authenticate with %s', (apiVersion) => {
  test('a user token is looked up at token-info and mapped to username, uid and groups', async () => {
    const body = await authenticate(USER_TOKEN, apiVersion);
    expect(body).toEqual({ apiVersion, kind: 'TokenReview', status: { authenticated: true, user: { username: 'jdoe', uid: 'jdoe', groups: JDOE.groups } } });
    expect(stub.authorizationHeaders).toEqual([`Bearer ${USER_TOKEN}`]);
  });
});

describe('user tokens', () => {
  test('a token token-info does not know is not authenticated', async () => {
    expect((await authenticate('unknown-token')).status).toMatchObject({ authenticated: false });
    expect(stub.lookups.get('unknown-token')).toBe(1);
  });

  test('a token longer than any real one is a bad request (400), refused without asking token-info', async () => {
    const huge = 'a'.repeat(MAX_BEARER_TOKEN_LENGTH + 1);
    const answer = await post(webhook.url, '/authenticate', tokenReview(huge));
    expect([answer.status, answer.json().message]).toEqual([400, `invalid TokenReview: spec.token is ${MAX_BEARER_TOKEN_LENGTH + 1} characters, longer than any bearer token this webhook accepts (${MAX_BEARER_TOKEN_LENGTH})`]);
    expect(stub.lookups.get(huge)).toBeUndefined();
    const longest = 'b'.repeat(MAX_BEARER_TOKEN_LENGTH);
    await authenticate(longest);
    expect(stub.lookups.get(longest)).toBe(1);
  });

  test('a token that is not a bearer token is refused without a lookup (no header injection)', async () => {
    expect((await authenticate('abc\r\nx-evil: 1')).status.authenticated).toBe(false);
    expect(stub.authorizationHeaders).toEqual([]);
  });

  test('positive answers are cached: the second review does not ask token-info', async () => {
    await authenticate(USER_TOKEN);
    const body = await authenticate(USER_TOKEN);
    expect(body.status.user.username).toBe('jdoe');
    expect(stub.lookups.get(USER_TOKEN)).toBe(1);
  });

  test('cached users, alternating in both apiVersions, each get their own answer in the asked apiVersion', async () => {
    const ASMITH = { uid: 'asmith', groups: ['team-writers'], scope: ['uid'] };
    stub.users.set('other-token', ASMITH);
    const expected = (apiVersion: string, who: typeof JDOE) => ({ apiVersion, kind: 'TokenReview', status: { authenticated: true, user: { username: who.uid, uid: who.uid, groups: who.groups } } });
    for (let round = 0; round < 2; round++) {
      for (const apiVersion of ['authentication.k8s.io/v1', 'authentication.k8s.io/v1beta1']) {
        expect(await authenticate(USER_TOKEN, apiVersion)).toEqual(expected(apiVersion, JDOE));
        expect(await authenticate('other-token', apiVersion)).toEqual(expected(apiVersion, ASMITH));
      }
    }
    expect([stub.lookups.get(USER_TOKEN), stub.lookups.get('other-token')]).toEqual([1, 1]);
  });

  test('the cache forgets after the TTL (60 s in the test config)', async () => {
    await authenticate(USER_TOKEN);
    clock += 59_000;
    await authenticate(USER_TOKEN);
    expect(stub.lookups.get(USER_TOKEN)).toBe(1);
    clock += 1_000;
    await authenticate(USER_TOKEN);
    expect(stub.lookups.get(USER_TOKEN)).toBe(2);
  });

  test('the cache never outlives token-info\'s expires_in', async () => {
    stub.users.set(USER_TOKEN, { ...JDOE, expires_in: 5 });
    await authenticate(USER_TOKEN);
    clock += 5_000;
    await authenticate(USER_TOKEN);
    expect(stub.lookups.get(USER_TOKEN)).toBe(2);
  });

  test('a refusal is reused for 10 s only: a flood of one junk token asks token-info once, a later try asks again', async () => {
    for (let i = 0; i < 5; i++) expect((await authenticate('unknown-token')).status.authenticated).toBe(false);
    expect(stub.lookups.get('unknown-token')).toBe(1);
    clock += 10_000;
    await authenticate('unknown-token');
    expect(stub.lookups.get('unknown-token')).toBe(2);
  });

  test('token-info down: 429 with Retry-After (the API server retries, and caches no refusal), logged, not cached', async () => {
    const down = await startTestWebhook(await unusedLocalUrl(), {}, { logger: jsonLineLogger((line) => logLines.push(line)) });
    try {
      const answer = await post(down.url, '/authenticate', tokenReview(USER_TOKEN));
      expect([answer.status, answer.headers['retry-after']]).toEqual([429, String(RETRY_AFTER_SECONDS)]);
      expect(answer.json()).toMatchObject({ kind: 'Status', code: 429, message: 'token-info unavailable; try again' });
      expect(down.authenticator.cachedIdentities).toBe(0);
      expect(logLines.join('')).toMatch(/ECONNREFUSED/);
    } finally {
      await down.close();
    }
  });

  test('token-info slower than tokenInfo.timeoutMs (300 ms): 429, not cached, answered in time', async () => {
    stub.delayMs = 1000;
    const started = Date.now();
    const answer = await post(webhook.url, '/authenticate', tokenReview(USER_TOKEN));
    expect(answer.status).toBe(429);
    expect(Date.now() - started).toBeLessThan(900);
    expect(webhook.authenticator.cachedIdentities).toBe(0);
    expect(logLines.join('')).toMatch(/did not answer within 300 ms/);
    stub.delayMs = 0;
    expect((await authenticate(USER_TOKEN)).status.authenticated).toBe(true);
  });

  test('the cache is bounded by cache.maxEntries, least recently used first', async () => {
    const small = await startTestWebhook(stub.url, { cache: { ttlSeconds: 60, maxEntries: 2 } });
    try {
      for (const token of ['t-1', 't-2', 't-3']) stub.users.set(token, { uid: token });
      for (const token of ['t-1', 't-2', 't-3']) await post(small.url, '/authenticate', tokenReview(token));
      expect(small.authenticator.cachedIdentities).toBe(2);
      await post(small.url, '/authenticate', tokenReview('t-3'));
      await post(small.url, '/authenticate', tokenReview('t-1'));
      expect([stub.lookups.get('t-1'), stub.lookups.get('t-3')]).toEqual([2, 1]);
    } finally {
      await small.close();
    }
  });

  test('concurrent reviews of one new token ask token-info once', async () => {
    stub.delayMs = 50;
    const bodies = await Promise.all(Array.from({ length: 10 }, () => authenticate(USER_TOKEN)));
    expect(bodies.every((b) => b.status.authenticated)).toBe(true);
    expect(stub.lookups.get(USER_TOKEN)).toBe(1);
  });

  test('tokens never appear in the log', async () => {
    stub.delayMs = 1000;
    expect((await post(webhook.url, '/authenticate', tokenReview(USER_TOKEN))).status).toBe(429);
    stub.delayMs = 0;
    await authenticate('unknown-token');
    await post(webhook.url, '/authenticate', '{"kind":"TokenReview","spec":{"token":"secret-in-bad-review"}}');
    expect(logLines.length).toBeGreaterThanOrEqual(2);
    const log = logLines.join('');
    for (const token of [USER_TOKEN, 'unknown-token', 'secret-in-bad-review']) expect(log).not.toContain(token);
  });
});

describe('mapping token-info answers', () => {
  const fields = { username: 'user.name', uid: 'user.id', groups: 'memberOf' };

  test('dotted paths, numeric uid, a single group string', () => {
    expect(identityFromTokenInfo({ user: { name: 'jdoe', id: 42 }, memberOf: 'team-a' }, fields)).toEqual({ kind: 'identity', identity: { username: 'jdoe', uid: '42', groups: ['team-a'] } });
  });

  test('system: usernames are refused and system: groups dropped', () => {
    expect(identityFromTokenInfo({ username: 'system:admin' }, DEFAULT_TOKEN_INFO_FIELDS)).toMatchObject({ kind: 'rejected' });
    expect(identityFromTokenInfo({ username: 'mallory', groups: ['system:masters', 'team-a', 7] }, DEFAULT_TOKEN_INFO_FIELDS))
      .toMatchObject({ kind: 'identity', identity: { groups: ['team-a'] } });
  });

  test('an answer without a username is refused', () => {
    expect(identityFromTokenInfo({ sub: 'x' }, DEFAULT_TOKEN_INFO_FIELDS)).toMatchObject({ kind: 'rejected' });
    // No longer good, whatever else it says (RFC 7662 active and exp; OAuth2 expires_in).
    const jdoe = { username: 'jdoe', sub: 'jdoe', groups: ['team-a'] };
    const now = Date.parse('2026-12-04T02:00:00Z');
    expect(identityFromTokenInfo({ ...jdoe, active: false }, DEFAULT_TOKEN_INFO_FIELDS, now)).toEqual({ kind: 'rejected', reason: 'token-info says the token is not active' });
    expect(identityFromTokenInfo({ ...jdoe, exp: now / 1000 }, DEFAULT_TOKEN_INFO_FIELDS, now)).toEqual({ kind: 'rejected', reason: 'token-info says the token expired (exp)' });
    expect(identityFromTokenInfo({ ...jdoe, expires_in: 0 }, DEFAULT_TOKEN_INFO_FIELDS, now)).toEqual({ kind: 'rejected', reason: 'token-info says the token expired (expires_in)' });
    expect(identityFromTokenInfo({ ...jdoe, active: true, exp: now / 1000 + 60, expires_in: 60 }, DEFAULT_TOKEN_INFO_FIELDS, now)).toMatchObject({ kind: 'identity', expiresInSeconds: 60 });
    expect(identityFromTokenInfo([1, 2], DEFAULT_TOKEN_INFO_FIELDS)).toMatchObject({ kind: 'rejected' });
  });
});
