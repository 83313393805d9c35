import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { INTERNAL_API_PORT, InternalApiEndpoint, InternalApiEndpointProps } from '../../lib/constructs/internal-api-endpoint';

const NODE_SUBNETS = ['subnet-0a000000000000001', 'subnet-0b000000000000002'];
const DOMAIN = 'internal.c-1.team.example.org';

interface Fixture {
  readonly stack: Stack;
  readonly endpoint: InternalApiEndpoint;
  readonly masters: autoscaling.AutoScalingGroup;
  readonly workers: ec2.SecurityGroup;
}

/** GIVEN a VPC with two node subnets, a hosted zone, the masters' group and a workers' security group. */
function fixture(overrides: Partial<InternalApiEndpointProps> = {}): Fixture {
  const stack = new Stack(undefined, 'Test', { env: { account: '123456789012', region: 'eu-central-1' } });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0a1b2c3d4e5f60718',
    availabilityZones: ['eu-central-1a', 'eu-central-1b'],
    privateSubnetIds: NODE_SUBNETS,
  });
  const subnets = NODE_SUBNETS.map((subnetId, i) => ec2.Subnet.fromSubnetAttributes(stack, `Subnet${i}`, { subnetId, availabilityZone: vpc.availabilityZones[i] }));
  const zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789EXAMPLE', zoneName: 'team.example.org' });
  const masters = new autoscaling.AutoScalingGroup(stack, 'Masters', {
    vpc,
    vpcSubnets: { subnets },
    instanceType: new ec2.InstanceType('m6i.large'),
    machineImage: ec2.MachineImage.genericLinux({ 'eu-central-1': 'ami-0f1e2d3c4b5a69788' }),
  });
  const workers = new ec2.SecurityGroup(stack, 'Workers', { vpc });
  const endpoint = new InternalApiEndpoint(stack, 'InternalApi', { vpc, subnets, domainName: DOMAIN, zone, masters, ...overrides });
  return { stack, endpoint, masters, workers };
}

const groupIdOf = (prefix: string) => ({ 'Fn::GetAtt': [Match.stringLikeRegexp(`^${prefix}`), 'GroupId'] });

