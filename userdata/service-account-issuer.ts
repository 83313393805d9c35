/**
 * Where the API server serves its service-account issuer's OpenID discovery documents
 * (kubernetes/kubernetes v1.35 pkg/serviceaccount/openidmetadata.go `OpenIDConfigPath`,
 * `JWKSPath`), and where they are published for AWS STS under the issuer
 * (lib/oidc/discovery.ts).
 */
export const OPENID_CONFIGURATION_PATH = '/.well-known/openid-configuration';
export const JWKS_PATH = '/openid/v1/jwks';
