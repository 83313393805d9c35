import { X509Certificate, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import * as x509 from '../../lib/secrets/x509';
import {
  CA_LIFETIME_DAYS,
  CLOCK_SKEW_ALLOWANCE_MS,
  LEAF_LIFETIME_DAYS,
  createCertificateAuthority,
  generateRsaKeyPair,
  issueCertificate,
  loadCertificateAuthority,
} from '../../lib/secrets/pki';
import {
  PEM_CERTIFICATE,
  PEM_PRIVATE_KEY,
  extendedKeyUsages,
  keyMatchesCertificate,
  keyUsages,
  lifetimeDays,
  subjectAltNames,
} from './pki-fixtures';

describe('pki', () => {
  test('a CA is self-signed, may sign certificates only for leaves, and lives CA_LIFETIME_DAYS', async () => {
    const now = new Date('2026-09-01T00:00:00Z');
    const ca = await createCertificateAuthority('test-ca', now);

    const certificate = new X509Certificate(ca.certificatePem);
    expect(ca.certificatePem).toMatch(PEM_CERTIFICATE);
    expect(ca.privateKeyPem).toMatch(PEM_PRIVATE_KEY);
    expect(certificate.ca).toBe(true);
    expect(certificate.subject).toBe('CN=test-ca');
    expect(certificate.verify(certificate.publicKey)).toBe(true);
    expect(keyMatchesCertificate(ca.privateKeyPem, ca.certificatePem)).toBe(true);
    const constraints = new x509.X509Certificate(ca.certificatePem).getExtension(x509.BasicConstraintsExtension);
    expect(constraints).toMatchObject({ ca: true, pathLength: 0, critical: true });
    expect(keyUsages(ca.certificatePem)).toBe(
      x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
    );
    expect(new Date(certificate.validFrom).getTime()).toBe(now.getTime() - CLOCK_SKEW_ALLOWANCE_MS);
    expect(new Date(certificate.validTo).getTime()).toBe(now.getTime() + CA_LIFETIME_DAYS * 86_400_000);
  });

  test('a leaf is signed by its CA, carries the requested names and usages, and lives LEAF_LIFETIME_DAYS', async () => {
    const ca = await createCertificateAuthority('test-ca');
    const leaf = await issueCertificate(ca, {
      commonName: 'leaf',
      dnsNames: ['a.example.org', 'localhost'],
      ipAddresses: ['127.0.0.1'],
      usages: ['serverAuth', 'clientAuth'],
    });

    const certificate = new X509Certificate(leaf.certificatePem);
    expect(certificate.ca).toBe(false);
    expect(certificate.checkIssued(new X509Certificate(ca.certificatePem))).toBe(true);
    expect(certificate.verify(new X509Certificate(ca.certificatePem).publicKey)).toBe(true);
    expect(keyMatchesCertificate(leaf.privateKeyPem, leaf.certificatePem)).toBe(true);
    expect(keyMatchesCertificate(ca.privateKeyPem, leaf.certificatePem)).toBe(false);
    expect(subjectAltNames(leaf.certificatePem)).toEqual(['DNS:a.example.org', 'DNS:localhost', 'IP:127.0.0.1']);
    expect(extendedKeyUsages(leaf.certificatePem)).toEqual(['clientAuth', 'serverAuth']);
    expect(keyUsages(leaf.certificatePem)).toBe(x509.KeyUsageFlags.digitalSignature);
    expect(lifetimeDays(leaf.certificatePem)).toBeCloseTo(LEAF_LIFETIME_DAYS + CLOCK_SKEW_ALLOWANCE_MS / 86_400_000, 5);
    // ECDSA P-256 in PKCS#8
    const key = createPrivateKey(leaf.privateKeyPem);
    expect(key.asymmetricKeyType).toBe('ec');
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  test('a CA loaded back from PEM signs leaves that chain to the original certificate', async () => {
    const original = await createCertificateAuthority('test-ca');
    const loaded = await loadCertificateAuthority(original);
    const leaf = await issueCertificate(loaded, { commonName: 'later', usages: ['clientAuth'] });

    const chain = await new x509.X509ChainBuilder({
      certificates: [new x509.X509Certificate(original.certificatePem)],
    }).build(new x509.X509Certificate(leaf.certificatePem));
    expect(chain).toHaveLength(2);
    expect(new X509Certificate(leaf.certificatePem).verify(new X509Certificate(original.certificatePem).publicKey)).toBe(true);
  });

  test('serial numbers are unique and positive', async () => {
    const ca = await createCertificateAuthority('test-ca');
    const leaves = await Promise.all([1, 2, 3].map(() => issueCertificate(ca, { commonName: 'x', usages: ['clientAuth'] })));
    const serials = [ca, ...leaves].map((pem) => new X509Certificate(pem.certificatePem).serialNumber);
    expect(new Set(serials).size).toBe(4);
    for (const serial of serials) {
      expect(parseInt(serial.slice(0, 2), 16)).toBeLessThan(0x80);
    }
  });

  test('the RSA key pair is 2048-bit PKCS#8 with its matching SPKI public key', async () => {
    const pair = await generateRsaKeyPair();

    expect(pair.privateKeyPem).toMatch(PEM_PRIVATE_KEY);
    expect(pair.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(createPrivateKey(pair.privateKeyPem).asymmetricKeyDetails?.modulusLength).toBe(2048);
    const signature = sign('sha256', Buffer.from('token'), pair.privateKeyPem);
    expect(verify('sha256', Buffer.from('token'), createPublicKey(pair.publicKeyPem), signature)).toBe(true);
  });
});
