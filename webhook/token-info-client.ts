import * as http from 'http';
import * as https from 'https';
import { boundedGet } from './bounded-get';
import { TokenInfoFields } from './config';

/** Who a token belongs to, as the API server needs it. */
export interface UserIdentity {
  readonly username: string;
  readonly uid: string;
  readonly groups: readonly string[];
}

export type TokenInfoResult =
  /** token-info vouched for the token. */
  | { readonly kind: 'identity'; readonly identity: UserIdentity; readonly expiresInSeconds?: number }
  /** token-info refused the token, or its answer names no usable user. */
  | { readonly kind: 'rejected'; readonly reason: string }
  /** token-info could not be asked: down, slow, or answering nonsense. */
  | { readonly kind: 'unavailable'; readonly reason: string };

export interface TokenInfoClientOptions {
  readonly url: string;
  readonly timeoutMs: number;
  readonly fields: TokenInfoFields;
}

// RFC 6750 b64token. Anything else cannot be a bearer token, and refusing it here keeps
// CR/LF and other bytes out of the outgoing Authorization header.
const BEARER_TOKEN_PATTERN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** Longer than any OAuth2 token or JWT we know of, and than many servers take in one header line. */
export const MAX_BEARER_TOKEN_LENGTH = 8 * 1024;
/** Token-info answers are a few hundred bytes; more is a misbehaving endpoint. */
const MAX_TOKEN_INFO_BYTES = 64 * 1024;
/**
 * Names token-info may not hand out: the API server's own (`system:`), this cluster's
 * (`kubernetes-on-aws:`, e.g. the groups IAM principals get for their role), and, for user
 * names, those of IAM principals (`arn:`, iam-authenticator.ts).
 */
const RESERVED_PREFIXES = ['system:', 'kubernetes-on-aws:'];
const RESERVED_USERNAME_PREFIXES = [...RESERVED_PREFIXES, 'arn:'];
/**
 * User names the cluster binds for its own components (test/webhook/iam-authenticator.test.ts
 * holds this list to every User the cluster-bootstrap add-on binds): the API server's kubelet
 * client (system:kubelet-api-admin), the kubelet serving certificates' approver and the pod
 * identity webhook (reads service accounts). Token-info may never hand them out, and the
 * authorization webhook leaves them to RBAC (userdata/apiserver-authorization.ts).
 */
export const RESERVED_USERNAMES: readonly string[] = ['kube-apiserver-kubelet-client', 'kubernetes-on-aws:kubelet-serving-approver', 'kubernetes-on-aws:pod-identity-webhook'];
/**
 * A name as compared with the reserved ones: trimmed, and case-folded (upper then lower case
 * also folds `ſ` to `s`, as Go's strings.EqualFold does). The API server compares names exactly,
 * but ` system:admin` or `SYSTEM:masters` in an audit log or a binding would mislead people.
 */
const folded = (name: string) => name.trim().toUpperCase().toLowerCase();
const reserved = (name: string) => RESERVED_PREFIXES.find((prefix) => folded(name).startsWith(prefix));
const reservedUsername = (name: string) =>
  RESERVED_USERNAMES.includes(folded(name)) ? `the reserved name "${folded(name)}"` : RESERVED_USERNAME_PREFIXES.filter((prefix) => folded(name).startsWith(prefix)).map((prefix) => `the reserved "${prefix}" namespace`)[0];

/**
 * The token-info URL as a log may show it: without userinfo and query string, either of
 * which can carry a client secret, and without the fragment (never sent anyway).
 */
export function redactedUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '<not a URL>';
  }
  const userinfo = parsed.username !== '' || parsed.password !== '' ? '<redacted>@' : '';
  return `${parsed.protocol}//${userinfo}${parsed.host}${parsed.pathname}${parsed.search !== '' ? '?<redacted>' : ''}`;
}

const keepAliveHttpAgent = new http.Agent({ keepAlive: true });
const keepAliveHttpsAgent = new https.Agent({ keepAlive: true });

