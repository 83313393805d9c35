import { execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { JWKS_PATH, OPENID_CONFIGURATION_PATH } from '../../userdata/service-account-issuer';
import {
  discoveryDocuments,
  jsonWebKeySet,
  keyIdOf,
  openIdConfiguration,
} from '../../lib/oidc/discovery';

const ISSUER = 'https://kube-aws-test-1-oidc-123456789012-eu-central-1.s3.eu-central-1.amazonaws.com';

/** An RSA 2048 key pair made by openssl, as independent of Node's crypto as the test can get. */
function opensslKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const privateKeyPem = execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'], // its progress dots
  });
  const publicKeyPem = execFileSync('openssl', ['pkey', '-pubout'], { input: privateKeyPem, encoding: 'utf8' });
  return { privateKeyPem, publicKeyPem };
}

/** keyIDFromPublicKey by openssl: SHA-256 of the SPKI DER, base64url without padding. */
function opensslKeyId(publicKeyPem: string): string {
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: publicKeyPem });
  const digest = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: der });
  return digest.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const base64url = (value: object | Buffer) =>
  (Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value))).toString('base64url');

describe('keyIdOf: the kid the API server signs with', () => {
  test('equals SHA-256 of the SPKI DER as openssl computes it', () => {
    const { publicKeyPem } = opensslKeyPair();
    expect(keyIdOf(publicKeyPem)).toBe(opensslKeyId(publicKeyPem));
  });

  test("matches upstream's stability vector (kubernetes/kubernetes pkg/serviceaccount/keyid_test.go TestKeyIDStability)", () => {
    // The key and kid below are upstream's: "The derived key id for a given public key must not
    // change or validation of previously issued tokens will fail to find associated keys".
    const upstreamKey = [
      '-----BEGIN PUBLIC KEY-----',
      'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA249XwEo9k4tM8fMxV7zx',
      'OhcrP+WvXn917koM5Qr2ZXs4vo26e4ytdlrV0bQ9SlcLpQVSYjIxNfhTZdDt+ecI',
      'zshKuv1gKIxbbLQMOuK1eA/4HALyEkFgmS/tleLJrhc65tKPMGD+pKQ/xhmzRuCG',
      '51RoiMgbQxaCyYxGfNLpLAZK9L0Tctv9a0mJmGIYnIOQM4kC1A1I1n3EsXMWmeJU',
      'j7OTh/AjjCnMnkgvKT2tpKxYQ59PgDgU8Ssc7RDSmSkLxnrv+OrN80j6xrw0OjEi',
      'B4Ycr0PqfzZcvy8efTtFQ/Jnc4Bp1zUtFXt7+QeevePtQ2EcyELXE0i63T1CujRM',
      'WwIDAQAB',
      '-----END PUBLIC KEY-----',
      '',
    ].join('\n');
    expect(keyIdOf(upstreamKey)).toBe('JHJehTTTZlsspKHT-GaJxK7Kd1NQgZJu3fyK6K_QDYU');
    expect(keyIdOf(upstreamKey)).toBe(opensslKeyId(upstreamKey));
  });

  test('a PKCS#1 PEM of the same key has the same kid (Go re-encodes the key as PKIX first)', () => {
    const { publicKeyPem } = opensslKeyPair();
    const pkcs1 = createPublicKey(publicKeyPem).export({ format: 'pem', type: 'pkcs1' }).toString();
    expect(pkcs1).toContain('BEGIN RSA PUBLIC KEY');
    expect(keyIdOf(pkcs1)).toBe(keyIdOf(publicKeyPem));
  });

  test('refuses what the API server would not sign RS256 with, naming sa.pub', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(() => keyIdOf(ec)).toThrow(/sa.pub must be an RSA public key.*got ec/);
    expect(() => keyIdOf('not a key')).toThrow(/sa.pub is not a PEM public key/);
  });
});

describe('the JWKS at <issuer>/openid/v1/jwks', () => {
  test('verifies a token signed as the API server signs (RS256, kid header) and names that kid', () => {
    const { privateKeyPem, publicKeyPem } = opensslKeyPair();
    const kid = opensslKeyId(publicKeyPem);
    const header = base64url({ alg: 'RS256', kid });
    const payload = base64url({ iss: ISSUER, sub: 'system:serviceaccount:default:app', aud: ['sts.amazonaws.com'] });
    const signature = sign('sha256', Buffer.from(`${header}.${payload}`), privateKeyPem);

    const { keys } = jsonWebKeySet(publicKeyPem);
    expect(keys).toHaveLength(1);
    const [jwk] = keys;
    expect(jwk).toMatchObject({ use: 'sig', kty: 'RSA', alg: 'RS256', kid, e: 'AQAB' });
    // A relying party (STS) picks the key by kid and checks the signature with it.
    const key = createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' });
    expect(verify('sha256', Buffer.from(`${header}.${payload}`), key, signature)).toBe(true);
  });

  test('n is the modulus openssl reads from sa.pub', () => {
    const { publicKeyPem } = opensslKeyPair();
    const modulusHex = execFileSync('openssl', ['rsa', '-pubin', '-modulus', '-noout'], { input: publicKeyPem, encoding: 'utf8' })
      .trim()
      .replace(/^Modulus=/, '');
    const [jwk] = jsonWebKeySet(publicKeyPem).keys;
    expect(Buffer.from(jwk.n, 'base64url').toString('hex').toUpperCase()).toBe(modulusHex.toUpperCase());
  });

  test("fields in go-jose's order (jwk.go rawJSONWebKey), compact as Go's json.Marshal writes", () => {
    const { publicKeyPem } = opensslKeyPair();
    const jwks = discoveryDocuments(ISSUER, publicKeyPem).find((doc) => `/${doc.key}` === JWKS_PATH)!;
    const parsed = JSON.parse(jwks.body);
    expect(Object.keys(parsed)).toEqual(['keys']);
    expect(Object.keys(parsed.keys[0])).toEqual(['use', 'kty', 'kid', 'alg', 'n', 'e']);
    expect(jwks.body).not.toMatch(/\s/);
  });
});

describe('the configuration at <issuer>/.well-known/openid-configuration', () => {
  test("has openidmetadata.go's fields and values, its jwks_uri under the issuer", () => {
    const configuration = openIdConfiguration(ISSUER);
    expect(Object.keys(configuration)).toEqual([
      'issuer',
      'jwks_uri',
      'response_types_supported',
      'subject_types_supported',
      'id_token_signing_alg_values_supported',
    ]);
    expect(configuration).toEqual({
      issuer: ISSUER,
      jwks_uri: `${ISSUER}/openid/v1/jwks`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    });
  });

  test('both documents are published at the paths the API server serves them on', () => {
    const { publicKeyPem } = opensslKeyPair();
    const urls = discoveryDocuments(ISSUER, publicKeyPem).map((doc) => `${ISSUER}/${doc.key}`);
    expect(urls).toEqual([`${ISSUER}${OPENID_CONFIGURATION_PATH}`, `${ISSUER}${JWKS_PATH}`]);
    expect(urls[1]).toBe(openIdConfiguration(ISSUER).jwks_uri);
  });

  test.each([
    ['http://example.org', /must use https/],
    ['https://example.org?a=b', /may not include a query/],
    ['https://example.org#x', /may not include a fragment/],
    ['https://example.org:8443', /may not include a port/],
    ['https://example.org/', /may not end with '\/'/],
    ['example.org', /is not a URL/],
  ])('refuses the issuer %s as the API server (or IAM) would', (issuer, message) => {
    expect(() => openIdConfiguration(issuer)).toThrow(message);
  });
});
