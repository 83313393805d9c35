import {
  ControlPlaneBundle,
  EtcdCaBundle,
  adminBundle,
  apiServerEtcdClientBundle,
  createControlPlaneBundle,
  createEtcdCa,
  etcdMemberBundle,
  loadEtcdCa,
  workerBundle,
} from './bundles';
import { ClusterSecretsInput } from './inputs';
import { ClusterSecretNames, SecretSet } from '../../userdata/secret-names';
import { CertificateAuthority } from './pki';

/** One secret value to write. */
export interface SecretWrite {
  readonly name: string;
  readonly value: string;
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
 * The values to write so that every secret of the set has one. Existing values are
 * kept, and missing ones are derived from the existing CA, unless `regenerate` is set.
 */
export async function planSecretValues(plan: SecretSetPlanInput): Promise<SecretWrite[]> {
  const names = new ClusterSecretNames(plan.input.clusterName).ofSet(plan.set, plan.input.etcdMemberCount);
  const existing = plan.regenerate ? new Map<string, string>() : plan.existing;
  const missing = names.filter((name) => !existing.has(name));
  if (missing.length === 0) {
    return [];
  }
  const caHolder = names[0];
  const caValue = existing.get(caHolder);
  if (caValue === undefined && missing.length < names.length) {
    throw new InconsistentSecretsError(caHolder, names.filter((name) => existing.has(name)));
  }
  return plan.set === 'etcd'
    ? planEtcd(plan.input, missing, caValue)
    : planControlPlane(plan.input, missing, caValue);
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
    ca = await loadEtcdCa(JSON.parse(caValue) as EtcdCaBundle);
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

async function planControlPlane(
  input: ClusterSecretsInput,
  missing: string[],
  controlPlaneValue: string | undefined,
): Promise<SecretWrite[]> {
  const names = new ClusterSecretNames(input.clusterName);
  const writes: SecretWrite[] = [];
  let controlPlane: ControlPlaneBundle;
  if (controlPlaneValue === undefined) {
    controlPlane = await createControlPlaneBundle(input);
    writes.push({ name: names.controlPlane, value: JSON.stringify(controlPlane) });
  } else {
    controlPlane = JSON.parse(controlPlaneValue) as ControlPlaneBundle;
  }
  if (missing.includes(names.worker)) {
    writes.push({ name: names.worker, value: JSON.stringify(workerBundle(controlPlane)) });
  }
  if (missing.includes(names.admin)) {
    writes.push({ name: names.admin, value: JSON.stringify(adminBundle(controlPlane)) });
  }
  return writes;
}
