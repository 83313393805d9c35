import { AuthenticationResult } from './authenticator';
import { authorize, AuthorizationPolicy } from './authorizer';
import { Logger, RateLimitedLog, silentLogger } from './logger';
import { parseSubjectAccessReview, subjectAccessReviewResponse } from './subject-access-review';
import { MAX_BEARER_TOKEN_LENGTH } from './token-info-client';
import { parseTokenReview, tokenReviewResponse } from './token-review';

/** An HTTP request with its body already received (the transport enforces size and time limits). */
export interface WebhookRequest {
  readonly method: string;
  readonly url: string;
  readonly body: Buffer;
}

export interface WebhookResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Answers a request: at once when no lookup is needed (authorization, a cached token, health,
 * errors), otherwise through a promise (a token to look up), so the hot paths make no promise
 * and wait for no microtask.
 */
export type RequestHandler = (request: WebhookRequest) => WebhookResponse | Promise<WebhookResponse>;

export interface RequestHandlerDependencies {
  /** Answers at once when it can (a cached token), otherwise through a promise. */
  readonly authenticate: (token: string) => AuthenticationResult | Promise<AuthenticationResult>;
  readonly policy: AuthorizationPolicy;
  /** @default silentLogger */
  readonly logger?: Logger;
  /**
   * Where `access denied` goes, rate-limited per user.
   * @default a RateLimitedLog on `logger` with its defaults
   */
  readonly denialLog?: RateLimitedLog;
}

export const AUTHENTICATE_PATH = '/authenticate';
export const AUTHORIZE_PATH = '/authorize';
export const HEALTHZ_PATH = '/healthz';

const json = (status: number, document: object): WebhookResponse => ({ status, contentType: 'application/json', body: JSON.stringify(document) });

/** Errors as a Kubernetes Status object: the API server's webhook client logs its message. */
export function statusResponse(code: number, reason: string, message: string, headers?: Record<string, string>): WebhookResponse {
  return { ...json(code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code }), ...(headers ? { headers } : {}) };
}

/**
 * The deepest a review may nest. A SubjectAccessReview's deepest legitimate path,
 * spec.resourceAttributes.fieldSelector.requirements[].values[], is 7 levels
 * (kubernetes/api v0.36.3 authorization/v1/types.go); 32 leaves room for additions. Deeper
 * bodies are refused before parsing: nothing here needs them, and recursive code
 * (JSON.stringify of a nested value in an error message) would overflow the stack on them.
 */
export const MAX_JSON_DEPTH = 32;

/**
 * Whether objects and arrays nest deeper than `limit` in a JSON text, counted outside strings.
 * A body with no more than `limit` opening brackets in all cannot (every real review: counted
 * with native searches, the hot path); others are scanned byte by byte.
 */
function jsonDepthExceeds(body: Buffer, limit: number): boolean {
  let brackets = 0;
  for (const bracket of [0x7b, 0x5b]) {
    for (let i = body.indexOf(bracket); i !== -1; i = body.indexOf(bracket, i + 1)) {
      if (++brackets > limit) return nestingExceeds(body, limit);
    }
  }
  return false;
}

function nestingExceeds(body: Buffer, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    if (inString) {
      if (byte === 0x5c) i++; // backslash: skip the escaped byte
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) {
      inString = true;
    } else if (byte === 0x7b || byte === 0x5b) { // { [
      if (++depth > limit) return true;
    } else if (byte === 0x7d || byte === 0x5d) { // } ]
      depth--;
    }
  }
  return false;
}

function decodeJson(body: Buffer): { ok: true; value: unknown } | { ok: false; message: string } {
  if (jsonDepthExceeds(body, MAX_JSON_DEPTH)) return { ok: false, message: `body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels; a review needs fewer than 10` };
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) };
  } catch (error) {
    return { ok: false, message: `body is not valid JSON: ${(error as Error).message}` };
  }
}

const isThenable = <T>(value: T | PromiseLike<T>): value is PromiseLike<T> => typeof (value as { then?: unknown }).then === 'function';

