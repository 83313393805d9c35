import * as http from 'http';
import { TokenAuthenticator, TokenAuthenticatorOptions } from './authenticator';
import { IamAuthenticator, rolesWithIamGroups } from './iam-authenticator';
import { LoadedWebhookConfig } from './config';
import { Logger, silentLogger } from './logger';
import { createRequestHandler } from './request-handler';
import { createWebhookServer, listen } from './server';

export interface StartWebhookOptions {
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 8443 (0 picks a free port) */
  readonly port?: number;
  /** Serve HTTPS. @default plain HTTP (the API server reaches the webhook on loopback) */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  /** @default silentLogger */
  readonly logger?: Logger;
  /** Clock for the cache. @default Date.now */
  readonly now?: () => number;
}

export interface RunningWebhook {
  readonly url: string;
  readonly port: number;
  readonly server: http.Server;
  readonly authenticator: TokenAuthenticator;
  close(): Promise<void>;
}

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8443;

/** Wires config -> authenticator -> handler -> server, and starts listening. */
export async function startWebhook(config: LoadedWebhookConfig, options: StartWebhookOptions = {}): Promise<RunningWebhook> {
  const logger = options.logger ?? silentLogger;
  const authenticatorOptions: TokenAuthenticatorOptions = {
    workerToken: config.workerToken,
    tokenInfo: config.tokenInfo,
    cacheTtlSeconds: config.cache.ttlSeconds,
    cacheMaxEntries: config.cache.maxEntries,
    logger,
    ...(options.now ? { now: options.now } : {}),
    ...(config.iam ? { iam: new IamAuthenticator({ iam: config.iam, clusterGroup: config.clusterGroup, ...(options.now ? { now: options.now } : {}) }) } : {}),
  };
  const authenticator = new TokenAuthenticator(authenticatorOptions);
  const handler = createRequestHandler({
    authenticate: (token) => authenticator.authenticate(token),
    policy: { clusterGroup: config.clusterGroup, roles: rolesWithIamGroups(config.roles, config.iam) },
    logger,
  });
  const server = createWebhookServer({ handler, requestTimeoutMs: config.server.requestTimeoutMs, logger, ...(options.tls ? { tls: options.tls } : {}) });
  const address = await listen(server, options.host ?? DEFAULT_HOST, options.port ?? DEFAULT_PORT);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${options.tls ? 'https' : 'http'}://${host}:${address.port}`,
    port: address.port,
    server,
    authenticator,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
