import { randomBytes } from 'node:crypto';
import * as yaml from 'js-yaml';

// The API server's EncryptionConfiguration: Secrets are encrypted at rest in etcd (and so in
// every etcd snapshot) with a local secretbox key generated here, beside the other
// control-plane secrets. Why secretbox and not KMS v2 or AES: lib/secrets/README.md.
//
// Upstream (kubernetes/apiserver at v0.35.1):
// - pkg/apis/apiserver/v1/types_encryption.go: the file's fields (`resources`, `providers`,
//   `secretbox.keys[].name/secret`, `identity: {}`).
// - pkg/apis/apiserver/validation/validation_encryption.go, validateKey: a key needs a name
//   and a standard-base64 secret of exactly 32 bytes for secretbox (secretBoxKeySizes).
// - pkg/server/options/encryptionconfig/config.go, secretboxPrefixTransformer: each key is
//   found by the prefix `k8s:enc:secretbox:v1:<name>:` stored with the value, so names are
//   unique and contain no ':'.
// - pkg/storage/value/transformer.go, prefixTransformers: the FIRST provider, and within it
//   the first key, encrypts; reads try every provider and key by prefix, so earlier keys
//   keep older data (and older snapshots) readable, and `identity` last reads what was
//   written before encryption was turned on.

/** Upstream `apiVersion` and `kind` of the file (apiserver.config.k8s.io/v1). */
export const ENCRYPTION_CONFIG_API_VERSION = 'apiserver.config.k8s.io/v1';
export const ENCRYPTION_CONFIG_KIND = 'EncryptionConfiguration';
/** What is encrypted: Secrets (service-account keys, tokens, TLS keys people store). */
export const ENCRYPTED_RESOURCES = ['secrets'] as const;
/** secretbox (XSalsa20-Poly1305) takes exactly 32-byte keys (upstream secretBoxKeySizes). */
export const SECRETBOX_KEY_BYTES = 32;

/**
 * Key names are `key-<N>-<random>`: N counts rotations (the highest is the newest); the
 * random part keeps names apart across clusters, so that a snapshot restored into another
 * cluster brings keys whose names (the lookup prefix in etcd) its own keys do not shadow.
 */
const KEY_NAME = /^key-([1-9][0-9]*)(-[0-9a-f]+)?$/;
const KEY_NAME_RANDOM_BYTES = 3;

/** One secretbox key: `name` goes into etcd as part of every value's prefix. */
export interface EncryptionKey {
  readonly name: string;
  /** 32 random bytes, standard base64 (what Go's base64.StdEncoding decodes). */
  readonly secret: string;
}

/** The encryption config of a control-plane secret cannot be read back. */
export class UnreadableEncryptionConfigError extends Error {
  constructor(reason: string) {
    super(
      `encryption-config.yaml of the control-plane secret cannot be read (${reason}). Its keys decrypt the ` +
        'Secrets in etcd and in its snapshots, so nothing is written over it: repair the file, or make the ' +
        'previous version of the secret current again (see lib/secrets/README.md, "Secrets encryption at rest").',
    );
    this.name = 'UnreadableEncryptionConfigError';
  }
}

/** A new key numbered after the newest of `earlier` (`key-1-<random>` when there is none). */
export function newEncryptionKey(earlier: readonly EncryptionKey[]): EncryptionKey {
  const newest = Math.max(0, ...earlier.map((key) => Number(KEY_NAME.exec(key.name)?.[1] ?? 0)));
  const suffix = randomBytes(KEY_NAME_RANDOM_BYTES).toString('hex');
  return { name: `key-${newest + 1}-${suffix}`, secret: randomBytes(SECRETBOX_KEY_BYTES).toString('base64') };
}

/**
 * The file kube-apiserver reads: one secretbox provider holding `keys` in order (the first
 * encrypts, all decrypt), then `identity` for Secrets stored before encryption was on.
 */
export function encryptionConfigYaml(keys: readonly EncryptionKey[]): string {
  if (keys.length === 0) {
    throw new Error('encryptionConfigYaml: at least one key is needed (the first one encrypts)');
  }
  const config = {
    apiVersion: ENCRYPTION_CONFIG_API_VERSION,
    kind: ENCRYPTION_CONFIG_KIND,
    resources: [
      {
        resources: [...ENCRYPTED_RESOURCES],
        providers: [{ secretbox: { keys: keys.map(({ name, secret }) => ({ name, secret })) } }, { identity: {} }],
      },
    ],
  };
  return yaml.dump(config, { lineWidth: -1, noRefs: true });
}

/**
 * The keys of a file written by {@link encryptionConfigYaml} (or edited by an operator as
 * the README says), newest first. Errors never quote the file: it holds the keys.
 */
export function readEncryptionKeys(text: string): EncryptionKey[] {
  let config: unknown;
  try {
    config = yaml.load(text);
  } catch (error) {
    // js-yaml's message quotes the offending line, which may be a key: give its position only.
    const mark = (error as yaml.YAMLException).mark;
    throw new UnreadableEncryptionConfigError(`not YAML${mark ? ` (line ${mark.line + 1})` : ''}`);
  }
  const resources = (config as { resources?: unknown } | null)?.resources;
  const secretbox = Array.isArray(resources)
    ? resources.flatMap((entry) => (Array.isArray(entry?.providers) ? entry.providers : [])).find((p) => p?.secretbox)?.secretbox
    : undefined;
  const keys: unknown = secretbox?.keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new UnreadableEncryptionConfigError('no secretbox provider with keys');
  }
  const names = new Set<string>();
  return keys.map((key, index) => {
    const { name, secret } = (key ?? {}) as Record<string, unknown>;
    if (typeof name !== 'string' || name === '' || name.includes(':') || names.has(name)) {
      throw new UnreadableEncryptionConfigError(`key ${index + 1}: its name must be unique, non-empty and without ':'`);
    }
    names.add(name);
    if (typeof secret !== 'string' || !isSecretboxKey(secret)) {
      throw new UnreadableEncryptionConfigError(`key ${name}: the secret must be ${SECRETBOX_KEY_BYTES} bytes in standard base64`);
    }
    return { name, secret };
  });
}

/**
 * A new config whose new key encrypts from now on, followed by every key of `previous`
 * (the config being replaced, if any) in its order: data and snapshots encrypted with an
 * earlier key stay readable. Keys are never dropped here (README: how an operator does).
 */
export function rotatedEncryptionConfig(previous: string | undefined): string {
  const earlier = previous === undefined ? [] : readEncryptionKeys(previous);
  return encryptionConfigYaml([newEncryptionKey(earlier), ...earlier]);
}

/** Standard (padded) base64 of exactly SECRETBOX_KEY_BYTES bytes, as Go decodes it. */
function isSecretboxKey(secret: string): boolean {
  return /^[A-Za-z0-9+/]+={0,2}$/.test(secret) && secret.length % 4 === 0 && Buffer.from(secret, 'base64').length === SECRETBOX_KEY_BYTES;
}
