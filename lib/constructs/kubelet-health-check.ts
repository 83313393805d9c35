import { Duration, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import { KUBELET_HEALTHZ_PORT } from '../../userdata/network';


export interface KubeletHealthCheckProps {
  /** The VPC of the cluster. */
  readonly vpc: ec2.IVpc;
  /** The nodes' subnets. */
  readonly subnets: readonly ec2.ISubnet[];
  /** The groups of the nodes whose kubelet is checked. */
  readonly nodes: readonly autoscaling.AutoScalingGroup[];
}

/**
 * An internal Network Load Balancer whose only job is to check each node's kubelet
 * `/healthz`, so that the Auto Scaling group replaces a node whose kubelet died (the
 * 2016 system did the same with an internal classic ELB). It serves no traffic.
 */
export class KubeletHealthCheck extends Construct {
  readonly loadBalancer: elbv2.NetworkLoadBalancer;
  readonly targetGroup: elbv2.NetworkTargetGroup;

  constructor(scope: Construct, id: string, props: KubeletHealthCheckProps) {
    super(scope, id);
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Kubelet health checks',
      allowAllOutbound: false,
    });
    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      vpcSubnets: { subnets: [...props.subnets] },
      internetFacing: false,
      securityGroups: [securityGroup],
    });
    Validations.of(this.loadBalancer).acknowledge({
      id: 'AwsSolutions-ELB2',
      reason: 'This load balancer serves no traffic; it exists only to run the kubelet health checks.',
    });
    this.targetGroup = new elbv2.NetworkTargetGroup(this, 'Kubelets', {
      vpc: props.vpc,
      port: KUBELET_HEALTHZ_PORT,
      protocol: elbv2.Protocol.TCP,
      targets: [...props.nodes],
      deregistrationDelay: Duration.seconds(0),
      healthCheck: {
        protocol: elbv2.Protocol.HTTP,
        port: String(KUBELET_HEALTHZ_PORT),
        path: '/healthz',
        interval: Duration.seconds(30),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
    });
    // The listener accepts nothing (the security group lets nobody in); it only makes the
    // target group part of a load balancer, which is what runs its health checks.
    this.loadBalancer.addListener('Healthz', {
      port: KUBELET_HEALTHZ_PORT,
      protocol: elbv2.Protocol.TCP,
      defaultTargetGroups: [this.targetGroup],
    });
    // Once per security group: the groups of one NodeGroup share theirs.
    for (const securityGroup of new Set(props.nodes.flatMap((group) => group.connections.securityGroups))) {
      securityGroup.connections.allowFrom(this.loadBalancer, ec2.Port.tcp(KUBELET_HEALTHZ_PORT), 'kubelet health checks');
    }
  }
}
