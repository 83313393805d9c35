import { createHash, createPrivateKey, createPublicKey, X509Certificate as NodeCertificate } from 'node:crypto';
import * as x509 from '../../lib/secrets/x509';

/** Node's own X.509 parser: an independent check of what @peculiar/x509 produced. */
export function nodeCertificate(pem: string): NodeCertificate {
  return new NodeCertificate(pem);
}

/** True when the PKCS#8 private key PEM belongs to the certificate's public key. */
export function keyMatchesCertificate(privateKeyPem: string, certificatePem: string): boolean {
  return nodeCertificate(certificatePem).checkPrivateKey(createPrivateKey(privateKeyPem));
}

/** SHA-256 of a public key's SPKI DER, to compare keys. */
export function publicKeyFingerprint(keyPem: string): string {
  return createHash('sha256')
    .update(createPublicKey(keyPem).export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** The certificate's SANs as `DNS:x` / `IP:y` strings, sorted. */
export function subjectAltNames(pem: string): string[] {
  const extension = new x509.X509Certificate(pem).getExtension(x509.SubjectAlternativeNameExtension);
  return (extension?.names.items ?? [])
    .map((name) => `${name.type === 'dns' ? 'DNS' : 'IP'}:${name.value}`)
    .sort();
}

/** The extended key usages as names (serverAuth, clientAuth). */
export function extendedKeyUsages(pem: string): string[] {
  const extension = new x509.X509Certificate(pem).getExtension(x509.ExtendedKeyUsageExtension);
  const names = Object.entries(x509.ExtendedKeyUsage);
  return (extension?.usages ?? []).map((oid) => names.find(([, value]) => value === oid)?.[0] ?? String(oid)).sort();
}

/** The key usage flags of a certificate. */
export function keyUsages(pem: string): number | undefined {
  return new x509.X509Certificate(pem).getExtension(x509.KeyUsagesExtension)?.usages;
}

/** Days between notBefore and notAfter. */
export function lifetimeDays(pem: string): number {
  const certificate = nodeCertificate(pem);
  return (Date.parse(certificate.validTo) - Date.parse(certificate.validFrom)) / 86_400_000;
}

export const PEM_CERTIFICATE = /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n$/;
export const PEM_PRIVATE_KEY = /^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END PRIVATE KEY-----\n$/;
