import * as crypto from 'crypto';
import { isIamToken } from './aws-iam-token';
import { ExpiringLruCache } from './cache';
import { Logger, silentLogger } from './logger';
import { lookUpTokenInfo, TokenInfoClientOptions, TokenInfoResult, UserIdentity } from './token-info-client';

/**
 * The one identity behind the shared worker token. The Node authorizer only knows
 * `system:node:<name>` users, so this identity's rights come from the RBAC roles of
 * manifests/node-agent-rbac.ts, bound to this user (see DESIGN.md "Kubelet identity").
 */
export const KUBELET_IDENTITY: UserIdentity = { username: 'kubelet', uid: 'kubelet', groups: ['system:nodes', 'system:authenticated'] };

export type AuthenticationResult =
  | { readonly authenticated: true; readonly user: UserIdentity }
  | { readonly authenticated: false; readonly reason: string };

export interface TokenAuthenticatorOptions {
  /** The shared worker token; presenting it yields KUBELET_IDENTITY. */
  readonly workerToken: string;
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
}

/** How long a refused token stays refused without asking again (a token rarely becomes valid later). */
export const REFUSAL_CACHE_SECONDS = 10;

// crypto.hash (one-shot, Node >= 20.12) where the runtime has it; createHash otherwise.
const sha256Base64: (data: string) => string = typeof (crypto as { hash?: unknown }).hash === 'function'
  ? (data) => crypto.hash('sha256', data, 'base64')
  : (data) => crypto.createHash('sha256').update(data).digest('base64');

/**
 * Turns bearer tokens into identities: the worker token locally, IAM tokens through STS
 * (and EC2 for nodes), other tokens through token-info.
 */
export class TokenAuthenticator {
  // A per-process random salt: cache keys are useless to anyone who reads this process's
  // memory without it, and no raw token is ever stored. (Salted SHA-256 rather than HMAC:
  // the digest is never shown to a client, and crypto.hash costs a sixth of createHmac
  // on the hot path.)
  private readonly salt = crypto.randomBytes(32).toString('base64');
  private readonly workerTokenDigest: Buffer;
  private readonly cache: ExpiringLruCache<UserIdentity>;
  /** Tokens refused a moment ago: a flood of junk asks token-info or STS once per token, not per request. */
  private readonly refused: ExpiringLruCache<true>;
  /** Lookups under way, so a burst with one new token asks token-info once. */
  private readonly inFlight = new Map<string, Promise<TokenInfoResult>>();
  private readonly logger: Logger;
  private readonly lookUp: NonNullable<TokenAuthenticatorOptions['lookUp']>;

  constructor(private readonly options: TokenAuthenticatorOptions) {
    if (options.workerToken === '') throw new Error('workerToken: must not be empty');
    this.workerTokenDigest = Buffer.from(this.digest(options.workerToken), 'latin1');
    this.cache = new ExpiringLruCache<UserIdentity>(options.cacheMaxEntries, options.now);
    this.refused = new ExpiringLruCache<true>(options.cacheMaxEntries, options.now);
    this.logger = options.logger ?? silentLogger;
    this.lookUp = options.lookUp ?? lookUpTokenInfo;
  }

  get cachedIdentities(): number {
    return this.cache.size;
  }

  async authenticate(token: string): Promise<AuthenticationResult> {
    const key = this.digest(token);
    // Equal-length digests, compared in constant time: timing reveals nothing of the worker token.
    if (crypto.timingSafeEqual(Buffer.from(key, 'latin1'), this.workerTokenDigest)) return { authenticated: true, user: KUBELET_IDENTITY };

    const cached = this.cache.get(key);
    if (cached) return { authenticated: true, user: cached };
    if (this.refused.get(key)) return { authenticated: false, reason: 'token not recognised' };

    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.identify(token).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    const result = await pending;
    // Refusals only: "unavailable" says nothing about the token, and its next try must ask again.
    if (result.kind === 'rejected') this.refused.set(key, true, REFUSAL_CACHE_SECONDS * 1000);
    if (result.kind !== 'identity') {
      // The digest prefix lets an operator correlate repeated failures without the token.
      this.logger.warn('token not authenticated', { outcome: result.kind, reason: result.reason, tokenDigest: key.slice(0, 8) });
      return { authenticated: false, reason: result.kind === 'unavailable' ? 'token-info unavailable' : 'token not recognised' };
    }
    // Never cache beyond what the token's issuer promises (OAuth2 expires_in; an IAM token's 15 minutes).
    const ttlSeconds = Math.min(this.options.cacheTtlSeconds, result.expiresInSeconds ?? Infinity);
    this.cache.set(key, result.identity, ttlSeconds * 1000);
    return { authenticated: true, user: result.identity };
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
