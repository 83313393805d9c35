/** Prefixes beyond /30 leave no address for the `kubernetes` service after the network one. */
const MAX_SERVICE_PREFIX = 30;

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/**
 * The first host address of the service CIDR: the ClusterIP Kubernetes gives the
 * `kubernetes` service in `default`, so the API server certificate must name it.
 *
 * @throws if `serviceCidr` is not an IPv4 CIDR with room for hosts
 */
export function firstServiceIp(serviceCidr: string): string {
  const match = IPV4_CIDR.exec(serviceCidr);
  const octets = match?.slice(1, 5).map(Number) ?? [];
  const prefix = Number(match?.[5]);
  if (!match || octets.some((octet) => octet > 255) || prefix > MAX_SERVICE_PREFIX) {
    throw new Error(
      `serviceCidr must be an IPv4 CIDR with a prefix of /${MAX_SERVICE_PREFIX} or shorter, ` +
        `e.g. 10.3.0.0/24; got "${serviceCidr}"`,
    );
  }
  const address = octets.reduce((acc, octet) => acc * 256 + octet, 0);
  const size = 2 ** (32 - prefix);
  const first = address - (address % size) + 1;
  return [24, 16, 8, 0].map((shift) => Math.floor(first / 2 ** shift) % 256).join('.');
}
