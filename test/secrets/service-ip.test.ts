import { firstServiceIp } from '../../lib/secrets/service-ip';

describe('firstServiceIp', () => {
  test.each([
    ['10.3.0.0/24', '10.3.0.1'],
    ['172.20.0.0/16', '172.20.0.1'],
    ['10.96.0.0/12', '10.96.0.1'],
    // kube-apiserver masks the range as Go's net.ParseCIDR does
    ['10.3.0.77/24', '10.3.0.1'],
    ['192.168.255.252/30', '192.168.255.253'],
  ])('%s -> %s', (cidr, ip) => {
    expect(firstServiceIp(cidr)).toBe(ip);
  });

  test.each(['10.3.0.0', '10.3.0.0/31', '10.3.0.256/24', 'fd00::/108', 'ten/8', ''])('rejects %p naming the prop', (cidr) => {
    expect(() => firstServiceIp(cidr)).toThrow(/serviceCidr must be an IPv4 CIDR .* got "/);
  });
});
