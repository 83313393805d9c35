import { writeFileSync } from 'fs';
import * as https from 'https';
import * as net from 'net';
import * as path from 'path';
import { configDocument, request, temporaryDirectory, unusedLocalUrl, writeConfig } from './fixtures';
import { runToExit, runUntilListening, selfSignedLoopbackCertificate, validConfigFile } from './process-fixtures';

const BIN = path.join(__dirname, '../../bin/kube-auth-webhook.js');

describe('kube-auth-webhook CLI', () => {
  test('serves /healthz and exits 0 on SIGTERM', async () => {
    const { child, url, exited } = await runUntilListening(BIN, ['--config', validConfigFile(await unusedLocalUrl()), '--listen', '127.0.0.1:0']);
    expect((await request(url, 'GET', '/healthz')).text).toBe('ok');
    child.kill('SIGTERM');
    expect((await exited).code).toBe(0);
  });

  test('--help exits 0 with the usage', async () => {
    const { code, stderr } = await runToExit(BIN, ['--help']);
    expect([code, stderr]).toEqual([0, expect.stringContaining('usage: kube-auth-webhook --config <file>')]);
  });

  test.each([
    ['no --config', [], /--config: is required/],
    ['an unknown option', ['--config', 'x.yaml', '--port', '1'], /Unknown option '--port'/],
    ['a malformed --listen', ['--config', 'x.yaml', '--listen', '8443'], /--listen: must be host:port/],
    ['--tls-cert without --tls-key', ['--config', 'x.yaml', '--tls-cert', 'c.pem'], /--tls-cert, --tls-key: give both/],
  ])('%s exits 2', async (_, args, message) => {
    const { code, stderr } = await runToExit(BIN, args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  test('an invalid config exits 3, listing every problem with its field path', async () => {
    const directory = temporaryDirectory();
    const file = writeConfig(directory, { ...configDocument('ftp://x'), roles: { Administrator: 3 }, cache: { ttlSeconds: -1 } });
    const { code, stderr } = await runToExit(BIN, ['--config', file]);
    expect(code).toBe(3);
    expect(stderr).toContain('tokenInfo.url: must be an http:// or https:// URL, got "ftp://x"');
    expect(stderr).toContain('roles.Administrator: must be a list of group names, got 3');
    expect(stderr).toContain('cache.ttlSeconds: must be an integer from 0 to 3600, got -1');
  });

  test('a missing config file exits 3', async () => {
    const { code, stderr } = await runToExit(BIN, ['--config', '/nonexistent.yaml']);
    expect([code, stderr]).toEqual([3, expect.stringContaining('--config: cannot read /nonexistent.yaml')]);
  });

  test('an address in use exits 1', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as net.AddressInfo).port;
      const { code, stderr } = await runToExit(BIN, ['--config', validConfigFile(await unusedLocalUrl()), '--listen', `127.0.0.1:${port}`]);
      expect([code, stderr]).toEqual([1, expect.stringContaining('EADDRINUSE')]);
    } finally {
      blocker.close();
    }
  });

  test('serves HTTPS with --tls-cert and --tls-key', async () => {
    const directory = temporaryDirectory();
    const { certificatePem, keyPem } = await selfSignedLoopbackCertificate();
    writeFileSync(path.join(directory, 'tls.crt'), certificatePem);
    writeFileSync(path.join(directory, 'tls.key'), keyPem);
    const { child, url, exited } = await runUntilListening(BIN, ['--config', validConfigFile(await unusedLocalUrl()), '--listen', '127.0.0.1:0', '--tls-cert', path.join(directory, 'tls.crt'), '--tls-key', path.join(directory, 'tls.key')]);
    try {
      expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const body = await new Promise<string>((resolve, reject) => {
        https.get(`${url}/healthz`, { ca: certificatePem }, (response) => {
          let text = '';
          response.on('data', (c) => (text += c));
          response.on('end', () => resolve(text));
        }).on('error', reject);
      });
      expect(body).toBe('ok');
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
