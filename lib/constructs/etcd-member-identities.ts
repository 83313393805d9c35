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
      const memberTag = { key: NODE_TAGS.member('etcd'), value: String(index) };
      const clusterTag = { key: clusterTagKey(props.clusterName), value: 'owned' };
      const networkInterface = new ec2.CfnNetworkInterface(this, `Member${index}Interface`, {
        subnetId: subnet.subnetId,
        groupSet: [props.securityGroup.securityGroupId],
        description: `${props.clusterName} etcd-${index}`,
        tags: [memberTag, clusterTag, { key: 'Name', value: `${props.clusterName}-etcd-${index}` }],
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
      for (const tag of [memberTag, clusterTag]) Tags.of(dataVolume).add(tag.key, tag.value);
      Validations.of(dataVolume).acknowledge({
        id: 'CloudFormation-Validate::W3010',
        reason: "A volume can only attach in its own zone: it must be the zone of its member's subnet, which the configuration names.",
      });
      return { index, privateIp: networkInterface.attrPrimaryPrivateIpAddress, networkInterface, dataVolume };
    });
  }

  /** Lets the members' instances find and attach their interface and volume. */
  grantAttach(grantee: iam.IGrantable): void {
    const stack = Stack.of(this);
    const arn = (resource: string, resourceName: string) => stack.formatArn({ service: 'ec2', resource, resourceName });
    iam.Grant.addToPrincipal({
      grantee,
      // Describe calls support no resource-level permissions.
      actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeVolumes'],
      resourceArns: ['*'],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['ec2:AttachNetworkInterface', 'ec2:AttachVolume'],
      resourceArns: [
        ...this.members.map((m) => arn('network-interface', m.networkInterface.ref)),
        ...this.members.map((m) => arn('volume', m.dataVolume.volumeId)),
        arn('instance', '*'),
      ],
      // Only the cluster's own instances, which carry its tag like the interfaces and volumes.
      conditions: { StringEquals: { [`aws:ResourceTag/${clusterTagKey(this.clusterName)}`]: 'owned' } },
    });
    Validations.of(grantee.grantPrincipal instanceof iam.Role ? grantee.grantPrincipal : this).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${arn('instance', '*')}]`,
      reason: "Attaching needs the instance too, unknown before launch; the condition limits it to the cluster's own instances.",
    });
  }
}
