/**
 * Tags every node carries. A node reads its own tags at boot (EC2 DescribeTags) to learn
 * its role, its member index and where to send its health signal: instance-metadata tags
 * can't serve, because they refuse keys with '/' such as the cluster tag.
 */
export const NODE_TAGS = {
  role: 'kubernetes-on-aws:role',
  /** The CloudFormation stack of the node's Auto Scaling group. */
  cfnStack: 'kubernetes-on-aws:cfn-stack',
  /** The logical id of the node's Auto Scaling group: where its health signal goes. */
  cfnResource: 'kubernetes-on-aws:cfn-resource',
  /**
   * On a launch template's instances and volumes: the `forceRoll` token. A new token is a new
   * launch template version, which rolls the group (and changes nothing else).
   */
  forceRoll: 'kubernetes-on-aws:force-roll',
  /** The member index of a node with a stable identity (etcd). */
  member: (role: string) => `kubernetes-on-aws:${role}-member`,
} as const;

/** `kubernetes.io/cluster/<cluster>`: what the AWS cloud controller manager and autoscaler look for. */
export { clusterTagKey } from '../../manifests/addons/addon';
