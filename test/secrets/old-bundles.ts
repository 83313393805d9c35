import { createControlPlaneBundle, COMMON_NAMES } from '../../lib/secrets/bundles';
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

/** A control-plane bundle as the release before the internal endpoint wrote it (no internal name). */
export async function bundleFromBeforeInternalEndpoint(input: ClusterSecretsInput = INPUT): Promise<Record<string, string>> {
  const current = (await createControlPlaneBundle(input)) as unknown as Record<string, string>;
  return withApiServerNames(
    current,
    apiServerSans(input).dnsNames.filter((name) => name !== INTERNAL_NAME),
  );
}

/** `bundle` whose apiserver.crt (with every required name) was signed by another CA. */
export async function withForeignApiServerCertificate(bundle: Record<string, string>): Promise<Record<string, string>> {
  const other = await createCertificateAuthority(COMMON_NAMES.clusterCa);
  const leaf = await issueCertificate(other, { commonName: COMMON_NAMES.apiServer, ...apiServerSans(INPUT), usages: ['serverAuth'] });
  return { ...bundle, 'apiserver.crt': leaf.certificatePem, 'apiserver.key': leaf.privateKeyPem };
}
