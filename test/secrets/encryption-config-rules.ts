/**
 * The rules kube-apiserver applies when it loads `--encryption-provider-config`, restated
 * from kubernetes/apiserver at tag v0.35.1 for the providers this project writes
 * (secretbox, identity). A test helper: every rule has a test in encryption-config.test.ts
 * showing that it rejects what upstream rejects.
 *
 * - pkg/apis/apiserver/v1/register.go: group `apiserver.config.k8s.io`, version `v1`, kind
 *   `EncryptionConfiguration`.
 * - pkg/apis/apiserver/v1/types_encryption.go: the JSON field names (unknown fields are
 *   silently dropped by the decoder, so a misspelt provider would be an empty provider:
 *   here every field must be one upstream knows).
 * - pkg/apis/apiserver/validation/validation_encryption.go: ValidateEncryptionConfiguration,
 *   validateResourceNames, validateResourceOverlap, validateSingleProvider, validateKeys,
 *   validateKey (secretbox: secretBoxKeySizes = [32], base64.StdEncoding).
 * - pkg/server/options/encryptionconfig/config.go, secretboxPrefixTransformer: a key is
 *   found by the prefix `<name>:` after `k8s:enc:secretbox:v1:`, so a name with ':' or a
 *   repeated name would shadow another key.
 */
import * as yaml from 'js-yaml';

const API_VERSION = 'apiserver.config.k8s.io/v1';
const KIND = 'EncryptionConfiguration';
const PROVIDERS = ['aesgcm', 'aescbc', 'secretbox', 'identity', 'kms'];
const SECRETBOX_KEY_SIZES = [32];
const NON_REST_RESOURCES = ['apiserveripinfo', 'serviceipallocations', 'servicenodeportallocations'];

type Json = Record<string, unknown>;

function unknownFields(value: unknown, allowed: string[], path: string, errors: string[]): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    errors.push(`${path}: must be an object`);
    return;
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) errors.push(`${path}.${key}: unknown field`);
  }
}

/** `resource` or `resource.group`, as schema.ParseGroupResource splits it. */
function groupResource(name: string): { group: string; resource: string } {
  const dot = name.indexOf('.');
  return dot < 0 ? { group: '', resource: name } : { group: name.slice(dot + 1), resource: name.slice(0, dot) };
}

/** Go's base64.StdEncoding.DecodeString: padded standard alphabet only. */
function decodeStdBase64(text: string): Buffer | undefined {
  return /^[A-Za-z0-9+/]*={0,2}$/.test(text) && text.length % 4 === 0 ? Buffer.from(text, 'base64') : undefined;
}

function validateKeys(keys: unknown, path: string, sizes: number[], errors: string[]): void {
  if (!Array.isArray(keys) || keys.length === 0) {
    errors.push(`${path}: at least one keys is required`);
    return;
  }
  const names = new Set<string>();
  keys.forEach((key: Json, index) => {
    const at = `${path}[${index}]`;
    unknownFields(key, ['name', 'secret'], at, errors);
    const name = key?.name;
    if (typeof name !== 'string' || name === '') errors.push(`${at}.name: name is a mandatory field for a key`);
    else if (name.includes(':')) errors.push(`${at}.name: contains ':', which ends the key's storage prefix`);
    else if (names.has(name)) errors.push(`${at}.name: ${name} is repeated; the storage prefix finds keys by name`);
    if (typeof name === 'string') names.add(name);
    const secret = key?.secret;
    if (typeof secret !== 'string' || secret === '') {
      errors.push(`${at}.secret: secret is a mandatory field for a key`);
      return;
    }
    const bytes = decodeStdBase64(secret);
    if (bytes === undefined) errors.push(`${at}.secret: secrets must be base64 encoded`);
    else if (!sizes.includes(bytes.length)) errors.push(`${at}.secret: secret is not of the expected length, got ${bytes.length}, expected one of ${sizes}`);
  });
}

/** Every way `text` breaks the upstream rules; empty when kube-apiserver would load it. */
export function encryptionConfigErrors(text: string): string[] {
  const errors: string[] = [];
  const config = yaml.load(text) as Json;
  unknownFields(config, ['apiVersion', 'kind', 'resources'], '', errors);
  if (config?.apiVersion !== API_VERSION) errors.push(`apiVersion: must be ${API_VERSION}`);
  if (config?.kind !== KIND) errors.push(`kind: must be ${KIND}`);
  const entries = config?.resources;
  if (!Array.isArray(entries) || entries.length === 0) return [...errors, 'resources: at least one resources is required'];
  entries.forEach((entry: Json, i) => {
    const at = `resources[${i}]`;
    unknownFields(entry, ['resources', 'providers'], at, errors);
    const resources = entry?.resources;
    if (!Array.isArray(resources) || resources.length === 0) errors.push(`${at}.resources: at least one is required`);
    else {
      if (new Set(resources).size !== resources.length) errors.push(`${at}.resources: the same resource cannot be specified multiple times`);
      const parsed = (resources as string[]).map(groupResource);
      const overlaps = parsed.some((a, x) =>
        parsed.some((b, y) => x !== y && (a.group === '*' && a.resource === '*' || (a.group === b.group && (a.resource === '*' || b.resource === '*')))),
      );
      if (overlaps) errors.push(`${at}.resources: overlapping resources would be masked`);
      for (const name of resources as string[]) {
        const { group, resource } = groupResource(name);
        if (name !== name.toLowerCase()) errors.push(`${at}.resources: ${name} has capital letters`);
        else if (name === '*') errors.push(`${at}.resources: '*' is not allowed`);
        else if (NON_REST_RESOURCES.includes(name)) errors.push(`${at}.resources: ${name} has no REST API`);
        else if (group === 'events.k8s.io' || group === 'extensions') errors.push(`${at}.resources: group ${group} is not allowed`);
        else if (group === '*' && resource !== '*') errors.push(`${at}.resources: ${name} spans groups`);
      }
    }
    const providers = entry?.providers;
    if (!Array.isArray(providers) || providers.length === 0) {
      errors.push(`${at}.providers: at least one is required`);
      return;
    }
    providers.forEach((provider: Json, j) => {
      const where = `${at}.providers[${j}]`;
      unknownFields(provider, PROVIDERS, where, errors);
      const given = Object.keys(provider ?? {}).filter((key) => PROVIDERS.includes(key));
      if (given.length !== 1) {
        errors.push(`${where}: exactly one provider per element, got ${given.length}`);
        return;
      }
      const [type] = given;
      if (type === 'identity') unknownFields(provider.identity, [], `${where}.identity`, errors);
      if (type === 'secretbox') {
        unknownFields(provider.secretbox, ['keys'], `${where}.secretbox`, errors);
        validateKeys((provider.secretbox as Json | null)?.keys, `${where}.secretbox.keys`, SECRETBOX_KEY_SIZES, errors);
      }
    });
  });
  return errors;
}
