import * as http from 'http';
import * as net from 'net';
import * as path from 'path';
import { jsonLineLogger } from '../../webhook/logger';
import { CLUSTER_GROUP, configDocument, post, startTestWebhook, temporaryDirectory, tokenReview, writeConfig } from './fixtures';
import { GatedTokenInfo, startGatedTokenInfo } from './gated-token-info';
import { runUntilListening } from './process-fixtures';

const BIN = path.join(__dirname, '../../bin/kube-auth-webhook.js');
const JDOE = { uid: 'jdoe', groups: [CLUSTER_GROUP, 'team-readers'] };
/** token-info may take its time here: the gate, not a timeout, decides when it answers. */
const patientTokenInfo = (url: string) => ({ tokenInfo: { url, timeoutMs: 10_000, fields: { username: 'uid', uid: 'uid', groups: 'groups' } } });

/** Opens a keep-alive connection, makes one request on it, and hands back the idle socket. */
async function idleKeepAliveSocket(baseUrl: string): Promise<net.Socket> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return new Promise((resolve, reject) => {
    const outgoing = http.get(`${baseUrl}/healthz`, { agent }, (response) => {
      response.resume();
      response.on('end', () => resolve(outgoing.socket as net.Socket));
    });
    outgoing.on('error', reject);
  });
}

const closed = (socket: net.Socket) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));

let gate: GatedTokenInfo;
beforeEach(async () => {
  gate = await startGatedTokenInfo();
  gate.users.set('jdoe-token', JDOE);
});
afterEach(async () => {
  gate.release();
  await gate.close();
});

test('SIGTERM: the process stops accepting, closes idle connections, answers the lookup in flight, then exits 0', async () => {
  // GIVEN the real CLI, an idle keep-alive connection, and a review waiting on token-info
  const file = writeConfig(temporaryDirectory(), configDocument(gate.url, patientTokenInfo(gate.url)));
  const { child, url, exited } = await runUntilListening(BIN, ['--config', file, '--listen', '127.0.0.1:0']);
  const idle = await idleKeepAliveSocket(url);
  const inFlight = post(url, '/authenticate', tokenReview('jdoe-token'));
  await gate.waitForRequests(1);

  // WHEN systemd stops the unit
  child.kill('SIGTERM');

  // THEN the idle connection is closed (drain closes idle ones after it stops listening)...
  await closed(idle);
  // ...new connections are refused (the listening socket closes on the next turn of the
  // process's event loop, which a busy machine may take a moment to reach)...
  const connectOnce = () => new Promise<string>((resolve) => {
    const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
  let refused = await connectOnce();
  for (let attempt = 0; attempt < 100 && refused === 'connected'; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    refused = await connectOnce();
  }
  expect(refused).toBe('ECONNREFUSED');
  // ...and the review in flight still gets its answer once token-info gives it, on a closing connection
  gate.release();
  const answer = await inFlight;
  expect([answer.status, answer.headers.connection, answer.json().status]).toEqual([200, 'close', { authenticated: true, user: { username: 'jdoe', uid: 'jdoe', groups: JDOE.groups } }]);
  const { code, stderr } = await exited;
  expect(code).toBe(0);
  expect(stderr).toMatch(/"msg":"stopping: draining requests in flight","signal":"SIGTERM"/);
  expect(stderr).toMatch(/"msg":"stopped"/);
});

test('close(): past the drain timeout the connections left are cut and logged', async () => {
  const lines: string[] = [];
  const webhook = await startTestWebhook(gate.url, patientTokenInfo(gate.url), { logger: jsonLineLogger((line) => lines.push(line)) });
  const stuck = post(webhook.url, '/authenticate', tokenReview('jdoe-token')).then(() => 'answered', (error: NodeJS.ErrnoException) => error.code);
  await gate.waitForRequests(1);
  await webhook.close(1);
  expect(await stuck).toBe('ECONNRESET');
  expect(lines.map((line) => JSON.parse(line)).filter((l) => l.msg === 'drain timed out; connections cut')).toEqual([expect.objectContaining({ level: 'warn', connectionsCut: 1 })]);
});
