/**
 * Throughput and latency of the auth webhook over loopback, beside a bare Node http
 * server that reads the same request body and answers, as fixed text, the very answer the
 * webhook gives to it (same bytes in and out, per review kind): the ratio shows what the
 * webhook's own work costs. Beside them the same bare server that also parses the body with
 * JSON.parse: the ceiling of any server that reads a review. Latency percentiles come from every
 * response's own time (autocannon's summary counts whole milliseconds), and each server's CPU
 * time per request from /proc. Then a flood: cached users' latency while thousands of
 * distinct junk tokens arrive and token-info is slow. Prints figures beside their
 * targets; asserts nothing.
 *
 *   npx ts-node --transpile-only bench/webhook.ts          (BENCH_SECONDS=10, FLOOD_SECONDS=5 by default)
 *
 * Servers run in child processes so autocannon does not share their event loop: the webhook
 * as masters run it (the one-file bundle under plain Node), the bare server under plain Node.
 */
import { execFileSync, fork, spawn } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import * as http from 'http';
import { cpus, tmpdir } from 'os';
import * as path from 'path';
import autocannon from 'autocannon';
import { bundleWebhookServer } from '../webhook/bundle';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/**
 * Each load runs in ROUNDS slices, interleaved (bare, TokenReview, SubjectAccessReview,
 * bare, ...), and each figure is the median over its slices: a busy neighbour on a shared
 * machine then slows all three alike instead of skewing the ratio.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = 50;
/** The flood: this many distinct junk tokens, spread over FLOOD_SECONDS, each answered by token-info after JUNK_ANSWER_MS. */
const FLOOD_SECONDS = Number(process.env.FLOOD_SECONDS ?? 5);
const JUNK_TOKENS = 2000;
const JUNK_ANSWER_MS = 1500;
/** Targets (from the issue): printed beside the figures, never asserted. */
const TARGET_THROUGHPUT_VS_BARE = 0.8;
const TARGET_P99_VS_BARE = 1.5;
const TARGET_FLOOD_P99_MS = 50;
const CLUSTER_GROUP = 'aws:123456789012:eu-central-1:kube-aws-bench-1';
const USER_TOKEN = 'bench-user-token';

const TOKEN_REVIEW = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: USER_TOKEN } });
const SUBJECT_ACCESS_REVIEW = JSON.stringify({
  apiVersion: 'authorization.k8s.io/v1',
  kind: 'SubjectAccessReview',
  spec: { user: 'jdoe', groups: [CLUSTER_GROUP, 'team-developers', 'system:authenticated'], resourceAttributes: { verb: 'list', group: 'apps', version: 'v1', resource: 'deployments', namespace: 'team-a' } },
});

const tokenReviewOf = (token: string) => JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } });

/** Child (under ts-node): the slow token-info of the flood, or its junk sender (`argument`: the webhook's port). */
async function serve(kind: string, argument?: string): Promise<void> {
  if (kind === 'junk-sender') {
    await sendJunk(Number(argument));
    return;
  }
  if (kind === 'slow-token-info') {
    // The user's token is answered at once; every other (junk) token is refused after JUNK_ANSWER_MS.
    const server = http.createServer((request, response) => {
      const answer = () => (request.headers.authorization === `Bearer ${USER_TOKEN}`
        ? response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ uid: 'jdoe', groups: [CLUSTER_GROUP, 'team-developers'] }))
        : response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_token"}'));
      if (request.headers.authorization === `Bearer ${USER_TOKEN}`) answer();
      else setTimeout(answer, JUNK_ANSWER_MS);
    });
    server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }));
    return;
  }
}

/** One POST to the webhook: its answer's body. */
function answerOf(port: number, path: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => (response.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`${path}: HTTP ${response.statusCode}`))));
    });
    request.on('error', reject);
    request.end(body);
  });
}

function startChild(kind: string): Promise<{ port: number; stop: () => void }> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--serve', kind], { execArgv: ['-r', 'ts-node/register/transpile-only'] });
    child.once('message', (message: { port: number }) => resolve({ port: message.port, stop: () => child.kill() }));
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
}

/**
 * Runs `node <args>` as masters run the webhook: plain Node, no ts-node (whose require hook
 * also loads Node's `domain` module, which slows every EventEmitter), until it prints the
 * address it listens on.
 */
