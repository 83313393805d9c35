/**
 * Throughput and latency of the auth webhook over loopback, beside a bare Node http
 * server that reads the body and answers a fixed JSON: the ratio shows what the
 * webhook's own work costs. Prints figures; asserts nothing.
 *
 *   npx ts-node --transpile-only bench/webhook.ts          (BENCH_SECONDS=10 by default)
 *
 * Servers run in a child process so autocannon does not share their event loop.
 */
import { fork } from 'child_process';
import * as http from 'http';
import { mkdtempSync, writeFileSync } from 'fs';
import { cpus, tmpdir } from 'os';
import * as path from 'path';
import autocannon from 'autocannon';
import { startWebhook } from '../webhook/app';
import { parseWebhookConfig } from '../webhook/config';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/**
 * Each load runs in ROUNDS slices, interleaved (bare, TokenReview, SubjectAccessReview,
 * bare, ...), and each figure is the median over its slices: a busy neighbour on a shared
 * machine then slows all three alike instead of skewing the ratio.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = 50;
const CLUSTER_GROUP = 'aws:123456789012:eu-central-1:kube-aws-bench-1';
const USER_TOKEN = 'bench-user-token';

const TOKEN_REVIEW = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: USER_TOKEN } });
const SUBJECT_ACCESS_REVIEW = JSON.stringify({
  apiVersion: 'authorization.k8s.io/v1',
  kind: 'SubjectAccessReview',
  spec: { user: 'jdoe', groups: [CLUSTER_GROUP, 'team-developers', 'system:authenticated'], resourceAttributes: { verb: 'list', group: 'apps', version: 'v1', resource: 'deployments', namespace: 'team-a' } },
});
const FIXED_ANSWER = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', status: { authenticated: true, user: { username: 'jdoe', uid: 'jdoe', groups: [CLUSTER_GROUP] } } });

/** Child: serve one of the servers on a free port and report it. */
async function serve(kind: string): Promise<void> {
  if (kind === 'bare') {
    const server = http.createServer((request, response) => {
      request.on('data', () => undefined);
      request.on('end', () => response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(FIXED_ANSWER) }).end(FIXED_ANSWER));
    });
    server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }));
    return;
  }
  // token-info stand-in, asked once: afterwards every TokenReview is a cache hit.
  const tokenInfo = http.createServer((_, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ uid: 'jdoe', groups: [CLUSTER_GROUP, 'team-developers'] })));
  await new Promise<void>((resolve) => tokenInfo.listen(0, '127.0.0.1', resolve));
  const directory = mkdtempSync(path.join(tmpdir(), 'webhook-bench-'));
  writeFileSync(path.join(directory, 'worker-token'), 'bench-worker-token');
  const config = parseWebhookConfig(JSON.stringify({
    clusterGroup: CLUSTER_GROUP,
    workerTokenFile: path.join(directory, 'worker-token'),
    tokenInfo: { url: `http://127.0.0.1:${(tokenInfo.address() as { port: number }).port}/tokeninfo`, fields: { username: 'uid', uid: 'uid', groups: 'groups' } },
    cache: { ttlSeconds: 3600 },
    roles: { ReadOnly: ['team-readers'], PowerUser: ['team-developers'], Administrator: ['team-admins'] },
  }));
  const webhook = await startWebhook({ ...config, workerToken: 'bench-worker-token' }, { port: 0 });
  process.send!({ port: webhook.port });
}

function startChild(kind: string): Promise<{ port: number; stop: () => void }> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--serve', kind], { execArgv: ['-r', 'ts-node/register/transpile-only'] });
    child.once('message', (message: { port: number }) => resolve({ port: message.port, stop: () => child.kill() }));
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
}

interface Figures {
  readonly label: string;
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

async function load(label: string, port: number, urlPath: string, body: string, seconds: number): Promise<Figures> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${urlPath}`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: CONNECTIONS,
    duration: seconds,
  });
  return { label, requestsPerSecond: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

async function run(): Promise<void> {
  const bare = await startChild('bare');
  const webhook = await startChild('webhook');
  try {
    // Warm up: fill the cache (one token-info lookup) and let V8 optimise.
    await load('warm-up', webhook.port, '/authenticate', TOKEN_REVIEW, 2);
    await load('warm-up', webhook.port, '/authorize', SUBJECT_ACCESS_REVIEW, 2);
    await load('warm-up', bare.port, '/authenticate', TOKEN_REVIEW, 2);
    const loads = [
      { label: 'bare http, fixed JSON', port: bare.port, path: '/authenticate', body: TOKEN_REVIEW },
      { label: 'TokenReview (cached)', port: webhook.port, path: '/authenticate', body: TOKEN_REVIEW },
      { label: 'SubjectAccessReview', port: webhook.port, path: '/authorize', body: SUBJECT_ACCESS_REVIEW },
    ];
    const slices: Figures[][] = loads.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, l] of loads.entries()) slices[i].push(await load(l.label, l.port, l.path, l.body, SECONDS / ROUNDS));
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const figures: Figures[] = slices.map((s) => ({
      label: s[0].label,
      requestsPerSecond: median(s.map((f) => f.requestsPerSecond)),
      p50: median(s.map((f) => f.p50)),
      p99: median(s.map((f) => f.p99)),
      errors: s.reduce((sum, f) => sum + f.errors, 0),
    }));
    const baseline = figures[0].requestsPerSecond;
    console.log(`\nkube-auth-webhook over loopback: ${CONNECTIONS} connections, ${SECONDS} s each in ${ROUNDS} interleaved slices (medians), Node ${process.version}, ${cpus().length} CPUs\n`);
    console.log('| server | requests/s | p50 ms | p99 ms | vs bare | errors |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const f of figures) {
      console.log(`| ${f.label} | ${Math.round(f.requestsPerSecond)} | ${f.p50} | ${f.p99} | ${(f.requestsPerSecond / baseline).toFixed(2)}x | ${f.errors} |`);
    }
    console.log('\ntarget: >= 0.70x of the bare server, p99 < 5 ms');
  } finally {
    bare.stop();
    webhook.stop();
  }
}

const serveIndex = process.argv.indexOf('--serve');
(serveIndex >= 0 ? serve(process.argv[serveIndex + 1]) : run()).catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
