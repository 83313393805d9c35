import { Duration, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53Targets from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import { AUDIT_LOG_PATH } from '../../userdata/audit-policy';
import { API_SERVER_PORT as API_PORT } from '../../userdata/network';

/**
 * The 2016 ELB drained for 60 s; long-running requests (watches, exec) reconnect anyway.
 */
export const API_DEREGISTRATION_DELAY = Duration.seconds(60);

export interface ApiLoadBalancerProps {
  /** The VPC of the cluster. */
  readonly vpc: ec2.IVpc;
  /** Public subnets, one per availability zone of the masters. */
  readonly subnets: readonly ec2.ISubnet[];
  /** The API's name, `<cluster>.<zone>`. */
  readonly domainName: string;
  /** The hosted zone of `domainName`. */
  readonly zone: route53.IHostedZone;
  /**
   * An ACM certificate for `domainName` in the cluster's region.
   * @default - a new certificate, validated through `zone`
   */
  readonly certificateArn?: string;
  /** The masters. */
  readonly masters: autoscaling.AutoScalingGroup;
  /** Where clients may reach the API from. @default - anywhere (tokens guard the API) */
  readonly allowedCidrs?: readonly string[];
}

/**
 * The API endpoint `https://<cluster>.<zone>`: an internet-facing Network Load Balancer
 * terminating TLS with the ACM certificate and re-encrypting to the masters' secure port.
 * TLS passes through at layer 4, so `kubectl exec/attach/port-forward` (HTTP Upgrade)
 * work, which an HTTP-mode load balancer would break. Masters are checked on `/readyz`.
 */
export class ApiLoadBalancer extends Construct {
  readonly loadBalancer: elbv2.NetworkLoadBalancer;
  readonly targetGroup: elbv2.NetworkTargetGroup;
  /** `https://<cluster>.<zone>`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: ApiLoadBalancerProps) {
    super(scope, id);
    if (props.subnets.length === 0) throw new Error(`ApiLoadBalancer: 'subnets' must name at least one public subnet`);

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `API load balancer of ${props.domainName}`,
      allowAllOutbound: false,
    });
    const allowedCidrs = props.allowedCidrs ?? ['0.0.0.0/0'];
    for (const cidr of allowedCidrs) {
      securityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(API_PORT), 'Kubernetes API');
    }
    if (allowedCidrs.includes('0.0.0.0/0')) {
      Validations.of(securityGroup).acknowledge({
        id: 'AwsSolutions-EC23',
        reason: 'The Kubernetes API is public on 443 only, on purpose; every request is authenticated by token. apiAllowedCidrs narrows it.',
      });
    }

    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      vpcSubnets: { subnets: [...props.subnets] },
      internetFacing: true,
      crossZoneEnabled: true,
      securityGroups: [securityGroup],
    });
    Validations.of(this.loadBalancer).acknowledge({
      id: 'AwsSolutions-ELB2',
      reason:
        `Each master's API server writes an audit log (${AUDIT_LOG_PATH}, rotated by the API server) of every request but the ` +
        'health probes: user, groups, source IP, verb, resource, name and response code, and the bodies of RBAC, admission and ' +
        'namespace writes; kept on its root volume, so it ends with the instance. ' +
        "The load balancer's logs would show only TLS handshakes.",
    });

    const certificate = props.certificateArn
      ? acm.Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn)
      : new acm.Certificate(this, 'Certificate', {
          domainName: props.domainName,
          validation: acm.CertificateValidation.fromDns(props.zone),
        });

    this.targetGroup = new elbv2.NetworkTargetGroup(this, 'Masters', {
      vpc: props.vpc,
      port: API_PORT,
      protocol: elbv2.Protocol.TLS,
      targets: [props.masters],
      deregistrationDelay: API_DEREGISTRATION_DELAY,
      healthCheck: {
        protocol: elbv2.Protocol.HTTPS,
        port: String(API_PORT),
        // /healthz is deprecated; /readyz fails while the API server can't serve (etcd gone).
        path: '/readyz',
        interval: Duration.seconds(10),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
      },
    });

    this.loadBalancer.addListener('Https', {
      port: API_PORT,
      protocol: elbv2.Protocol.TLS,
      certificates: [elbv2.ListenerCertificate.fromArn(certificate.certificateArn)],
      sslPolicy: elbv2.SslPolicy.TLS13_12_RES_PQ,
      defaultTargetGroups: [this.targetGroup],
    });

    new route53.ARecord(this, 'Alias', {
      zone: props.zone,
      recordName: `${props.domainName}.`,
      target: route53.RecordTarget.fromAlias(new route53Targets.LoadBalancerTarget(this.loadBalancer)),
    });
    this.url = `https://${props.domainName}`;
  }

  /** The load balancer's security group, to open the masters' API port to it. */
  get connections(): ec2.Connections {
    return this.loadBalancer.connections;
  }
}