/** Routes a received request to authentication, authorization or the health check. */
export function createRequestHandler(dependencies: RequestHandlerDependencies): RequestHandler {
  const denialLog = dependencies.denialLog ?? new RateLimitedLog({ logger: dependencies.logger ?? silentLogger, level: 'info', message: 'access denied' });

  // Answers serialized once per object and apiVersion: a cached user's TokenReview (the
  // authenticator's cache hands out the same identity object on every hit) and a grant (authorize
  // returns one frozen object per role, verb class and resource class). An entry goes with its
  // object; denials name the user and are fresh objects, serialized each time.
  const answers = new WeakMap<object, Map<string, string>>();
  function answerOnce(of: object, apiVersion: string, make: () => object): string {
    let byVersion = answers.get(of);
    if (!byVersion) answers.set(of, (byVersion = new Map()));
    let body = byVersion.get(apiVersion);
    if (body === undefined) byVersion.set(apiVersion, (body = JSON.stringify(make())));
    return body;
  }

  function authenticate(body: Buffer): WebhookResponse | Promise<WebhookResponse> {
    const decoded = decodeJson(body);
    if (!decoded.ok) return statusResponse(400, 'BadRequest', decoded.message);
    const review = parseTokenReview(decoded.value);
    if (!review.ok) return statusResponse(400, 'BadRequest', `invalid TokenReview: ${review.message}`);
    if (review.token.length > MAX_BEARER_TOKEN_LENGTH) {
      return statusResponse(400, 'BadRequest', `invalid TokenReview: spec.token is ${review.token.length} characters, longer than any bearer token this webhook accepts (${MAX_BEARER_TOKEN_LENGTH})`);
    }
    const answer = (result: AuthenticationResult): WebhookResponse => {
      if (!result.authenticated && result.retryAfterSeconds !== undefined) {
        return statusResponse(429, 'TooManyRequests', result.reason, { 'retry-after': String(result.retryAfterSeconds) });
      }
      if (result.authenticated) {
        const body = answerOnce(result.user, review.apiVersion, () => tokenReviewResponse(review.apiVersion, result));
        return { status: 200, contentType: 'application/json', body };
      }
      return json(200, tokenReviewResponse(review.apiVersion, result));
    };
    // A cached token is answered at once; a lookup through its promise (any thenable).
    const result = dependencies.authenticate(review.token);
    return isThenable(result) ? Promise.resolve(result).then(answer) : answer(result);
  }

  function authorizeReview(body: Buffer): WebhookResponse {
    const decoded = decodeJson(body);
    if (!decoded.ok) return statusResponse(400, 'BadRequest', decoded.message);
    const review = parseSubjectAccessReview(decoded.value);
    if (!review.ok) return statusResponse(400, 'BadRequest', `invalid SubjectAccessReview: ${review.message}`);
    const decision = authorize(review.request, dependencies.policy);
    if (decision.denied) {
      const { user, resource, nonResource } = review.request;
      denialLog.note(user, { user, verb: resource?.verb ?? nonResource?.verb, resource: resource ? `${resource.group}/${resource.resource}/${resource.subresource}` : nonResource?.path, namespace: resource?.namespace, reason: decision.reason });
    }
    const answer = () => subjectAccessReviewResponse(review.apiVersion, decision);
    return { status: 200, contentType: 'application/json', body: decision.allowed ? answerOnce(decision, review.apiVersion, answer) : JSON.stringify(answer()) };
  }

  return (request) => {
    const queryStart = request.url.indexOf('?');
    const path = queryStart === -1 ? request.url : request.url.slice(0, queryStart);
    const expectedMethod = path === AUTHENTICATE_PATH || path === AUTHORIZE_PATH ? 'POST' : path === HEALTHZ_PATH ? 'GET' : undefined;
    if (!expectedMethod) return statusResponse(404, 'NotFound', `no such path ${JSON.stringify(path)}; this server answers POST ${AUTHENTICATE_PATH}, POST ${AUTHORIZE_PATH}, GET ${HEALTHZ_PATH}`);
    if (request.method !== expectedMethod) return statusResponse(405, 'MethodNotAllowed', `${path} takes ${expectedMethod}, got ${request.method}`, { allow: expectedMethod });
    if (path === HEALTHZ_PATH) return { status: 200, contentType: 'text/plain; charset=utf-8', body: 'ok' };
    return path === AUTHENTICATE_PATH ? authenticate(request.body) : authorizeReview(request.body);
  };
}
