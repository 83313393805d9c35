import * as http from 'http';
import { jsonLineLogger } from '../../webhook/logger';
import { RequestHandler } from '../../webhook/request-handler';
import { createWebhookServer, listen } from '../../webhook/server';
import { request } from './fixtures';

// The transport takes a handler's answer whether it comes at once or through a promise, and
// turns a handler that throws or rejects into a 500 for that request alone.

let server: http.Server;
let baseUrl: string;
const logLines: string[] = [];

const handler: RequestHandler = (incoming) => {
  switch (incoming.url) {
    case '/at-once': return { status: 200, contentType: 'text/plain', body: 'at once' };
    case '/later': return Promise.resolve({ status: 200, contentType: 'text/plain', body: 'later' });
    case '/throws': throw new Error('thrown at once');
    default: return Promise.reject(new Error('rejected later'));
  }
};

beforeAll(async () => {
  server = createWebhookServer({ handler, requestTimeoutMs: 5000, logger: jsonLineLogger((line) => logLines.push(line)) });
  const address = await listen(server, '127.0.0.1', 0);
  baseUrl = `http://127.0.0.1:${address.port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('answers given at once and through a promise are both sent', async () => {
  expect([(await request(baseUrl, 'POST', '/at-once', '{}')).text, (await request(baseUrl, 'POST', '/later', '{}')).text]).toEqual(['at once', 'later']);
});

test.each([['/throws', 'thrown at once'], ['/rejects', 'rejected later']])('a handler failing on %s answers 500, logs why, and the server goes on', async (path, message) => {
  const answer = await request(baseUrl, 'POST', path, '{}');
  expect([answer.status, answer.json()]).toEqual([500, expect.objectContaining({ reason: 'InternalError', message: 'internal error; see the webhook log' })]);
  expect(logLines.some((line) => line.includes('request failed') && line.includes(message))).toBe(true);
  expect((await request(baseUrl, 'POST', '/at-once', '{}')).status).toBe(200);
});