describe('InternalApiEndpoint', () => {
  test('is an internal network load balancer in the node subnets, cross-zone, with its own security group', () => {
    const template = Template.fromStack(fixture().stack);
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 1);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Type: 'network',
      Scheme: 'internal',
      Subnets: NODE_SUBNETS,
      SecurityGroups: [groupIdOf('InternalApiSecurityGroup')],
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'load_balancing.cross_zone.enabled', Value: 'true' }]),
    });
  });

  test('passes TCP 443 through to the masters by instance (no certificate, no TLS termination), client IP preserved', () => {
    const template = Template.fromStack(fixture().stack);
    const listeners = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::Listener'));
    expect(listeners).toHaveLength(1);
    expect(listeners[0].Properties).toMatchObject({ Port: 443, Protocol: 'TCP' });
    expect(listeners[0].Properties.Certificates).toBeUndefined();
    expect(listeners[0].Properties.SslPolicy).toBeUndefined();
    expect(listeners[0].Properties.DefaultActions).toEqual([{ Type: 'forward', TargetGroupArn: { Ref: expect.stringMatching(/^InternalApiMasters/) } }]);
    const [targetGroup] = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::TargetGroup'));
    expect(targetGroup.Properties).toMatchObject({ Port: 443, Protocol: 'TCP', TargetType: 'instance' });
    expect(targetGroup.Properties.TargetGroupAttributes).toEqual(
      expect.arrayContaining([
        { Key: 'preserve_client_ip.enabled', Value: 'true' },
        { Key: 'deregistration_delay.timeout_seconds', Value: '60' },
      ]),
    );
    // The masters' group registers itself in the target group.
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      TargetGroupARNs: [{ Ref: Match.stringLikeRegexp('^InternalApiMasters') }],
    });
  });

  test("sends connections only to masters whose API server answers /readyz over HTTPS on its own port", () => {
    Template.fromStack(fixture().stack).hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckProtocol: 'HTTPS',
      HealthCheckPort: '443',
      HealthCheckPath: '/readyz',
      HealthCheckIntervalSeconds: 10,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 2,
    });
  });

  test('publishes internal.<cluster>.<zone> as an alias of the load balancer, and its https URL', () => {
    const { stack, endpoint } = fixture();
    Template.fromStack(stack).hasResourceProperties('AWS::Route53::RecordSet', {
      Name: `${DOMAIN}.`,
      Type: 'A',
      HostedZoneId: 'Z0123456789EXAMPLE',
      AliasTarget: Match.objectLike({ DNSName: { 'Fn::Join': ['', ['dualstack.', { 'Fn::GetAtt': [Match.stringLikeRegexp('^InternalApiLoadBalancer'), 'DNSName'] }]] } }),
    });
    expect(endpoint.url).toBe(`https://${DOMAIN}`);
    expect(endpoint.domainName).toBe(DOMAIN);
  });

  test('lets nobody in until a client is allowed; then only that client, on 443', () => {
    // WHEN nothing is allowed
    const closed = Template.fromStack(fixture().stack);
    const [closedGroup] = Object.values(closed.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: `Internal API load balancer of ${DOMAIN}` } }));
    expect(closedGroup.Properties.SecurityGroupIngress).toBeUndefined();
    expect(Object.values(closed.findResources('AWS::EC2::SecurityGroupIngress')).filter((r) => JSON.stringify(r.Properties.GroupId).includes('InternalApiSecurityGroup'))).toEqual([]);

    // WHEN the workers are let in
    const { stack, endpoint, workers } = fixture();
    endpoint.connections.allowFrom(workers, ec2.Port.tcp(INTERNAL_API_PORT), 'API from workers');
    const template = Template.fromStack(stack);
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties);
    const intoEndpoint = ingress.filter((r) => JSON.stringify(r.GroupId).includes('InternalApiSecurityGroup'));
    expect(intoEndpoint).toEqual([
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, SourceSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^Workers/), 'GroupId'] } }),
    ]);
    // No address range on the endpoint's group: the one client is admitted by security group.
    const [group] = Object.values(template.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: `Internal API load balancer of ${DOMAIN}` } }));
    expect(group.Properties.SecurityGroupIngress).toBeUndefined();
  });

  test("reaches only the masters' API port, and the masters admit it there", () => {
    const template = Template.fromStack(fixture().stack);
    const egress = Object.values(template.findResources('AWS::EC2::SecurityGroupEgress')).map((r) => r.Properties);
    expect(egress.filter((r) => JSON.stringify(r.GroupId).includes('InternalApiSecurityGroup'))).toEqual([
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, DestinationSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^MastersInstanceSecurityGroup/), 'GroupId'] } }),
    ]);
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties);
    expect(ingress.filter((r) => JSON.stringify(r.GroupId).includes('MastersInstanceSecurityGroup'))).toEqual([
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, SourceSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^InternalApiSecurityGroup/), 'GroupId'] } }),
    ]);
  });

  test('takes a shorter deregistration delay when given', () => {
    Template.fromStack(fixture({ deregistrationDelay: Duration.seconds(5) }).stack).hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '5' }]),
    });
  });

  describe('refuses props it cannot build, naming the prop', () => {
    test('no subnets', () => {
      expect(() => fixture({ subnets: [] })).toThrow(/InternalApiEndpoint: 'subnets' must name at least one node subnet, got none/);
    });

    test('the same subnet twice', () => {
      const stack = new Stack();
      const subnet = ec2.Subnet.fromSubnetAttributes(stack, 'S', { subnetId: 'subnet-0a000000000000001', availabilityZone: 'eu-central-1a' });
      expect(() => fixture({ subnets: [subnet, subnet] })).toThrow(/'subnets' names subnet-0a000000000000001 twice/);
    });

    test('a name that is no DNS name, or not in the hosted zone', () => {
      expect(() => fixture({ domainName: 'Internal.c-1.team.example.org.' })).toThrow(/'domainName' must be a lowercase DNS name without trailing dot, got 'Internal\.c-1\.team\.example\.org\.'/);
      expect(() => fixture({ domainName: 'internal.c-1.other.example.org' })).toThrow(/'domainName' 'internal\.c-1\.other\.example\.org' is not inside the hosted zone 'team\.example\.org'/);
    });

    test('a deregistration delay above the hour ELB allows', () => {
      expect(() => fixture({ deregistrationDelay: Duration.minutes(61) })).toThrow(/'deregistrationDelay' must be 0 to 3600 seconds, got 3660/);
    });
  });
});
