import { X509Certificate } from 'node:crypto';
import { SecretSet } from '../../userdata/secret-names';
import { apiServerEtcdClientBundle, etcdMemberBundle, issueApiServerCertificate, issueFrontProxyClientCertificate } from './bundles';
import { LeafProfile, StoredLeaf, setCertificates } from './certificate-metric';
import { BundleChange } from './control-plane-upgrades';
import { ClusterSecretsInput } from './inputs';
import { CertificateAndKeyPem, CertificateAuthority, DAY_MS, loadCertificateAuthority, readCertificate } from './pki';
import { parseBundle } from './secret-set';

// Leaf certificates re-issued from their existing CA before they expire: same names, usages
// and issuer (the issuers of bundles.ts), new key, every other file of the secret kept byte
// for byte. CAs are never touched here: replacing one is rotation (the `regenerate` prop).
// Pure apart from key generation: the clock is a parameter.

/**
 * A certificate is due when less than this fraction of its lifetime (notAfter - notBefore) is
 * left: cert-manager's default (cert-manager v1.21.1, pkg/util/pki/renewaltime.go,
 * desiredRenewalTime: "default to renewing 2/3 through certificate's lifetime", actualDuration / 3).
 * For a 730-day leaf that is about 243 days before expiry: months for nodes to pick it up.
 */
export const RENEW_BEFORE_FRACTION = 1 / 3;

/** What to renew from. */
export interface RenewalInput {
  /** The set whose leaves to renew. */
  readonly set: SecretSet;
  /** The inputs the set was generated from (the names of the certificates). */
  readonly input: ClusterSecretsInput;
  /** Current SecretString of each secret of the set that has a value. */
  readonly stored: ReadonlyMap<string, string>;
  /** The time to judge and issue at. */
  readonly now: Date;
}

/** The files one secret gets, and the stored files they were made from. */
export interface SecretRenewal {
  /** The secret's full name. */
  readonly name: string;
  /** The new certificates and keys: the only files written. */
  readonly files: Readonly<Record<string, string>>;
  /**
   * Files of the secret as they were when the new ones were made (the old leaf, and the CA or
   * the copy of it that the node trusts): if any differs when the secret is written, the write
   * is skipped (see {@link applyRenewal}).
   */
  readonly basis: Readonly<Record<string, string>>;
  /** What was renewed and why (names only: logged). */
  readonly changes: readonly BundleChange[];
}

/** A certificate due for renewal that this path does not renew. */
export interface NotRenewed {
  /** The certificate (`<set>/<secret>/<file>`). */
  readonly certificate: string;
  /** Why, and what to do (names only: logged). */
  readonly reason: string;
}

/** What a renewal run would write. */
export interface RenewalPlan {
  /** Per secret, the files to replace. */
  readonly renewals: readonly SecretRenewal[];
  /** Due certificates left alone, with the reason. */
  readonly notRenewed: readonly NotRenewed[];
}

/** How long a certificate has left. */
export interface CertificateDaysLeft {
  /** The certificate (`<set>/<secret>/<file>`). */
  readonly certificate: string;
  /** Days until notAfter (negative once expired), to two decimals. */
  readonly daysLeft: number;
}

/** `profile`'s leaf issued anew by its first-issue code (bundles.ts): same names, usages and issuer. */
async function issueLike(profile: LeafProfile, ca: CertificateAuthority, input: ClusterSecretsInput, now: Date): Promise<CertificateAndKeyPem> {
  switch (profile.kind) {
    case 'etcd-member': {
      const bundle = await etcdMemberBundle(ca, input, profile.index, now);
      return { certificatePem: bundle['member.crt'], privateKeyPem: bundle['member.key'] };
    }
    case 'apiserver-etcd-client': {
      const bundle = await apiServerEtcdClientBundle(ca, now);
      return { certificatePem: bundle['apiserver-etcd-client.crt'], privateKeyPem: bundle['apiserver-etcd-client.key'] };
    }
    case 'apiserver':
      return issueApiServerCertificate(ca, input, now);
    case 'front-proxy-client':
      return issueFrontProxyClientCertificate(ca, now);
  }
}

function notBefore(certificate: X509Certificate): number {
  return Date.parse(certificate.validFrom);
}

function notAfter(certificate: X509Certificate): number {
  return Date.parse(certificate.validTo);
}

/** Less than {@link RENEW_BEFORE_FRACTION} of its lifetime left at `now`. */
export function isDue(certificate: X509Certificate, now: Date): boolean {
  const lifetime = notAfter(certificate) - notBefore(certificate);
  return notAfter(certificate) - now.getTime() < lifetime * RENEW_BEFORE_FRACTION;
}

function days(ms: number): number {
  return Math.round((ms / DAY_MS) * 100) / 100;
}

/** The bundles of `stored`, parsed on demand; a value that is not a bundle reads as undefined. */
function bundleReader(stored: ReadonlyMap<string, string>): (secret: string) => Record<string, string> | undefined {
  return (secret) => {
    const value = stored.get(secret);
    try {
      return value === undefined ? undefined : parseBundle(secret, value);
    } catch {
      return undefined;
    }
  };
}

/**
 * Why a due `leaf` cannot be re-issued from its CA now, or undefined if it can. Checked in
 * the order a reader would ask: is the CA there with its key and not expired, would a new leaf
 * end later (a leaf never outlives its CA: pki.ts caps it at the CA's notAfter, so one that
 * already ends with its CA gains nothing), does the node trust that CA, and did that CA sign
 * the leaf. A CA near its end still signs: its own alarm (CA_CERTIFICATE_WARNING_DAYS) asks
 * for the rotation, and until then its leaves keep renewing up to its end.
 */
