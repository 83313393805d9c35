/**
 * The names the webhook gives the identities it authenticates. Apart from the authenticators
 * (which load AWS SDK clients) because the stacks name them too.
 */
import { RoleName } from './config';

/** The group of every kubelet (the Node authorizer's, kubernetes/kubernetes plugin/pkg/auth/authorizer/node). */
export const NODES_GROUP = 'system:nodes';
/** A node's user name prefix, which the Node authorizer and NodeRestriction read. */
export const NODE_USER_PREFIX = 'system:node:';
/** The groups IAM principals get for their role; token-info may never hand them out (token-info-client.ts). */
const IAM_ROLE_GROUP_PREFIX = 'kubernetes-on-aws:iam:';

export function iamRoleGroup(role: RoleName): string {
  return `${IAM_ROLE_GROUP_PREFIX}${role}`;
}
