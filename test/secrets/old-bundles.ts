import { createControlPlaneBundle, createFrontProxyCa, COMMON_NAMES } from '../../lib/secrets/bundles';
import { UpgradeContext } from '../../lib/secrets/control-plane-upgrades';
import { ClusterSecretsInput } from '../../lib/secrets/inputs';
import { createCertificateAuthority, issueCertificate, loadCertificateAuthority } from '../../lib/secrets/pki';
import { apiServerSans } from '../../lib/secrets/sans';
import { internalApiDnsName } from '../../userdata/types';

/** The cluster the secrets tests generate for. */
export const INPUT: ClusterSecretsInput = {
  clusterName: 'kube-aws-test-1',
  zoneName: 'team.example.org',
  etcdMemberCount: 3,
  serviceCidr: '10.3.0.0/24',
  clusterDomain: 'cluster.local',
};

/** The name the internal API endpoint added to the API server certificate. */
export const INTERNAL_NAME = internalApiDnsName({ cluster: INPUT.clusterName, zone: INPUT.zoneName });

/**
 * A current control-plane bundle and what upgrades judge it against (its front-proxy CA,
 * as the `front-proxy-ca` secret keeps it).
 */
export async function currentControlPlane(input: ClusterSecretsInput = INPUT): Promise<{ bundle: Record<string, string>; context: UpgradeContext }> {
  const frontProxyCa = (await createFrontProxyCa()).ca;
  const bundle = (await createControlPlaneBundle(input, frontProxyCa)) as unknown as Record<string, string>;
  return { bundle, context: { input, frontProxyCa } };
}

/**
 * A control-plane bundle as releases before the front-proxy CA's key was kept wrote it: the
 * same files, but the CA that signed front-proxy-client.crt was dropped after signing.
 */
export async function bundleFromBeforeFrontProxyCaKept(input: ClusterSecretsInput = INPUT): Promise<Record<string, string>> {
  return (await currentControlPlane(input)).bundle;
}

/**
 * `bundle` with apiserver.crt and key replaced by a certificate of the same CA whose DNS
 * names are `dnsNames`: what an older (or different) release would have issued.
 */
export async function withApiServerNames(bundle: Record<string, string>, dnsNames: string[]): Promise<Record<string, string>> {
  const ca = await loadCertificateAuthority({ certificatePem: bundle['ca.crt'], privateKeyPem: bundle['ca.key'] });
  const leaf = await issueCertificate(ca, {
    commonName: COMMON_NAMES.apiServer,
    dnsNames,
    ipAddresses: apiServerSans(INPUT).ipAddresses,
    usages: ['serverAuth'],
  });
  return { ...bundle, 'apiserver.crt': leaf.certificatePem, 'apiserver.key': leaf.privateKeyPem };
}

/** `current` as the release before the internal endpoint wrote it: apiserver.crt without the internal name. */
export async function bundleFromBeforeInternalEndpoint(current: Record<string, string>): Promise<Record<string, string>> {
  return withApiServerNames(
    current,
    apiServerSans(INPUT).dnsNames.filter((name) => name !== INTERNAL_NAME),
  );
}

/** `bundle` whose apiserver.crt (with every required name) was signed by another CA. */
export async function withForeignApiServerCertificate(bundle: Record<string, string>): Promise<Record<string, string>> {
  const other = await createCertificateAuthority(COMMON_NAMES.clusterCa);
  const leaf = await issueCertificate(other, { commonName: COMMON_NAMES.apiServer, ...apiServerSans(INPUT), usages: ['serverAuth'] });
  return { ...bundle, 'apiserver.crt': leaf.certificatePem, 'apiserver.key': leaf.privateKeyPem };
}
