import * as yaml from 'js-yaml';
import {
  EncryptionKey,
  SECRETBOX_KEY_BYTES,
  encryptionConfigYaml,
  newEncryptionKey,
  readEncryptionKeys,
  rotatedEncryptionConfig,
} from '../../lib/secrets/encryption-config';
import { encryptionConfigErrors } from './encryption-config-rules';

/** The providers list of the one resources entry, as kube-apiserver reads it. */
function providersOf(text: string): Record<string, any>[] {
  const config = yaml.load(text) as { resources: { resources: string[]; providers: Record<string, any>[] }[] };
  expect(config.resources).toHaveLength(1);
  expect(config.resources[0].resources).toEqual(['secrets']);
  return config.resources[0].providers;
}

const keyOf = (name: string, bytes = SECRETBOX_KEY_BYTES, fill = 7): EncryptionKey => ({
  name,
  secret: Buffer.alloc(bytes, fill).toString('base64'),
});

describe('Secrets encryption config', () => {
  test('a new config: Secrets only, one secretbox key of 32 random bytes that encrypts, then identity', () => {
    const text = rotatedEncryptionConfig(undefined);

    expect(encryptionConfigErrors(text)).toEqual([]);
    expect(yaml.load(text)).toMatchObject({ apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration' });
    const providers = providersOf(text);
    expect(providers.map((p) => Object.keys(p))).toEqual([['secretbox'], ['identity']]);
    expect(providers[1]).toEqual({ identity: {} });
    const [key] = providers[0].secretbox.keys;
    expect(providers[0].secretbox.keys).toHaveLength(1);
    expect(key.name).toMatch(/^key-1-[0-9a-f]{6}$/);
    expect(key.secret).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(key.secret, 'base64')).toHaveLength(32);
    expect(rotatedEncryptionConfig(undefined)).not.toBe(text); // a fresh random key each time
  });

  test('rotation: the new key comes first and encrypts, every earlier key follows in order, identity stays last', () => {
    const first = rotatedEncryptionConfig(undefined);
    const second = rotatedEncryptionConfig(first);
    const third = rotatedEncryptionConfig(second);

    for (const text of [second, third]) expect(encryptionConfigErrors(text)).toEqual([]);
    const keys = readEncryptionKeys(third);
    expect(keys.map((k) => k.name)).toEqual([expect.stringMatching(/^key-3-[0-9a-f]{6}$/), expect.stringMatching(/^key-2-[0-9a-f]{6}$/), expect.stringMatching(/^key-1-[0-9a-f]{6}$/)]);
    expect(keys.slice(1)).toEqual(readEncryptionKeys(second));
    expect(keys[2]).toEqual(readEncryptionKeys(first)[0]);
    expect(new Set(keys.map((k) => k.secret)).size).toBe(3);
    expect(providersOf(third).at(-1)).toEqual({ identity: {} });
  });

  test('a new key is named after the newest one, whatever else an operator named or dropped', () => {
    expect(newEncryptionKey([keyOf('key-2-0a0b0c'), keyOf('key-7'), keyOf('from-backup')]).name).toMatch(/^key-8-[0-9a-f]{6}$/);
    expect(newEncryptionKey([keyOf('from-backup')]).name).toMatch(/^key-1-[0-9a-f]{6}$/);
  });

  test('key names differ between clusters: a restored snapshot\'s keys are not shadowed by the new cluster\'s', () => {
    // The name is the lookup prefix of every stored value (k8s:enc:secretbox:v1:<name>:).
    const names = new Set(Array.from({ length: 20 }, () => newEncryptionKey([]).name));
    expect(names.size).toBe(20);
  });

  test('reads back exactly the keys it wrote', () => {
    const keys = [keyOf('key-2', 32, 2), keyOf('key-1', 32, 1)];
    expect(readEncryptionKeys(encryptionConfigYaml(keys))).toEqual(keys);
  });

  test.each<[string, string]>([
    // js-yaml's own message would quote this line, key included.
    ['not YAML', 'keys:\n- name: key-1\n  secret: SECRETVALUE: nested'],
    ['no secretbox keys', encryptionConfigYaml([keyOf('key-1')]).replace(/secretbox/, 'aescbc')],
    ['a short key', encryptionConfigYaml([keyOf('key-1', 31)])],
    ['a repeated name', encryptionConfigYaml([keyOf('key-1'), keyOf('key-1', 32, 9)])],
    ['a name with a colon', encryptionConfigYaml([keyOf('key:1')])],
  ])('refuses a config with %s, and never quotes it', (_case, text) => {
    let message = '';
    try {
      readEncryptionKeys(text);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/encryption-config.yaml of the control-plane secret cannot be read/);
    expect(message).not.toContain('SECRETVALUE');
    for (const line of text.split('\n').filter((l) => l.includes('secret:'))) {
      expect(message).not.toContain(line.split('secret:')[1].trim());
    }
  });

  test('an empty key list is a programming error', () => {
    expect(() => encryptionConfigYaml([])).toThrow(/at least one key/);
  });
});

// The restated upstream rules must be able to fail, or "validates" above proves nothing.
describe('upstream EncryptionConfiguration rules (test helper)', () => {
  const valid = encryptionConfigYaml([keyOf('key-1')]);
  const edit = (change: (config: any) => void): string => {
    const config = yaml.load(valid) as any;
    change(config);
    return yaml.dump(config);
  };

  test.each<[string, string, RegExp]>([
    ['a 31-byte secretbox key', encryptionConfigYaml([keyOf('key-1', 31)]), /expected length, got 31/],
    ['a 16-byte key (AES-sized, not secretbox)', encryptionConfigYaml([keyOf('key-1', 16)]), /expected length, got 16/],
    ['unpadded base64', edit((c) => (c.resources[0].providers[0].secretbox.keys[0].secret = Buffer.alloc(32).toString('base64url').slice(0, 43))), /base64/],
    ['a key without a name', edit((c) => delete c.resources[0].providers[0].secretbox.keys[0].name), /name is a mandatory field/],
    ['a repeated key name', encryptionConfigYaml([keyOf('key-1'), keyOf('key-1', 32, 2)]), /repeated/],
    ['two providers in one element', edit((c) => (c.resources[0].providers[1] = { identity: {}, secretbox: { keys: [] } })), /exactly one provider/],
    ['a misspelt provider', edit((c) => (c.resources[0].providers[0] = { secretBox: c.resources[0].providers[0].secretbox })), /secretBox: unknown field/],
    ['no keys', edit((c) => (c.resources[0].providers[0].secretbox.keys = [])), /at least one keys/],
    ['the wrong apiVersion', edit((c) => (c.apiVersion = 'apiserver.config.k8s.io/v1beta1')), /apiVersion/],
    ["'*' as a resource", edit((c) => (c.resources[0].resources = ['*'])), /'\*' is not allowed/],
    ['overlapping resources', edit((c) => (c.resources[0].resources = ['secrets', '*.'])), /overlapping/],
  ])('rejects %s', (_case, text, error) => {
    expect(encryptionConfigErrors(text).join('\n')).toMatch(error);
  });
});