function startNode(label: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let started = false;
    const look = (chunk: Buffer) => {
      if (started) return;
      output += chunk.toString('utf8');
      const port = /127\.0\.0\.1:(\d+)/.exec(output)?.[1];
      if (port) {
        started = true;
        resolve({ port: Number(port), pid: child.pid, stop: () => child.kill() });
      }
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.once('exit', (code) => reject(new Error(`${label} exited with ${code}: ${output}`)));
  });
}

/**
 * The bare server: reads the body, answers the webhook's own answer for the path (BARE_ANSWERS,
 * path -> body); with PARSE_BODY=1 it also parses the body, as any server reading a review must.
 */
const BARE_SERVER = `
const http = require('http');
const answers = new Map(Object.entries(JSON.parse(process.env.BARE_ANSWERS)));
const send = (request, response) => {
  const answer = answers.get(request.url) ?? '';
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) }).end(answer);
};
const server = http.createServer(process.env.PARSE_BODY === '1'
  ? (request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      send(request, response);
    });
  }
  : (request, response) => {
    request.on('data', () => undefined);
    request.on('end', () => send(request, response));
  });
server.listen(0, '127.0.0.1', () => console.log('listening on 127.0.0.1:' + server.address().port));
`;

/** The webhook as masters run it: the one-file bundle, with a config naming `tokenInfoUrl`. */
function startWebhookBundle(tokenInfoUrl: string): Promise<Server> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-webhook-'));
  const config = path.join(dir, 'config.yaml');
  // JSON is YAML. The default tokenInfo.maxConcurrentLookups: the flood measures what a master gets out of the box.
  writeFileSync(config, JSON.stringify({
    clusterGroup: CLUSTER_GROUP,
    tokenInfo: { url: tokenInfoUrl, fields: { username: 'uid', uid: 'uid', groups: 'groups' } },
    cache: { ttlSeconds: 3600 },
    roles: { ReadOnly: ['team-readers'], PowerUser: ['team-developers'], Administrator: ['team-admins'] },
  }));
  return startNode('the webhook', [bundleWebhookServer(dir), '--config', config, '--listen', '127.0.0.1:0']);
}

