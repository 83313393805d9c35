import { etcdDomain, etcdMemberName, internalApiDnsName } from '../../userdata/types';
import { ClusterSecretsInput } from './inputs';
import { firstServiceIp } from './service-ip';

/** The subject alternative names one certificate carries. */
export interface SubjectAltNames {
  readonly dnsNames: string[];
  readonly ipAddresses: string[];
}

/** Loopback names: etcdctl and health checks on the node itself connect to localhost. */
const LOOPBACK: SubjectAltNames = { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] };

/**
 * Member N's names. One certificate serves clients and peers: SRV discovery resolves to
 * `etcd-N.etcd.<cluster>.<zone>`, and etcd checks peers against the discovery domain.
 */
export function etcdMemberSans(input: Pick<ClusterSecretsInput, 'clusterName' | 'zoneName'>, index: number): SubjectAltNames {
  // The discovery domain is also a name clients may dial.
  const domain = etcdDomain({ cluster: input.clusterName, zone: input.zoneName });
  return {
    dnsNames: [etcdMemberName(domain, index), domain, ...LOOPBACK.dnsNames],
    ipAddresses: [...LOOPBACK.ipAddresses],
  };
}

/**
 * The API server's names: its public DNS name (the public load balancer's re-encrypted
 * connections), the internal endpoint's name (workers and in-VPC clients: that load balancer
 * passes TLS through, so this certificate is the one they check), the in-cluster service
 * names pods use, the service ClusterIP and loopback.
 */
export function apiServerSans(
  input: Pick<ClusterSecretsInput, 'clusterName' | 'zoneName' | 'serviceCidr' | 'clusterDomain'>,
): SubjectAltNames {
  return {
    dnsNames: [
      `${input.clusterName}.${input.zoneName}`,
      internalApiDnsName({ cluster: input.clusterName, zone: input.zoneName }),
      'kubernetes',
      'kubernetes.default',
      'kubernetes.default.svc',
      `kubernetes.default.svc.${input.clusterDomain}`,
      ...LOOPBACK.dnsNames,
    ],
    ipAddresses: [firstServiceIp(input.serviceCidr), ...LOOPBACK.ipAddresses],
  };
}

/**
 * `names` as sorted `DNS:<name>` / `IP:<address>` strings: the form in which a certificate's
 * names are compared with what the inputs require (control-plane-upgrades.ts), and the value
 * of the custom resource's `ApiServerNames` property, so that a release or input that changes
 * the names changes the property and CloudFormation calls the handler to re-issue.
 */
export function sanList(names: SubjectAltNames): string[] {
  return [...names.dnsNames.map((name) => `DNS:${name}`), ...names.ipAddresses.map((address) => `IP:${address}`)].sort();
}
