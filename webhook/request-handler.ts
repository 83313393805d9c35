import { AuthenticationResult } from './authenticator';
import { authorize, AuthorizationPolicy } from './authorizer';
import { Logger, silentLogger } from './logger';
import { parseSubjectAccessReview, subjectAccessReviewResponse } from './subject-access-review';
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

export type RequestHandler = (request: WebhookRequest) => Promise<WebhookResponse>;

export interface RequestHandlerDependencies {
  readonly authenticate: (token: string) => Promise<AuthenticationResult>;
  readonly policy: AuthorizationPolicy;
  /** @default silentLogger */
  readonly logger?: Logger;
}

export const AUTHENTICATE_PATH = '/authenticate';
export const AUTHORIZE_PATH = '/authorize';
export const HEALTHZ_PATH = '/healthz';

const json = (status: number, document: object): WebhookResponse => ({ status, contentType: 'application/json', body: JSON.stringify(document) });

/** Errors as a Kubernetes Status object: the API server's webhook client logs its message. */
export function statusResponse(code: number, reason: string, message: string, headers?: Record<string, string>): WebhookResponse {
  return { ...json(code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code }), ...(headers ? { headers } : {}) };
}

function decodeJson(body: Buffer): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) };
  } catch (error) {
    return { ok: false, message: `body is not valid JSON: ${(error as Error).message}` };
  }
}

/** Routes a received request to authentication, authorization or the health check. */
export function createRequestHandler(dependencies: RequestHandlerDependencies): RequestHandler {
  const logger = dependencies.logger ?? silentLogger;

  async function authenticate(body: Buffer): Promise<WebhookResponse> {
    const decoded = decodeJson(body);
    if (!decoded.ok) return statusResponse(400, 'BadRequest', decoded.message);
    const review = parseTokenReview(decoded.value);
    if (!review.ok) return statusResponse(400, 'BadRequest', `invalid TokenReview: ${review.message}`);
    const result = await dependencies.authenticate(review.token);
    return json(200, tokenReviewResponse(review.apiVersion, result));
  }

  function authorizeReview(body: Buffer): WebhookResponse {
    const decoded = decodeJson(body);
    if (!decoded.ok) return statusResponse(400, 'BadRequest', decoded.message);
    const review = parseSubjectAccessReview(decoded.value);
    if (!review.ok) return statusResponse(400, 'BadRequest', `invalid SubjectAccessReview: ${review.message}`);
    const decision = authorize(review.request, dependencies.policy);
    if (decision.denied) {
      const { user, resource, nonResource } = review.request;
      logger.info('access denied', { user, verb: resource?.verb ?? nonResource?.verb, resource: resource ? `${resource.group}/${resource.resource}/${resource.subresource}` : nonResource?.path, namespace: resource?.namespace, reason: decision.reason });
    }
    return json(200, subjectAccessReviewResponse(review.apiVersion, decision));
  }

  return async (request) => {
    const queryStart = request.url.indexOf('?');
    const path = queryStart === -1 ? request.url : request.url.slice(0, queryStart);
    const expectedMethod = path === AUTHENTICATE_PATH || path === AUTHORIZE_PATH ? 'POST' : path === HEALTHZ_PATH ? 'GET' : undefined;
    if (!expectedMethod) return statusResponse(404, 'NotFound', `no such path ${JSON.stringify(path)}; this server answers POST ${AUTHENTICATE_PATH}, POST ${AUTHORIZE_PATH}, GET ${HEALTHZ_PATH}`);
    if (request.method !== expectedMethod) return statusResponse(405, 'MethodNotAllowed', `${path} takes ${expectedMethod}, got ${request.method}`, { allow: expectedMethod });
    if (path === HEALTHZ_PATH) return { status: 200, contentType: 'text/plain; charset=utf-8', body: 'ok' };
    return path === AUTHENTICATE_PATH ? authenticate(request.body) : authorizeReview(request.body);
  };
}
