/** An existing control-plane bundle is brought up to this release, one upgrade's files at a time. */
import { X509Certificate } from 'node:crypto';
import { apiServerCertificateShortfall, upgradeControlPlaneBundle } from '../../lib/secrets/control-plane-upgrades';
import { createControlPlaneBundle } from '../../lib/secrets/bundles';
import { apiServerSans, sanList } from '../../lib/secrets/sans';
import { ENCRYPTION_CONFIG_FILE } from '../../userdata/secret-names';
import { keyMatchesCertificate, subjectAltNames } from './pki-fixtures';
import {
  INPUT,
  INTERNAL_NAME,
  bundleFromBeforeInternalEndpoint,
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
    const old = await bundleFromBeforeInternalEndpoint();
    expect(subjectAltNames(old['apiserver.crt'])).not.toContain(`DNS:${INTERNAL_NAME}`);

    const { bundle, changes } = await upgradeControlPlaneBundle(old, INPUT);

    expect(changes).toEqual([{ files: API_SERVER_FILES, reason: `apiserver.crt lacks DNS:${INTERNAL_NAME}` }]);
    expect(subjectAltNames(bundle['apiserver.crt'])).toEqual(sanList(apiServerSans(INPUT)));
    expect(issuedBy(bundle['apiserver.crt'], old['ca.crt'])).toBe(true);
    expect(keyMatchesCertificate(bundle['apiserver.key'], bundle['apiserver.crt'])).toBe(true);
    expect(bundle['apiserver.key']).not.toBe(old['apiserver.key']); // a new key, not the old one re-signed
    expect(new X509Certificate(bundle['apiserver.crt']).subject).toBe('CN=kube-apiserver');
    expectOthersUnchanged(old, bundle, API_SERVER_FILES);
  });

  test('a bundle already covering every name is left as it is', async () => {
    const current = (await createControlPlaneBundle(INPUT)) as unknown as Record<string, string>;

    const { bundle, changes } = await upgradeControlPlaneBundle(current, INPUT);

    expect(changes).toEqual([]);
    expect(bundle).toEqual(current);
    expect(apiServerCertificateShortfall(current, INPUT)).toBeUndefined();
  });

  test('names beyond the required ones are no reason to re-issue', async () => {
    const current = (await createControlPlaneBundle(INPUT)) as unknown as Record<string, string>;
    const wider = await withApiServerNames(current, [...apiServerSans(INPUT).dnsNames, 'api.example.com']);

    expect((await upgradeControlPlaneBundle(wider, INPUT)).changes).toEqual([]);
  });

  test('changed inputs (another service CIDR) make the certificate lack the new address', async () => {
    const current = (await createControlPlaneBundle(INPUT)) as unknown as Record<string, string>;

    expect(apiServerCertificateShortfall(current, { ...INPUT, serviceCidr: '10.4.0.0/24' })).toBe('apiserver.crt lacks IP:10.4.0.1');
  });

  test.each<[string, (bundle: Record<string, string>) => Promise<Record<string, string>>, RegExp]>([
    ['signed by another CA', withForeignApiServerCertificate, /was not issued by the bundle's ca.crt/],
    ['whose key is another one', async (b) => ({ ...b, 'apiserver.key': b['front-proxy-client.key'] }), /apiserver.key .*does not belong/],
    ['that is missing', async ({ 'apiserver.crt': _gone, ...b }) => b, /apiserver.crt is missing/],
  ])('an apiserver.crt %s is re-issued from the bundle\'s CA', async (_case, damage, reason) => {
    const current = (await createControlPlaneBundle(INPUT)) as unknown as Record<string, string>;
    const damaged = await damage(current);

    const { bundle, changes } = await upgradeControlPlaneBundle(damaged, INPUT);

    expect(changes).toEqual([{ files: API_SERVER_FILES, reason: expect.stringMatching(reason) }]);
    expect(issuedBy(bundle['apiserver.crt'], current['ca.crt'])).toBe(true);
    expect(keyMatchesCertificate(bundle['apiserver.key'], bundle['apiserver.crt'])).toBe(true);
    expect(bundle['ca.key']).toBe(current['ca.key']);
  });

  test('both upgrades of an old bundle run: the added file, then the certificate', async () => {
    const { [ENCRYPTION_CONFIG_FILE]: _added, ...old } = await bundleFromBeforeInternalEndpoint();

    const { bundle, changes } = await upgradeControlPlaneBundle(old, INPUT);

    expect(changes.map((change) => change.files)).toEqual([[ENCRYPTION_CONFIG_FILE], API_SERVER_FILES]);
    expect(Object.keys(bundle)).toEqual([...Object.keys(old), ENCRYPTION_CONFIG_FILE]);
    expect(subjectAltNames(bundle['apiserver.crt'])).toContain(`DNS:${INTERNAL_NAME}`);
  });

  test('an unreadable ca.crt fails, without quoting the bundle, rather than issuing from nothing', async () => {
    const current = (await createControlPlaneBundle(INPUT)) as unknown as Record<string, string>;
    const broken = { ...current, 'ca.crt': current['ca.key'] };

    const failure = upgradeControlPlaneBundle(broken, INPUT);

    await expect(failure).rejects.toThrow(/ca.crt of the control-plane secret is missing or not a certificate.*AWSPREVIOUS/);
    expect(await failure.catch((error: Error) => error.message)).not.toContain('PRIVATE KEY');
  });
});
