import * as iam from 'aws-cdk-lib/aws-iam';
import { clusterTagKey } from './node-tags';

/**
 * What the out-of-tree aws-cloud-controller-manager on the masters needs: read the
 * instances and network, and manage the load balancers and security groups of
 * `type: LoadBalancer` Services. Changes are limited to resources tagged as the cluster's
 * own (the controller tags what it creates), instead of the 2016 `ec2:*` and
 * `elasticloadbalancing:*`.
 */
export function cloudControllerPolicy(clusterName: string): iam.PolicyStatement[] {
  const owned = { StringEquals: { [`aws:ResourceTag/${clusterTagKey(clusterName)}`]: 'owned' } };
  const tagsOnCreate = { StringEquals: { [`aws:RequestTag/${clusterTagKey(clusterName)}`]: 'owned' } };
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
      sid: 'CreateTaggedLoadBalancers',
      actions: [
        'ec2:CreateSecurityGroup',
        'elasticloadbalancing:CreateLoadBalancer',
        'elasticloadbalancing:CreateTargetGroup',
      ],
      resources: ['*'],
      conditions: tagsOnCreate,
    }),
    new iam.PolicyStatement({
      sid: 'TagOnCreate',
      actions: ['ec2:CreateTags', 'elasticloadbalancing:AddTags'],
      resources: ['*'],
      conditions: tagsOnCreate,
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
        'elasticloadbalancing:CreateListener',
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
  ];
}
