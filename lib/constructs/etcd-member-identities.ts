import { RemovalPolicy, Size, Stack, Tags, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { NODE_TAGS, clusterTagKey } from './node-tags';

/** kops' default etcd volume size: etcd's own quota is 2 GiB (8 at most); the rest is headroom for its WAL and snapshots. */
export const DEFAULT_ETCD_VOLUME_SIZE = Size.gibibytes(20);

/** What makes a member the same member across instance replacements. */
export interface EtcdMemberIdentity {
  readonly index: number;
  /** The fixed private address of the member's network interface: its DNS A record. */
  readonly privateIp: string;
  readonly networkInterface: ec2.CfnNetworkInterface;
  readonly dataVolume: ec2.Volume;
}

export interface EtcdMemberIdentitiesProps {
  /** The cluster; its tag marks what its nodes may attach. */
  readonly clusterName: string;
  /** How many members; member N lives in `subnets[N % subnets.length]`. */
  readonly count: number;
  /** The subnets of the members. */
  readonly subnets: readonly ec2.ISubnet[];
  /** The security group of the members' network interfaces. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** The size of each member's data volume. @default 20 GiB */
  readonly dataVolumeSize?: Size;
}

/**
 * One network interface (a fixed address) and one data volume per etcd member, created
 * outside the members' Auto Scaling groups so that they outlive any instance. A new
 * instance of member N finds both by their tags and attaches them at boot.
 */
export class EtcdMemberIdentities extends Construct {
  readonly members: readonly EtcdMemberIdentity[];
  private readonly clusterName: string;

  constructor(scope: Construct, id: string, props: EtcdMemberIdentitiesProps) {
    super(scope, id);
    if (props.subnets.length === 0) throw new Error(`EtcdMemberIdentities: 'subnets' must name at least one subnet`);
    this.clusterName = props.clusterName;
    this.members = Array.from({ length: props.count }, (_, index) => {
      const subnet = props.subnets[index % props.subnets.length];
      // The tags the member's instance carries too: the attach grant requires them on both.
      const identityTags = Object.entries(memberTags(props.clusterName, index)).map(([key, value]) => ({ key, value }));
      const networkInterface = new ec2.CfnNetworkInterface(this, `Member${index}Interface`, {
        subnetId: subnet.subnetId,
        groupSet: [props.securityGroup.securityGroupId],
        description: `${props.clusterName} etcd-${index}`,
        tags: [...identityTags, { key: 'Name', value: `${props.clusterName}-etcd-${index}` }],
      });
      const dataVolume = new ec2.Volume(this, `Member${index}Data`, {
        availabilityZone: subnet.availabilityZone,
        size: props.dataVolumeSize ?? DEFAULT_ETCD_VOLUME_SIZE,
        volumeType: ec2.EbsDeviceVolumeType.GP3,
        encrypted: true,
        // The data must survive the member's instances, and the stack itself.
        removalPolicy: RemovalPolicy.RETAIN,
        volumeName: `${props.clusterName}-etcd-${index}`,
      });
      for (const tag of identityTags) Tags.of(dataVolume).add(tag.key, tag.value);
      Validations.of(dataVolume).acknowledge({
        id: 'CloudFormation-Validate::W3010',
        reason: "A volume can only attach in its own zone: it must be the zone of its member's subnet, which the configuration names.",
      });
      return { index, privateIp: networkInterface.attrPrimaryPrivateIpAddress, networkInterface, dataVolume };
    });
  }

  /**
   * Lets member `member`'s instances find and attach that member's interface and volume,
   * and nothing else: both halves of each attach call (the instance, the interface or
   * volume) must carry the cluster tag, the etcd role tag and the member's index, so a
   * member's role can't attach anything to a master or worker, nor take another member's
   * identity. No detach: a replaced instance lets go when it terminates.
   */
  grantAttach(grantee: iam.IGrantable, member: number): void {
    const identity = this.members[member];
    if (!identity) {
      throw new Error(`EtcdMemberIdentities.grantAttach: member must be an integer from 0 to ${this.members.length - 1}, got ${member}`);
    }
    const stack = Stack.of(this);
    const arn = (resource: string, resourceName: string) => stack.formatArn({ service: 'ec2', resource, resourceName });
    iam.Grant.addToPrincipal({
      grantee,
      // Describe calls support no resource-level permissions.
      actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeVolumes'],
      resourceArns: ['*'],
    });
    const requiredTags = Object.fromEntries(
      Object.entries(memberTags(this.clusterName, member)).map(([key, value]) => [`aws:ResourceTag/${key}`, value]),
    );
    iam.Grant.addToPrincipal({
      grantee,
      actions: [...ATTACH_ACTIONS],
      resourceArns: [
        arn('network-interface', identity.networkInterface.ref),
        arn('volume', identity.dataVolume.volumeId),
        arn('instance', '*'),
      ],
      conditions: { StringEquals: requiredTags },
    });
    Validations.of(grantee.grantPrincipal instanceof iam.Role ? grantee.grantPrincipal : this).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${arn('instance', '*')}]`,
      reason: "Attaching needs the instance too, unknown before launch; the conditions limit it to the member's own etcd instances.",
    });
  }
}

/** The attach calls a member makes at boot (userdata/etcd.ts, etcd-attach). */
const ATTACH_ACTIONS = ['ec2:AttachNetworkInterface', 'ec2:AttachVolume'] as const;

/** What marks member N's instances, interface and volume: cluster, role and member index. */
function memberTags(clusterName: string, member: number): Record<string, string> {
  return {
    [clusterTagKey(clusterName)]: 'owned',
    [NODE_TAGS.role]: 'etcd',
    [NODE_TAGS.member('etcd')]: String(member),
  };
}