function blocker(
  leaf: StoredLeaf,
  leafBundle: Record<string, string>,
  leafCertificate: X509Certificate,
  caBundle: Record<string, string> | undefined,
  now: Date,
): string | undefined {
  const issuer = leaf.issuer;
  const ca = readCertificate(caBundle?.[issuer.file]);
  if (ca === undefined || caBundle?.[issuer.keyFile] === undefined) {
    return `its CA ${issuer.id} (or its key) is missing or not a certificate: restore it (AWSPREVIOUS) or rotate the set`;
  }
  if (notAfter(ca) <= now.getTime()) {
    return `its CA ${issuer.id} has expired: rotate the set (lib/secrets/README.md, "Rotation")`;
  }
  if (notAfter(leafCertificate) >= notAfter(ca)) {
    return `it already ends with its CA ${issuer.id} (${days(notAfter(ca) - now.getTime())} days left): rotate the CA (lib/secrets/README.md, "Rotation")`;
  }
  if (leaf.issuerCopyFile !== undefined && leafBundle[leaf.issuerCopyFile] !== caBundle[issuer.file]) {
    return `${leaf.issuerCopyFile} beside it is not ${issuer.id}: the node would not trust a certificate of that CA`;
  }
  if (!(leafCertificate.checkIssued(ca) && leafCertificate.verify(ca.publicKey))) {
    return `it was not issued by ${issuer.id}`;
  }
  return undefined;
}

/**
 * The leaves of `set` with less than a third of their lifetime left, re-issued from their
 * existing CA as of `now`, and the due ones that cannot be (with the reason). Leaves of a
 * secret without a value are the deploy's to make, not renewal's. CAs are never replaced.
 */
export async function planRenewal(plan: RenewalInput): Promise<RenewalPlan> {
  const read = bundleReader(plan.stored);
  const leaves = setCertificates(plan.set, plan.input.clusterName, plan.input.etcdMemberCount).filter(
    (certificate): certificate is StoredLeaf => certificate.kind === 'leaf',
  );
  const renewals = new Map<string, { files: Record<string, string>; basis: Record<string, string>; changes: BundleChange[] }>();
  const notRenewed: NotRenewed[] = [];
  for (const leaf of leaves) {
    const bundle = read(leaf.secret);
    const certificate = readCertificate(bundle?.[leaf.file]);
    if (bundle === undefined || certificate === undefined) {
      if (plan.stored.has(leaf.secret)) {
        notRenewed.push({ certificate: leaf.id, reason: 'the secret does not hold this file as a certificate in a JSON object' });
      }
      continue;
    }
    if (!isDue(certificate, plan.now)) continue;
    const caBundle = read(leaf.issuer.secret);
    const reason = blocker(leaf, bundle, certificate, caBundle, plan.now);
    if (reason !== undefined) {
      notRenewed.push({ certificate: leaf.id, reason });
      continue;
    }
    const ca = await loadCertificateAuthority({
      certificatePem: caBundle![leaf.issuer.file],
      privateKeyPem: caBundle![leaf.issuer.keyFile],
    });
    const issued = await issueLike(leaf.profile, ca, plan.input, plan.now);
    const renewal = renewals.get(leaf.secret) ?? { files: {}, basis: {}, changes: [] };
    renewal.files[leaf.file] = issued.certificatePem;
    renewal.files[leaf.keyFile] = issued.privateKeyPem;
    renewal.basis[leaf.file] = bundle[leaf.file];
    // What the node trusts beside the leaf: the CA itself when it lives in the same secret.
    const trusted = leaf.issuerCopyFile ?? (leaf.issuer.secret === leaf.secret ? leaf.issuer.file : undefined);
    if (trusted !== undefined) renewal.basis[trusted] = bundle[trusted];
    renewal.changes.push({
      files: [leaf.file, leaf.keyFile],
      reason:
        `${leaf.file} had ${days(notAfter(certificate) - plan.now.getTime())} of ` +
        `${days(notAfter(certificate) - notBefore(certificate))} days left (renewed with a third left)`,
    });
    renewals.set(leaf.secret, renewal);
  }
  return { renewals: [...renewals].map(([name, renewal]) => ({ name, ...renewal })), notRenewed };
}

/**
 * The value to write for `renewal` over what the secret holds now (`current`, read again just
 * before writing): `current` with the renewed files replaced in place and every other file
 * kept, so a file a deploy added meanwhile survives. Undefined (write nothing) when a file the
 * renewal was made from has changed since: a deploy re-issued the leaf or replaced the CA, and
 * the renewed leaf would undo it or not chain to what the node trusts. The next run decides again.
 */
export function applyRenewal(renewal: SecretRenewal, current: string | undefined): string | undefined {
  if (current === undefined) return undefined;
  let bundle: Record<string, string>;
  try {
    bundle = parseBundle(renewal.name, current);
  } catch {
    return undefined;
  }
  const unchanged = Object.entries(renewal.basis).every(([file, value]) => bundle[file] === value);
  return unchanged ? JSON.stringify({ ...bundle, ...renewal.files }) : undefined;
}

/** Days left of every certificate of the set that `stored` holds (CAs included), in {@link setCertificates} order. */
export function certificateDaysLeft(
  set: SecretSet,
  input: Pick<ClusterSecretsInput, 'clusterName' | 'etcdMemberCount'>,
  stored: ReadonlyMap<string, string>,
  now: Date,
): CertificateDaysLeft[] {
  const read = bundleReader(stored);
  return setCertificates(set, input.clusterName, input.etcdMemberCount).flatMap((stored) => {
    const certificate = readCertificate(read(stored.secret)?.[stored.file]);
    return certificate === undefined ? [] : [{ certificate: stored.id, daysLeft: days(notAfter(certificate) - now.getTime()) }];
  });
}
