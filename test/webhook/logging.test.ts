import * as path from 'path';
import { startWebhook } from '../../webhook/app';
import { TokenAuthenticator } from '../../webhook/authenticator';
import { DEFAULT_TOKEN_INFO_FIELDS, parseWebhookConfig } from '../../webhook/config';
import { jsonLineLogger, Logger, RateLimitedLog, Schedule, SUMMARY_KEYS } from '../../webhook/logger';
import { redactedUrl } from '../../webhook/token-info-client';
import { CLUSTER_GROUP, configDocument, post, subjectAccessReview, temporaryDirectory, unusedLocalUrl, writeConfig } from './fixtures';
import { runUntilListening } from './process-fixtures';

const BIN = path.join(__dirname, '../../bin/kube-auth-webhook.js');

/** A logger that keeps parsed lines, and a schedule the test fires by hand (no real time). */
function capture() {
  const lines: Array<Record<string, any>> = [];
  const logger: Logger = jsonLineLogger((line) => lines.push(JSON.parse(line)));
  const timers: Array<{ run: () => void; delayMs: number; cancelled: boolean }> = [];
  const schedule: Schedule = (run, delayMs) => {
    const timer = { run, delayMs, cancelled: false };
    timers.push(timer);
    return () => (timer.cancelled = true);
  };
  const fireTimers = () => timers.filter((t) => !t.cancelled).forEach((t) => t.run());
  return { lines, logger, timers, schedule, fireTimers };
}

describe('RateLimitedLog', () => {
  test('the first occurrence of a key is logged at once; repeats are counted into one summary line at the end of the interval', () => {
    const { lines, logger, timers, schedule, fireTimers } = capture();
    const log = new RateLimitedLog({ logger, level: 'info', message: 'access denied', intervalMs: 60_000, schedule });
    for (let i = 0; i < 5; i++) log.note('jdoe', { user: 'jdoe', verb: 'delete' });
    log.note('mallory', { user: 'mallory', verb: 'get' });
    expect(lines.map(({ msg, user }) => [msg, user])).toEqual([['access denied', 'jdoe'], ['access denied', 'mallory']]);
    expect(timers.map((t) => t.delayMs)).toEqual([60_000]);

    fireTimers();
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatchObject({ level: 'info', msg: 'access denied (summary)', intervalSeconds: 60, total: 6, notLoggedAtOnce: 4, distinctKeys: 2, counts: { jdoe: 5, mallory: 1 } });

    // A new interval starts afresh: jdoe's next denial is logged at once again.
    log.note('jdoe', { user: 'jdoe', verb: 'delete' });
    expect(lines).toHaveLength(4);
  });

  test('a quiet interval (every key seen once, all logged) writes no summary, and no timer outlives it', () => {
    const { lines, logger, timers, schedule, fireTimers } = capture();
    const log = new RateLimitedLog({ logger, level: 'warn', message: 'token not authenticated', schedule });
    log.note('abc', {});
    fireTimers();
    expect(lines.map((l) => l.msg)).toEqual(['token not authenticated']);
    log.flush();
    // One timer was armed for the interval, and none is left armed after it.
    expect([timers.length, timers.filter((t) => !t.cancelled).length]).toEqual([1, 0]);
  });

  test('thousands of distinct keys: a bounded number of lines at once, one summary naming the largest counts', () => {
    const { lines, logger, schedule } = capture();
    const log = new RateLimitedLog({ logger, level: 'warn', message: 'token not authenticated', immediatePerInterval: 10, schedule });
    for (let i = 0; i < 2000; i++) log.note(`digest-${i}`, { tokenDigest: `digest-${i}` });
    for (let i = 0; i < 7; i++) log.note('digest-1999', {});
    log.flush();
    expect(lines).toHaveLength(11);
    const summary = lines[10];
    expect(summary).toMatchObject({ msg: 'token not authenticated (summary)', total: 2007, notLoggedAtOnce: 1997, distinctKeys: 2000 });
    expect(Object.keys(summary.counts)).toHaveLength(SUMMARY_KEYS);
    expect(summary.counts['digest-1999']).toBe(8);
  });
});

