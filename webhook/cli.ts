import { readFileSync } from 'fs';
import { parseArgs } from 'util';
import { DEFAULT_HOST, DEFAULT_PORT, startWebhook } from './app';
import { loadWebhookConfig, WebhookConfigError } from './config';
import { jsonLineLogger } from './logger';
import { redactedUrl } from './token-info-client';

/** Exit codes, so systemd and scripts can tell a typo from a crash. */
export const EXIT_OK = 0;
export const EXIT_RUNTIME_ERROR = 1;
export const EXIT_USAGE = 2;
export const EXIT_INVALID_CONFIG = 3;

const USAGE = `usage: kube-auth-webhook --config <file> [--listen <host:port>] [--tls-cert <file> --tls-key <file>]

  --config     YAML configuration (see webhook/README.md)
  --listen     address to serve on (default ${DEFAULT_HOST}:${DEFAULT_PORT})
  --tls-cert   PEM certificate chain; with --tls-key, serve HTTPS instead of HTTP
  --tls-key    PEM private key
`;

/** Parses `host:port`, `[ipv6]:port`. */
export function parseListenAddress(value: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  return { host: match[1] ?? match[2], port };
}

/**
 * Runs the webhook until SIGTERM or SIGINT. Resolves with the process exit code;
 * problems are reported on stderr, all at once, naming the option or field.
 */
export async function main(argv: readonly string[], stderr: (text: string) => void = (t) => process.stderr.write(t)): Promise<number> {
  let values: { config?: string; listen?: string; 'tls-cert'?: string; 'tls-key'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { config: { type: 'string' }, listen: { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, help: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    stderr(`kube-auth-webhook: ${(error as Error).message}\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (values.help) {
    stderr(USAGE);
    return EXIT_OK;
  }
  const usageProblems: string[] = [];
  if (!values.config) usageProblems.push('--config: is required');
  const listenAddress = parseListenAddress(values.listen ?? `${DEFAULT_HOST}:${DEFAULT_PORT}`);
  if (!listenAddress) usageProblems.push(`--listen: must be host:port or [ipv6]:port with a port from 0 to 65535, got ${JSON.stringify(values.listen)}`);
  if (Boolean(values['tls-cert']) !== Boolean(values['tls-key'])) usageProblems.push('--tls-cert, --tls-key: give both to serve HTTPS, or neither for HTTP');
  if (usageProblems.length > 0 || !listenAddress) {
    stderr(`kube-auth-webhook:\n${usageProblems.map((p) => `  - ${p}`).join('\n')}\n${USAGE}`);
    return EXIT_USAGE;
  }

  let config;
  let tls: { cert: Buffer; key: Buffer } | undefined;
  try {
    config = loadWebhookConfig(values.config as string);
    if (values['tls-cert'] && values['tls-key']) tls = { cert: readFileSync(values['tls-cert']), key: readFileSync(values['tls-key']) };
  } catch (error) {
    stderr(`kube-auth-webhook: ${error instanceof WebhookConfigError ? error.message : `cannot read TLS files: ${(error as Error).message}`}\n`);
    return EXIT_INVALID_CONFIG;
  }

  const logger = jsonLineLogger((line) => stderr(line));
  let running;
  try {
    running = await startWebhook(config, { ...listenAddress, ...(tls ? { tls } : {}), logger });
  } catch (error) {
    if (error instanceof WebhookConfigError) {
      stderr(`kube-auth-webhook: ${error.message}\n`);
      return EXIT_INVALID_CONFIG;
    }
    stderr(`kube-auth-webhook: cannot serve on ${values.listen ?? `${DEFAULT_HOST}:${DEFAULT_PORT}`}: ${(error as Error).message}\n`);
    return EXIT_RUNTIME_ERROR;
  }
  const webhook = running;
  const stopped = new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      // systemd stops a unit with SIGTERM: answer what is in flight, then exit 0.
      logger.info('stopping: draining requests in flight', { signal });
      webhook.close().then(() => {
        logger.info('stopped', {});
        resolve(EXIT_OK);
      }, () => resolve(EXIT_RUNTIME_ERROR));
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  // Only now: whoever waits for this line (systemd's wait, a test) may stop us at once.
  logger.info('listening', { url: running.url, clusterGroup: config.clusterGroup, tokenInfo: redactedUrl(config.tokenInfo.url) });
  return stopped;
}