/** token-info for the throughput loads, in this process: asked once, then every TokenReview is a cache hit. */
async function quickTokenInfo(): Promise<{ url: string; close: () => void }> {
  const server = http.createServer((_, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ uid: 'jdoe', groups: [CLUSTER_GROUP, 'team-developers'] })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/tokeninfo`, close: () => server.close() };
}

interface Server {
  readonly port: number;
  /** The child process, whose CPU time /proc shows. */
  readonly pid?: number;
  readonly stop: () => void;
}

interface Figures {
  readonly label: string;
  readonly requestsPerSecond: number;
  /** Latency percentiles in milliseconds, from every 2xx response's own time. */
  readonly p50: number;
  readonly p99: number;
  /** The server's CPU time (user and system) per request in microseconds, when /proc shows it. */
  readonly cpuMicroseconds?: number;
  readonly errors: number;
}

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ). */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** A process's CPU time (user and system) in microseconds, or undefined without /proc. */
function cpuMicrosecondsOf(pid: number | undefined): number | undefined {
  const file = `/proc/${pid}/stat`;
  if (pid === undefined || !existsSync(file)) return undefined;
  // After the command name (which may hold spaces), utime and stime are the 12th and 13th fields (proc(5)).
  const stat = readFileSync(file, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
}

/** NaN when no response came back (printed as n/a). */
const percentile = (sorted: Float64Array, fraction: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]);

async function load(label: string, server: Server, urlPath: string, body: string, seconds: number): Promise<Figures> {
  const latencies: number[] = [];
  const cpuBefore = cpuMicrosecondsOf(server.pid);
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({
      url: `http://127.0.0.1:${server.port}${urlPath}`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      connections: CONNECTIONS,
      duration: seconds,
    }, (error, finished) => (error ? reject(error) : resolve(finished)));
    instance.on('response', (_client, statusCode, _bytes, milliseconds) => {
      if (statusCode === 200) latencies.push(milliseconds);
    });
  });
  const cpuAfter = cpuMicrosecondsOf(server.pid);
  const sorted = Float64Array.from(latencies).sort();
  return {
    label,
    requestsPerSecond: result.requests.average,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    ...(cpuBefore !== undefined && cpuAfter !== undefined ? { cpuMicroseconds: (cpuAfter - cpuBefore) / Math.max(result.requests.total, 1) } : {}),
    errors: result.errors + result.non2xx,
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const milliseconds = (value: number) => (Number.isNaN(value) ? 'n/a' : value.toFixed(2));

async function run(): Promise<void> {
  const tokenInfo = await quickTokenInfo();
  const webhook = await startWebhookBundle(tokenInfo.url);
  const answers = {
    '/authenticate': await answerOf(webhook.port, '/authenticate', TOKEN_REVIEW),
    '/authorize': await answerOf(webhook.port, '/authorize', SUBJECT_ACCESS_REVIEW),
  };
  const bare = await startNode('the bare server', ['-e', BARE_SERVER], { BARE_ANSWERS: JSON.stringify(answers) });
  const parsing = await startNode('the bare server that parses', ['-e', BARE_SERVER], { BARE_ANSWERS: JSON.stringify(answers), PARSE_BODY: '1' });
  try {
    // Warm up: fill the cache (one token-info lookup) and let V8 optimise.
    for (const server of [webhook, bare, parsing]) {
      await load('warm-up', server, '/authenticate', TOKEN_REVIEW, 2);
      await load('warm-up', server, '/authorize', SUBJECT_ACCESS_REVIEW, 2);
    }
    // Each review kind beside the bare server moving the same bytes (its `baseline`).
    const loads = [
      { label: 'bare http, TokenReview bytes', server: bare, path: '/authenticate', body: TOKEN_REVIEW },
      { label: 'bare http + JSON.parse, TokenReview bytes', server: parsing, path: '/authenticate', body: TOKEN_REVIEW, baseline: 0 },
      { label: 'TokenReview (cached)', server: webhook, path: '/authenticate', body: TOKEN_REVIEW, baseline: 0, target: true },
      { label: 'bare http, SubjectAccessReview bytes', server: bare, path: '/authorize', body: SUBJECT_ACCESS_REVIEW },
      { label: 'bare http + JSON.parse, SubjectAccessReview bytes', server: parsing, path: '/authorize', body: SUBJECT_ACCESS_REVIEW, baseline: 3 },
      { label: 'SubjectAccessReview', server: webhook, path: '/authorize', body: SUBJECT_ACCESS_REVIEW, baseline: 3, target: true },
    ];
    const slices: Figures[][] = loads.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, l] of loads.entries()) slices[i].push(await load(l.label, l.server, l.path, l.body, SECONDS / ROUNDS));
    }
    const figures: Figures[] = slices.map((s) => ({
      label: s[0].label,
      requestsPerSecond: median(s.map((f) => f.requestsPerSecond)),
      p50: median(s.map((f) => f.p50)),
      p99: median(s.map((f) => f.p99)),
      ...(s.every((f) => f.cpuMicroseconds !== undefined) ? { cpuMicroseconds: median(s.map((f) => f.cpuMicroseconds as number)) } : {}),
      errors: s.reduce((sum, f) => sum + f.errors, 0),
    }));
    const baselineOf = (i: number) => figures[loads[i].baseline ?? i].requestsPerSecond;
    console.log(`\nkube-auth-webhook over loopback: ${CONNECTIONS} connections, ${SECONDS} s each in ${ROUNDS} interleaved slices (medians), Node ${process.version}, ${cpus().length} CPUs shared with the load generator\n`);
    console.log('| server | requests/s | vs bare | p50 ms | p99 ms | server CPU µs/request | errors |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const [i, f] of figures.entries()) {
      console.log(`| ${f.label} | ${Math.round(f.requestsPerSecond)} | ${(f.requestsPerSecond / baselineOf(i)).toFixed(2)}x | ${milliseconds(f.p50)} | ${milliseconds(f.p99)} | ${f.cpuMicroseconds?.toFixed(1) ?? 'n/a'} | ${f.errors} |`);
    }
    // p99 is compared round by round (the same moment's neighbours), then the median taken.
    const p99Ratio = (i: number) => median(slices[i].map((f, round) => f.p99 / slices[loads[i].baseline ?? i][round].p99));
    const targets = [...loads.entries()].filter(([, l]) => l.target).flatMap(([i]) => {
      // Three decimals: a printed ratio never rounds across its target.
      const throughput = figures[i].requestsPerSecond / baselineOf(i);
      return [
        { figure: `${figures[i].label}: throughput vs bare`, text: `${throughput.toFixed(3)}x`, target: `>= ${TARGET_THROUGHPUT_VS_BARE}x`, met: throughput >= TARGET_THROUGHPUT_VS_BARE },
        { figure: `${figures[i].label}: p99 vs bare (same round)`, text: `${p99Ratio(i).toFixed(3)}x`, target: `<= ${TARGET_P99_VS_BARE}x`, met: p99Ratio(i) <= TARGET_P99_VS_BARE },
      ];
    });
    const flood = await floodFigures();
    console.log(`\nflood: ${JUNK_TOKENS} distinct junk tokens over ${FLOOD_SECONDS} s, token-info answering each after ${JUNK_ANSWER_MS} ms, while ${CONNECTIONS} connections send a cached user's TokenReview`);
    console.log(`cached user: ${Math.round(flood.user.requestsPerSecond)} requests/s, p50 ${milliseconds(flood.user.p50)} ms, p99 ${milliseconds(flood.user.p99)} ms, ${flood.user.errors} errors`);
    console.log(`junk: sent within ${flood.junk.sentWithinSeconds.toFixed(1)} s, all answered within ${flood.junk.answeredWithinSeconds.toFixed(1)} s; answers by status ${JSON.stringify(flood.junk.statusCodes)} (200: not authenticated after a lookup, 429: lookups at tokenInfo.maxConcurrentLookups)`);
    targets.push({ figure: 'flood: cached user p99', text: `${milliseconds(flood.user.p99)} ms`, target: `< ${TARGET_FLOOD_P99_MS} ms`, met: flood.user.p99 < TARGET_FLOOD_P99_MS });
    console.log('\n| figure | value | target | met |');
    console.log('| --- | ---: | ---: | --- |');
    for (const t of targets) console.log(`| ${t.figure} | ${t.text} | ${t.target} | ${t.met ? 'yes' : 'NO'} |`);
  } finally {
    bare.stop();
    parsing.stop();
    webhook.stop();
    tokenInfo.close();
  }
}

