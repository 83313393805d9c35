import { X509Certificate, createPrivateKey } from 'node:crypto';
import { ENCRYPTION_CONFIG_FILE } from '../../userdata/secret-names';
import { frontProxyFiles, issueApiServerCertificate } from './bundles';
import { rotatedEncryptionConfig } from './encryption-config';
import { ClusterSecretsInput } from './inputs';
import { CertificateAuthority, certificateSanList, loadCertificateAuthority, readCertificate } from './pki';
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

/** What an upgrade judges a bundle against, besides the bundle itself. */
export interface UpgradeContext {
  /** The inputs the set is generated from. */
  readonly input: ClusterSecretsInput;
  /**
   * The front-proxy CA whose key is kept (the `front-proxy-ca` secret; made anew by the plan
   * when that secret has no value): the bundle's front-proxy chain must be of it.
   */
  readonly frontProxyCa: CertificateAuthority;
}

/** One way a control-plane bundle written by an older release can fall short of this one. */
export interface ControlPlaneUpgrade {
  /** Why `bundle` needs this upgrade (names only: it is logged), or undefined if it does not. */
  readonly shortfall: (bundle: StoredBundle, context: UpgradeContext) => string | undefined;
  /** The files to add or replace; the bundle keeps every other file. */
  readonly apply: (bundle: StoredBundle, context: UpgradeContext) => Promise<Record<string, string>>;
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

/**
 * Why `bundle`'s front-proxy chain is not of `frontProxyCa` (the CA whose key is kept), or
 * undefined if it is: front-proxy-ca.crt must be that CA's certificate, byte for byte, and
 * front-proxy-client.crt signed by it and matching its key. A bundle written before the key
 * was kept fails the first check: its CA's key was never stored, so its client could never be
 * renewed, and a new chain is the only way on.
 */
export function frontProxyChainShortfall(bundle: StoredBundle, { frontProxyCa }: UpgradeContext): string | undefined {
  if (bundle['front-proxy-ca.crt'] !== frontProxyCa.certificatePem) {
    return 'front-proxy-ca.crt is not the front-proxy CA whose key is kept (secret front-proxy-ca), so front-proxy-client.crt could not be renewed';
  }
  const certificate = readCertificate(bundle['front-proxy-client.crt']);
  if (certificate === undefined) {
    return 'front-proxy-client.crt is missing or not a certificate';
  }
  const ca = new X509Certificate(frontProxyCa.certificatePem);
  if (!(certificate.checkIssued(ca) && certificate.verify(ca.publicKey))) {
    return 'front-proxy-client.crt was not issued by front-proxy-ca.crt';
  }
  if (!keyBelongsTo(certificate, bundle['front-proxy-client.key'])) {
    return 'front-proxy-client.key is missing or does not belong to front-proxy-client.crt';
  }
  return undefined;
}

/** A new apiserver.crt and key from the bundle's existing CA: ca.crt stays, so clients still trust it. */
async function reissueApiServerCertificate(bundle: StoredBundle, input: ClusterSecretsInput): Promise<Record<string, string>> {
  const ca = await loadCertificateAuthority({ certificatePem: bundle['ca.crt'], privateKeyPem: bundle['ca.key'] });
  const leaf = await issueApiServerCertificate(ca, input);
  return { 'apiserver.crt': leaf.certificatePem, 'apiserver.key': leaf.privateKeyPem };
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
 * added since a bundle was written, the API server certificate, then the front-proxy chain.
 */
export const CONTROL_PLANE_UPGRADES: readonly ControlPlaneUpgrade[] = [
  addedFile(ENCRYPTION_CONFIG_FILE, () => rotatedEncryptionConfig(undefined)),
  {
    shortfall: (bundle, { input }) => apiServerCertificateShortfall(bundle, input),
    apply: (bundle, { input }) => reissueApiServerCertificate(bundle, input),
  },
  // A new chain, not a renewal: masters get it when they are next replaced. Old and new
  // masters side by side are fine: each API server adds its requestheader CA to the
  // kube-system/extension-apiserver-authentication ConfigMap, which aggregated servers read,
  // as a union with the CAs already there (kubernetes/kubernetes, pkg/controlplane/controller/
  // clusterauthenticationtrust/cluster_authentication_trust_controller.go, combineCertLists).
  // lib/secrets/README.md, "The front-proxy CA of an existing cluster".
  { shortfall: frontProxyChainShortfall, apply: (_bundle, { frontProxyCa }) => frontProxyFiles(frontProxyCa) },
];

/**
 * `stored` brought up to this release, and what changed (empty: nothing to write). Each
 * replaced file keeps its place among the bundle's keys; every other file is kept as is.
 */
export async function upgradeControlPlaneBundle(
  stored: StoredBundle,
  context: UpgradeContext,
  upgrades: readonly ControlPlaneUpgrade[] = CONTROL_PLANE_UPGRADES,
): Promise<{ bundle: Record<string, string>; changes: BundleChange[] }> {
  let bundle: Record<string, string> = { ...stored };
  const changes: BundleChange[] = [];
  for (const upgrade of upgrades) {
    const reason = upgrade.shortfall(bundle, context);
    if (reason !== undefined) {
      const files = await upgrade.apply(bundle, context);
      bundle = { ...bundle, ...files };
      changes.push({ files: Object.keys(files), reason });
    }
  }
  return { bundle, changes };
}
