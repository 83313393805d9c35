import { RunningWebhook } from '../../webhook/app';
import { Authenticated, AuthenticationResult, RETRY_AFTER_SECONDS, TokenAuthenticator } from '../../webhook/authenticator';
import { DEFAULT_TOKEN_INFO_FIELDS } from '../../webhook/config';
import { IAM_TOKEN_PREFIX } from '../../webhook/aws-iam-token';
import { CLUSTER_GROUP, post, startTestWebhook, tokenReview } from './fixtures';
import { GatedTokenInfo, startGatedTokenInfo } from './gated-token-info';
import { TokenInfoResult } from '../../webhook/token-info-client';
import { createRequestHandler, WebhookResponse } from '../../webhook/request-handler';

const JDOE = { uid: 'jdoe', groups: [CLUSTER_GROUP, 'team-readers'] };

/** A lookUp whose answers the test gives, token by token. */
function heldLookUps() {
  const answers = new Map<string, (result: TokenInfoResult) => void>();
  const asked: string[] = [];
  return {
    asked,
    lookUp: (token: string) => new Promise<TokenInfoResult>((resolve) => {
      asked.push(token);
      answers.set(token, resolve);
    }),
    answer: (token: string, result: TokenInfoResult) => answers.get(token)!(result),
  };
}

const REJECTED: TokenInfoResult = { kind: 'rejected', reason: 'token-info answered 401' };

