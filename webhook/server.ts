import * as http from 'http';
import * as https from 'https';
import { AddressInfo, Socket } from 'net';
import { Logger, silentLogger } from './logger';
import { RequestHandler, statusResponse, WebhookResponse } from './request-handler';

/** A SubjectAccessReview is a few KB; 1 MiB is generous and still bounds memory per request. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface WebhookServerOptions {
  readonly handler: RequestHandler;
  /** Budget for receiving a whole request, headers and body; slower clients get 408. */
  readonly requestTimeoutMs: number;
  /** @default MAX_BODY_BYTES */
  readonly maxBodyBytes?: number;
  /** Serve HTTPS with this certificate and key. @default plain HTTP */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  /** @default silentLogger */
  readonly logger?: Logger;
}

/**
 * Receives the body up to the size limit, then calls `done` with it, or `fail` with the
 * 413. Callbacks rather than a Promise and no timer of its own: this is the hot path, and
 * Node's requestTimeout already stops slow clients (answered in answerClientError).
 */
function receiveBody(request: http.IncomingMessage, maxBytes: number, done: (body: Buffer) => void, fail: (answer: WebhookResponse) => void): void {
  const declared = Number(request.headers['content-length']);
  if (declared > maxBytes) {
    fail(statusResponse(413, 'RequestEntityTooLarge', `body of ${declared} bytes exceeds the limit of ${maxBytes} bytes`));
    return;
  }
  const chunks: Buffer[] = [];
  let received = 0;
  let overflowed = false;
  request.on('data', (chunk: Buffer) => {
    if (overflowed) return;
    received += chunk.length;
    if (received > maxBytes) {
      overflowed = true;
      fail(statusResponse(413, 'RequestEntityTooLarge', `body exceeds the limit of ${maxBytes} bytes`));
      return;
    }
    chunks.push(chunk);
  });
  request.on('end', () => {
    if (!overflowed) done(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received));
  });
  // A reset mid-body: nobody is left to answer, and the listener keeps the stream from throwing.
  request.on('error', () => undefined);
}

function send(response: http.ServerResponse, answer: WebhookResponse, closeConnection: boolean): void {
  if (response.headersSent || response.destroyed) return;
  // The body as a string: Node then sends it in one write with the headers; a Buffer body
  // takes a second chunk (a writev) per answer (node lib/_http_outgoing.js _send).
  const body = answer.body;
  response.writeHead(answer.status, {
    'content-type': answer.contentType,
    'content-length': Buffer.byteLength(body, 'utf8'),
    ...(closeConnection ? { connection: 'close' } : {}),
    ...answer.headers,
  });
  response.end(body);
}

/** Answers errors the HTTP parser finds: malformed requests, bodies cut off by a half-close, slow clients. */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket, requestTimeoutMs: number, logger: Logger): void {
  logger.info('client error', { code: error.code });
  const [status, reason, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Timeout', `request not received within ${requestTimeoutMs} ms`]
      : error.code === 'HPE_HEADER_OVERFLOW' ? [431, 'RequestHeaderFieldsTooLarge', 'request headers too large']
        : error.code === 'HPE_INVALID_EOF_STATE' ? [400, 'BadRequest', 'the client closed its side before the request was complete']
          : [400, 'BadRequest', `malformed HTTP request (${error.code ?? 'parse error'})`];
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  // A request already under way (its body cut short) is answered through its own response.
  const pending = (socket as Socket & { _httpMessage?: http.ServerResponse })._httpMessage;
  if (pending) {
    if (pending.headersSent) socket.destroy();
    else send(pending, statusResponse(status, reason, message), true);
    return;
  }
  const body = statusResponse(status, reason, message).body;
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** The webhook's HTTP(S) server: transport limits here, decisions in the handler. */
export function createWebhookServer(options: WebhookServerOptions): http.Server {
  const logger = options.logger ?? silentLogger;
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const timeouts = {
    // Node's own clocks stop slow clients, for headers and for the whole request; each
    // connection is checked every connectionsCheckingInterval, so a slow client is cut
    // off between requestTimeoutMs and 1.5 times that.
    headersTimeout: options.requestTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(1000, Math.max(10, Math.floor(options.requestTimeoutMs / 2))),
  };
  // Once close() is called (server.listening turns false) every answer ends its connection,
  // so a keep-alive connection busy when the drain began does not linger after its answer.
  const handle = (request: http.IncomingMessage, response: http.ServerResponse, body: Buffer) => {
    const answer = (result: WebhookResponse) => send(response, result, !server.listening);
    const fail = (error: Error) => {
      logger.warn('request failed', { error: error.message });
      send(response, statusResponse(500, 'InternalError', 'internal error; see the webhook log'), true);
    };
    let result: WebhookResponse | Promise<WebhookResponse>;
    try {
      result = options.handler({ method: request.method ?? '', url: request.url ?? '/', body });
    } catch (error) {
      fail(error as Error);
      return;
    }
    if (result instanceof Promise) result.then(answer, fail);
    else answer(result);
  };
  const listener = (request: http.IncomingMessage, response: http.ServerResponse) =>
    receiveBody(request, maxBodyBytes, (body) => handle(request, response, body), (answer) => send(response, answer, true));
  const server = options.tls
    ? https.createServer({ ...timeouts, cert: options.tls.cert, key: options.tls.key }, listener)
    : http.createServer(timeouts, listener);
  // Let a client that sent a complete request and then half-closed still read the answer.
  // (an internal Node switch, present since Node 12 but missing from @types/node).
  (server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket, options.requestTimeoutMs, logger));
  return server;
}

/**
 * The API server's webhook client gives up after 30 s (kubernetes/apiserver v0.36.3
 * pkg/util/webhook/webhook.go defaultRequestTimeout): an answer later than that reaches
 * nobody. Also well inside systemd's default stop timeout of 90 s (DefaultTimeoutStopSec,
 * systemd-system.conf(5)), after which systemd sends SIGKILL.
 */
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

/**
 * Stops accepting connections, closes idle keep-alive ones, lets requests in flight be
 * answered (each answer then closes its connection), and after `drainTimeoutMs` cuts
 * whatever is left. Resolves with the number of connections cut.
 */
export function drain(server: http.Server, drainTimeoutMs: number = DEFAULT_DRAIN_TIMEOUT_MS): Promise<{ readonly connectionsCut: number }> {
  return new Promise((resolve) => {
    let connectionsCut = 0;
    const deadline = setTimeout(() => {
      server.getConnections((_, count) => {
        connectionsCut = count;
        server.closeAllConnections();
      });
    }, drainTimeoutMs);
    server.close(() => {
      clearTimeout(deadline);
      resolve({ connectionsCut });
    });
    server.closeIdleConnections();
  });
}

/** Listens and resolves with the bound address (port 0 picks a free port). */
export function listen(server: http.Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
