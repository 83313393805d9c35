import { Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { clusterTagKey } from './node-tags';

/** The ELB calls that create a resource and tag it in the same request (the controller's tags). */
const ELB_CREATE_ACTIONS = ['CreateListener', 'CreateLoadBalancer', 'CreateTargetGroup'] as const;

/** The ELB resources the controller creates: load balancers (classic, network), their listeners and target groups. */
const ELB_RESOURCES = ['loadbalancer/*', 'listener/*', 'targetgroup/*'] as const;

/** The service-linked role ELB needs once per account, created by the first load balancer. */
const ELB_SERVICE = 'elasticloadbalancing.amazonaws.com';

/**
 * Tagging an existing resource: no `kubernetes.io/cluster/*` key, and some tag key present
 * (ForAllValues holds when aws:TagKeys is absent or empty: IAM User Guide, "Multivalued
 * context key examples"; the Null check closes that).
 */
const NO_CLUSTER_TAG_KEYS = {
  'ForAllValues:StringNotLike': { 'aws:TagKeys': [clusterTagKey('*')] },
  Null: { 'aws:TagKeys': 'false' },
};

export interface CloudControllerPolicyProps {
  /** The cluster: its tag `kubernetes.io/cluster/<name>=owned` marks what the controller owns. */
  readonly clusterName: string;
  /** The cluster's VPC: the only one the controller creates security groups in. */
  readonly vpc: ec2.IVpc;
}

/**
 * Gives `role` (the masters') what the out-of-tree aws-cloud-controller-manager needs, and
 * acknowledges the resource wildcards that tagging conditions narrow.
 */
export function grantCloudController(role: iam.IRole, props: CloudControllerPolicyProps): void {
  for (const statement of cloudControllerPolicy(props)) role.addToPrincipalPolicy(statement);
  const stack = Stack.of(props.vpc);
  const wildcards = [
    stack.formatArn({ service: 'ec2', resource: 'security-group', resourceName: '*' }),
    ...ELB_RESOURCES.map((resource) => stack.formatArn({ service: 'elasticloadbalancing', resource })),
  ];
  Validations.of(role).acknowledge(
    ...wildcards.map((resource) => ({
      id: `AwsSolutions-IAM5[Resource::${stack.resolve(resource)}]`,
      reason:
        'Security groups and load balancers the controller has yet to create: every statement on them requires ' +
        "the cluster's tag in the creating request, or on the resource already.",
    })),
  );
}

/**
 * What the out-of-tree aws-cloud-controller-manager on the masters needs: read the
 * instances and network, and manage the load balancers and security groups of
 * `type: LoadBalancer` Services (the control-plane policy of kubernetes/cloud-provider-aws
 * docs/prerequisites.md, scoped as kops v1.36.2 pkg/model/iam/iam_builder.go
 * AddCCMPermissions / AddEC2CreateAction scope it).
 *
 * Tagging is what ownership rests on, so a tag can only be set in the request that creates
 * the resource (`ec2:CreateAction`, `elasticloadbalancing:CreateAction`), or on what the
 * cluster owns already, and then never a `kubernetes.io/cluster/*` key: the role can't make
 * another resource of the account the cluster's own, nor its own another cluster's. The
 * controller retags no security group the cluster owns (it tags them in CreateSecurityGroup;
 * read-repair, cloud-provider-aws v1.35.2 pkg/providers/v1/tags.go readRepairClusterTags ->
 * createTags, writes only with this cluster's own key in the request), so nothing allows it.
 */
function cloudControllerPolicy(props: CloudControllerPolicyProps): iam.PolicyStatement[] {
  const clusterTag = clusterTagKey(props.clusterName);
  const stack = Stack.of(props.vpc);
  const ec2Arn = (resource: string, resourceName: string) => stack.formatArn({ service: 'ec2', resource, resourceName });
  const elbArns = ELB_RESOURCES.map((resource) => stack.formatArn({ service: 'elasticloadbalancing', resource }));
  const securityGroups = ec2Arn('security-group', '*');
  const owned = { StringEquals: { [`aws:ResourceTag/${clusterTag}`]: 'owned' } };
  const createdOwned = { [`aws:RequestTag/${clusterTag}`]: 'owned' };
  return [
    new iam.PolicyStatement({
      sid: 'ReadInventory',
      // Describe and list calls support no resource-level permissions.
      actions: [
        'autoscaling:DescribeAutoScalingGroups',
        'autoscaling:DescribeLaunchConfigurations',
        'autoscaling:DescribeTags',
        'ec2:DescribeAvailabilityZones',
        'ec2:DescribeInstances',
        // Topology labels (cloud-provider-aws v1.35.2 pkg/providers/v1/topology.go; only a warning without it).
        'ec2:DescribeInstanceTopology',
        'ec2:DescribeRegions',
        'ec2:DescribeRouteTables',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeSubnets',
        'ec2:DescribeVpcs',
        'elasticloadbalancing:DescribeListeners',
        'elasticloadbalancing:DescribeLoadBalancerAttributes',
        'elasticloadbalancing:DescribeLoadBalancerPolicies',
        'elasticloadbalancing:DescribeLoadBalancers',
        'elasticloadbalancing:DescribeTargetGroupAttributes',
        'elasticloadbalancing:DescribeTargetGroups',
        'elasticloadbalancing:DescribeTargetHealth',
        'kms:DescribeKey',
      ],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'CreateTaggedSecurityGroups',
      // The controller tags the group in CreateSecurityGroup itself (TagSpecifications:
      // cloud-provider-aws v1.35.2 pkg/providers/v1/aws.go ensureSecurityGroup).
      actions: ['ec2:CreateSecurityGroup'],
      resources: [securityGroups],
      conditions: { StringEquals: createdOwned },
    }),
    new iam.PolicyStatement({
      sid: 'CreateSecurityGroupsInTheClusterVpc',
      // The VPC half of CreateSecurityGroup has no request tag to check: name the VPC instead.
      actions: ['ec2:CreateSecurityGroup'],
      resources: [ec2Arn('vpc', props.vpc.vpcId)],
    }),
    new iam.PolicyStatement({
      sid: 'TagSecurityGroupsOnCreate',
      actions: ['ec2:CreateTags'],
      resources: [securityGroups],
      conditions: { StringEquals: { ...createdOwned, 'ec2:CreateAction': 'CreateSecurityGroup' } },
    }),
    new iam.PolicyStatement({
      sid: 'CreateTaggedLoadBalancers',
      actions: ELB_CREATE_ACTIONS.map((action) => `elasticloadbalancing:${action}`),
      resources: ['*'],
      conditions: { StringEquals: createdOwned },
    }),
    new iam.PolicyStatement({
      sid: 'TagLoadBalancersOnCreate',
      // Tags in a Create* request are authorized as AddTags too (ELB User Guide, "ELB API
      // permissions to tag resources during creation").
      actions: ['elasticloadbalancing:AddTags'],
      resources: elbArns,
      conditions: { StringEquals: { ...createdOwned, 'elasticloadbalancing:CreateAction': [...ELB_CREATE_ACTIONS] } },
    }),
    new iam.PolicyStatement({
      sid: 'RetagOwnedLoadBalancers',
      // A Service's extra tags (its additional-resource-tags annotation) on its existing classic
      // load balancer: cloud-provider-aws v1.35.2 pkg/providers/v1/aws_loadbalancer.go
      // ensureLoadBalancer -> aws.go addLoadBalancerTags, the only tag write it makes on an
      // existing resource (its own cluster tag is set in the Create* request). No cluster key
      // at all: `kubernetes.io/cluster/<other>=owned` would hand the load balancer to another
      // cluster's controller and IAM.
      actions: ['elasticloadbalancing:AddTags'],
      resources: [stack.formatArn({ service: 'elasticloadbalancing', resource: 'loadbalancer/*' })],
      conditions: { ...owned, ...NO_CLUSTER_TAG_KEYS },
    }),
    new iam.PolicyStatement({
      sid: 'ManageOwnedLoadBalancers',
      actions: [
        'ec2:AuthorizeSecurityGroupIngress',
        'ec2:RevokeSecurityGroupIngress',
        'ec2:DeleteSecurityGroup',
        'ec2:ModifyInstanceAttribute',
        'elasticloadbalancing:ApplySecurityGroupsToLoadBalancer',
        'elasticloadbalancing:AttachLoadBalancerToSubnets',
        'elasticloadbalancing:ConfigureHealthCheck',
        'elasticloadbalancing:CreateLoadBalancerListeners',
        'elasticloadbalancing:CreateLoadBalancerPolicy',
        'elasticloadbalancing:DeleteListener',
        'elasticloadbalancing:DeleteLoadBalancer',
        'elasticloadbalancing:DeleteLoadBalancerListeners',
        'elasticloadbalancing:DeleteTargetGroup',
        'elasticloadbalancing:DeregisterInstancesFromLoadBalancer',
        'elasticloadbalancing:DeregisterTargets',
        'elasticloadbalancing:DetachLoadBalancerFromSubnets',
        'elasticloadbalancing:ModifyListener',
        'elasticloadbalancing:ModifyLoadBalancerAttributes',
        'elasticloadbalancing:ModifyTargetGroup',
        'elasticloadbalancing:ModifyTargetGroupAttributes',
        'elasticloadbalancing:RegisterInstancesWithLoadBalancer',
        'elasticloadbalancing:RegisterTargets',
        'elasticloadbalancing:SetLoadBalancerPoliciesForBackendServer',
        'elasticloadbalancing:SetLoadBalancerPoliciesOfListener',
      ],
      resources: ['*'],
      conditions: owned,
    }),
    new iam.PolicyStatement({
      sid: 'CreateTheLoadBalancingServiceLinkedRole',
      // An account's first load balancer creates ELB's service-linked role.
      actions: ['iam:CreateServiceLinkedRole'],
      resources: [
        stack.formatArn({
          service: 'iam',
          region: '',
          resource: 'role',
          resourceName: `aws-service-role/${ELB_SERVICE}/AWSServiceRoleForElasticLoadBalancing`,
        }),
      ],
      conditions: { StringEquals: { 'iam:AWSServiceName': ELB_SERVICE } },
    }),
  ];
}
