import { createHash, createPublicKey, KeyObject } from 'node:crypto';
import { JWKS_PATH, OPENID_CONFIGURATION_PATH } from '../../userdata/service-account-issuer';

// The two OpenID discovery documents of the service-account issuer, as the API server itself
// renders them (kubernetes/kubernetes v1.35, pkg/serviceaccount/openidmetadata.go
// openIDConfigJSON / openIDKeysetJSON) when started with --service-account-issuer=<issuer> and
// --service-account-jwks-uri=<issuer>/openid/v1/jwks. Published in S3, they let AWS STS verify
// the cluster's service-account tokens. Pure: no AWS call, no secret (sa.pub only).

/**
 * The S3 object keys of the two documents: the paths without their leading `/`, so that
 * `https://<bucket host>/<key>` is `<issuer><path>`.
 */
export const OPENID_CONFIGURATION_KEY = OPENID_CONFIGURATION_PATH.slice(1);
export const JWKS_KEY = JWKS_PATH.slice(1);
export const DISCOVERY_OBJECT_KEYS: readonly string[] = [OPENID_CONFIGURATION_KEY, JWKS_KEY];

/** openidmetadata.go `openIDMetadata`, its fields in its order (Go's json.Marshal keeps it). */
export interface OpenIdConfiguration {
  readonly issuer: string;
  readonly jwks_uri: string;
  readonly response_types_supported: readonly string[];
  readonly subject_types_supported: readonly string[];
  readonly id_token_signing_alg_values_supported: readonly string[];
}

/** One RSA key as go-jose's JSONWebKey marshals it (jwk.go `rawJSONWebKey`: use, kty, kid, alg, n, e). */
export interface RsaJsonWebKey {
  readonly use: 'sig';
  readonly kty: 'RSA';
  readonly kid: string;
  readonly alg: 'RS256';
  readonly n: string;
  readonly e: string;
}

export interface JsonWebKeySet {
  readonly keys: readonly RsaJsonWebKey[];
}

/** One document to publish: its S3 key and its body (compact JSON, as Go's json.Marshal writes it). */
export interface DiscoveryDocument {
  readonly key: string;
  readonly body: string;
}

/**
 * The issuer URL rules the API server applies before serving discovery
 * (openidmetadata.go NewOpenIDMetadataProvider: https, no query, no fragment), plus no
 * trailing `/` (the jwks_uri would get `//`) and no port (IAM OIDC providers refuse one).
 */
export function validateIssuerUrl(issuerUrl: string): void {
  let url: URL;
  try {
    url = new URL(issuerUrl);
  } catch {
    throw new Error(`service-account issuer '${issuerUrl}' is not a URL; expected e.g. 'https://bucket.s3.eu-central-1.amazonaws.com'`);
  }
  const problems = [
    url.protocol !== 'https:' && 'must use https',
    url.search !== '' && 'may not include a query',
    url.hash !== '' && 'may not include a fragment',
    url.port !== '' && 'may not include a port',
    issuerUrl.endsWith('/') && "may not end with '/'",
  ].filter(Boolean);
  if (problems.length > 0) {
    throw new Error(`service-account issuer '${issuerUrl}' ${problems.join(', ')}`);
  }
}

/** The RSA public key of a PEM (`PUBLIC KEY` SPKI, as sa.pub is, or `RSA PUBLIC KEY`). */
function rsaPublicKey(publicKeyPem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: publicKeyPem, format: 'pem' });
  } catch (error) {
    throw new Error(`sa.pub is not a PEM public key: ${(error as Error).message}`);
  }
  // The API server signs with RS256 for RSA keys (jwt.go signerFromRSAPrivateKey) and this
  // project's sa.key is RSA (lib/secrets/bundles.ts).
  if (key.asymmetricKeyType !== 'rsa') {
    throw new Error(`sa.pub must be an RSA public key (the API server signs with RS256); got ${key.asymmetricKeyType}`);
  }
  return key;
}

/**
 * The `kid` the API server puts in the tokens it signs: base64url (no padding) of the SHA-256
 * of the key's PKIX (SPKI) DER encoding (kubernetes/kubernetes v1.35
 * pkg/serviceaccount/jwt.go keyIDFromPublicKey; pinned by keyid_test.go TestKeyIDStability).
 * Computed from the re-encoded key, not from the PEM's bytes, as Go's
 * x509.MarshalPKIXPublicKey does.
 */
export function keyIdOf(publicKeyPem: string): string {
  const der = rsaPublicKey(publicKeyPem).export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(der).digest('base64url');
}

/** openidmetadata.go openIDConfigJSON with jwksURI = `<issuer>/openid/v1/jwks`. */
export function openIdConfiguration(issuerUrl: string): OpenIdConfiguration {
  validateIssuerUrl(issuerUrl);
  return {
    issuer: issuerUrl,
    jwks_uri: `${issuerUrl}${JWKS_PATH}`,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    // getAlgs: the sorted algorithms of the keys; an RSA key is RS256 (algorithmFromPublicKey).
    id_token_signing_alg_values_supported: ['RS256'],
  };
}

/** openidmetadata.go openIDKeysetJSON for the one key: jwkFromPublicKey sets use `sig`. */
export function jsonWebKeySet(publicKeyPem: string): JsonWebKeySet {
  // Node's JWK export writes n and e as unpadded base64url of their minimal big-endian
  // bytes, as go-jose does (65537 -> "AQAB").
  const { n, e } = rsaPublicKey(publicKeyPem).export({ format: 'jwk' });
  if (typeof n !== 'string' || typeof e !== 'string') {
    throw new Error('sa.pub: the RSA key has no modulus or exponent');
  }
  return { keys: [{ use: 'sig', kty: 'RSA', kid: keyIdOf(publicKeyPem), alg: 'RS256', n, e }] };
}

/** Both documents, keyed by their S3 object keys (DISCOVERY_OBJECT_KEYS order). */
export function discoveryDocuments(issuerUrl: string, publicKeyPem: string): DiscoveryDocument[] {
  return [
    { key: OPENID_CONFIGURATION_KEY, body: JSON.stringify(openIdConfiguration(issuerUrl)) },
    { key: JWKS_KEY, body: JSON.stringify(jsonWebKeySet(publicKeyPem)) },
  ];
}