describe('TokenAuthenticator: tokenInfo.maxConcurrentLookups', () => {
  const authenticatorWith = (lookUp: (token: string) => Promise<TokenInfoResult>, maxConcurrentLookups: number) => new TokenAuthenticator({
    tokenInfo: { url: 'http://127.0.0.1:1/unused', timeoutMs: 1000, fields: DEFAULT_TOKEN_INFO_FIELDS },
    cacheTtlSeconds: 60,
    cacheMaxEntries: 100,
    lookUp,
    maxConcurrentLookups,
  });

  test('a new token beyond the bound is refused at once with a retry hint, without a lookup', async () => {
    // GIVEN two lookups under way with a bound of two
    const held = heldLookUps();
    const authenticator = authenticatorWith(held.lookUp, 2);
    const first = authenticator.authenticate('junk-1');
    const second = authenticator.authenticate('junk-2');
    // WHEN a third new token arrives
    const third = await authenticator.authenticate('junk-3');
    // THEN it is refused busy, and token-info was not asked
    expect(third).toEqual({ authenticated: false, reason: 'token-info lookups at their limit; try again', retryAfterSeconds: RETRY_AFTER_SECONDS });
    expect(held.asked).toEqual(['junk-1', 'junk-2']);
    expect(authenticator.tokenInfoLookupsUnderWay).toBe(2);
    held.answer('junk-1', REJECTED);
    held.answer('junk-2', REJECTED);
    await Promise.all([first, second]);
    // AND a slot freed is a slot used
    expect(authenticator.tokenInfoLookupsUnderWay).toBe(0);
    const fourth = authenticator.authenticate('junk-3');
    expect(held.asked).toEqual(['junk-1', 'junk-2', 'junk-3']);
    held.answer('junk-3', REJECTED);
    expect(await fourth).toEqual({ authenticated: false, reason: 'token not recognised' });
  });

  test('cached users and tokens already being looked up need no slot', async () => {
    const held = heldLookUps();
    const authenticator = authenticatorWith(held.lookUp, 1);
    const login = authenticator.authenticate('jdoe-token');
    held.answer('jdoe-token', { kind: 'identity', identity: { username: 'jdoe', uid: 'jdoe', groups: [] } });
    await login;
    // The one slot is taken by junk...
    const junk = authenticator.authenticate('junk-1');
    // ...yet jdoe is answered from the cache, and a second request for junk-1 joins its lookup.
    expect(await authenticator.authenticate('jdoe-token')).toMatchObject({ authenticated: true, user: { username: 'jdoe' } });
    const junkAgain = authenticator.authenticate('junk-1');
    held.answer('junk-1', REJECTED);
    expect(await Promise.all([junk, junkAgain])).toEqual([{ authenticated: false, reason: 'token not recognised' }, { authenticated: false, reason: 'token not recognised' }]);
    expect(held.asked).toEqual(['jdoe-token', 'junk-1']);
    // AND the refusal cache still answers junk-1 without a slot or a lookup
    expect(await authenticator.authenticate('junk-1')).toEqual({ authenticated: false, reason: 'token not recognised' });
    expect(held.asked).toHaveLength(2);
  });

  test('a cached or refused token is answered at once, one frozen result per token; a new token through a promise', async () => {
    // GIVEN jdoe's token answered once and junk refused once
    const held = heldLookUps();
    const authenticator = authenticatorWith(held.lookUp, 2);
    const login = authenticator.authenticate('jdoe-token');
    expect(login).toBeInstanceOf(Promise);
    held.answer('jdoe-token', { kind: 'identity', identity: { username: 'jdoe', uid: 'jdoe', groups: [] } });
    const first = await login;
    const refusal = authenticator.authenticate('junk-1');
    held.answer('junk-1', REJECTED);
    await refusal;
    // WHEN both come again
    const hit = authenticator.authenticate('jdoe-token');
    const refusedAgain = authenticator.authenticate('junk-1');
    // THEN neither is a promise (the hot path waits for no microtask), the hit is the very
    // object of the lookup, frozen, so no caller can change what the next one is told
    expect(hit).not.toBeInstanceOf(Promise);
    expect(refusedAgain).toEqual({ authenticated: false, reason: 'token not recognised' });
    expect(hit).toBe(first);
    expect([Object.isFrozen(hit), Object.isFrozen((hit as Authenticated).user), Object.isFrozen((hit as Authenticated).user.groups)]).toEqual([true, true, true]);
    expect(() => ((hit as Authenticated).user.groups as string[]).push('system:masters')).toThrow(TypeError);
    expect(held.asked).toEqual(['jdoe-token', 'junk-1']);
  });

  test('requests that waited on one lookup share its one result', async () => {
    const held = heldLookUps();
    const authenticator = authenticatorWith(held.lookUp, 2);
    const waiting = [authenticator.authenticate('jdoe-token'), authenticator.authenticate('jdoe-token')];
    held.answer('jdoe-token', { kind: 'identity', identity: { username: 'jdoe', uid: 'jdoe', groups: [] } });
    const [one, other] = await Promise.all(waiting);
    expect(one).toBe(other);
    expect(authenticator.authenticate('jdoe-token')).toBe(one);
    expect(held.asked).toEqual(['jdoe-token']);
  });

  test('the request handler answers a cached token\'s TokenReview at once, and a new one through a promise', async () => {
    const held = heldLookUps();
    const authenticator = authenticatorWith(held.lookUp, 2);
    const handler = createRequestHandler({ authenticate: (token) => authenticator.authenticate(token), policy: { clusterGroup: CLUSTER_GROUP, roles: { ReadOnly: [], PowerUser: [], Administrator: [] } } });
    const ask = () => handler({ method: 'POST', url: '/authenticate', body: Buffer.from(JSON.stringify(tokenReview('jdoe-token'))) });
    const first = ask();
    expect(first).toBeInstanceOf(Promise);
    held.answer('jdoe-token', { kind: 'identity', identity: { username: 'jdoe', uid: 'jdoe', groups: [CLUSTER_GROUP] } });
    const firstAnswer = await first;
    const again = ask();
    expect(again).not.toBeInstanceOf(Promise);
    expect((again as WebhookResponse).body).toBe(firstAnswer.body);
    expect(JSON.parse((again as WebhookResponse).body).status).toEqual({ authenticated: true, user: { username: 'jdoe', uid: 'jdoe', groups: [CLUSTER_GROUP] } });
  });

  test('an authenticator answering through any thenable, not only a native promise, keeps its retry answer (429)', async () => {
    const busy: AuthenticationResult = { authenticated: false, reason: 'busy', retryAfterSeconds: 1 };
    const thenable: PromiseLike<AuthenticationResult> = { then: (resolve) => Promise.resolve(busy).then(resolve) };
    const handler = createRequestHandler({ authenticate: () => thenable as Promise<AuthenticationResult>, policy: { clusterGroup: CLUSTER_GROUP, roles: { ReadOnly: [], PowerUser: [], Administrator: [] } } });
    const answer = await handler({ method: 'POST', url: '/authenticate', body: Buffer.from(JSON.stringify(tokenReview('some-token'))) });
    expect([answer.status, answer.headers]).toEqual([429, { 'retry-after': '1' }]);
  });

  test('IAM tokens do not take token-info slots', async () => {
    const held = heldLookUps();
    const authenticator = authenticatorWith(held.lookUp, 1);
    const junk = authenticator.authenticate('junk-1');
    // No iam section: refused as not accepted here, not as busy.
    expect(await authenticator.authenticate(`${IAM_TOKEN_PREFIX}aHR0cHM6Ly9zdHMuYW1hem9uYXdzLmNvbS8`)).toEqual({ authenticated: false, reason: 'token not recognised' });
    expect(held.asked).toEqual(['junk-1']);
    held.answer('junk-1', REJECTED);
    await junk;
  });
});

