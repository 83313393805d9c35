import { Duration, Token, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53Targets from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import { AUDIT_LOG_PATH } from '../../userdata/audit-policy';
import { API_SERVER_PORT } from '../../userdata/network';
import { API_DEREGISTRATION_DELAY } from './api-load-balancer';

/** HTTPS's default port, so the internal URL needs none: `https://internal.<cluster>.<zone>`. */
export const INTERNAL_API_PORT = 443;

/**
 * ELB's bounds for `deregistration_delay.timeout_seconds` (AWS docs, "Edit target group
 * attributes for your Network Load Balancer", Deregistration delay: 0-3600 seconds).
 */
const MAX_DEREGISTRATION_DELAY_SECONDS = 3600;

/**
 * How the load balancer decides a master may take connections: the API server's `/readyz`,
 * as the public load balancer does. A TCP check would only say the port is open: the API
 * server accepts connections while it starts, while it cannot reach etcd and while it
 * shuts down, and `/readyz` fails in exactly those cases. The check does not verify the
 * certificate (AWS docs, "Health checks for Network Load Balancer target groups": the load
 * balancer does not validate target certificates); it needs none, because it decides only
 * where connections go: every client still checks the API server's certificate itself
 * against the cluster CA. `/readyz` is open to anonymous requests on purpose
 * (userdata/master.ts AUTHENTICATION_CONFIGURATION). NLB HTTPS checks need TLS 1.2 on the
 * target: the API server's default minimum (`--tls-min-version`, VersionTLS12).
 */
export const INTERNAL_API_HEALTH_CHECK: elbv2.HealthCheck = {
  protocol: elbv2.Protocol.HTTPS,
  port: String(API_SERVER_PORT),
  path: '/readyz',
  interval: Duration.seconds(10),
  healthyThresholdCount: 2,
  unhealthyThresholdCount: 2,
};

const DNS_LABEL = '[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?';
const DNS_NAME = new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})+$`);

/** Properties of {@link InternalApiEndpoint}. */
export interface InternalApiEndpointProps {
  /** The VPC of the cluster. */
  readonly vpc: ec2.IVpc;

  /**
   * The nodes' private subnets, at most one per availability zone: the load balancer gets
   * an address in each, where nodes (and in-VPC clients) reach it without NAT.
   */
  readonly subnets: readonly ec2.ISubnet[];

  /**
   * The endpoint's name, `internal.<cluster>.<zone>` (userdata/types.ts internalApiDnsName).
   * The API server certificate must name it (lib/secrets/sans.ts apiServerSans does).
   */
  readonly domainName: string;

  /** The hosted zone `domainName` is in; its alias record is created there. */
  readonly zone: route53.IHostedZone;

  /** The masters: registered by instance, their API port opened to this load balancer. */
  readonly masters: autoscaling.AutoScalingGroup;

  /**
   * How long a master leaving the group keeps its open connections (watches reconnect anyway).
   * @default API_DEREGISTRATION_DELAY (60 seconds, as the public endpoint)
   */
  readonly deregistrationDelay?: Duration;
}

/**
 * The cluster's internal API endpoint `https://internal.<cluster>.<zone>`: an internal
 * Network Load Balancer in the node subnets passing TCP 443 through to the masters' API
 * servers, so the API server's own certificate (cluster CA) is what clients see. Nodes
 * and in-VPC clients use it; nothing inside the cluster needs the public endpoint, NAT
 * or `apiAllowedCidrs`. Its security group admits nobody until a client is let in with
 * `connections.allowFrom(client, ec2.Port.tcp(INTERNAL_API_PORT))`.
 *
 * Masters are instance targets (the Auto Scaling group registers them), so the client's
 * address is preserved: the API server's audit log shows the node that called. The price
 * is that a master cannot use this endpoint: a connection the load balancer sends back
 * to the master it came from has the same source and destination address and times out
 * (AWS docs, "Troubleshoot your Network Load Balancer": internal load balancers do not
 * support hairpinning with instance targets). Masters talk to their own API server on
 * 127.0.0.1 (userdata/master.ts LOCAL_API_SERVER), so nothing is lost; IP targets
 * without client IP preservation would allow the hairpin but need a registration
 * function for the masters' addresses and hide every caller behind the load balancer's.
 */
