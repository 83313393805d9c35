import * as path from 'node:path';
import { CustomResource, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { customResourceProvider, nagResourcePrint } from './custom-resource-provider';
import { clusterTagKey } from './node-tags';
import { CSI_CLUSTER_NAME_TAG, ClusterCleanupProperties, OWNED, SERVICE_NAME_TAG } from '../cleanup/contract';
import { clusterOwnRecordNames } from '../../manifests/addons/external-dns';

/**
 * The handler sweeps for 11 minutes (lib/cleanup/handler.ts); the rest is a last pass. Under
 * the Provider framework's own 15-minute function, which waits for it.
 */
export const CLUSTER_CLEANUP_TIMEOUT = Duration.minutes(14);

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Properties of {@link ClusterCleanup}. */
export interface ClusterCleanupProps {
  /** The cluster's name: the `kubernetes.io/cluster/<name>` tag and external-dns' `--txt-owner-id`. */
  readonly clusterName: string;
  /** The cluster's hosted zone id: the only zone whose records it may delete. */
  readonly hostedZoneId: string;
  /** The cluster's hosted zone name: records go only under `<cluster>.<zone>` (external-dns' `--domain-filter`). */
  readonly hostedZoneName: string;
}

/**
 * On deletion, removes what Kubernetes created in AWS for the cluster: the cloud controller's
 * load balancers, target groups and security groups, the EBS CSI driver's detached volumes and
 * the Route 53 records external-dns owns. Create and Update do nothing. Call
 * {@link runAfterDeletionOf} with whatever runs those controllers (the masters), so that they
 * are gone, and cannot recreate anything, when it runs.
 */
export class ClusterCleanup extends Construct {
  /** The cleanup; whatever depends on it is deleted before it runs. */
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: ClusterCleanupProps) {
    super(scope, id);
    validate(props);
    const stack = Stack.of(this);
    const clusterDomain = `${props.clusterName}.${props.hostedZoneName.replace(/\.$/, '')}`.toLowerCase();

    const { handler, provider } = customResourceProvider(this, {
      description: `Deletes what Kubernetes created in AWS for ${props.clusterName} when its master stack is deleted`,
      entry: path.join(__dirname, '..', 'cleanup', 'handler.ts'),
      timeout: CLUSTER_CLEANUP_TIMEOUT,
    });
    const statements = cleanupStatements(stack, props, clusterDomain);
    for (const statement of statements) handler.addToRolePolicy(statement);

    const properties: ClusterCleanupProperties = {
      ClusterName: props.clusterName,
      HostedZoneId: props.hostedZoneId,
      ClusterDomain: clusterDomain,
    };
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::ClusterCleanup',
      properties,
    });

    // Every wildcard but Describe's `*` sits in a statement conditioned on the cluster's tags.
    const wildcards = statements.filter((s) => Object.keys(s.conditions ?? {}).length > 0 && s.actions.some((a) => a.startsWith('elasticloadbalancing:') || a.startsWith('ec2:'))).flatMap((s) => s.resources);
    Validations.of(handler).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Describe calls of EC2 and Elastic Load Balancing support no resource-level permissions; they read, never change.',
      },
      ...[...new Set(wildcards)].map((arn) => ({
        id: `AwsSolutions-IAM5[Resource::${nagResourcePrint(stack, arn)}]`,
        reason:
          'Load balancers, target groups, security groups and volumes that controllers created at run time, ids unknown: ' +
          "every delete requires the cluster's ownership tags on the resource.",
      })),
    );
  }

  /** Makes `constructs`, and every resource in them, be deleted before the cleanup runs. */
  public runAfterDeletionOf(...constructs: IConstruct[]): void {
    for (const construct of constructs) construct.node.addDependency(this.resource);
  }
}

