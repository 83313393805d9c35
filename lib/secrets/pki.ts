import { X509Certificate, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from './x509';

/** CA certificates outlive many leaf generations: 10 years, like kubeadm's CAs. */
export const CA_LIFETIME_DAYS = 3650;

/**
 * Leaf certificates (etcd members, API server, clients): 2 years, or less when their CA
 * ends sooner. A daily run re-issues them from the same CA with a third of this left
 * (renewal.ts).
 */
export const LEAF_LIFETIME_DAYS = 730;

/** Certificates start 5 minutes in the past so nodes whose clock lags still accept them. */
export const CLOCK_SKEW_ALLOWANCE_MS = 5 * 60 * 1000;

/** One day in milliseconds. */
export const DAY_MS = 24 * 60 * 60 * 1000;

/** ECDSA P-256: small, fast, and accepted by etcd, Kubernetes and Go's TLS stack. */
const EC_KEY: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const EC_SIGNING: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };

/**
 * RSA 2048 for the service-account signing key: RS256 is the one JWT algorithm every
 * OIDC consumer of service-account tokens supports.
 */
const RSA_KEY: RsaHashedKeyGenParams = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
};

type CryptoKey = webcrypto.CryptoKey;
type EcKeyGenParams = webcrypto.EcKeyGenParams;
type EcdsaParams = webcrypto.EcdsaParams;
type RsaHashedKeyGenParams = webcrypto.RsaHashedKeyGenParams;

const subtle = webcrypto.subtle;