describe('denials are logged rate-limited', () => {
  test('token not authenticated: per token digest prefix, never the token', async () => {
    const { lines, logger, schedule } = capture();
    const failureLog = new RateLimitedLog({ logger, level: 'warn', message: 'token not authenticated', schedule });
    const authenticator = new TokenAuthenticator({
      tokenInfo: { url: 'http://127.0.0.1:1/unused', timeoutMs: 100, fields: DEFAULT_TOKEN_INFO_FIELDS },
      cacheTtlSeconds: 60,
      cacheMaxEntries: 100,
      lookUp: async () => ({ kind: 'unavailable', reason: 'token-info request failed: ECONNREFUSED' }),
      failureLog,
    });
    for (let i = 0; i < 4; i++) await authenticator.authenticate('secret-token-1');
    await authenticator.authenticate('secret-token-2');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 'warn', msg: 'token not authenticated', outcome: 'unavailable', reason: 'token-info request failed: ECONNREFUSED', tokenDigest: expect.stringMatching(/^[A-Za-z0-9+/]{8}$/) });
    failureLog.flush();
    expect(lines[2]).toMatchObject({ msg: 'token not authenticated (summary)', total: 5, counts: { [lines[0].tokenDigest]: 4, [lines[1].tokenDigest]: 1 } });
    expect(JSON.stringify(lines)).not.toMatch(/secret-token/);
  });

  test('access denied over HTTP: one line for the first denial, the rest in the summary that close() writes', async () => {
    const { lines, logger } = capture();
    const config = parseWebhookConfig(JSON.stringify(configDocument(await unusedLocalUrl())));
    const webhook = await startWebhook(config, { port: 0, logger });
    const forbidden = subjectAccessReview({ user: 'jdoe', groups: [CLUSTER_GROUP], resourceAttributes: { verb: 'delete', resource: 'nodes' } });
    for (let i = 0; i < 5; i++) expect((await post(webhook.url, '/authorize', forbidden)).json().status.allowed).toBe(false);
    expect(lines.filter((l) => l.msg === 'access denied').map(({ user, verb, resource }) => ({ user, verb, resource }))).toEqual([{ user: 'jdoe', verb: 'delete', resource: '/nodes/' }]);
    await webhook.close();
    expect(lines.filter((l) => l.msg === 'access denied (summary)')).toEqual([expect.objectContaining({ total: 5, notLoggedAtOnce: 4, counts: { jdoe: 5 } })]);
  });
});

describe('the token-info URL is logged without credentials', () => {
  test.each([
    ['userinfo and query', 'https://client:s3cret@auth.example.org/oauth2/tokeninfo?client_secret=xyz', 'https://<redacted>@auth.example.org/oauth2/tokeninfo?<redacted>'],
    ['a user name alone', 'https://client@auth.example.org:8443/tokeninfo', 'https://<redacted>@auth.example.org:8443/tokeninfo'],
    ['a fragment', 'http://auth.example.org/tokeninfo#frag', 'http://auth.example.org/tokeninfo'],
    ['nothing secret', 'https://auth.example.org/oauth2/tokeninfo', 'https://auth.example.org/oauth2/tokeninfo'],
  ])('%s', (_, url, shown) => {
    expect(redactedUrl(url)).toBe(shown);
  });

  test('the CLI\'s listening line', async () => {
    const secretUrl = 'https://client:s3cret@auth.example.org/oauth2/tokeninfo?client_secret=xyz';
    const file = writeConfig(temporaryDirectory(), configDocument(secretUrl));
    const { child, exited } = await runUntilListening(BIN, ['--config', file, '--listen', '127.0.0.1:0']);
    child.kill('SIGTERM');
    const { code, stderr } = await exited;
    expect(code).toBe(0);
    const listening = stderr.split('\n').filter((line) => line.includes('"msg":"listening"')).map((line) => JSON.parse(line));
    expect(listening).toEqual([expect.objectContaining({ tokenInfo: 'https://<redacted>@auth.example.org/oauth2/tokeninfo?<redacted>' })]);
    expect(stderr).not.toMatch(/s3cret|xyz/);
  });
});
