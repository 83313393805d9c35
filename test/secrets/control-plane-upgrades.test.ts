/** An existing control-plane bundle is brought up to this release, one upgrade's files at a time. */
import { X509Certificate } from 'node:crypto';
import { apiServerCertificateShortfall, frontProxyChainShortfall, upgradeControlPlaneBundle } from '../../lib/secrets/control-plane-upgrades';
import { createFrontProxyCa } from '../../lib/secrets/bundles';
import { apiServerSans, sanList } from '../../lib/secrets/sans';
import { ENCRYPTION_CONFIG_FILE } from '../../userdata/secret-names';
import { keyMatchesCertificate, subjectAltNames } from './pki-fixtures';
import {
  INPUT,
  INTERNAL_NAME,
  bundleFromBeforeFrontProxyCaKept,
  bundleFromBeforeInternalEndpoint,
  currentControlPlane,
  withApiServerNames,
  withForeignApiServerCertificate,
} from './old-bundles';

const API_SERVER_FILES = ['apiserver.crt', 'apiserver.key'];

function issuedBy(leafPem: string, caPem: string): boolean {
  const leaf = new X509Certificate(leafPem);
  const ca = new X509Certificate(caPem);
  return leaf.checkIssued(ca) && leaf.verify(ca.publicKey);
}

/** Every file of `before` but `except` is in `after` unchanged, in the same key order. */
function expectOthersUnchanged(before: Record<string, string>, after: Record<string, string>, except: string[]): void {
  expect(Object.keys(after)).toEqual(Object.keys(before));
  for (const file of Object.keys(before).filter((f) => !except.includes(f))) {
    expect([file, after[file]]).toEqual([file, before[file]]);
  }
}

