import * as http from 'http';
import * as net from 'net';
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { AddressInfo } from 'net';
import { startWebhook, RunningWebhook, StartWebhookOptions } from '../../webhook/app';
import { loadWebhookConfig } from '../../webhook/config';

export const CLUSTER_GROUP = 'aws:123456789012:eu-central-1:kube-aws-test-1';
export const ROLE_GROUPS = { ReadOnly: 'team-readers', PowerUser: 'team-developers', Administrator: 'team-admins' } as const;

export function temporaryDirectory(): string {
  return mkdtempSync(path.join(tmpdir(), 'kube-auth-webhook-test-'));
}

/** A valid config document (as an object). */
export function configDocument(tokenInfoUrl: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    clusterGroup: CLUSTER_GROUP,
    tokenInfo: { url: tokenInfoUrl, timeoutMs: 300, fields: { username: 'uid', uid: 'uid', groups: 'groups' } },
    cache: { ttlSeconds: 60, maxEntries: 100 },
    roles: { ReadOnly: [ROLE_GROUPS.ReadOnly], PowerUser: [ROLE_GROUPS.PowerUser], Administrator: [ROLE_GROUPS.Administrator] },
    server: { requestTimeoutMs: 500 },
    ...overrides,
  };
}

export function writeConfig(directory: string, document: unknown): string {
  const file = path.join(directory, 'config.yaml');
  writeFileSync(file, yaml.dump(document));
  return file;
}

/** A stand-in OAuth2 token-info service on 127.0.0.1 that can be slow or down on purpose. */
export interface TokenInfoStub {
  readonly url: string;
  /** token -> JSON answer; unknown tokens get 401. */
  readonly users: Map<string, unknown>;
  /** Requests received, by token (so tests can tell a cache hit from a lookup). */
  readonly lookups: Map<string, number>;
  /** Delay before answering, in ms. */
  delayMs: number;
  /** Raw Authorization headers seen. */
  readonly authorizationHeaders: string[];
  close(): Promise<void>;
}

export async function startTokenInfoStub(): Promise<TokenInfoStub> {
  const server = http.createServer((request, response) => {
    const header = request.headers.authorization ?? '';
    stub.authorizationHeaders.push(header);
    const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
    stub.lookups.set(token, (stub.lookups.get(token) ?? 0) + 1);
    setTimeout(() => {
      const answer = stub.users.get(token);
      if (answer === undefined) {
        response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_token"}');
      } else {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      }
    }, stub.delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stub: TokenInfoStub = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/tokeninfo`,
    users: new Map(),
    lookups: new Map(),
    authorizationHeaders: [],
    delayMs: 0,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
  return stub;
}

/** A URL on 127.0.0.1 where nothing listens (token-info down). */
export async function unusedLocalUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/oauth2/tokeninfo`;
}

/** Starts the real server (config file -> loadWebhookConfig -> startWebhook) on a free port. */
export async function startTestWebhook(tokenInfoUrl: string, overrides: Record<string, unknown> = {}, options: StartWebhookOptions = {}): Promise<RunningWebhook> {
  const directory = temporaryDirectory();
  const config = loadWebhookConfig(writeConfig(directory, configDocument(tokenInfoUrl, overrides)));
  return startWebhook(config, { port: 0, ...options });
}

export interface HttpAnswer {
  readonly status: number;
  readonly text: string;
  readonly headers: http.IncomingHttpHeaders;
  json(): any;
}

/** One HTTP request over 127.0.0.1 (a fresh connection each time). */
export function request(baseUrl: string, method: string, urlPath: string, body?: string | Buffer, headers: http.OutgoingHttpHeaders = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(`${baseUrl}${urlPath}`, { method, headers: { 'content-type': 'application/json', ...headers }, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: response.statusCode ?? 0, text, headers: response.headers, json: () => JSON.parse(text) });
      });
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

export const post = (baseUrl: string, urlPath: string, body: unknown) =>
  request(baseUrl, 'POST', urlPath, typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));

/**
 * Speaks raw TCP: writes each part (with a pause between), optionally half-closes, and
 * collects whatever the server answers until it closes the connection.
 */
export function rawExchange(port: number, parts: readonly (string | Buffer)[], options: { pauseMs?: number; halfClose?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk) => received.push(chunk));
    socket.on('close', () => resolve(Buffer.concat(received).toString('utf8')));
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? undefined : reject(error)));
    socket.on('connect', async () => {
      for (const part of parts) {
        if (socket.destroyed) return;
        socket.write(part);
        if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
      }
      if (options.halfClose) socket.end();
    });
  });
}

export const statusLine = (rawResponse: string): string => rawResponse.split('\r\n')[0];

export function tokenReview(token: string, apiVersion = 'authentication.k8s.io/v1'): object {
  return { apiVersion, kind: 'TokenReview', spec: { token } };
}

export interface ReviewAttributes {
  readonly user?: string;
  readonly groups?: readonly string[];
  readonly resourceAttributes?: Record<string, string>;
  readonly nonResourceAttributes?: Record<string, string>;
}

/** A SubjectAccessReview in either version (v1 `groups`, v1beta1 `group`). */
export function subjectAccessReview(attributes: ReviewAttributes, apiVersion = 'authorization.k8s.io/v1'): object {
  const groupsKey = apiVersion === 'authorization.k8s.io/v1' ? 'groups' : 'group';
  return {
    apiVersion,
    kind: 'SubjectAccessReview',
    spec: {
      user: attributes.user ?? 'jdoe',
      [groupsKey]: attributes.groups ?? [],
      ...(attributes.resourceAttributes ? { resourceAttributes: attributes.resourceAttributes } : {}),
      ...(attributes.nonResourceAttributes ? { nonResourceAttributes: attributes.nonResourceAttributes } : {}),
    },
  };
}
