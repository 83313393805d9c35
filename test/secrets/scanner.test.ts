import { findSecretMaterial } from '../../lib/secrets/scanner';

const PKCS8 = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----';
const RSA = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----';
const TOKEN = 'q1oD3YxWq7r5Hk2yQ9sVxZ0uJt8mN4bLcE6fA1gR2pI';

describe('findSecretMaterial', () => {
  test('finds PKCS#8, RSA and EC private keys, also JSON-escaped, in order', () => {
    const escaped = JSON.stringify({ key: PKCS8 });
    const ec = '-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEE\\n-----END EC PRIVATE KEY-----';
    expect(findSecretMaterial(`a ${RSA} b ${escaped} c ${ec}`)).toEqual([RSA, PKCS8.replace(/\n/g, '\\n'), ec]);
  });

  test('a private key header without its footer still counts', () => {
    expect(findSecretMaterial('"-----BEGIN PRIVATE KEY-----", {"Ref": "x"}')).toEqual(['-----BEGIN PRIVATE KEY-----']);
  });

  test('certificates and public keys are not secret', () => {
    const text = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----';
    expect(findSecretMaterial(text)).toEqual([]);
  });

  test('finds every occurrence of a known token', () => {
    expect(findSecretMaterial(`token=${TOKEN}\nagain:${TOKEN}`, [TOKEN])).toEqual([TOKEN, TOKEN]);
    expect(findSecretMaterial('nothing here', [TOKEN])).toEqual([]);
  });

  test('refuses known tokens too short to be evidence', () => {
    expect(() => findSecretMaterial('abc', ['abc'])).toThrow(/too short/);
  });
});
