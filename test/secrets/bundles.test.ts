import { X509Certificate, createPrivateKey } from 'node:crypto';
import {
  COMMON_NAMES,
  ControlPlaneBundle,
  adminBundle,
  apiServerEtcdClientBundle,
  createControlPlaneBundle,
  createEtcdCa,
  createFrontProxyCa,
  etcdMemberBundle,
  workerBundle,
} from '../../lib/secrets/bundles';
import { BUNDLE_FILES } from '../../lib/secrets/bundle-files';
import { readEncryptionKeys } from '../../lib/secrets/encryption-config';
import { ENCRYPTION_CONFIG_FILE } from '../../userdata/secret-names';
import { encryptionConfigErrors } from './encryption-config-rules';
import { ClusterSecretsInput } from '../../lib/secrets/inputs';
import {
  PEM_CERTIFICATE,
  PEM_PRIVATE_KEY,
  extendedKeyUsages,
  keyMatchesCertificate,
  publicKeyFingerprint,
  subjectAltNames,
} from './pki-fixtures';

const INPUT: ClusterSecretsInput = {
  clusterName: 'kube-aws-test-1',
  zoneName: 'team.example.org',
  etcdMemberCount: 3,
  serviceCidr: '10.3.0.0/24',
  clusterDomain: 'cluster.local',
};

function issuedBy(leafPem: string, caPem: string): boolean {
  const leaf = new X509Certificate(leafPem);
  const ca = new X509Certificate(caPem);
  return leaf.checkIssued(ca) && leaf.verify(ca.publicKey);
}

describe('etcd bundles', () => {
  test('member N: server+peer certificate for its own name, the discovery domain and loopback', async () => {
    const { ca, bundle: caBundle } = await createEtcdCa();
    const member = await etcdMemberBundle(ca, INPUT, 2);

    expect(Object.keys(member).sort()).toEqual(['ca.crt', 'member.crt', 'member.key']);
    expect(member['ca.crt']).toBe(caBundle['ca.crt']);
    expect(member['member.crt']).toMatch(PEM_CERTIFICATE);
    expect(member['member.key']).toMatch(PEM_PRIVATE_KEY);
    expect(issuedBy(member['member.crt'], member['ca.crt'])).toBe(true);
    expect(keyMatchesCertificate(member['member.key'], member['member.crt'])).toBe(true);
    expect(subjectAltNames(member['member.crt'])).toEqual([
      'DNS:etcd-2.etcd.kube-aws-test-1.team.example.org',
      'DNS:etcd.kube-aws-test-1.team.example.org',
      'DNS:localhost',
      'IP:127.0.0.1',
    ]);
    expect(extendedKeyUsages(member['member.crt'])).toEqual(['clientAuth', 'serverAuth']);
  });

  test('the etcd set announces exactly the files of its bundles', async () => {
    const { ca, bundle: caBundle } = await createEtcdCa();
    const files = [caBundle, await etcdMemberBundle(ca, INPUT, 0), await apiServerEtcdClientBundle(ca)].flatMap(Object.keys);
    expect([...BUNDLE_FILES.etcd].sort()).toEqual([...new Set(files)].sort());
  });

  test('apiserver-etcd-client: client-only certificate of the etcd CA', async () => {
    const { ca, bundle: caBundle } = await createEtcdCa();
    const client = await apiServerEtcdClientBundle(ca);

    expect(Object.keys(client).sort()).toEqual(['apiserver-etcd-client.crt', 'apiserver-etcd-client.key', 'etcd-ca.crt']);
    expect(client['etcd-ca.crt']).toBe(caBundle['ca.crt']);
    expect(issuedBy(client['apiserver-etcd-client.crt'], caBundle['ca.crt'])).toBe(true);
    expect(keyMatchesCertificate(client['apiserver-etcd-client.key'], client['apiserver-etcd-client.crt'])).toBe(true);
    expect(new X509Certificate(client['apiserver-etcd-client.crt']).subject).toBe('CN=kube-apiserver-etcd-client');
    expect(extendedKeyUsages(client['apiserver-etcd-client.crt'])).toEqual(['clientAuth']);
  });
});