describe('over HTTP: a junk flood while token-info is slow', () => {
  let gate: GatedTokenInfo;
  let webhook: RunningWebhook;
  beforeEach(async () => {
    gate = await startGatedTokenInfo();
    gate.users.set('jdoe-token', JDOE);
    webhook = await startTestWebhook(gate.url, { tokenInfo: { url: gate.url, timeoutMs: 10_000, maxConcurrentLookups: 2, fields: { username: 'uid', uid: 'uid', groups: 'groups' } } });
  });
  afterEach(async () => {
    gate.release();
    await webhook.close();
    await gate.close();
  });

  test('beyond the bound: 429 with Retry-After at once; cached users still answered; token-info never sees more than the bound', async () => {
    // GIVEN jdoe is cached, then two junk lookups hold both slots
    gate.release();
    expect((await post(webhook.url, '/authenticate', tokenReview('jdoe-token'))).json().status.authenticated).toBe(true);
    gate.hold();
    const heldJunk = [post(webhook.url, '/authenticate', tokenReview('junk-1')), post(webhook.url, '/authenticate', tokenReview('junk-2'))];
    await gate.waitForRequests(3);

    // WHEN a flood of distinct junk tokens arrives while those two are still held
    const flood = await Promise.all(Array.from({ length: 50 }, (_, i) => post(webhook.url, '/authenticate', tokenReview(`flood-${i}`))));

    // THEN every flood request was answered (before token-info answered anything) with 429
    for (const answer of flood) {
      expect(answer.status).toBe(429);
      expect(answer.headers['retry-after']).toBe(String(RETRY_AFTER_SECONDS));
      expect(answer.json()).toEqual({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'TooManyRequests', code: 429, message: 'token-info lookups at their limit; try again' });
    }
    // AND jdoe is answered from the cache meanwhile
    expect((await post(webhook.url, '/authenticate', tokenReview('jdoe-token'))).json().status).toMatchObject({ authenticated: true, user: { username: 'jdoe' } });
    expect(gate.received).toEqual(['jdoe-token', 'junk-1', 'junk-2']);
    expect(gate.mostHeldAtOnce).toBe(2);

    // AND once token-info answers, the held reviews get their refusals and slots free up
    gate.release();
    for (const answer of await Promise.all(heldJunk)) expect([answer.status, answer.json().status]).toEqual([200, { authenticated: false, error: 'token not recognised' }]);
    expect((await post(webhook.url, '/authenticate', tokenReview('flood-0'))).json().status).toEqual({ authenticated: false, error: 'token not recognised' });
    expect(gate.received).toContain('flood-0');
  });
});
