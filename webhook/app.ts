import { readFileSync } from 'fs';
import * as http from 'http';
import { KubeApiConnection } from '../lib/addons/kube-api';
import { TokenAuthenticator, TokenAuthenticatorOptions } from './authenticator';
import { IamAuthenticator, rolesWithIamGroups } from './iam-authenticator';
import { clusterNameOf, KubeletServingApproverConfig, WebhookConfig, WebhookConfigError } from './config';
import { KubeletServingApprover } from './kubelet-serving-approver';
import { Logger, RateLimitedLog, silentLogger } from './logger';
import { createRequestHandler } from './request-handler';
import { createWebhookServer, drain, listen } from './server';

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
  /** The approver of kubelet serving certificates, when the config has one. */
  readonly approver?: KubeletServingApprover;
  /**
   * Stops accepting, lets requests in flight be answered for up to `drainTimeoutMs`
   * (@default DEFAULT_DRAIN_TIMEOUT_MS, server.ts), then logs the last denial summaries.
   */
  close(drainTimeoutMs?: number): Promise<void>;
}

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8443;

/** Wires config -> authenticator -> handler -> server, and starts listening. */
export async function startWebhook(config: WebhookConfig, options: StartWebhookOptions = {}): Promise<RunningWebhook> {
  const logger = options.logger ?? silentLogger;
  const failureLog = new RateLimitedLog({ logger, level: 'warn', message: 'token not authenticated' });
  const denialLog = new RateLimitedLog({ logger, level: 'info', message: 'access denied' });
  const authenticatorOptions: TokenAuthenticatorOptions = {
    tokenInfo: config.tokenInfo,
    maxConcurrentLookups: config.tokenInfo.maxConcurrentLookups,
    failureLog,
    cacheTtlSeconds: config.cache.ttlSeconds,
    cacheMaxEntries: config.cache.maxEntries,
    logger,
    ...(options.now ? { now: options.now } : {}),
    ...(config.iam ? { iam: new IamAuthenticator({ iam: config.iam, clusterGroup: config.clusterGroup, ...(options.now ? { now: options.now } : {}) }) } : {}),
  };
  const authenticator = new TokenAuthenticator(authenticatorOptions);
  // Files read before listening: a missing token is a config error, reported at start.
  const approver = config.kubeletServingApprover && config.iam
    ? new KubeletServingApprover({
      api: approverConnection(config.kubeletServingApprover),
      clusterName: clusterNameOf(config.clusterGroup),
      nodeInstanceProfileArns: config.iam.nodeRoles.map((node) => node.instanceProfileArn),
      region: config.iam.region,
      logger,
    })
    : undefined;
  const handler = createRequestHandler({
    authenticate: (token) => authenticator.authenticate(token),
    policy: { clusterGroup: config.clusterGroup, roles: rolesWithIamGroups(config.roles, config.iam) },
    logger,
    denialLog,
  });
  const server = createWebhookServer({ handler, requestTimeoutMs: config.server.requestTimeoutMs, logger, ...(options.tls ? { tls: options.tls } : {}) });
  const address = await listen(server, options.host ?? DEFAULT_HOST, options.port ?? DEFAULT_PORT);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  approver?.start();
  return {
    url: `${options.tls ? 'https' : 'http'}://${host}:${address.port}`,
    port: address.port,
    server,
    authenticator,
    ...(approver ? { approver } : {}),
    close: async (drainTimeoutMs) => {
      await approver?.stop();
      const { connectionsCut } = await drain(server, drainTimeoutMs);
      if (connectionsCut > 0) logger.warn('drain timed out; connections cut', { connectionsCut });
      failureLog.flush();
      denialLog.flush();
    },
  };
}

/** The approver's connection, from the files its config names (0600 files, read once). */
function approverConnection(section: KubeletServingApproverConfig): KubeApiConnection {
  const read = (field: 'caFile' | 'tokenFile'): string => {
    try {
      const text = readFileSync(section[field], 'utf8').trim();
      if (text !== '') return text;
      throw new WebhookConfigError([`kubeletServingApprover.${field}: ${section[field]} is empty`]);
    } catch (error) {
      if (error instanceof WebhookConfigError) throw error;
      throw new WebhookConfigError([`kubeletServingApprover.${field}: cannot read ${section[field]}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`]);
    }
  };
  return { server: section.apiServer, caPem: read('caFile'), token: read('tokenFile') };
}
