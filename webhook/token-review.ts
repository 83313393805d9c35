import { AuthenticationResult } from './authenticator';

/** TokenReview versions the API server may send (`--authentication-token-webhook-version`). */
export const TOKEN_REVIEW_API_VERSIONS = ['authentication.k8s.io/v1', 'authentication.k8s.io/v1beta1'] as const;

export type ParsedTokenReview =
  | { readonly ok: true; readonly apiVersion: string; readonly token: string }
  | { readonly ok: false; readonly message: string };

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Checks a decoded TokenReview request; the message says what is wrong and what is expected. */
export function parseTokenReview(body: unknown): ParsedTokenReview {
  if (!isObject(body)) return { ok: false, message: 'body must be a JSON object (a TokenReview)' };
  if (body.kind !== 'TokenReview') return { ok: false, message: `kind must be "TokenReview", got ${JSON.stringify(body.kind) ?? 'nothing'}` };
  const apiVersion = body.apiVersion;
  if (typeof apiVersion !== 'string' || !(TOKEN_REVIEW_API_VERSIONS as readonly string[]).includes(apiVersion)) {
    return { ok: false, message: `apiVersion must be one of ${TOKEN_REVIEW_API_VERSIONS.join(', ')}, got ${JSON.stringify(apiVersion) ?? 'nothing'}` };
  }
  if (!isObject(body.spec)) return { ok: false, message: 'spec must be an object' };
  const { token, audiences } = body.spec;
  if (typeof token !== 'string' || token === '') return { ok: false, message: 'spec.token must be a non-empty string' };
  if (audiences !== undefined && audiences !== null && !(Array.isArray(audiences) && audiences.every((a) => typeof a === 'string'))) {
    return { ok: false, message: 'spec.audiences must be a list of strings' };
  }
  return { ok: true, apiVersion, token };
}

/**
 * The reply, in the request's apiVersion. No status.audiences: the API server then
 * checks its own implicit audiences, which is right for tokens that carry none.
 */
export function tokenReviewResponse(apiVersion: string, result: AuthenticationResult): object {
  const status = result.authenticated
    ? { authenticated: true, user: { username: result.user.username, uid: result.user.uid, groups: result.user.groups } }
    : { authenticated: false, error: result.reason };
  return { apiVersion, kind: 'TokenReview', status };
}
