import { X509Certificate, createPrivateKey } from 'node:crypto';
import { ENCRYPTION_CONFIG_FILE } from '../../userdata/secret-names';
import { issueApiServerCertificate } from './bundles';
import { rotatedEncryptionConfig } from './encryption-config';
import { ClusterSecretsInput } from './inputs';
import { certificateSanList, loadCertificateAuthority } from './pki';
import { apiServerSans, sanList } from './sans';

// An existing control-plane bundle is never replaced as a whole (that is rotation, the
// `regenerate` prop); it is brought up to what this release writes, one upgrade at a time,
// each replacing or adding only its own files. Everything else stays byte for byte.

/** A control-plane bundle as stored: file name -> content. */
export type StoredBundle = Readonly<Record<string, string>>;

/** What one upgrade did to a bundle. Names only, never values: the handler logs it. */
export interface BundleChange {
  /** The files added or replaced. */
  readonly files: readonly string[];
  /** Why the stored bundle needed them. */
  readonly reason: string;
}

/** One way a control-plane bundle written by an older release can fall short of this one. */
export interface ControlPlaneUpgrade {
  /** Why `bundle` needs this upgrade (names only: it is logged), or undefined if it does not. */
  readonly shortfall: (bundle: StoredBundle, input: ClusterSecretsInput) => string | undefined;
  /** The files to add or replace; the bundle keeps every other file. */
  readonly apply: (bundle: StoredBundle, input: ClusterSecretsInput) => Promise<Record<string, string>>;
}

/** A file added by a later release, made on its own from nothing else of the bundle. */
function addedFile(file: string, make: () => string): ControlPlaneUpgrade {
  return {
    shortfall: (bundle) => (file in bundle ? undefined : `${file} is missing (added by a later release)`),
    apply: async () => ({ [file]: make() }),
  };
}

/**
 * Why `bundle`'s apiserver.crt is not what `input` would issue, or undefined if it is:
 * it must be signed by the bundle's own ca.crt, match apiserver.key, and carry every name
 * of {@link apiServerSans} (a release adding a name, as the internal endpoint's
 * `internal.<cluster>.<zone>` did, would otherwise leave clients of that name failing TLS).
 * Names the certificate has beyond those are no reason: re-issuing would gain nothing.
 */
export function apiServerCertificateShortfall(bundle: StoredBundle, input: ClusterSecretsInput): string | undefined {
  const ca = readCertificate(bundle['ca.crt']);
  if (ca === undefined) {
    // Without its CA the bundle cannot be repaired, only rotated. The value is never quoted.
    throw new Error(
      'ca.crt of the control-plane secret is missing or not a certificate: apiserver.crt cannot be checked or ' +
        're-issued. Restore its previous version (AWSPREVIOUS) or rotate (the "regenerate" prop).',
    );
  }
  const certificate = readCertificate(bundle['apiserver.crt']);
  if (certificate === undefined) {
    return 'apiserver.crt is missing or not a certificate';
  }
  if (!(certificate.checkIssued(ca) && certificate.verify(ca.publicKey))) {
    return "apiserver.crt was not issued by the bundle's ca.crt";
  }
  if (!keyBelongsTo(certificate, bundle['apiserver.key'])) {
    return 'apiserver.key is missing or does not belong to apiserver.crt';
  }
  const present = new Set(certificateSanList(certificate.toString()));
  const missing = sanList(apiServerSans(input)).filter((name) => !present.has(name));
  return missing.length === 0 ? undefined : `apiserver.crt lacks ${missing.join(', ')}`;
}

/** A new apiserver.crt and key from the bundle's existing CA: ca.crt stays, so clients still trust it. */
async function reissueApiServerCertificate(bundle: StoredBundle, input: ClusterSecretsInput): Promise<Record<string, string>> {
  const ca = await loadCertificateAuthority({ certificatePem: bundle['ca.crt'], privateKeyPem: bundle['ca.key'] });
  const leaf = await issueApiServerCertificate(ca, input);
  return { 'apiserver.crt': leaf.certificatePem, 'apiserver.key': leaf.privateKeyPem };
}

function readCertificate(pem: string | undefined): X509Certificate | undefined {
  try {
    return pem === undefined ? undefined : new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

function keyBelongsTo(certificate: X509Certificate, privateKeyPem: string | undefined): boolean {
  try {
    return privateKeyPem !== undefined && certificate.checkPrivateKey(createPrivateKey(privateKeyPem));
  } catch {
    return false;
  }
}

/**
 * The upgrades, in the order they run (each sees the files of the ones before): files
 * added since a bundle was written, then the API server certificate.
 */
export const CONTROL_PLANE_UPGRADES: readonly ControlPlaneUpgrade[] = [
  addedFile(ENCRYPTION_CONFIG_FILE, () => rotatedEncryptionConfig(undefined)),
  { shortfall: apiServerCertificateShortfall, apply: reissueApiServerCertificate },
];

/**
 * `stored` brought up to this release, and what changed (empty: nothing to write). Each
 * replaced file keeps its place among the bundle's keys; every other file is kept as is.
 */
export async function upgradeControlPlaneBundle(
  stored: StoredBundle,
  input: ClusterSecretsInput,
  upgrades: readonly ControlPlaneUpgrade[] = CONTROL_PLANE_UPGRADES,
): Promise<{ bundle: Record<string, string>; changes: BundleChange[] }> {
  let bundle: Record<string, string> = { ...stored };
  const changes: BundleChange[] = [];
  for (const upgrade of upgrades) {
    const reason = upgrade.shortfall(bundle, input);
    if (reason !== undefined) {
      const files = await upgrade.apply(bundle, input);
      bundle = { ...bundle, ...files };
      changes.push({ files: Object.keys(files), reason });
    }
  }
  return { bundle, changes };
}
