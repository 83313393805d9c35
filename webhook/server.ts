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

type BodyOutcome =
  | { readonly kind: 'complete'; readonly body: Buffer }
  | { readonly kind: 'failed'; readonly response: WebhookResponse };

/**
 * Receives the body within the size and time limits. Every way of failing becomes a
 * 4xx answer: a client that is slow, sends too much or stops halfway never reaches
 * the handler and never costs more than the limits.
 */
function receiveBody(request: http.IncomingMessage, maxBytes: number, timeoutMs: number): Promise<BodyOutcome> {
  const declared = Number(request.headers['content-length']);
  if (declared > maxBytes) {
    return Promise.resolve({ kind: 'failed', response: statusResponse(413, 'RequestEntityTooLarge', `body of ${declared} bytes exceeds the limit of ${maxBytes} bytes`) });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const settle = (outcome: BodyOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const timer = setTimeout(() => settle({ kind: 'failed', response: statusResponse(408, 'Timeout', `request not received within ${timeoutMs} ms`) }), timeoutMs);
    request.on('data', (chunk: Buffer) => {
      if (settled) return;
      received += chunk.length;
      if (received > maxBytes) {
        settle({ kind: 'failed', response: statusResponse(413, 'RequestEntityTooLarge', `body exceeds the limit of ${maxBytes} bytes`) });
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => settle({ kind: 'complete', body: Buffer.concat(chunks, received) }));
    // 'aborted' / 'error': the client half-closed or reset before the body was complete.
    const incomplete = () => settle({ kind: 'failed', response: statusResponse(400, 'BadRequest', `request body ended after ${received} bytes, before it was complete`) });
    request.on('aborted', incomplete);
    request.on('error', incomplete);
  });
}

function send(response: http.ServerResponse, answer: WebhookResponse, closeConnection: boolean): void {
  if (response.headersSent || response.destroyed) return;
  const body = Buffer.from(answer.body, 'utf8');
  response.writeHead(answer.status, {
    'content-type': answer.contentType,
    'content-length': body.length,
    ...(closeConnection ? { connection: 'close' } : {}),
    ...answer.headers,
  });
  response.end(body);
}

/** Answers errors the HTTP parser finds: malformed requests, bodies cut off by a half-close, slow clients. */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket, logger: Logger): void {
  logger.info('client error', { code: error.code });
  const [status, reason, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Timeout', 'request not received in time']
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
    // Node's own checks catch clients that are slow to send headers; the body has its own timer.
    headersTimeout: options.requestTimeoutMs,
    requestTimeout: options.requestTimeoutMs + 1000,
    connectionsCheckingInterval: Math.min(1000, Math.max(10, Math.floor(options.requestTimeoutMs / 2))),
  };
  const listener = (request: http.IncomingMessage, response: http.ServerResponse) => {
    receiveBody(request, maxBodyBytes, options.requestTimeoutMs).then(async (outcome) => {
      if (outcome.kind === 'failed') {
        send(response, outcome.response, true);
        return;
      }
      const answer = await options.handler({ method: request.method ?? '', url: request.url ?? '/', body: outcome.body });
      send(response, answer, false);
    }).catch((error: Error) => {
      logger.warn('request failed', { error: error.message });
      send(response, statusResponse(500, 'InternalError', 'internal error; see the webhook log'), true);
    });
  };
  const server = options.tls
    ? https.createServer({ ...timeouts, cert: options.tls.cert, key: options.tls.key }, listener)
    : http.createServer(timeouts, listener);
  // Let a client that sent a complete request and then half-closed still read the answer.
  // (an internal Node switch, present since Node 12 but missing from @types/node).
  (server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket, logger));
  return server;
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
