import { RunningWebhook } from '../../webhook/app';
import { MAX_JSON_DEPTH } from '../../webhook/request-handler';
import { MAX_BEARER_TOKEN_LENGTH } from '../../webhook/token-info-client';
import { CLUSTER_GROUP, post, request, ROLE_GROUPS, startTestWebhook, startTokenInfoStub, subjectAccessReview, TokenInfoStub, tokenReview } from './fixtures';

/** A JSON value nested `levels` deep: [[[...1...]]] (arrays) or {"a":{"a":...}} (objects). */
const nested = (levels: number, kind: 'array' | 'object') => (kind === 'array' ? '['.repeat(levels) + '1' + ']'.repeat(levels) : '{"a":'.repeat(levels) + '1' + '}'.repeat(levels));

let stub: TokenInfoStub;
let webhook: RunningWebhook;
beforeAll(async () => {
  stub = await startTokenInfoStub();
  stub.users.set('jdoe-token', { uid: 'jdoe', groups: [CLUSTER_GROUP] });
  webhook = await startTestWebhook(stub.url);
});
afterEach(async () => {
  // Whatever the body was, the server is still up.
  expect((await request(webhook.url, 'GET', '/healthz')).text).toBe('ok');
});
afterAll(async () => {
  await webhook.close();
  await stub.close();
});

const depthMessage = `body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels; a review needs fewer than 10`;

describe('bodies nested deeper than MAX_JSON_DEPTH get 400, never 500', () => {
  test.each([
    ['/authenticate', 'an array nested 100,000 deep as the kind', `{"kind":${nested(100_000, 'array')}}`],
    ['/authorize', 'an array nested 100,000 deep as the kind', `{"kind":${nested(100_000, 'array')}}`],
    ['/authenticate', 'objects nested one level too deep', `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"jdoe-token"},"metadata":${nested(MAX_JSON_DEPTH, 'object')}}`],
    ['/authorize', 'only opening brackets', '['.repeat(200_000)],
  ])('%s with %s', async (path, _, body) => {
    const answer = await post(webhook.url, path, body);
    expect([answer.status, answer.json()]).toEqual([400, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'BadRequest', code: 400, message: depthMessage }]);
  });

  test('exactly MAX_JSON_DEPTH levels is still read and judged', async () => {
    const body = `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"jdoe-token"},"metadata":${nested(MAX_JSON_DEPTH - 1, 'object')}}`;
    const answer = await post(webhook.url, '/authenticate', body);
    expect([answer.status, answer.json().status.authenticated]).toEqual([200, true]);
  });

  test('brackets inside strings (escaped quotes too) are not nesting', async () => {
    const review = subjectAccessReview({ groups: [CLUSTER_GROUP, ROLE_GROUPS.ReadOnly], resourceAttributes: { verb: 'get', resource: 'pods', namespace: 'team-a', name: `x\\"${'['.repeat(1000)}` } });
    const answer = await post(webhook.url, '/authorize', review);
    expect([answer.status, answer.json().status.allowed]).toEqual([200, true]);
  });
});

describe('a token longer than MAX_BEARER_TOKEN_LENGTH gets 400, without a lookup', () => {
  test.each([
    ['one character over', MAX_BEARER_TOKEN_LENGTH + 1],
    ['close to the 1 MiB body limit', 1_000_000],
  ])('%s', async (_, length) => {
    const token = 'a'.repeat(length);
    const answer = await post(webhook.url, '/authenticate', tokenReview(token));
    expect(answer.status).toBe(400);
    expect(answer.json().message).toBe(`invalid TokenReview: spec.token is ${length} characters, longer than any bearer token this webhook accepts (${MAX_BEARER_TOKEN_LENGTH})`);
    expect(stub.lookups.get(token)).toBeUndefined();
  });
});
