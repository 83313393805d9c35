import { Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { ClusterConfig } from '../config';
import { importClusterNetwork } from '../constructs/cluster-network';
import { ETCD_CLIENT_PORT, ETCD_PEER_PORT, EtcdDnsRecords } from '../constructs/etcd-dns-records';
import { EtcdMemberIdentities } from '../constructs/etcd-member-identities';
import { EtcdSnapshotBucket } from '../constructs/etcd-snapshot-bucket';
import { flatcarMachineImage } from '../constructs/flatcar-image';
import { NodeGroup } from '../constructs/node-group';
import { placeholderUserData } from '../constructs/placeholder-user-data';

export interface EtcdStackProps extends StackProps {
  /** The validated cluster configuration. */
  readonly config: ClusterConfig;
}

/** What the master stack needs of etcd. */
export interface EtcdClusterRef {
  /** The members' security group; clients are let in from the client's own stack. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** `https://etcd-N.etcd.<cluster>.<zone>:2379`, for `--etcd-servers` (which takes no SRV). */
  readonly clientUrls: readonly string[];
}

/** `<cluster>-etcd`: the cluster's own etcd, found through DNS SRV records. */
export class EtcdStack extends Stack implements EtcdClusterRef {
  readonly securityGroup: ec2.ISecurityGroup;
  readonly clientUrls: readonly string[];
  readonly members: NodeGroup;

  constructor(scope: Construct, id: string, props: EtcdStackProps) {
    super(scope, id, props);
    const { config } = props;
    const network = importClusterNetwork(this, config.network);
    const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: config.hostedZone.id,
      zoneName: config.hostedZone.name,
    });
    const domain = etcdDiscoveryDomain(config);

    this.members = new NodeGroup(this, 'Members', {
      clusterName: config.clusterName,
      role: 'etcd',
      vpc: network.vpc,
      subnets: network.nodeSubnets,
      instanceType: new ec2.InstanceType(config.etcd.instanceType),
      machineImage: flatcarMachineImage(this, config.flatcarAmi, config.region),
      userData: placeholderUserData(),
      members: config.etcd.count,
    });
    this.securityGroup = this.members.securityGroup;
    this.members.connections.allowInternally(ec2.Port.tcp(ETCD_CLIENT_PORT), 'etcd clients among members');
    this.members.connections.allowInternally(ec2.Port.tcp(ETCD_PEER_PORT), 'etcd peers');

    const identities = new EtcdMemberIdentities(this, 'Identities', {
      clusterName: config.clusterName,
      count: config.etcd.count,
      subnets: network.nodeSubnets,
      securityGroup: this.members.securityGroup,
    });
    identities.grantAttach(this.members.role);

    const records = new EtcdDnsRecords(this, 'Dns', {
      zone,
      domain,
      memberAddresses: identities.members.map((m) => m.privateIp),
    });
    this.clientUrls = records.memberNames.map((name) => `https://${name}:${ETCD_CLIENT_PORT}`);

    const snapshots = new EtcdSnapshotBucket(this, 'Snapshots', { bucketName: etcdSnapshotBucketName(config) });
    snapshots.grantSnapshotWrite(this.members.role);
  }
}

/** `etcd.<cluster>.<zone>`: the SRV discovery domain. */
export function etcdDiscoveryDomain(config: ClusterConfig): string {
  return `etcd.${config.clusterName}.${config.hostedZone.name}`;
}

/** Known at synth, so that the members' static config can name it. */
export function etcdSnapshotBucketName(config: ClusterConfig): string {
  return `${config.clusterName}-etcd-${config.account}-${config.region}`;
}
