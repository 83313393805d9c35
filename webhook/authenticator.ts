import * as crypto from 'crypto';
import { isIamToken } from './aws-iam-token';
import { ExpiringLruCache } from './cache';
import { DEFAULT_MAX_CONCURRENT_LOOKUPS } from './config';
import { Logger, RateLimitedLog, silentLogger } from './logger';
import { lookUpTokenInfo, TokenInfoClientOptions, TokenInfoResult, UserIdentity } from './token-info-client';

/** A cached token's result is one frozen object, handed out on every hit (callers may key on it). */
export type Authenticated = { readonly authenticated: true; readonly user: UserIdentity };

export type AuthenticationResult =
  | Authenticated
  | {
    readonly authenticated: false;
    readonly reason: string;
    /** Set when the webhook is too busy to ask: the client should try again after this long (HTTP 429). */
    readonly retryAfterSeconds?: number;
  };

export interface TokenAuthenticatorOptions {
  readonly tokenInfo: TokenInfoClientOptions;
  /** How long a positive token-info answer is reused; 0 turns caching off. */
  readonly cacheTtlSeconds: number;
  readonly cacheMaxEntries: number;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default silentLogger */
  readonly logger?: Logger;
  /** @default lookUpTokenInfo (tests may stub the network out) */
  readonly lookUp?: (token: string, options: TokenInfoClientOptions) => Promise<TokenInfoResult>;
  /**
   * Who an IAM token (aws-iam-authenticator's format) is: iam-authenticator.ts.
   * @default none: IAM tokens are not recognised
   */
  readonly iam?: { authenticate(token: string): Promise<TokenInfoResult> };
  /**
   * Token-info lookups under way at once; a new token beyond them is answered "busy, retry"
   * at once rather than queued (see RETRY_AFTER_SECONDS).
   * @default DEFAULT_MAX_CONCURRENT_LOOKUPS
   */
  readonly maxConcurrentLookups?: number;
  /**
   * Where `token not authenticated` goes, rate-limited per token digest prefix.
   * @default a RateLimitedLog on `logger` with its defaults
   */
  readonly failureLog?: RateLimitedLog;
}

/** How long a refused token stays refused without asking again (a token rarely becomes valid later). */
export const REFUSAL_CACHE_SECONDS = 10;
/**
 * Busy, and unavailable (token-info or STS down, slow or throttled), are answered with 429 and
 * this Retry-After. An answer of `authenticated: false` would be cached by the API server for
 * its webhook cache TTL (2 minutes by default: kubernetes/kubernetes v1.35
 * pkg/kubeapiserver/authenticator/config.go passes the same TTL for failures), locking a valid
 * user or kubelet out for a passing outage. Busy is not queued either: the API
 * server's webhook client retries a 429 with backoff (500 ms, x1.5, 5 steps: kubernetes/apiserver
 * v0.36.3 pkg/util/webhook/webhook.go DefaultShouldRetry, pkg/server/options/authentication.go
 * DefaultAuthWebhookRetryBackoff) and does not cache the failure, while a queue behind a
 * junk flood would hold a real user's first request past the client's 30 s timeout
 * (defaultRequestTimeout, same file), answered to nobody.
 */
export const RETRY_AFTER_SECONDS = 1;

const NOT_RECOGNISED: AuthenticationResult = Object.freeze({ authenticated: false, reason: 'token not recognised' });

// crypto.hash (one-shot, Node >= 20.12) where the runtime has it; createHash otherwise.
const sha256Base64: (data: string) => string = typeof (crypto as { hash?: unknown }).hash === 'function'
  ? (data) => crypto.hash('sha256', data, 'base64')
  : (data) => crypto.createHash('sha256').update(data).digest('base64');

/**
 * Turns bearer tokens into identities: IAM tokens through STS (and EC2 for nodes), other
 * tokens through token-info.
 */
export class TokenAuthenticator {
  // A per-process random salt: cache keys are useless to anyone who reads this process's
  // memory without it, and no raw token is ever stored. (Salted SHA-256 rather than HMAC:
  // the digest is never shown to a client, and crypto.hash costs a sixth of createHmac
  // on the hot path.)
  private readonly salt = crypto.randomBytes(32).toString('base64');
  private readonly cache: ExpiringLruCache<Authenticated>;
  /** Tokens refused a moment ago: a flood of junk asks token-info or STS once per token, not per request. */
  private readonly refused: ExpiringLruCache<true>;
  /** Lookups under way, so a burst with one new token asks token-info once. */
  private readonly inFlight = new Map<string, Promise<TokenInfoResult>>();
  private readonly failureLog: RateLimitedLog;
  private readonly lookUp: NonNullable<TokenAuthenticatorOptions['lookUp']>;
  private readonly maxConcurrentLookups: number;
  private tokenInfoLookups = 0;

