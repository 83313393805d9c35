import { Annotations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { HostedZoneConfig, NetworkConfig } from '../config';

/** The cluster's existing VPC and subnets, imported by id: synth makes no lookups. */
export interface ClusterNetwork {
  readonly vpc: ec2.IVpc;
  /** Private subnets of the nodes, one per availability zone. */
  readonly nodeSubnets: readonly ec2.ISubnet[];
  /** Public subnets of the internet-facing API load balancer, one per availability zone. */
  readonly loadBalancerSubnets: readonly ec2.ISubnet[];
}

export function importClusterNetwork(scope: Construct, network: NetworkConfig): ClusterNetwork {
  const subnets = (kind: string, ids: readonly string[]) =>
    ids.map((subnetId, i) =>
      ec2.Subnet.fromSubnetAttributes(scope, `${kind}Subnet${i}`, {
        subnetId,
        availabilityZone: network.availabilityZones[i],
      }),
    );
  const vpc = ec2.Vpc.fromVpcAttributes(scope, 'Vpc', {
    vpcId: network.vpcId,
    availabilityZones: [...network.availabilityZones],
    privateSubnetIds: [...network.nodeSubnetIds],
    publicSubnetIds: [...network.loadBalancerSubnetIds],
  });
  // The cluster adds no routes, so it never needs the subnets' route tables.
  Annotations.of(scope).acknowledgeWarning('@aws-cdk/aws-ec2:noSubnetRouteTableId');
  return {
    vpc,
    nodeSubnets: subnets('Node', network.nodeSubnetIds),
    loadBalancerSubnets: subnets('LoadBalancer', network.loadBalancerSubnetIds),
  };
}

/** The cluster's hosted zone, imported by id and name: synth makes no lookups. */
export function importHostedZone(scope: Construct, zone: HostedZoneConfig): route53.IHostedZone {
  return route53.HostedZone.fromHostedZoneAttributes(scope, 'Zone', { hostedZoneId: zone.id, zoneName: zone.name });
}
