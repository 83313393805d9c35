import { createHmac, randomBytes, timingSafeEqual } from 'crypto';
import { ExpiringLruCache } from './cache';
import { Logger, silentLogger } from './logger';
import { lookUpTokenInfo, TokenInfoClientOptions, TokenInfoResult, UserIdentity } from './token-info-client';

/**
 * The one identity behind the shared worker token. The Node authorizer only knows
 * `system:node:<name>` users, so this identity's rights come from RBAC bindings on
 * the system:nodes group (see DESIGN.md "Kubelet identity").
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
}

/** Turns bearer tokens into identities: the worker token locally, user tokens through token-info. */
export class TokenAuthenticator {
  // Keyed HMAC rather than a bare hash: cache keys are useless to anyone who reads this
  // process's memory without the key, and no raw token is ever stored.
  private readonly digestKey = randomBytes(32);
  private readonly workerTokenDigest: Buffer;
  private readonly cache: ExpiringLruCache<UserIdentity>;
  /** Lookups under way, so a burst with one new token asks token-info once. */
  private readonly inFlight = new Map<string, Promise<TokenInfoResult>>();
  private readonly logger: Logger;
  private readonly lookUp: NonNullable<TokenAuthenticatorOptions['lookUp']>;

  constructor(private readonly options: TokenAuthenticatorOptions) {
    if (options.workerToken === '') throw new Error('workerToken: must not be empty');
    this.workerTokenDigest = this.digest(options.workerToken);
    this.cache = new ExpiringLruCache<UserIdentity>(options.cacheMaxEntries, options.now);
    this.logger = options.logger ?? silentLogger;
    this.lookUp = options.lookUp ?? lookUpTokenInfo;
  }

  get cachedIdentities(): number {
    return this.cache.size;
  }

  async authenticate(token: string): Promise<AuthenticationResult> {
    const digest = this.digest(token);
    // Equal-length digests, compared in constant time: timing reveals nothing of the worker token.
    if (timingSafeEqual(digest, this.workerTokenDigest)) return { authenticated: true, user: KUBELET_IDENTITY };

    const key = digest.toString('base64');
    const cached = this.cache.get(key);
    if (cached) return { authenticated: true, user: cached };

    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.lookUp(token, this.options.tokenInfo).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    const result = await pending;
    if (result.kind !== 'identity') {
      // The digest prefix lets an operator correlate repeated failures without the token.
      this.logger.warn('token not authenticated', { outcome: result.kind, reason: result.reason, tokenDigest: key.slice(0, 8) });
      return { authenticated: false, reason: result.kind === 'unavailable' ? 'token-info unavailable' : 'token not recognised' };
    }
    // Never cache beyond what token-info itself promises (OAuth2 expires_in).
    const ttlSeconds = Math.min(this.options.cacheTtlSeconds, result.expiresInSeconds ?? Infinity);
    this.cache.set(key, result.identity, ttlSeconds * 1000);
    return { authenticated: true, user: result.identity };
  }

  private digest(token: string): Buffer {
    return createHmac('sha256', this.digestKey).update(token).digest();
  }
}