  constructor(private readonly options: TokenAuthenticatorOptions) {
    this.cache = new ExpiringLruCache<Authenticated>(options.cacheMaxEntries, options.now);
    this.refused = new ExpiringLruCache<true>(options.cacheMaxEntries, options.now);
    const logger: Logger = options.logger ?? silentLogger;
    this.failureLog = options.failureLog ?? new RateLimitedLog({ logger, level: 'warn', message: 'token not authenticated' });
    this.lookUp = options.lookUp ?? lookUpTokenInfo;
    this.maxConcurrentLookups = options.maxConcurrentLookups ?? DEFAULT_MAX_CONCURRENT_LOOKUPS;
  }

  get cachedIdentities(): number {
    return this.cache.size;
  }

  /** Token-info lookups under way now (at most maxConcurrentLookups). */
  get tokenInfoLookupsUnderWay(): number {
    return this.tokenInfoLookups;
  }

  /**
   * Who the token is. A token answered a moment ago is answered at once, without a promise
   * (the hot path: the API server asks about the same few tokens thousands of times a
   * second); any other through its lookup.
   */
  authenticate(token: string): AuthenticationResult | Promise<AuthenticationResult> {
    const key = this.digest(token);
    const cached = this.cache.get(key);
    if (cached) return cached;
    if (this.refused.get(key)) return NOT_RECOGNISED;
    return this.lookUpAndRemember(token, key);
  }

  private async lookUpAndRemember(token: string, key: string): Promise<AuthenticationResult> {
    // The digest prefix lets an operator correlate repeated failures without the token.
    const tokenDigest = key.slice(0, 8);
    let pending = this.inFlight.get(key);
    if (!pending) {
      const viaTokenInfo = !isIamToken(token);
      if (viaTokenInfo && this.tokenInfoLookups >= this.maxConcurrentLookups) {
        this.failureLog.note(tokenDigest, { outcome: 'busy', reason: `${this.maxConcurrentLookups} token-info lookups under way (tokenInfo.maxConcurrentLookups)`, tokenDigest });
        return { authenticated: false, reason: 'token-info lookups at their limit; try again', retryAfterSeconds: RETRY_AFTER_SECONDS };
      }
      if (viaTokenInfo) this.tokenInfoLookups += 1;
      pending = this.identify(token).finally(() => {
        this.inFlight.delete(key);
        if (viaTokenInfo) this.tokenInfoLookups -= 1;
      });
      this.inFlight.set(key, pending);
    }
    const result = await pending;
    // Refusals only: "unavailable" says nothing about the token, and its next try must ask again.
    if (result.kind === 'rejected') this.refused.set(key, true, REFUSAL_CACHE_SECONDS * 1000);
    if (result.kind !== 'identity') {
      this.failureLog.note(tokenDigest, { outcome: result.kind, reason: result.reason, tokenDigest });
      if (result.kind === 'unavailable') {
        return { authenticated: false, reason: isIamToken(token) ? 'IAM sign-in unavailable; try again' : 'token-info unavailable; try again', retryAfterSeconds: RETRY_AFTER_SECONDS };
      }
      return NOT_RECOGNISED;
    }
    // Requests that waited on one lookup share one result: the first to resume cached it.
    const cached = this.cache.get(key);
    if (cached) return cached;
    // Frozen through and through: every hit hands out this object, so no caller can change what the next is told.
    const user = Object.freeze({ ...result.identity, groups: Object.freeze([...result.identity.groups]) });
    const authenticated = Object.freeze({ authenticated: true as const, user });
    // Never cache beyond what the token's issuer promises (OAuth2 expires_in; an IAM token's 15 minutes).
    const ttlSeconds = Math.min(this.options.cacheTtlSeconds, result.expiresInSeconds ?? Infinity);
    this.cache.set(key, authenticated, ttlSeconds * 1000);
    return authenticated;
  }

  /** Asks whoever vouches for this kind of token; never throws. */
  private identify(token: string): Promise<TokenInfoResult> {
    if (!isIamToken(token)) return this.lookUp(token, this.options.tokenInfo);
    if (!this.options.iam) return Promise.resolve({ kind: 'rejected', reason: 'IAM tokens are not accepted here (no iam section in the config)' });
    return this.options.iam.authenticate(token);
  }

  /** SHA-256 of salt and token, base64 (always 44 characters). */
  private digest(token: string): string {
    return sha256Base64(this.salt + token);
  }
}
