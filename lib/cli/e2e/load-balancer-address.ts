import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { partitionOfRegion } from '../../../webhook/config';
import { StepFailure } from './wait';

/** A DNS name: dot-separated labels of letters, digits and '-' (RFC 1123), at most 253 characters. */
export const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/**
 * IPv4 ranges that are not public unicast (IANA IPv4 Special-Purpose Address Registry, RFC 6890
 * and its updates): "this network", private (RFC 1918), CGNAT shared space, loopback,
 * link-local (the instance metadata service among them), IETF protocol assignments,
 * documentation, benchmarking, multicast, reserved and broadcast.
 */
const NOT_PUBLIC_IPV4: readonly [string, number][] = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
];
/**
 * IPv6: global unicast 2000::/3 only (RFC 4291: loopback, link-local, unique-local, multicast and
 * IPv4-mapped lie outside it), without its special-purpose parts (IANA IPv6 Special-Purpose
 * Address Registry): IETF protocol assignments 2001::/23 (Teredo among them), documentation
 * 2001:db8::/32 and 6to4 2002::/16, which carries an IPv4 address of any kind.
 */
const GLOBAL_IPV6: readonly [string, number][] = [['2000::', 3]];
const NOT_PUBLIC_IPV6: readonly [string, number][] = [['2001::', 23], ['2001:db8::', 32], ['2002::', 16]];

function blockList(subnets: readonly [string, number][], type: 'ipv4' | 'ipv6'): BlockList {
  const list = new BlockList();
  for (const [network, prefix] of subnets) list.addSubnet(network, prefix, type);
  return list;
}
const notPublicIpv4 = blockList(NOT_PUBLIC_IPV4, 'ipv4');
const globalIpv6 = blockList(GLOBAL_IPV6, 'ipv6');
const notPublicIpv6 = blockList(NOT_PUBLIC_IPV6, 'ipv6');

/**
 * The DNS name endings of the region's load balancers. The cloud controller sets the ingress
 * hostname to the load balancer's DNSName as AWS gives it (kubernetes/cloud-provider-aws v1.35.2
 * pkg/providers/v1/aws.go toStatus, v2toStatus): a Classic ELB's is `<name>-<id>.<region>.elb.amazonaws.com`
 * (docs.aws.amazon.com ElasticLoadBalancing DeveloperGuide using-domain-names-with-elb: "myLB-1234567890.us-east-1.elb.amazonaws.com";
 * `internal-` and `dualstack.` prefixes keep the ending), an NLB's `<name>-<id>.elb.<region>.amazonaws.com`
 * (docs.aws.amazon.com elasticloadbalancing/latest/network/network-load-balancers.html, "DNS name").
 * China regions end in `.amazonaws.com.cn`.
 */
export function elbDomains(region: string): string[] {
  const top = partitionOfRegion(region) === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return [`.elb.${region}.${top}`, `.${region}.elb.${top}`];
}

/**
 * The host the suite may GET for a Service's load balancer ingress point: the address is the
 * cluster's text (anyone who can write a Service's status sets it), and the GET goes from the
 * operator's machine with its reply printed. So only a DNS name ending in one of the region's
 * ELB domains, or a public unicast IP address; anything else (the metadata service, a private
 * address, a name with a path, `@` or `#` in it) fails the step without a request.
 * @returns the host, lowercase; an IPv6 address without brackets
 */
export function loadBalancerHost(ingress: { hostname?: string; ip?: string }, region: string): string {
  const shown = JSON.stringify(ingress.hostname || ingress.ip);
  if (ingress.hostname) {
    const host = ingress.hostname.toLowerCase();
    const domains = elbDomains(region);
    if (DNS_NAME.test(host) && domains.some((domain) => host.endsWith(domain) && host.length > domain.length)) return host;
    throw new StepFailure(`load balancer hostname ${shown} is not an ELB name of region ${region} (a DNS name ending in ${domains.join(' or ')}): not requested`);
  }
  const ip = ingress.ip ?? '';
  const isPublic = isIPv4(ip) ? !notPublicIpv4.check(ip, 'ipv4') : isIPv6(ip) && !ip.includes('%') && globalIpv6.check(ip, 'ipv6') && !notPublicIpv6.check(ip, 'ipv6');
  if (isPublic) return ip.toLowerCase();
  throw new StepFailure(`load balancer IP ${shown} is not a public unicast address (private, loopback, link-local, CGNAT, multicast or not an IP): not requested`);
}

/** `http://<host>:<port>/` for a host loadBalancerHost accepted, built by URL (an IPv6 address in brackets). */
export function loadBalancerUrl(host: string, port: number): string {
  const url = new URL('http://load-balancer.invalid/');
  url.hostname = isIPv6(host) ? `[${host}]` : host;
  url.port = String(port);
  return url.href;
}
