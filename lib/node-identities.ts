/**
 * The names of the masters' and workers' instance roles and instance profiles. The auth
 * webhook on the masters maps a session of one to a node (webhook/iam-authenticator.ts), so
 * its config names them, and that config is part of the masters' user data, built before
 * either stack exists: hence names, not references (the worker stack deploys after the master
 * stack, which could not refer to it anyway).
 */
import { NodeRoleMapping } from '../webhook/config';
import { ClusterConfig } from './config';

export type KubernetesNodeRole = 'master' | 'worker';

/** `<cluster>-<role>-node`: the role's and its instance profile's name (at most 40 characters). */
export function nodeIdentityName(clusterName: string, role: KubernetesNodeRole): string {
  return `${clusterName}-${role}-node`;
}

/** The ARNs of a node role and its instance profile. */
export function nodeRoleMapping(config: Pick<ClusterConfig, 'clusterName' | 'account' | 'partition'>, role: KubernetesNodeRole): NodeRoleMapping {
  const name = nodeIdentityName(config.clusterName, role);
  const iam = `arn:${config.partition}:iam::${config.account}`;
  return { roleArn: `${iam}:role/${name}`, instanceProfileArn: `${iam}:instance-profile/${name}` };
}

/**
 * `<cluster>-addon-applier`: the add-on applier's execution role (lib/constructs/addon-applier.ts),
 * which the auth webhook maps to an Administrator of the cluster. Named, for the same reason
 * as the node roles: the webhook's config is built before the role exists.
 */
export function addonApplierRoleName(clusterName: string): string {
  return `${clusterName}-addon-applier`;
}

/** Its ARN. */
export function addonApplierRoleArn(config: Pick<ClusterConfig, 'clusterName' | 'account' | 'partition'>): string {
  return `arn:${config.partition}:iam::${config.account}:role/${addonApplierRoleName(config.clusterName)}`;
}