/**
 * Child: sends JUNK_TOKENS reviews of distinct junk tokens to the webhook on `port`, evenly
 * over FLOOD_SECONDS whatever the answers (unlike a closed-loop load generator, which would
 * slow down while answers are slow), and reports the answers' status codes.
 */
async function sendJunk(port: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true });
  const statusCodes: Record<string, number> = {};
  const started = Date.now();
  const answers: Promise<void>[] = [];
  for (let i = 0; i < JUNK_TOKENS; i++) {
    const due = started + (i * FLOOD_SECONDS * 1000) / JUNK_TOKENS;
    if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    answers.push(new Promise<void>((resolve) => {
      const request = http.request({ host: '127.0.0.1', port, path: '/authenticate', method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (response) => {
        response.resume();
        response.on('end', () => {
          statusCodes[String(response.statusCode)] = (statusCodes[String(response.statusCode)] ?? 0) + 1;
          resolve();
        });
      });
      request.on('error', (error: NodeJS.ErrnoException) => {
        statusCodes[error.code ?? 'error'] = (statusCodes[error.code ?? 'error'] ?? 0) + 1;
        resolve();
      });
      request.end(tokenReviewOf(`junk-token-${i}`));
    }));
  }
  const sentWithinSeconds = (Date.now() - started) / 1000;
  await Promise.all(answers);
  process.send!({ statusCodes, sentWithinSeconds, answeredWithinSeconds: (Date.now() - started) / 1000 });
}

/** A webhook whose token-info is slow for junk: the cached user's figures while the junk arrives. */
interface JunkReport {
  readonly statusCodes: Record<string, number>;
  readonly sentWithinSeconds: number;
  readonly answeredWithinSeconds: number;
}

async function floodFigures(): Promise<{ user: Figures; junk: JunkReport }> {
  const tokenInfo = await startChild('slow-token-info');
  const webhook = await startWebhookBundle(`http://127.0.0.1:${tokenInfo.port}/tokeninfo`);
  try {
    await load('warm-up', webhook, '/authenticate', TOKEN_REVIEW, 2);
    const junk = new Promise<JunkReport>((resolve, reject) => {
      const child = fork(__filename, ['--serve', 'junk-sender', String(webhook.port)], { execArgv: ['-r', 'ts-node/register/transpile-only'] });
      child.once('message', (report: JunkReport) => resolve(report));
      child.once('exit', (code) => reject(new Error(`junk sender exited with ${code}`)));
    });
    const [user, report] = await Promise.all([load('flood', webhook, '/authenticate', TOKEN_REVIEW, FLOOD_SECONDS), junk]);
    return { user, junk: report };
  } finally {
    webhook.stop();
    tokenInfo.stop();
  }
}

const serveIndex = process.argv.indexOf('--serve');
(serveIndex >= 0 ? serve(process.argv[serveIndex + 1], process.argv[serveIndex + 2]) : run()).catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