describe('control-plane bundle', () => {
  let bundle: ControlPlaneBundle;
  let frontProxyCa: Awaited<ReturnType<typeof createFrontProxyCa>>;
  beforeAll(async () => {
    frontProxyCa = await createFrontProxyCa();
    bundle = await createControlPlaneBundle(INPUT, frontProxyCa.ca);
  });

  test('has exactly the agreed files, the ones its custom resource announces', () => {
    expect(Object.keys(bundle).sort()).toEqual(
      [
        'ca.crt', 'ca.key', 'apiserver.crt', 'apiserver.key', 'sa.key', 'sa.pub', 'front-proxy-ca.crt',
        'front-proxy-client.crt', 'front-proxy-client.key', 'admin-token', 'encryption-config.yaml',
      ].sort(),
    );
    expect([...BUNDLE_FILES['control-plane']].sort()).toEqual(Object.keys(bundle).sort());
  });

  test('carries a Secrets encryption config that kube-apiserver v1.35 loads, with one new key', () => {
    expect(ENCRYPTION_CONFIG_FILE).toBe('encryption-config.yaml'); // the name the master fetches
    expect(encryptionConfigErrors(bundle[ENCRYPTION_CONFIG_FILE])).toEqual([]);
    expect(readEncryptionKeys(bundle[ENCRYPTION_CONFIG_FILE]).map((key) => key.name)).toEqual([expect.stringMatching(/^key-1-[0-9a-f]{6}$/)]);
  });

  test('a replacement control plane puts a new key before the keys of the one it replaces', async () => {
    const next = await createControlPlaneBundle(INPUT, frontProxyCa.ca, bundle[ENCRYPTION_CONFIG_FILE]);
    const keys = readEncryptionKeys(next[ENCRYPTION_CONFIG_FILE]);
    expect(keys.map((key) => key.name)).toEqual([expect.stringMatching(/^key-2-[0-9a-f]{6}$/), expect.stringMatching(/^key-1-[0-9a-f]{6}$/)]);
    expect(keys[1]).toEqual(readEncryptionKeys(bundle[ENCRYPTION_CONFIG_FILE])[0]);
    expect(next['ca.crt']).not.toBe(bundle['ca.crt']);
  });

  test('the API server certificate is the cluster CA\'s, serves every name clients use, and matches its key', () => {
    expect(issuedBy(bundle['apiserver.crt'], bundle['ca.crt'])).toBe(true);
    expect(keyMatchesCertificate(bundle['apiserver.key'], bundle['apiserver.crt'])).toBe(true);
    expect(keyMatchesCertificate(bundle['ca.key'], bundle['ca.crt'])).toBe(true);
    expect(new X509Certificate(bundle['ca.crt']).subject).toBe(`CN=${COMMON_NAMES.clusterCa}`);
    expect(subjectAltNames(bundle['apiserver.crt'])).toEqual(
      [
        'DNS:kube-aws-test-1.team.example.org',
        'DNS:internal.kube-aws-test-1.team.example.org',
        'DNS:kubernetes',
        'DNS:kubernetes.default',
        'DNS:kubernetes.default.svc',
        'DNS:kubernetes.default.svc.cluster.local',
        'DNS:localhost',
        'IP:10.3.0.1',
        'IP:127.0.0.1',
      ].sort(),
    );
    expect(extendedKeyUsages(bundle['apiserver.crt'])).toEqual(['serverAuth']);
  });

  test('the front-proxy client is signed by its own CA, not the cluster CA; that CA\'s key is kept apart', () => {
    expect(bundle['front-proxy-ca.crt']).toBe(frontProxyCa.bundle['ca.crt']);
    expect(keyMatchesCertificate(frontProxyCa.bundle['ca.key'], frontProxyCa.bundle['ca.crt'])).toBe(true);
    expect(new X509Certificate(bundle['front-proxy-ca.crt']).subject).toBe(`CN=${COMMON_NAMES.frontProxyCa}`);
    expect(Object.values(bundle)).not.toContain(frontProxyCa.bundle['ca.key']);
    expect(issuedBy(bundle['front-proxy-client.crt'], bundle['front-proxy-ca.crt'])).toBe(true);
    expect(issuedBy(bundle['front-proxy-client.crt'], bundle['ca.crt'])).toBe(false);
    expect(keyMatchesCertificate(bundle['front-proxy-client.key'], bundle['front-proxy-client.crt'])).toBe(true);
    expect(new X509Certificate(bundle['front-proxy-client.crt']).subject).toBe('CN=front-proxy-client');
    expect(extendedKeyUsages(bundle['front-proxy-client.crt'])).toEqual(['clientAuth']);
  });

  test('the service-account key is RSA 2048 and sa.pub is its public half', () => {
    expect(createPrivateKey(bundle['sa.key']).asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(publicKeyFingerprint(bundle['sa.pub'])).toBe(publicKeyFingerprint(bundle['sa.key']));
  });

  test('the admin token is 32 random bytes, base64url', () => {
    expect(bundle['admin-token']).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(bundle['admin-token'], 'base64url')).toHaveLength(32);
  });

  test('the worker bundle carries the CA certificate only (nodes sign in as their instance role); the admin bundle adds the admin token', () => {
    expect(workerBundle(bundle)).toEqual({ 'ca.crt': bundle['ca.crt'] });
    expect(adminBundle(bundle)).toEqual({ 'ca.crt': bundle['ca.crt'], 'admin-token': bundle['admin-token'] });
  });

  test('the service IP follows the service CIDR and the cluster domain is configurable', async () => {
    const other = await createControlPlaneBundle({ ...INPUT, serviceCidr: '172.20.0.0/16', clusterDomain: 'k8s.internal' }, frontProxyCa.ca);
    expect(subjectAltNames(other['apiserver.crt'])).toEqual(
      expect.arrayContaining(['IP:172.20.0.1', 'DNS:kubernetes.default.svc.k8s.internal']),
    );
  });
});
