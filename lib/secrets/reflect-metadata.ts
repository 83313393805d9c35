// @peculiar/x509 registers its algorithms with tsyringe, which refuses to load unless a
// Reflect metadata polyfill (normally the `reflect-metadata` package) is installed. That
// package is not a dependency of this project, so this module supplies the three calls
// tsyringe makes, with the polyfill's semantics, before x509 loads. Import it first.
// Replace it with `import 'reflect-metadata'` once that package is a dependency.

type MetadataTarget = object;
const store = new WeakMap<MetadataTarget, Map<unknown, unknown>>();

interface ReflectMetadata {
  defineMetadata(key: unknown, value: unknown, target: MetadataTarget): void;
  getOwnMetadata(key: unknown, target: MetadataTarget): unknown;
  getMetadata(key: unknown, target: MetadataTarget): unknown;
}

const reflect = Reflect as typeof Reflect & Partial<ReflectMetadata>;

if (typeof reflect.getMetadata !== 'function') {
  const getOwn = (key: unknown, target: MetadataTarget): unknown => store.get(target)?.get(key);
  Object.assign(reflect, {
    defineMetadata(key: unknown, value: unknown, target: MetadataTarget): void {
      const entries = store.get(target) ?? new Map<unknown, unknown>();
      entries.set(key, value);
      store.set(target, entries);
    },
    getOwnMetadata: getOwn,
    // Like the polyfill: own metadata first, then up the prototype chain.
    getMetadata(key: unknown, target: MetadataTarget): unknown {
      for (let current: MetadataTarget | null = target; current !== null; current = Object.getPrototypeOf(current)) {
        const value = getOwn(key, current);
        if (value !== undefined) {
          return value;
        }
      }
      return undefined;
    },
  } satisfies ReflectMetadata);
}
