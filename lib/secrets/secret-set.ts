import { X509Certificate, createPrivateKey } from 'node:crypto';
import {
  CaBundle,
  ControlPlaneBundle,
  adminBundle,
  apiServerEtcdClientBundle,
  createControlPlaneBundle,
  createEtcdCa,
  createFrontProxyCa,
  etcdMemberBundle,
  loadCaBundle,
  workerBundle,
} from './bundles';
import { ClusterSecretsInput } from './inputs';
import { ClusterSecretNames, ENCRYPTION_CONFIG_FILE, SecretSet } from '../../userdata/secret-names';
import { CertificateAuthority } from './pki';
import { BundleChange, upgradeControlPlaneBundle } from './control-plane-upgrades';

/** One secret value to write. */
export interface SecretWrite {
  readonly name: string;
  readonly value: string;
  /** What an upgrade of an existing bundle changed in it (file names and reasons; logged). */
  readonly changes?: readonly BundleChange[];
}

/** What to plan from. */
export interface SecretSetPlanInput {
  readonly set: SecretSet;
  readonly input: ClusterSecretsInput;
  /** Current SecretString of each secret of the set that has a value. */
  readonly existing: ReadonlyMap<string, string>;
  /** Replace every value, CAs included (the explicit rotation switch). */
  readonly regenerate: boolean;
}

/** Some secrets of a set have values, but not the one holding the CA that signed them. */
export class InconsistentSecretsError extends Error {
  constructor(caHolder: string, present: string[]) {
    super(
      `${caHolder} has no value, but ${present.join(', ')} do: new certificates would not ` +
        'match the existing ones. Increase the ClusterSecrets "regenerate" prop to replace the ' +
        'whole set (then replace the nodes), or restore the previous version of the secret.',
    );
    this.name = 'InconsistentSecretsError';
  }
}

/**
 * The values to write so that every secret of the set has one, CA secrets first. Existing
 * values are kept, and missing ones are derived from the existing CA, unless `regenerate` is
 * set. An existing control-plane bundle is brought up to this release (CONTROL_PLANE_UPGRADES:
 * files added since it was written, an API server certificate re-issued from its own CA when
 * it lacks a name, a new front-proxy chain when its CA's key is not kept) and keeps every
 * other value. A regenerated control plane keeps the earlier Secrets encryption keys after
 * its new one.
 */
export async function planSecretValues(plan: SecretSetPlanInput): Promise<SecretWrite[]> {
  const secretNames = new ClusterSecretNames(plan.input.clusterName);
  // front-proxy-ca holds a CA of its own that nothing else is derived from but the bundle's
  // front-proxy chain, which follows it (below): its value, or its absence, contradicts nothing.
  const names = secretNames.ofSet(plan.set, plan.input.etcdMemberCount).filter((name) => name !== secretNames.frontProxyCa);
  const existing = plan.regenerate ? new Map<string, string>() : plan.existing;
  const missing = names.filter((name) => !existing.has(name));
  const caHolder = names[0];
  const caValue = existing.get(caHolder);
  if (caValue === undefined && missing.length > 0 && missing.length < names.length) {
    throw new InconsistentSecretsError(caHolder, names.filter((name) => existing.has(name)));
  }
  if (plan.set === 'etcd') {
    return missing.length === 0 ? [] : planEtcd(plan.input, missing, caValue);
  }
  return planControlPlane(plan.input, missing, caValue, existing.get(secretNames.frontProxyCa), plan.existing.get(caHolder));
}

/**
 * The CA stored as `value` in secret `name`: its certificate and a key that belongs to it.
 * The error never quotes the value.
 */
async function loadStoredCa(name: string, value: string): Promise<CertificateAuthority> {
  const bundle = parseBundle(name, value);
  try {
    const certificate = new X509Certificate(bundle['ca.crt']);
    if (!certificate.ca || !certificate.checkPrivateKey(createPrivateKey(bundle['ca.key']))) throw new Error('mismatch');
    return await loadCaBundle(bundle as unknown as CaBundle);
  } catch {
    throw new Error(
      `${name} does not hold a CA certificate (ca.crt) and its key (ca.key); restore its previous version ` +
        '(AWSPREVIOUS), or increase the ClusterSecrets "regenerate" prop to replace the whole set.',
    );
  }
}

