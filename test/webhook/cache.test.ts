import { ExpiringLruCache, RECENCY_REFRESH_MS } from '../../webhook/cache';

describe('ExpiringLruCache', () => {
  let clock = 0;
  const now = () => clock;
  beforeEach(() => {
    clock = 1_000_000;
  });

  test('a stored value is returned until its TTL runs out, then forgotten', () => {
    const cache = new ExpiringLruCache<string>(10, now);
    cache.set('k', 'v', 1000);
    clock += 999;
    expect(cache.get('k')).toBe('v');
    clock += 1;
    expect(cache.get('k')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  test('a zero TTL stores nothing', () => {
    const cache = new ExpiringLruCache<string>(10, now);
    cache.set('k', 'v', 0);
    expect(cache.get('k')).toBeUndefined();
  });

  test('the size bound evicts the least recently used entry', () => {
    const cache = new ExpiringLruCache<string>(2, now);
    cache.set('a', 'A', 10_000);
    cache.set('b', 'B', 10_000);
    clock += RECENCY_REFRESH_MS;
    expect(cache.get('a')).toBe('A'); // a is now more recent than b
    cache.set('c', 'C', 10_000);
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe('A');
    expect(cache.get('c')).toBe('C');
  });

  test('a hit refreshes recency at most once per RECENCY_REFRESH_MS', () => {
    const cache = new ExpiringLruCache<string>(2, now);
    cache.set('a', 'A', 10_000);
    cache.set('b', 'B', 10_000);
    clock += RECENCY_REFRESH_MS - 1;
    expect(cache.get('a')).toBe('A'); // too soon after its set: a stays the oldest
    cache.set('c', 'C', 10_000);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBe('B');
  });

  test('a refreshed entry keeps its expiry', () => {
    const cache = new ExpiringLruCache<string>(10, now);
    cache.set('k', 'v', RECENCY_REFRESH_MS * 3);
    clock += RECENCY_REFRESH_MS * 2;
    expect(cache.get('k')).toBe('v'); // refreshed here
    clock += RECENCY_REFRESH_MS;
    expect(cache.get('k')).toBeUndefined();
  });

  test('refuses a size bound below one', () => {
    expect(() => new ExpiringLruCache<string>(0, now)).toThrow(/maxEntries: must be a positive integer, got 0/);
  });
});