describe('API server certificate upgrade', () => {
  test('a bundle from before the internal endpoint gets apiserver.crt from its own CA with the new name; nothing else changes', async () => {
    const { bundle: current, context } = await currentControlPlane();
    const old = await bundleFromBeforeInternalEndpoint(current);
    expect(subjectAltNames(old['apiserver.crt'])).not.toContain(`DNS:${INTERNAL_NAME}`);

    const { bundle, changes } = await upgradeControlPlaneBundle(old, context);

    expect(changes).toEqual([{ files: API_SERVER_FILES, reason: `apiserver.crt lacks DNS:${INTERNAL_NAME}` }]);
    expect(subjectAltNames(bundle['apiserver.crt'])).toEqual(sanList(apiServerSans(INPUT)));
    expect(issuedBy(bundle['apiserver.crt'], old['ca.crt'])).toBe(true);
    expect(keyMatchesCertificate(bundle['apiserver.key'], bundle['apiserver.crt'])).toBe(true);
    expect(bundle['apiserver.key']).not.toBe(old['apiserver.key']); // a new key, not the old one re-signed
    expect(new X509Certificate(bundle['apiserver.crt']).subject).toBe('CN=kube-apiserver');
    expectOthersUnchanged(old, bundle, API_SERVER_FILES);
  });

  test('a bundle already covering every name is left as it is', async () => {
    const { bundle: current, context } = await currentControlPlane();

    const { bundle, changes } = await upgradeControlPlaneBundle(current, context);

    expect(changes).toEqual([]);
    expect(bundle).toEqual(current);
    expect(apiServerCertificateShortfall(current, INPUT)).toBeUndefined();
  });

  test('names beyond the required ones are no reason to re-issue', async () => {
    const { bundle: current, context } = await currentControlPlane();
    const wider = await withApiServerNames(current, [...apiServerSans(INPUT).dnsNames, 'api.example.com']);

    expect((await upgradeControlPlaneBundle(wider, context)).changes).toEqual([]);
  });

  test('changed inputs (another service CIDR) make the certificate lack the new address', async () => {
    const { bundle: current } = await currentControlPlane();

    expect(apiServerCertificateShortfall(current, { ...INPUT, serviceCidr: '10.4.0.0/24' })).toBe('apiserver.crt lacks IP:10.4.0.1');
  });

  test.each<[string, (bundle: Record<string, string>) => Promise<Record<string, string>>, RegExp]>([
    ['signed by another CA', withForeignApiServerCertificate, /was not issued by the bundle's ca.crt/],
    ['whose key is another one', async (b) => ({ ...b, 'apiserver.key': b['front-proxy-client.key'] }), /apiserver.key .*does not belong/],
    ['that is missing', async ({ 'apiserver.crt': _gone, ...b }) => b, /apiserver.crt is missing/],
  ])('an apiserver.crt %s is re-issued from the bundle\'s CA', async (_case, damage, reason) => {
    const { bundle: current, context } = await currentControlPlane();
    const damaged = await damage(current);

    const { bundle, changes } = await upgradeControlPlaneBundle(damaged, context);

    expect(changes).toEqual([{ files: API_SERVER_FILES, reason: expect.stringMatching(reason) }]);
    expect(issuedBy(bundle['apiserver.crt'], current['ca.crt'])).toBe(true);
    expect(keyMatchesCertificate(bundle['apiserver.key'], bundle['apiserver.crt'])).toBe(true);
    expect(bundle['ca.key']).toBe(current['ca.key']);
  });

  test('both upgrades of an old bundle run: the added file, then the certificate', async () => {
    const { bundle: current, context } = await currentControlPlane();
    const { [ENCRYPTION_CONFIG_FILE]: _added, ...old } = await bundleFromBeforeInternalEndpoint(current);

    const { bundle, changes } = await upgradeControlPlaneBundle(old, context);

    expect(changes.map((change) => change.files)).toEqual([[ENCRYPTION_CONFIG_FILE], API_SERVER_FILES]);
    expect(Object.keys(bundle)).toEqual([...Object.keys(old), ENCRYPTION_CONFIG_FILE]);
    expect(subjectAltNames(bundle['apiserver.crt'])).toContain(`DNS:${INTERNAL_NAME}`);
  });

  test('an unreadable ca.crt fails, without quoting the bundle, rather than issuing from nothing', async () => {
    const { bundle: current, context } = await currentControlPlane();
    const broken = { ...current, 'ca.crt': current['ca.key'] };

    const failure = upgradeControlPlaneBundle(broken, context);

    await expect(failure).rejects.toThrow(/ca.crt of the control-plane secret is missing or not a certificate.*AWSPREVIOUS/);
    expect(await failure.catch((error: Error) => error.message)).not.toContain('PRIVATE KEY');
  });
});

describe('front-proxy chain upgrade', () => {
  const FRONT_PROXY_FILES = ['front-proxy-ca.crt', 'front-proxy-client.crt', 'front-proxy-client.key'];

  test('a bundle whose front-proxy CA key was never kept gets a chain of the kept CA; nothing else changes', async () => {
    const old = await bundleFromBeforeFrontProxyCaKept();
    const kept = await createFrontProxyCa(); // what the plan writes to the front-proxy-ca secret

    const { bundle, changes } = await upgradeControlPlaneBundle(old, { input: INPUT, frontProxyCa: kept.ca });

    expect(changes).toEqual([{ files: FRONT_PROXY_FILES, reason: expect.stringMatching(/^front-proxy-ca\.crt is not the front-proxy CA whose key is kept/) }]);
    expect(bundle['front-proxy-ca.crt']).toBe(kept.bundle['ca.crt']);
    expect(issuedBy(bundle['front-proxy-client.crt'], kept.bundle['ca.crt'])).toBe(true);
    expect(keyMatchesCertificate(bundle['front-proxy-client.key'], bundle['front-proxy-client.crt'])).toBe(true);
    expect(new X509Certificate(bundle['front-proxy-client.crt']).subject).toBe('CN=front-proxy-client');
    expect(Object.values(bundle)).not.toContain(kept.bundle['ca.key']); // the CA key stays out of the masters' bundle
    expectOthersUnchanged(old, bundle, FRONT_PROXY_FILES);
  });

  test.each<[string, (bundle: Record<string, string>) => Record<string, string>, RegExp]>([
    ['whose client key is another one', (b) => ({ ...b, 'front-proxy-client.key': b['apiserver.key'] }), /front-proxy-client.key .*does not belong/],
    ['whose client was signed by the cluster CA', (b) => ({ ...b, 'front-proxy-client.crt': b['apiserver.crt'], 'front-proxy-client.key': b['apiserver.key'] }), /front-proxy-client.crt was not issued by front-proxy-ca.crt/],
    ['without a client', ({ 'front-proxy-client.crt': _gone, ...b }) => b, /front-proxy-client.crt is missing/],
  ])('a chain of the kept CA %s gets a new client', async (_case, damage, reason) => {
    const { bundle: current, context } = await currentControlPlane();

    expect(frontProxyChainShortfall(current, context)).toBeUndefined();
    const { bundle, changes } = await upgradeControlPlaneBundle(damage(current), context);

    expect(changes).toEqual([{ files: FRONT_PROXY_FILES, reason: expect.stringMatching(reason) }]);
    expect(bundle['front-proxy-ca.crt']).toBe(current['front-proxy-ca.crt']);
    expect(issuedBy(bundle['front-proxy-client.crt'], current['front-proxy-ca.crt'])).toBe(true);
  });
});
