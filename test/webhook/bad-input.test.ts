import { RunningWebhook } from '../../webhook/app';
import { MAX_BODY_BYTES } from '../../webhook/server';
import { CLUSTER_GROUP, post, rawExchange, request, ROLE_GROUPS, startTestWebhook, statusLine, subjectAccessReview, tokenReview, unusedLocalUrl } from './fixtures';

const ANY_TOKEN = 'any-token-0123456789abcdef';

// The test config gives clients 500 ms (server.requestTimeoutMs) to send a whole request.
let webhook: RunningWebhook;
beforeAll(async () => {
  webhook = await startTestWebhook(await unusedLocalUrl());
});
afterEach(async () => {
  // Whatever a bad client did, the server still answers.
  expect((await request(webhook.url, 'GET', '/healthz')).text).toBe('ok');
});
afterAll(() => webhook.close());

const adminReview = subjectAccessReview({ groups: [CLUSTER_GROUP, ROLE_GROUPS.Administrator], resourceAttributes: { verb: 'get', resource: 'pods' } }) as any;

describe('malformed reviews get 400 with a message naming the problem', () => {
  test.each([
    ['/authenticate', 'malformed JSON', '{"kind": "TokenReview",', /body is not valid JSON/],
    ['/authorize', 'malformed JSON', '{{', /body is not valid JSON/],
    ['/authorize', 'an empty body', '', /body is not valid JSON/],
    ['/authenticate', 'a JSON array', '[]', /body must be a JSON object/],
    ['/authenticate', 'the wrong kind', { ...tokenReview(ANY_TOKEN), kind: 'SubjectAccessReview' }, /kind must be "TokenReview", got "SubjectAccessReview"/],
    ['/authenticate', 'an unknown apiVersion', tokenReview(ANY_TOKEN, 'authentication.k8s.io/v2'), /apiVersion must be one of authentication.k8s.io\/v1, authentication.k8s.io\/v1beta1, got "authentication.k8s.io\/v2"/],
    ['/authenticate', 'a missing token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: {} }, /spec.token must be a non-empty string/],
    ['/authenticate', 'a missing spec', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview' }, /spec must be an object/],
    ['/authenticate', 'mistyped audiences', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'x', audiences: 'api' } }, /spec.audiences must be a list of strings/],
    ['/authorize', 'a TokenReview sent to /authorize', tokenReview(ANY_TOKEN), /kind must be "SubjectAccessReview"/],
    ['/authorize', 'an authentication apiVersion', { ...adminReview, apiVersion: 'authentication.k8s.io/v1' }, /apiVersion must be one of authorization.k8s.io\/v1, authorization.k8s.io\/v1beta1/],
    ['/authorize', 'a missing user', { ...adminReview, spec: { ...adminReview.spec, user: undefined } }, /spec.user must be a non-empty string/],
    ['/authorize', 'groups that are not a list', { ...adminReview, spec: { ...adminReview.spec, groups: CLUSTER_GROUP } }, /spec.groups must be a list of strings/],
    ['/authorize', 'v1beta1 groups in a v1 review', { ...adminReview, spec: { ...adminReview.spec, group: [] } }, /spec.group is not part of authorization.k8s.io\/v1/],
    ['/authorize', 'neither kind of attributes', { ...adminReview, spec: { user: 'jdoe', groups: [] } }, /exactly one of resourceAttributes and nonResourceAttributes/],
    ['/authorize', 'both kinds of attributes', { ...adminReview, spec: { ...adminReview.spec, nonResourceAttributes: { verb: 'get', path: '/version' } } }, /exactly one of/],
    ['/authorize', 'a missing verb', { ...adminReview, spec: { ...adminReview.spec, resourceAttributes: { resource: 'pods' } } }, /spec.resourceAttributes.verb must be a non-empty string/],
    ['/authorize', 'a mistyped namespace', { ...adminReview, spec: { ...adminReview.spec, resourceAttributes: { verb: 'get', resource: 'pods', namespace: 7 } } }, /spec.resourceAttributes.namespace must be a string/],
    ['/authorize', 'a missing path', { ...adminReview, spec: { user: 'jdoe', groups: [], nonResourceAttributes: { verb: 'get' } } }, /spec.nonResourceAttributes.path must be a non-empty string/],
  ])('%s with %s', async (path, _, body, message) => {
    const answer = await post(webhook.url, path, body);
    expect(answer.status).toBe(400);
    expect(answer.json()).toMatchObject({ kind: 'Status', status: 'Failure', code: 400, message: expect.stringMatching(message) });
  });
});

