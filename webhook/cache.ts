/**
 * How long a hit may leave an entry's recency as it was. Moving an entry to the end of the
 * Map (a delete and a set) is the dearest step of a cache hit, and the webhook's hot path
 * hits the same few entries thousands of times a second; refreshing each at most once a
 * second keeps eviction least-recently-used to within a second, which is all a bound on
 * memory needs.
 */
export const RECENCY_REFRESH_MS = 1000;

interface Entry<V> {
  readonly value: V;
  readonly expiresAt: number;
  /** When the entry last moved to the end of the Map. */
  readonly refreshedAt: number;
}

/**
 * A size-bounded map whose entries expire. Recency is the Map's insertion order: a hit
 * moves the entry to the end (at most once per RECENCY_REFRESH_MS), so the first key is
 * always the least recently used, to within that interval.
 */
export class ExpiringLruCache<V> {
  private readonly entries = new Map<string, Entry<V>>();

  /**
   * @param maxEntries bound on entries; inserting beyond it evicts the least recently used
   * @param now clock in milliseconds (tests pass a controllable one)
   */
  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new Error(`maxEntries: must be a positive integer, got ${maxEntries}`);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const now = this.now();
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    if (now - entry.refreshedAt >= RECENCY_REFRESH_MS) {
      this.entries.delete(key);
      this.entries.set(key, { value: entry.value, expiresAt: entry.expiresAt, refreshedAt: now });
    }
    return entry.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    if (ttlMs <= 0) return;
    const now = this.now();
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: now + ttlMs, refreshedAt: now });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