/** Read anything (Describe has no resource scope); delete only what carries the cluster's tags; Route 53: DELETE in the zone, under the cluster's domain. */
function cleanupStatements(stack: Stack, props: ClusterCleanupProps, clusterDomain: string): iam.PolicyStatement[] {
  const clusterTag = `aws:ResourceTag/${clusterTagKey(props.clusterName)}`;
  const arn = (service: string, resource: string) => stack.formatArn({ service, resource, resourceName: '*' });
  const zone = stack.formatArn({ service: 'route53', region: '', account: '', resource: 'hostedzone', resourceName: props.hostedZoneId });
  return [
    // The handler sweeps only while its own stack is being deleted (lib/cleanup/handler.ts STACK_GOING_STATUSES).
    new iam.PolicyStatement({
      sid: 'ReadOwnStackStatus',
      actions: ['cloudformation:DescribeStacks'],
      resources: [stack.stackId],
    }),
    new iam.PolicyStatement({
      sid: 'FindWhatControllersCreated',
      actions: [
        'elasticloadbalancing:DescribeLoadBalancers',
        'elasticloadbalancing:DescribeTags',
        'elasticloadbalancing:DescribeTargetGroups',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeVolumes',
      ],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'DeleteTheCloudControllersLoadBalancers',
      // Classic (`loadbalancer/<name>`) and v2 (`loadbalancer/net/...`) ARNs, and target groups:
      // owned by the cluster and made for a Service (the controller's two tags).
      actions: ['elasticloadbalancing:DeleteLoadBalancer', 'elasticloadbalancing:DeleteTargetGroup'],
      resources: [
        stack.formatArn({ service: 'elasticloadbalancing', resource: 'loadbalancer/*' }),
        stack.formatArn({ service: 'elasticloadbalancing', resource: 'targetgroup/*' }),
      ],
      conditions: { StringEquals: { [clusterTag]: OWNED }, Null: { [`aws:ResourceTag/${SERVICE_NAME_TAG}`]: 'false' } },
    }),
    new iam.PolicyStatement({
      sid: 'DeleteTheCloudControllersSecurityGroups',
      actions: ['ec2:DeleteSecurityGroup'],
      resources: [arn('ec2', 'security-group')],
      // Never a stack's own group (CloudFormation tags its resources aws:cloudformation:stack-id).
      conditions: { StringEquals: { [clusterTag]: OWNED }, Null: { 'aws:ResourceTag/aws:cloudformation:stack-id': 'true' } },
    }),
    new iam.PolicyStatement({
      sid: 'DeleteTheEbsCsiDriversVolumes',
      // Both tags: the cluster tag alone also marks etcd's retained data volumes.
      actions: ['ec2:DeleteVolume'],
      resources: [arn('ec2', 'volume')],
      conditions: { StringEquals: { [clusterTag]: OWNED, [`aws:ResourceTag/${CSI_CLUSTER_NAME_TAG}`]: props.clusterName } },
    }),
    new iam.PolicyStatement({
      sid: 'ReadTheClusterZone',
      actions: ['route53:ListResourceRecordSets'],
      resources: [zone],
    }),
    new iam.PolicyStatement({
      sid: 'DeleteExternalDnsRecords',
      actions: ['route53:ChangeResourceRecordSets'],
      resources: [zone],
      conditions: {
        'ForAllValues:StringEquals': { 'route53:ChangeResourceRecordSetsActions': ['DELETE'] },
        // Lowercase, no trailing dot: as external-dns' own role (manifests/addons/external-dns.ts).
        'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': [`*.${clusterDomain}`] },
      },
    }),
    // ... never the names the stacks keep there themselves (as external-dns' own role).
    new iam.PolicyStatement({
      sid: 'NeverTheClustersOwnRecords',
      effect: iam.Effect.DENY,
      actions: ['route53:ChangeResourceRecordSets'],
      resources: [zone],
      conditions: { 'ForAnyValue:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': clusterOwnRecordNames(clusterDomain) } },
    }),
  ];
}

function validate(props: ClusterCleanupProps): void {
  const fail = (message: string): never => {
    throw new Error(`ClusterCleanup: ${message}`);
  };
  for (const [key, value] of Object.entries(props)) {
    if (Token.isUnresolved(value)) fail(`${key} must be a literal string known at synth time, not a token; got ${value}`);
  }
  if (!DNS_LABEL.test(props.clusterName)) fail(`clusterName must be a DNS label, e.g. 'kube-aws-test-1'; got '${props.clusterName}'`);
  if (!/^Z[A-Z0-9]{1,31}$/.test(props.hostedZoneId)) fail(`hostedZoneId must be a Route 53 zone id, e.g. 'Z0123456789EXAMPLE'; got '${props.hostedZoneId}'`);
}