/** Asks the OAuth2 token-info endpoint about a token. Never throws; never logs the token. */
export function lookUpTokenInfo(token: string, options: TokenInfoClientOptions): Promise<TokenInfoResult> {
  if (token.length > MAX_BEARER_TOKEN_LENGTH) return Promise.resolve({ kind: 'rejected', reason: `token is longer than ${MAX_BEARER_TOKEN_LENGTH} characters` });
  if (!BEARER_TOKEN_PATTERN.test(token)) return Promise.resolve({ kind: 'rejected', reason: 'token is not a well-formed bearer token' });
  const url = new URL(options.url);
  return boundedGet(url, {
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    timeoutMs: options.timeoutMs,
    maxBodyBytes: MAX_TOKEN_INFO_BYTES,
    agent: url.protocol === 'https:' ? keepAliveHttpsAgent : keepAliveHttpAgent,
  }).then(
    (response) => interpretAnswer(response.status, response.body, options.fields),
    (error: Error): TokenInfoResult => ({ kind: 'unavailable', reason: `token-info ${error.message}` }),
  );
}

function interpretAnswer(status: number, body: string, fields: TokenInfoFields): TokenInfoResult {
  // 400/401/403/404 are how token-info endpoints say "unknown or expired token".
  if (status >= 400 && status < 500) return { kind: 'rejected', reason: `token-info answered ${status}` };
  if (status !== 200) return { kind: 'unavailable', reason: `token-info answered ${status}` };
  let answer: unknown;
  try {
    answer = JSON.parse(body);
  } catch {
    return { kind: 'unavailable', reason: 'token-info answer is not JSON' };
  }
  return identityFromTokenInfo(answer, fields);
}

/**
 * Maps a token-info JSON answer to an identity using the configured field paths. An answer
 * that says the token is no longer good is a refusal, whatever else it holds: RFC 7662's
 * `active: false` and an `exp` (seconds since the epoch) not in the future, and OAuth2's
 * `expires_in` (RFC 6749 section 5.1) of zero or less.
 */
export function identityFromTokenInfo(answer: unknown, fields: TokenInfoFields, now: number = Date.now()): TokenInfoResult {
  if (valueAt(answer, 'active') === false) return { kind: 'rejected', reason: 'token-info says the token is not active' };
  const exp = valueAt(answer, 'exp');
  if (typeof exp === 'number' && exp * 1000 <= now) return { kind: 'rejected', reason: 'token-info says the token expired (exp)' };
  const expiresIn = valueAt(answer, 'expires_in');
  if (typeof expiresIn === 'number' && expiresIn <= 0) return { kind: 'rejected', reason: 'token-info says the token expired (expires_in)' };
  const username = valueAt(answer, fields.username);
  if (typeof username !== 'string' || username === '') return { kind: 'rejected', reason: `token-info answer has no string at "${fields.username}" (username)` };
  const why = reservedUsername(username);
  if (why) return { kind: 'rejected', reason: `token-info username "${username}" is ${why}` };
  const uid = valueAt(answer, fields.uid);
  const rawGroups = valueAt(answer, fields.groups);
  const groupList = typeof rawGroups === 'string' ? [rawGroups] : Array.isArray(rawGroups) ? rawGroups : [];
  // system: groups (system:masters above all) are the API server's to grant, ours are ours: never token-info's.
  const groups = groupList.filter((g): g is string => typeof g === 'string' && g !== '' && !reserved(g));
  return {
    kind: 'identity',
    identity: { username, uid: typeof uid === 'string' || typeof uid === 'number' ? String(uid) : '', groups },
    ...(typeof expiresIn === 'number' && Number.isFinite(expiresIn) ? { expiresInSeconds: expiresIn } : {}),
  };
}

function valueAt(document: unknown, dottedPath: string): unknown {
  let current: unknown = document;
  for (const key of dottedPath.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current) || !Object.prototype.hasOwnProperty.call(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