describe('routing', () => {
  test('an unknown path is 404', async () => {
    expect((await post(webhook.url, '/authz', adminReview)).status).toBe(404);
  });
  test('a wrong method is 405 with Allow', async () => {
    const answer = await request(webhook.url, 'GET', '/authorize');
    expect([answer.status, answer.headers.allow]).toEqual([405, 'POST']);
    expect((await request(webhook.url, 'POST', '/healthz', '{}')).status).toBe(405);
  });
});

describe('oversized bodies get 413', () => {
  test('declared by Content-Length, refused before reading', async () => {
    const raw = await rawExchange(webhook.port, [`POST /authorize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${MAX_BODY_BYTES + 1}\r\n\r\n{`]);
    expect(statusLine(raw)).toBe('HTTP/1.1 413 Payload Too Large');
    expect(raw).toMatch(/exceeds the limit of 1048576 bytes/);
  });

  test('streamed in chunks past the limit', async () => {
    const chunk = Buffer.alloc(256 * 1024, 0x20);
    const parts = ['POST /authenticate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'];
    for (let i = 0; i < 5; i++) parts.push(`${chunk.length.toString(16)}\r\n`, chunk.toString('latin1'), '\r\n');
    const raw = await rawExchange(webhook.port, parts);
    expect(statusLine(raw)).toBe('HTTP/1.1 413 Payload Too Large');
  });

  test('a body of exactly 1 MiB is still read (and judged on its content)', async () => {
    const review = JSON.stringify(tokenReview('unknown-token'));
    const body = review + ' '.repeat(MAX_BODY_BYTES - review.length);
    const answer = await post(webhook.url, '/authenticate', body);
    // Read, parsed and looked up: token-info is down in this suite, which is a 429 to retry.
    expect([answer.status, answer.json().message]).toEqual([429, 'token-info unavailable; try again']);
  });
});

describe('slow and half-closed clients', () => {
  test('a body trickling in slower than server.requestTimeoutMs gets 408', async () => {
    const body = JSON.stringify(adminReview);
    const started = Date.now();
    const raw = await rawExchange(webhook.port, [`POST /authorize HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`, ...body.slice(0, 20).split('')], { pauseMs: 100 });
    expect(statusLine(raw)).toBe('HTTP/1.1 408 Request Timeout');
    expect(raw).toMatch(/request not received within 500 ms/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test('headers trickling in slower than server.requestTimeoutMs get 408', async () => {
    const headers = 'POST /authorize HTTP/1.1\r\nHost: x\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n';
    const raw = await rawExchange(webhook.port, headers.split(''), { pauseMs: 50 });
    expect(statusLine(raw)).toBe('HTTP/1.1 408 Request Timeout');
  });

  test('a client that half-closes before the body is complete gets 400, not a decision', async () => {
    const body = JSON.stringify(adminReview);
    const raw = await rawExchange(webhook.port, [`POST /authorize HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 30)}`], { halfClose: true });
    expect(statusLine(raw)).toBe('HTTP/1.1 400 Bad Request');
    expect(raw).toMatch(/closed its side before the request was complete/);
    expect(raw).not.toMatch(/"allowed"/);
  });

  test('a client that half-closes after a complete request still gets its answer', async () => {
    const body = JSON.stringify(adminReview);
    const raw = await rawExchange(webhook.port, [`POST /authorize HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`], { halfClose: true });
    expect(statusLine(raw)).toBe('HTTP/1.1 200 OK');
    expect(raw).toMatch(/"allowed":true/);
  });

  test('malformed HTTP gets 400', async () => {
    const raw = await rawExchange(webhook.port, ['POST /authorize HTTP/1.1\r\nContent-Length: abc\r\n\r\n']);
    expect(statusLine(raw)).toBe('HTTP/1.1 400 Bad Request');
  });
});
