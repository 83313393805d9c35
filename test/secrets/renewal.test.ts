import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { apiServerEtcdClientBundle, etcdMemberBundle, issueApiServerCertificate } from '../../lib/secrets/bundles';
import { setCertificates } from '../../lib/secrets/certificate-metric';
import { CA_LIFETIME_DAYS, DAY_MS, LEAF_LIFETIME_DAYS, createCertificateAuthority, loadCertificateAuthority } from '../../lib/secrets/pki';
import { RenewalPlan, applyRenewal, certificateDaysLeft, planRenewal } from '../../lib/secrets/renewal';
import { planSecretValues } from '../../lib/secrets/secret-set';
import { ClusterSecretNames, SecretSet } from '../../userdata/secret-names';
import { INPUT } from './old-bundles';

const names = new ClusterSecretNames(INPUT.clusterName);
const days = (n: number) => n * DAY_MS;

// ---- X.509 checks by openssl itself, not by the library that issued the certificates ----

const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'renewal-'));
afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

function pemFile(name: string, pem: string): string {
  const file = path.join(workDir, name);
  fs.writeFileSync(file, pem);
  return file;
}

/** `openssl verify` of `leafPem` against `caPem` alone, at `at`, for `purpose`: its output, or its error. */
function opensslVerify(caPem: string, leafPem: string, at: Date, purpose: 'sslserver' | 'sslclient'): string {
  const args = ['verify', '-attime', String(Math.floor(at.getTime() / 1000)), '-purpose', purpose, '-CAfile', pemFile('ca.crt', caPem), pemFile('leaf.crt', leafPem)];
  try {
    return execFileSync('openssl', args, { encoding: 'utf8', stdio: 'pipe' }).trim();
  } catch (error) {
    return `failed: ${(error as { stderr?: string; stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
  }
}

/** What a certificate says about its holder, as openssl prints it: subject, issuer, SANs, usages, constraints. */
function opensslIdentity(pem: string): string {
  return execFileSync(
    'openssl',
    ['x509', '-noout', '-subject', '-issuer', '-ext', 'subjectAltName,extendedKeyUsage,keyUsage,basicConstraints', '-in', pemFile('identity.crt', pem)],
    { encoding: 'utf8' },
  );
}

function opensslEndDate(pem: string): Date {
  const line = execFileSync('openssl', ['x509', '-noout', '-enddate', '-in', pemFile('end.crt', pem)], { encoding: 'utf8' });
  return new Date(line.replace('notAfter=', '').trim());
}

/** The public key of a certificate and of a private key, by openssl: equal when they belong together. */
function keyBelongsTo(keyPem: string, certificatePem: string): boolean {
  const fromCertificate = execFileSync('openssl', ['x509', '-noout', '-pubkey', '-in', pemFile('pub.crt', certificatePem)], { encoding: 'utf8' });
  const fromKey = execFileSync('openssl', ['pkey', '-pubout', '-in', pemFile('key.pem', keyPem)], { encoding: 'utf8' });
  return fromCertificate === fromKey;
}

// ---- fixtures ----

/** A set as the secrets function first writes it (planSecretValues), at the real clock. */
async function freshSet(set: SecretSet): Promise<Map<string, string>> {
  const writes = await planSecretValues({ set, input: INPUT, existing: new Map(), regenerate: false });
  return new Map(writes.map((write) => [write.name, write.value]));
}

const bundle = (values: ReadonlyMap<string, string>, name: string): Record<string, string> => JSON.parse(values.get(name)!);

/** `plan` applied to `stored`, as the handler does with what it reads again. */
function applied(stored: ReadonlyMap<string, string>, plan: RenewalPlan): Map<string, string> {
  const after = new Map(stored);
  for (const renewal of plan.renewals) after.set(renewal.name, applyRenewal(renewal, stored.get(renewal.name))!);
  return after;
}

/**
 * The etcd set, with member 2 re-issued 20 days after the rest: at t0 + 500 days the others
 * have 230 of 730 days left (under a third, 243.3) and member 2 has 250 (just over).
 */
async function etcdSetWithLaterMember(t0: Date): Promise<Map<string, string>> {
  const stored = await freshSet('etcd');
  const etcdCa = bundle(stored, names.etcdCa);
  const ca = await loadCertificateAuthority({ certificatePem: etcdCa['ca.crt'], privateKeyPem: etcdCa['ca.key'] });
  stored.set(names.etcdMember(2), JSON.stringify(await etcdMemberBundle(ca, INPUT, 2, new Date(t0.getTime() + days(20)))));
  return stored;
}

/** The etcd set under a CA made `caAgeDays` ago, with every leaf issued by it `leafAgeDays` ago. */
async function etcdSetUnder(now: Date, caAgeDays: number, leafAgeDays: number): Promise<Map<string, string>> {
  const ca = await createCertificateAuthority('etcd-ca', new Date(now.getTime() - days(caAgeDays)));
  const issued = new Date(now.getTime() - days(leafAgeDays));
  const stored = new Map<string, string>([[names.etcdCa, JSON.stringify({ 'ca.crt': ca.certificatePem, 'ca.key': ca.privateKeyPem })]]);
  for (const index of [0, 1, 2]) stored.set(names.etcdMember(index), JSON.stringify(await etcdMemberBundle(ca, INPUT, index, issued)));
  stored.set(names.apiServerEtcdClient, JSON.stringify(await apiServerEtcdClientBundle(ca, issued)));
  return stored;
}

describe('renewal with the clock moved forward', () => {
  test('etcd set, now + 500 days: re-issues exactly the leaves past two thirds of their life, from the unchanged CA', async () => {
    const t0 = new Date();
    const stored = await etcdSetWithLaterMember(t0);
    const now = new Date(t0.getTime() + days(500));

    const plan = await planRenewal({ set: 'etcd', input: INPUT, stored, now });
    const after = applied(stored, plan);

    // Members 0 and 1 and the client: 230 of 730 days left (< a third). Member 2: 250 left.
    expect(plan.renewals.map((r) => r.name)).toEqual([names.etcdMember(0), names.etcdMember(1), names.apiServerEtcdClient]);
    expect(plan.notRenewed).toEqual([]);
    expect(after.get(names.etcdCa)).toBe(stored.get(names.etcdCa));
    expect(after.get(names.etcdMember(2))).toBe(stored.get(names.etcdMember(2)));

    const caPem = bundle(stored, names.etcdCa)['ca.crt'];
    const leaves: [string, string, string, ('sslserver' | 'sslclient')[], string][] = [
      [names.etcdMember(0), 'member.crt', 'member.key', ['sslserver', 'sslclient'], 'ca.crt'],
      [names.etcdMember(1), 'member.crt', 'member.key', ['sslserver', 'sslclient'], 'ca.crt'],
      [names.apiServerEtcdClient, 'apiserver-etcd-client.crt', 'apiserver-etcd-client.key', ['sslclient'], 'etcd-ca.crt'],
    ];
    for (const [secret, crt, key, purposes, caCopy] of leaves) {
      const before = bundle(stored, secret);
      const renewed = bundle(after, secret);
      expect(renewed[crt]).not.toBe(before[crt]);
      expect(renewed[key]).not.toBe(before[key]);
      // The CA copy the node trusts stays byte for byte, and so does the file order.
      expect(renewed[caCopy]).toBe(before[caCopy]);
      expect(Object.keys(renewed)).toEqual(Object.keys(before));
      for (const purpose of purposes) {
        expect(opensslVerify(caPem, renewed[crt], now, purpose)).toBe(`${path.join(workDir, 'leaf.crt')}: OK`);
      }
      expect(opensslIdentity(renewed[crt])).toBe(opensslIdentity(before[crt]));
      expect(keyBelongsTo(renewed[key], renewed[crt])).toBe(true);
      // A full leaf lifetime from now (to the second, as X.509 stores it).
      expect(opensslEndDate(renewed[crt]).getTime()).toBe(Math.floor((now.getTime() + days(LEAF_LIFETIME_DAYS)) / 1000) * 1000);
    }
  });

  test('etcd set: running again at the same time renews nothing', async () => {
    const t0 = new Date();
    const stored = await etcdSetWithLaterMember(t0);
    const now = new Date(t0.getTime() + days(500));
    const once = applied(stored, await planRenewal({ set: 'etcd', input: INPUT, stored, now }));

    const again = await planRenewal({ set: 'etcd', input: INPUT, stored: once, now });

    expect(again).toEqual({ renewals: [], notRenewed: [] });
  });

  test('nothing is due at half the leaf lifetime', async () => {
    const t0 = new Date();
    const stored = await freshSet('etcd');

    const plan = await planRenewal({ set: 'etcd', input: INPUT, stored, now: new Date(t0.getTime() + days(480)) });

    expect(plan).toEqual({ renewals: [], notRenewed: [] });
  });

  test('control-plane set, now + 500 days: apiserver.crt is renewed from ca.crt, front-proxy-client.crt from the kept front-proxy CA', async () => {
    const t0 = new Date();
    const stored = await freshSet('control-plane');
    const now = new Date(t0.getTime() + days(500));

    const plan = await planRenewal({ set: 'control-plane', input: INPUT, stored, now });
    const after = applied(stored, plan);

    expect(plan.renewals.map((r) => r.name)).toEqual([names.controlPlane]);
    expect(plan.renewals[0].changes).toEqual([
      { files: ['apiserver.crt', 'apiserver.key'], reason: expect.stringMatching(/^apiserver\.crt had 2[23]\d(\.\d+)? of 730 days left \(renewed with a third left\)$/) },
      { files: ['front-proxy-client.crt', 'front-proxy-client.key'], reason: expect.stringMatching(/^front-proxy-client\.crt had 2[23]\d(\.\d+)? of 730 days left/) },
    ]);
    expect(plan.notRenewed).toEqual([]);
    const before = bundle(stored, names.controlPlane);
    const renewed = bundle(after, names.controlPlane);
    const renewedFiles = ['apiserver.crt', 'apiserver.key', 'front-proxy-client.crt', 'front-proxy-client.key'];
    const others = (b: Record<string, string>) => Object.fromEntries(Object.entries(b).filter(([file]) => !renewedFiles.includes(file)));
    expect(others(renewed)).toEqual(others(before)); // CAs, CA key, SA keys, token, encryption config: byte for byte
    // The front-proxy CA and its copy the masters trust stay byte for byte.
    expect(after.get(names.frontProxyCa)).toBe(stored.get(names.frontProxyCa));
    expect(renewed['front-proxy-ca.crt']).toBe(bundle(stored, names.frontProxyCa)['ca.crt']);
    expect(opensslVerify(before['front-proxy-ca.crt'], renewed['front-proxy-client.crt'], now, 'sslclient')).toBe(`${path.join(workDir, 'leaf.crt')}: OK`);
    expect(opensslVerify(before['ca.crt'], renewed['front-proxy-client.crt'], now, 'sslclient')).toMatch(/^failed: /);
    expect(renewed['front-proxy-client.crt']).not.toBe(before['front-proxy-client.crt']);
    expect(renewed['front-proxy-client.key']).not.toBe(before['front-proxy-client.key']);
    expect(opensslIdentity(renewed['front-proxy-client.crt'])).toBe(opensslIdentity(before['front-proxy-client.crt']));
    expect(keyBelongsTo(renewed['front-proxy-client.key'], renewed['front-proxy-client.crt'])).toBe(true);
    expect(opensslEndDate(renewed['front-proxy-client.crt']).getTime()).toBe(Math.floor((now.getTime() + days(LEAF_LIFETIME_DAYS)) / 1000) * 1000);
    expect(Object.keys(renewed)).toEqual(Object.keys(before));
    expect(opensslVerify(before['ca.crt'], renewed['apiserver.crt'], now, 'sslserver')).toMatch(/: OK$/);
    expect(opensslIdentity(renewed['apiserver.crt'])).toBe(opensslIdentity(before['apiserver.crt']));
    expect(opensslIdentity(renewed['apiserver.crt'])).toContain('DNS:internal.kube-aws-test-1.team.example.org');
    expect(keyBelongsTo(renewed['apiserver.key'], renewed['apiserver.crt'])).toBe(true);
    // worker and admin hold the CA only: untouched.
    expect(after.get(names.worker)).toBe(stored.get(names.worker));
    expect(after.get(names.admin)).toBe(stored.get(names.admin));
  });

  test('openssl itself tells a leaf of another CA apart (the check above can fail)', async () => {
    const stored = await freshSet('etcd');
    const other = await createCertificateAuthority('etcd-ca');

    const foreign = await etcdMemberBundle(other, INPUT, 0);

    expect(opensslVerify(bundle(stored, names.etcdCa)['ca.crt'], foreign['member.crt'], new Date(), 'sslserver')).toMatch(/^failed: .*unable to get local issuer certificate/s);
    expect(opensslVerify(other.certificatePem, foreign['member.crt'], new Date(), 'sslserver')).toMatch(/: OK$/);
  });
});

describe('renewal refuses what it must not do', () => {
  test('leaves under an expired CA are not renewed, and reported (nothing thrown: the other leaves and the metric go on)', async () => {
    const now = new Date();
    const stored = await etcdSetUnder(now, CA_LIFETIME_DAYS + 1, 700); // the CA ended a day ago; its leaves have 30 days

    const plan = await planRenewal({ set: 'etcd', input: INPUT, stored, now });

    expect(plan.renewals).toEqual([]);
    expect(plan.notRenewed.map((n) => n.certificate)).toEqual([
      'etcd/etcd-member-0/member.crt',
      'etcd/etcd-member-1/member.crt',
      'etcd/etcd-member-2/member.crt',
      'etcd/apiserver-etcd-client/apiserver-etcd-client.crt',
    ]);
    expect(plan.notRenewed[0].reason).toMatch(/^its CA etcd\/etcd-ca\/ca\.crt has expired: rotate the set/);
  });

  test('a due leaf that already ends with its CA is not renewed: a new one could not end later', async () => {
    const now = new Date();
    const stored = await etcdSetUnder(now, CA_LIFETIME_DAYS - 100, 600); // issued when the CA had 700 days: capped at its end

    const plan = await planRenewal({ set: 'etcd', input: INPUT, stored, now });

    expect(plan.renewals).toEqual([]);
    expect(plan.notRenewed).toHaveLength(4);
    expect(plan.notRenewed[0]).toEqual({
      certificate: 'etcd/etcd-member-0/member.crt',
      reason: expect.stringMatching(/^it already ends with its CA etcd\/etcd-ca\/ca\.crt \(100 days left\): rotate the CA/),
    });
  });

  test('a member whose ca.crt is not the etcd CA is not renewed from it', async () => {
    const t0 = new Date();
    const stored = await freshSet('etcd');
    const other = await createCertificateAuthority('etcd-ca');
    const member0 = bundle(stored, names.etcdMember(0));
    stored.set(names.etcdMember(0), JSON.stringify({ ...member0, 'ca.crt': other.certificatePem }));

    const plan = await planRenewal({ set: 'etcd', input: INPUT, stored, now: new Date(t0.getTime() + days(500)) });

    expect(plan.notRenewed).toEqual([{ certificate: 'etcd/etcd-member-0/member.crt', reason: expect.stringMatching(/ca\.crt beside it is not etcd\/etcd-ca\/ca\.crt/) }]);
    expect(plan.renewals.map((r) => r.name)).not.toContain(names.etcdMember(0));
  });

  test('a leaf its CA did not sign is not renewed from that CA', async () => {
    const t0 = new Date();
    const stored = await freshSet('control-plane');
    const other = await createCertificateAuthority('kubernetes');
    const foreign = await issueApiServerCertificate(other, INPUT);
    stored.set(names.controlPlane, JSON.stringify({ ...bundle(stored, names.controlPlane), 'apiserver.crt': foreign.certificatePem, 'apiserver.key': foreign.privateKeyPem }));

    const plan = await planRenewal({ set: 'control-plane', input: INPUT, stored, now: new Date(t0.getTime() + days(500)) });

    expect(plan.renewals.flatMap((r) => Object.keys(r.files))).not.toContain('apiserver.crt');
    expect(plan.notRenewed).toContainEqual({ certificate: 'control-plane/control-plane/apiserver.crt', reason: 'it was not issued by control-plane/control-plane/ca.crt' });
  });

  test('a front-proxy client whose bundle trusts another front-proxy CA than the kept one is not renewed from the kept one', async () => {
    const t0 = new Date();
    const stored = await freshSet('control-plane');
    // The kept CA is another one than the bundle's (a deploy not yet run after a change): a
    // client of the kept CA would not verify against the front-proxy-ca.crt masters trust.
    const other = await createCertificateAuthority('front-proxy-ca');
    stored.set(names.frontProxyCa, JSON.stringify({ 'ca.crt': other.certificatePem, 'ca.key': other.privateKeyPem }));

    const plan = await planRenewal({ set: 'control-plane', input: INPUT, stored, now: new Date(t0.getTime() + days(500)) });

    expect(plan.renewals.flatMap((r) => Object.keys(r.files))).not.toContain('front-proxy-client.crt');
    expect(plan.notRenewed).toEqual([
      { certificate: 'control-plane/control-plane/front-proxy-client.crt', reason: 'front-proxy-ca.crt beside it is not control-plane/front-proxy-ca/ca.crt: the node would not trust a certificate of that CA' },
    ]);
  });
});

describe('a leaf never outlives its CA', () => {
  test('a due leaf under a CA with little life left is renewed, ending when the CA ends (openssl)', async () => {
    const now = new Date();
    // The CA has 200 days left; its leaves were issued 650 days ago (when it had 850), so end in 80 days.
    const stored = await etcdSetUnder(now, CA_LIFETIME_DAYS - 200, 650);
    const caPem = bundle(stored, names.etcdCa)['ca.crt'];

    const plan = await planRenewal({ set: 'etcd', input: INPUT, stored, now });
    const after = applied(stored, plan);

    expect(plan.notRenewed).toEqual([]);
    expect(plan.renewals.map((r) => r.name)).toEqual([...names.etcdMembers(3), names.apiServerEtcdClient]);
    for (const [name, crt, purpose] of [
      [names.etcdMember(0), 'member.crt', 'sslserver'],
      [names.apiServerEtcdClient, 'apiserver-etcd-client.crt', 'sslclient'],
    ] as const) {
      const renewed = bundle(after, name)[crt];
      expect(opensslEndDate(bundle(stored, name)[crt]).getTime()).toBe(Math.floor((now.getTime() + days(80)) / 1000) * 1000);
      expect(opensslEndDate(renewed)).toEqual(opensslEndDate(caPem)); // 200 days, not 730
      expect(opensslVerify(caPem, renewed, now, purpose)).toMatch(/: OK$/);
    }
  });

  test('issued from a CA with less than a leaf lifetime left, it ends when the CA ends', async () => {
    const now = new Date();
    const ca = await createCertificateAuthority('etcd-ca', new Date(now.getTime() - days(CA_LIFETIME_DAYS - 100)));

    const member = await etcdMemberBundle(ca, INPUT, 0, now);

    expect(opensslEndDate(member['member.crt'])).toEqual(opensslEndDate(ca.certificatePem));
    expect(opensslVerify(ca.certificatePem, member['member.crt'], now, 'sslserver')).toMatch(/: OK$/);
  });

  test('an expired CA signs nothing, and the error says how to go on', async () => {
    const now = new Date();
    const ca = await createCertificateAuthority('etcd-ca', new Date(now.getTime() - days(CA_LIFETIME_DAYS + 1)));

    await expect(etcdMemberBundle(ca, INPUT, 0, now)).rejects.toThrow(/The CA "CN=etcd-ca" expired at .*Rotate the secret set \(the ClusterSecrets "regenerate" prop/);
  });
});

describe('applyRenewal (what is written over what was read again)', () => {
  async function controlPlaneRenewal() {
    const t0 = new Date();
    const stored = await freshSet('control-plane');
    const plan = await planRenewal({ set: 'control-plane', input: INPUT, stored, now: new Date(t0.getTime() + days(500)) });
    return { stored, renewal: plan.renewals[0], before: bundle(stored, names.controlPlane) };
  }

  test('keeps a file a deploy added in the meantime, replacing only the renewed ones', async () => {
    const { renewal, before } = await controlPlaneRenewal();
    const { 'encryption-config.yaml': _added, ...withoutConfig } = before;
    const meantime = { ...withoutConfig, 'encryption-config.yaml': 'written by a deploy meanwhile' };

    const written = JSON.parse(applyRenewal(renewal, JSON.stringify(meantime))!);

    expect(written['encryption-config.yaml']).toBe('written by a deploy meanwhile');
    expect(written['apiserver.crt']).toBe(renewal.files['apiserver.crt']);
  });

  test('writes nothing when the leaf or the CA changed since the plan', async () => {
    const { renewal, before } = await controlPlaneRenewal();
    const other = await createCertificateAuthority('kubernetes');

    expect(applyRenewal(renewal, JSON.stringify({ ...before, 'apiserver.crt': 're-issued by a deploy' }))).toBeUndefined();
    expect(applyRenewal(renewal, JSON.stringify({ ...before, 'ca.crt': other.certificatePem }))).toBeUndefined();
    expect(applyRenewal(renewal, undefined)).toBeUndefined();
    expect(applyRenewal(renewal, 'not json')).toBeUndefined();
  });
});

describe('the certificates of a set', () => {
  test.each<SecretSet>(['etcd', 'control-plane'])('%s: every certificate file of a fresh set is listed once, or is a copy of a listed CA', async (set) => {
    const stored = await freshSet(set);
    const listed = setCertificates(set, INPUT.clusterName, INPUT.etcdMemberCount);
    const byLocation = new Map(listed.map((c) => [`${c.secret}:${c.file}`, c]));
    const copies = new Set(listed.flatMap((c) => (c.kind === 'leaf' && c.issuerCopyFile ? [`${c.secret}:${c.issuerCopyFile}`] : [])));

    for (const [secret, value] of stored) {
      for (const [file, content] of Object.entries(JSON.parse(value) as Record<string, string>)) {
        if (!content.startsWith('-----BEGIN CERTIFICATE-----')) continue;
        const location = `${secret}:${file}`;
        if (byLocation.has(location)) continue;
        // Otherwise a copy of a listed CA, byte for byte (member ca.crt, worker and admin ca.crt, ...).
        expect({ location, isCopy: copies.has(location) || listed.some((c) => c.kind === 'ca' && bundle(stored, c.secret)[c.file] === content) }).toEqual({ location, isCopy: true });
      }
    }
    expect(new Set(listed.map((c) => c.id)).size).toBe(listed.length);
  });

  test('days left: one entry per certificate, CAs included, from notAfter', async () => {
    const t0 = new Date();
    const stored = await freshSet('etcd');
    const now = new Date(t0.getTime() + days(100));

    const left = certificateDaysLeft('etcd', INPUT, stored, now);

    expect(left.map((l) => l.certificate)).toEqual(setCertificates('etcd', INPUT.clusterName, 3).map((c) => c.id));
    const byId = Object.fromEntries(left.map((l) => [l.certificate, l.daysLeft]));
    expect(byId['etcd/etcd-ca/ca.crt']).toBeCloseTo(CA_LIFETIME_DAYS - 100, 0);
    expect(byId['etcd/etcd-member-0/member.crt']).toBeCloseTo(LEAF_LIFETIME_DAYS - 100, 0);
    const member0 = new X509Certificate(bundle(stored, names.etcdMember(0))['member.crt']);
    expect(byId['etcd/etcd-member-0/member.crt']).toBeCloseTo((Date.parse(member0.validTo) - now.getTime()) / DAY_MS, 2);
  });
});