/** A stored SecretString as a bundle. The error never quotes the value: it holds keys. */
export function parseBundle(name: string, value: string): Record<string, string> {
  let bundle: unknown;
  try {
    bundle = JSON.parse(value);
  } catch {
    bundle = undefined;
  }
  const isBundle =
    typeof bundle === 'object' && bundle !== null && !Array.isArray(bundle) && Object.values(bundle).every((v) => typeof v === 'string');
  if (!isBundle) {
    throw new Error(`${name} does not hold a JSON object of file names to strings; restore its previous version (AWSPREVIOUS).`);
  }
  return bundle as Record<string, string>;
}

async function planEtcd(input: ClusterSecretsInput, missing: string[], caValue: string | undefined): Promise<SecretWrite[]> {
  const names = new ClusterSecretNames(input.clusterName);
  const writes: SecretWrite[] = [];
  let ca: CertificateAuthority;
  if (caValue === undefined) {
    const created = await createEtcdCa();
    ca = created.ca;
    writes.push({ name: names.etcdCa, value: JSON.stringify(created.bundle) });
  } else {
    ca = await loadStoredCa(names.etcdCa, caValue);
  }
  for (let index = 0; index < input.etcdMemberCount; index++) {
    if (missing.includes(names.etcdMember(index))) {
      writes.push({ name: names.etcdMember(index), value: JSON.stringify(await etcdMemberBundle(ca, input, index)) });
    }
  }
  if (missing.includes(names.apiServerEtcdClient)) {
    writes.push({ name: names.apiServerEtcdClient, value: JSON.stringify(await apiServerEtcdClientBundle(ca)) });
  }
  return writes;
}

/**
 * `controlPlaneValue` is the bundle to keep (undefined: make a new one); `frontProxyCaValue`
 * the front-proxy CA to keep (undefined: make a new one); `storedValue` is what the
 * control-plane secret holds now, also when it is being replaced: its encryption keys live on.
 */
async function planControlPlane(
  input: ClusterSecretsInput,
  missing: string[],
  controlPlaneValue: string | undefined,
  frontProxyCaValue: string | undefined,
  storedValue: string | undefined,
): Promise<SecretWrite[]> {
  const names = new ClusterSecretNames(input.clusterName);
  const writes: SecretWrite[] = [];
  let frontProxyCa: CertificateAuthority;
  if (frontProxyCaValue === undefined) {
    const created = await createFrontProxyCa();
    frontProxyCa = created.ca;
    // Written before the bundle whose chain it signs: a run stopped in between is completed
    // from it (the upgrade below), and no key is lost.
    writes.push({
      name: names.frontProxyCa,
      value: JSON.stringify(created.bundle),
      // An existing bundle's front-proxy CA had its key dropped (releases before it was kept).
      ...(controlPlaneValue === undefined
        ? {}
        : { changes: [{ files: ['ca.crt', 'ca.key'], reason: 'the front-proxy CA had no stored key: a new front-proxy CA, kept for renewal' }] }),
    });
  } else {
    frontProxyCa = await loadStoredCa(names.frontProxyCa, frontProxyCaValue);
  }
  let controlPlane: ControlPlaneBundle;
  if (controlPlaneValue === undefined) {
    const stored = storedValue === undefined ? undefined : parseBundle(names.controlPlane, storedValue);
    controlPlane = await createControlPlaneBundle(input, frontProxyCa, stored?.[ENCRYPTION_CONFIG_FILE]);
    writes.push({ name: names.controlPlane, value: JSON.stringify(controlPlane) });
  } else {
    const upgraded = await upgradeControlPlaneBundle(parseBundle(names.controlPlane, controlPlaneValue), { input, frontProxyCa });
    controlPlane = upgraded.bundle as unknown as ControlPlaneBundle;
    if (upgraded.changes.length > 0) {
      writes.push({ name: names.controlPlane, value: JSON.stringify(controlPlane), changes: upgraded.changes });
    }
  }
  if (missing.includes(names.worker)) {
    writes.push({ name: names.worker, value: JSON.stringify(workerBundle(controlPlane)) });
  }
  if (missing.includes(names.admin)) {
    writes.push({ name: names.admin, value: JSON.stringify(adminBundle(controlPlane)) });
  }
  return writes;
}
