import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { EtcdMemberIdentities } from '../../lib/constructs/etcd-member-identities';

const ENV = { account: '123456789012', region: 'eu-central-1' };

describe('EtcdMemberIdentities', () => {
  test.each([-1, 3, 0.5])('grantAttach rejects member %p of 3', (member) => {
    const stack = new Stack(undefined, 'Test', { env: ENV });
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0a1b2c3d4e5f60718', availabilityZones: ['eu-central-1a'] });
    const subnet = ec2.Subnet.fromSubnetAttributes(stack, 'Subnet', { subnetId: 'subnet-0a000000000000001', availabilityZone: 'eu-central-1a' });
    const identities = new EtcdMemberIdentities(stack, 'Identities', {
      clusterName: 'c-1',
      count: 3,
      subnets: [subnet],
      securityGroup: new ec2.SecurityGroup(stack, 'Sg', { vpc }),
    });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    expect(() => identities.grantAttach(role, member)).toThrow(/grantAttach: member must be an integer from 0 to 2/);
  });
});