export class InternalApiEndpoint extends Construct implements ec2.IConnectable {
  /** The internal Network Load Balancer. */
  readonly loadBalancer: elbv2.NetworkLoadBalancer;
  /** The masters, by instance, on the API server's port. */
  readonly targetGroup: elbv2.NetworkTargetGroup;
  /** The load balancer's security group: let clients in through {@link connections}. */
  readonly securityGroup: ec2.SecurityGroup;
  /** `internal.<cluster>.<zone>`. */
  readonly domainName: string;
  /** `https://internal.<cluster>.<zone>`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: InternalApiEndpointProps) {
    super(scope, id);
    validate(props);
    this.domainName = props.domainName;

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `Internal API load balancer of ${props.domainName}`,
      // Egress only to the masters' API port (below), ingress only from clients let in later.
      allowAllOutbound: false,
    });

    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      vpcSubnets: { subnets: [...props.subnets] },
      internetFacing: false,
      // Each load balancer node may pick any healthy master, not only those in its zone.
      crossZoneEnabled: true,
      securityGroups: [this.securityGroup],
    });
    Validations.of(this.loadBalancer).acknowledge({
      id: 'AwsSolutions-ELB2',
      reason:
        'TCP passthrough: NLB access logs are written only for TLS listeners (AWS docs, "Access logs for your Network ' +
        `Load Balancer"), so they would stay empty. Each master's API server audit log (${AUDIT_LOG_PATH}) records ` +
        "every request but the health probes with its source IP, which is the caller's own: client IP preservation is on.",
    });

    this.targetGroup = new elbv2.NetworkTargetGroup(this, 'Masters', {
      vpc: props.vpc,
      port: API_SERVER_PORT,
      protocol: elbv2.Protocol.TCP,
      targets: [props.masters],
      // Instance targets preserve it by default; said here because the audit log and the
      // hairpin note above depend on it.
      preserveClientIp: true,
      deregistrationDelay: props.deregistrationDelay ?? API_DEREGISTRATION_DELAY,
      healthCheck: INTERNAL_API_HEALTH_CHECK,
    });

    this.loadBalancer.addListener('Api', {
      port: INTERNAL_API_PORT,
      // No TLS termination: the API server presents its own certificate.
      protocol: elbv2.Protocol.TCP,
      defaultTargetGroups: [this.targetGroup],
    });

    // Client traffic and health checks both arrive from the load balancer's security group,
    // which the masters may reference even with client IP preservation on (AWS docs, "Update
    // the security groups for your Network Load Balancer").
    props.masters.connections.allowFrom(this.loadBalancer, ec2.Port.tcp(API_SERVER_PORT), 'API from its internal load balancer');

    new route53.ARecord(this, 'Alias', {
      zone: props.zone,
      recordName: `${props.domainName}.`,
      target: route53.RecordTarget.fromAlias(new route53Targets.LoadBalancerTarget(this.loadBalancer)),
    });
    this.url = `https://${props.domainName}`;
  }

  /** The load balancer's security group: `connections.allowFrom(client, ...)` lets a client in. */
  get connections(): ec2.Connections {
    return this.loadBalancer.connections;
  }
}

function validate(props: InternalApiEndpointProps): void {
  if (props.subnets.length === 0) {
    throw new Error("InternalApiEndpoint: 'subnets' must name at least one node subnet, got none");
  }
  const subnetIds = props.subnets.map((subnet) => subnet.subnetId).filter((subnetId) => !Token.isUnresolved(subnetId));
  const repeated = subnetIds.find((subnetId, i) => subnetIds.indexOf(subnetId) !== i);
  if (repeated) {
    throw new Error(`InternalApiEndpoint: 'subnets' names ${repeated} twice; give each subnet once`);
  }
  if (!Token.isUnresolved(props.domainName)) {
    if (!DNS_NAME.test(props.domainName)) {
      throw new Error(`InternalApiEndpoint: 'domainName' must be a lowercase DNS name without trailing dot, got '${props.domainName}'`);
    }
    const zoneName = props.zone.zoneName;
    if (!Token.isUnresolved(zoneName) && !props.domainName.endsWith(`.${zoneName}`)) {
      throw new Error(`InternalApiEndpoint: 'domainName' '${props.domainName}' is not inside the hosted zone '${zoneName}'`);
    }
  }
  // Duration itself refuses negative amounts; ELB refuses more than an hour, but only at deploy time.
  const seconds = props.deregistrationDelay?.toSeconds();
  if (seconds !== undefined && !Token.isUnresolved(seconds) && seconds > MAX_DEREGISTRATION_DELAY_SECONDS) {
    throw new Error(`InternalApiEndpoint: 'deregistrationDelay' must be 0 to ${MAX_DEREGISTRATION_DELAY_SECONDS} seconds, got ${seconds}`);
  }
}
