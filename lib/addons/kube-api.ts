import * as https from 'node:https';

// A minimal Kubernetes API client for the add-on applier: bearer token, the cluster CA, JSON
// bodies, and retries of what is transient while the API server comes up. Node's own `https`
// (the Lambda has no kubectl and no client library).

/** How to reach the API server. */
export interface KubeApiConnection {
  /** `https://api.internal.example.com` (no trailing path). Plain HTTP is refused: it would carry the token in clear. */
  readonly server: string;
  /** PEM of the cluster CA that signed the API server's certificate; the only CA trusted. */
  readonly caPem: string;
  /** An admin bearer token. */
  readonly token: string;
}

/** How long one call may take and how long transient failures are retried. */
export interface RetryPolicy {
  /**
   * One attempt's timeout. The API server ends a non-long-running request after at most 34 s
   * (apiserver v0.35.1 pkg/endpoints/handlers/patch.go, delete.go: requestTimeoutUpperBound).
   * @default 40_000
   */
  readonly requestTimeoutMs: number;
  /** How long a call retries connection errors, 429 and 5xx before failing. @default 120_000 */
  readonly retryForMs: number;
  /** First backoff; doubled after each attempt. @default 250 */
  readonly initialBackoffMs: number;
  /** Longest backoff. @default 5_000 */
  readonly maxBackoffMs: number;
}

/** The defaults of {@link RetryPolicy}. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  requestTimeoutMs: 40_000,
  retryForMs: 120_000,
  initialBackoffMs: 250,
  maxBackoffMs: 5_000,
};

/** One request. */
export interface KubeRequest {
  readonly method: 'GET' | 'PATCH' | 'PUT' | 'DELETE';
  /** `/apis/apps/v1/namespaces/x/deployments/y`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** @default 'application/json' when there is a body */
  readonly contentType?: string;
}

/** An answer of the API server (any status: the caller decides what a 404 means). */
export interface KubeResponse {
  readonly status: number;
  /** The parsed JSON body, or undefined when it was not JSON. */
  readonly body: unknown;
  readonly text: string;
}

/** The failure of a call, with the API server's `Status` when there was one. */
export class KubeApiError extends Error {
  /** The HTTP status, undefined when the server could not be reached. */
  readonly status?: number;
  /** `Status.reason` (`Invalid`, `Forbidden`, ...). */
  readonly reason?: string;

  constructor(message: string, status?: number, reason?: string) {
    super(message);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = reason;
  }
}

/**
 * Errors of a server that is not (yet) listening or restarting behind its load balancer. Node's
 * socket error codes (https://nodejs.org/api/errors.html#common-system-errors). ENOTFOUND and
 * EAI_AGAIN too: the internal endpoint's DNS name may be minutes old. TLS errors are not here:
 * a certificate the cluster CA did not sign will not become valid by waiting.
 */
const TRANSIENT_CONNECTION_ERRORS = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND',
]);

/** 429 (priority and fairness, `Retry-After`) and 5xx (etcd or a webhook not up yet) may pass. */
export function isTransientStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** `Status.message` of an error body, or the body's text, or nothing. */
export function statusMessage(response: KubeResponse): string {
  const body = response.body as { kind?: string; message?: unknown } | undefined;
  if (body && typeof body.message === 'string') return body.message;
  return response.text.trim().slice(0, 500);
}

/** `Status.reason` of an error body. */
function statusReason(response: KubeResponse): string | undefined {
  const reason = (response.body as { reason?: unknown } | undefined)?.reason;
  return typeof reason === 'string' ? reason : undefined;
}

/** A failure naming what was being done, the HTTP status and the server's message. */
export function responseError(what: string, response: KubeResponse): KubeApiError {
  const message = statusMessage(response);
  return new KubeApiError(
    `${what}: HTTP ${response.status}${message ? `: ${message}` : ''}`,
    response.status,
    statusReason(response),
  );
}

/** Seconds of a `Retry-After` header, in ms (undefined when absent or a date). */
function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const seconds = Number(Array.isArray(header) ? header[0] : header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Attempt {
  readonly response?: KubeResponse;
  readonly retryAfterMs?: number;
  readonly error?: NodeJS.ErrnoException;
}

/** A Kubernetes API client; {@link close} it to free its sockets. */
export class KubeApi {
  private readonly agent: https.Agent;
  private readonly base: URL;
  private readonly retry: RetryPolicy;

  constructor(private readonly connection: KubeApiConnection, retry: Partial<RetryPolicy> = {}) {
    this.base = new URL(connection.server);
    if (this.base.protocol !== 'https:') {
      throw new Error(`API server URL ${connection.server}: must be https:// (the bearer token must not travel in clear)`);
    }
    this.retry = { ...DEFAULT_RETRY_POLICY, ...retry };
    // keepAlive: one TLS handshake for the whole run instead of one per request.
    this.agent = new https.Agent({ ca: connection.caPem, keepAlive: true });
  }

  /**
   * Sends a request, retrying connection errors, 429 and 5xx with exponential backoff until
   * `retryForMs` has passed. Every request the applier sends is idempotent (GET, apply PATCH,
   * DELETE with preconditions), so a retry after a lost answer is safe. Returns the last answer
   * of any status; throws only when the server could not be reached in time.
   */
  async request(request: KubeRequest): Promise<KubeResponse> {
    const deadline = Date.now() + this.retry.retryForMs;
    let backoff = this.retry.initialBackoffMs;
    for (let attempt = 1; ; attempt++) {
      const result = await this.attempt(request);
      const transient = result.error
        ? TRANSIENT_CONNECTION_ERRORS.has(result.error.code ?? '')
        : isTransientStatus(result.response!.status);
      const wait = Math.max(backoff, result.retryAfterMs ?? 0);
      if (!transient || Date.now() + wait > deadline) {
        if (result.response) return result.response;
        throw new KubeApiError(
          `${request.method} ${request.path}: cannot reach the API server ${this.connection.server} ` +
          `(${result.error!.code ?? result.error!.message}) after ${attempt} attempt(s) in ${this.retry.retryForMs} ms`,
        );
      }
      await sleep(wait);
      backoff = Math.min(backoff * 2, this.retry.maxBackoffMs);
    }
  }

  /** Frees the kept-alive sockets. */
  close(): void {
    this.agent.destroy();
  }

  private attempt(request: KubeRequest): Promise<Attempt> {
    const url = new URL(request.path, this.base);
    for (const [key, value] of Object.entries(request.query ?? {})) url.searchParams.set(key, value);
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.connection.token}`,
      Accept: 'application/json',
    };
    if (body !== undefined) {
      headers['Content-Type'] = request.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    return new Promise((resolve) => {
      const req = https.request(url, { method: request.method, headers, agent: this.agent, timeout: this.retry.requestTimeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error: NodeJS.ErrnoException) => resolve({ error }));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          resolve({ response: { status: res.statusCode ?? 0, body: parsed, text }, retryAfterMs: retryAfterMs(res.headers['retry-after']) });
        });
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer in ${this.retry.requestTimeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', (error: NodeJS.ErrnoException) => resolve({ error }));
      req.end(body);
    });
  }
}