/** A private key (PKCS#8 PEM) and its public key (SPKI PEM). */
export interface KeyPairPem {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

/** A certificate and its private key, both PEM. */
export interface CertificateAndKeyPem {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

/** A CA that can sign: its certificate, its signing key and both as PEM. */
export interface CertificateAuthority extends CertificateAndKeyPem {
  readonly certificate: x509.X509Certificate;
  readonly signingKey: CryptoKey;
}

/** Extended key usages a leaf certificate can carry. */
export type LeafUsage = 'serverAuth' | 'clientAuth';

/** What a leaf certificate says about its holder. */
export interface LeafRequest {
  /** Subject common name. */
  readonly commonName: string;
  /** DNS subject alternative names. */
  readonly dnsNames?: readonly string[];
  /** IP subject alternative names. */
  readonly ipAddresses?: readonly string[];
  /** Extended key usages. */
  readonly usages: readonly LeafUsage[];
}

/** PEM files end with a newline, so that they can be concatenated into bundles. */
function pemFile(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return pemFile(x509.PemConverter.encode(await subtle.exportKey('pkcs8', key), 'PRIVATE KEY'));
}

async function publicKeyPem(key: CryptoKey): Promise<string> {
  return pemFile(x509.PemConverter.encode(await subtle.exportKey('spki', key), 'PUBLIC KEY'));
}

function generateEcKeys(): Promise<webcrypto.CryptoKeyPair> {
  return subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
}

/** RFC 5280: positive, at most 20 octets, unpredictable. 16 random bytes, top bit clear. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  bytes[0] |= 0x01; // never a leading zero octet, which DER would have to strip
  return bytes.toString('hex');
}

function validity(now: Date, lifetimeDays: number): { notBefore: Date; notAfter: Date } {
  return {
    notBefore: new Date(now.getTime() - CLOCK_SKEW_ALLOWANCE_MS),
    notAfter: new Date(now.getTime() + lifetimeDays * DAY_MS),
  };
}

/** An RSA 2048 key pair, e.g. for signing service-account tokens. */
export async function generateRsaKeyPair(): Promise<KeyPairPem> {
  const keys = await subtle.generateKey(RSA_KEY, true, ['sign', 'verify']);
  return { privateKeyPem: await privateKeyPem(keys.privateKey), publicKeyPem: await publicKeyPem(keys.publicKey) };
}

/** A new self-signed CA (ECDSA P-256) that may sign leaf certificates only (path length 0). */
export async function createCertificateAuthority(commonName: string, now = new Date()): Promise<CertificateAuthority> {
  const keys = await generateEcKeys();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${commonName}`,
    ...validity(now, CA_LIFETIME_DAYS),
    keys,
    signingAlgorithm: EC_SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    certificate,
    signingKey: keys.privateKey,
    certificatePem: pemFile(certificate.toString('pem')),
    privateKeyPem: await privateKeyPem(keys.privateKey),
  };
}

/** A CA read back from its PEM certificate and PKCS#8 key, to sign more leaves with. */
export async function loadCertificateAuthority(pem: CertificateAndKeyPem): Promise<CertificateAuthority> {
  const certificate = new x509.X509Certificate(pem.certificatePem);
  const signingKey = await subtle.importKey(
    'pkcs8',
    x509.PemConverter.decodeFirst(pem.privateKeyPem),
    EC_KEY,
    true,
    ['sign'],
  );
  return { certificate, signingKey, ...pem };
}

/**
 * A leaf's validity: LEAF_LIFETIME_DAYS, but never past its CA's notAfter (a chain fails once
 * the CA expires, so a longer leaf would only look valid). A CA that has ended signs nothing.
 */
function leafValidity(ca: CertificateAuthority, now: Date): { notBefore: Date; notAfter: Date } {
  const leaf = validity(now, LEAF_LIFETIME_DAYS);
  const caNotAfter = ca.certificate.notAfter;
  if (caNotAfter.getTime() <= now.getTime()) {
    throw new Error(
      `The CA "${ca.certificate.subject}" expired at ${caNotAfter.toISOString()}: it cannot sign. ` +
        'Rotate the secret set (the ClusterSecrets "regenerate" prop; lib/secrets/README.md).',
    );
  }
  return leaf.notAfter.getTime() > caNotAfter.getTime() ? { ...leaf, notAfter: caNotAfter } : leaf;
}

/**
 * A new ECDSA P-256 key and a leaf certificate for it, signed by `ca`, valid from `now`
 * for LEAF_LIFETIME_DAYS or until the CA's notAfter, whichever is first.
 */
export async function issueCertificate(
  ca: CertificateAuthority,
  request: LeafRequest,
  now = new Date(),
): Promise<CertificateAndKeyPem> {
  const keys = await generateEcKeys();
  const altNames: x509.JsonGeneralName[] = [
    ...(request.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(request.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${request.commonName}`,
    issuer: ca.certificate.subject,
    ...leafValidity(ca, now),
    publicKey: keys.publicKey,
    signingKey: ca.signingKey,
    signingAlgorithm: EC_SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      // ECDSA keys sign (TLS 1.2 ECDHE and 1.3); keyEncipherment is for RSA key transport only.
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(request.usages.map((usage) => x509.ExtendedKeyUsage[usage])),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey),
      ...(altNames.length > 0 ? [new x509.SubjectAlternativeNameExtension(altNames)] : []),
    ],
  });
  return { certificatePem: pemFile(certificate.toString('pem')), privateKeyPem: await privateKeyPem(keys.privateKey) };
}

/**
 * The subject alternative names of a PEM certificate as `DNS:<name>` / `IP:<address>`,
 * sorted (the form of sans.ts `sanList`). Other name types are listed by their type.
 */
export function certificateSanList(certificatePem: string): string[] {
  const extension = new x509.X509Certificate(certificatePem).getExtension(x509.SubjectAlternativeNameExtension);
  return (extension?.names.items ?? [])
    .map((name) => `${name.type === 'dns' ? 'DNS' : name.type === 'ip' ? 'IP' : name.type}:${name.value}`)
    .sort();
}

/** A stored certificate, or undefined when it is missing or not a certificate (the value is never quoted). */
export function readCertificate(pem: string | undefined): X509Certificate | undefined {
  try {
    return pem === undefined ? undefined : new X509Certificate(pem);
  } catch {
    return undefined;
  }
}
