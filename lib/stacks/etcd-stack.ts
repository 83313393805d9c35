import { Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ClusterConfig } from '../config';
import { importClusterNetwork, importHostedZone } from '../constructs/cluster-network';
import { EtcdDnsRecords } from '../constructs/etcd-dns-records';
import { ETCD_CLIENT_PORT, ETCD_PEER_PORT } from '../../userdata/network';
import { EtcdMemberIdentities } from '../constructs/etcd-member-identities';
import { EtcdSnapshotBucket } from '../constructs/etcd-snapshot-bucket';
import { flatcarMachineImage } from '../constructs/flatcar-image';
import { NodeGroup } from '../constructs/node-group';
import { ClusterSecrets } from '../constructs/cluster-secrets';
import { IgnitionUserData } from '../constructs/ignition-user-data';
import { LeftoverCheck } from '../constructs/leftover-check';
import { NODE_TAGS, clusterTagKey } from '../constructs/node-tags';
import { ClusterSecretNames } from '../../userdata/secret-names';
import { etcdConfig } from '../../userdata';
import { etcdDomain } from '../../userdata/types';

export interface EtcdStackProps extends StackProps {
  /** The validated cluster configuration. */
  readonly config: ClusterConfig;
}

/** What the master stack needs of etcd. */
export interface EtcdClusterRef {
  /** The members' security group; clients are let in from the client's own stack. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** `etcd-N.etcd.<cluster>.<zone>`, in member order: `--etcd-servers` takes a list, no SRV. */
  readonly memberNames: readonly string[];
  /** Lets an etcd client (the API server) read its client certificate. */
  grantClientCertificateRead(grantee: iam.IGrantable): void;
}

/** `<cluster>-etcd`: the cluster's own etcd, found through DNS SRV records. */
export class EtcdStack extends Stack implements EtcdClusterRef {
  readonly securityGroup: ec2.ISecurityGroup;
  readonly memberNames: readonly string[];
  readonly members: NodeGroup;
  readonly userData: IgnitionUserData;
  private readonly secrets: ClusterSecrets;

  constructor(scope: Construct, id: string, props: EtcdStackProps) {
    super(scope, id, props);
    const { config } = props;
    const network = importClusterNetwork(this, config.network);
    const zone = importHostedZone(this, config.hostedZone);
    const domain = etcdDomain({ cluster: config.clusterName, zone: config.hostedZone.name });
    const snapshotBucketName = etcdSnapshotBucketName(config);

    this.userData = new IgnitionUserData(this, 'UserData', {
      config: etcdConfig({
        cluster: config.clusterName,
        zone: config.hostedZone.name,
        region: config.region,
        snapshotBucket: snapshotBucketName,
        memberCount: config.etcd.count,
      }),
    });

    this.members = new NodeGroup(this, 'Members', {
      clusterName: config.clusterName,
      role: 'etcd',
      vpc: network.vpc,
      subnets: network.nodeSubnets,
      instanceType: new ec2.InstanceType(config.etcd.instanceType),
      machineImage: flatcarMachineImage(this, config.flatcarAmi, config.region),
      userData: this.userData.userData,
      members: config.etcd.count,
    });
    this.securityGroup = this.members.securityGroup;
    for (const role of this.members.roles) this.userData.grantRead(role);
    this.members.connections.allowInternally(ec2.Port.tcp(ETCD_CLIENT_PORT), 'etcd clients among members');
    this.members.connections.allowInternally(ec2.Port.tcp(ETCD_PEER_PORT), 'etcd peers');

    const identities = new EtcdMemberIdentities(this, 'Identities', {
      clusterName: config.clusterName,
      count: config.etcd.count,
      subnets: network.nodeSubnets,
      securityGroup: this.members.securityGroup,
    });

    const records = new EtcdDnsRecords(this, 'Dns', {
      zone,
      domain,
      memberAddresses: identities.members.map((m) => m.privateIp),
    });
    this.memberNames = records.memberNames;

    const snapshots = new EtcdSnapshotBucket(this, 'Snapshots', { bucketName: snapshotBucketName });

    this.secrets = new ClusterSecrets(this, 'Secrets', {
      set: 'etcd',
      clusterName: config.clusterName,
      zoneName: config.hostedZone.name,
      etcdMemberCount: config.etcd.count,
      regenerate: config.secretsGeneration.etcd,
    });
    this.members.launchAfter(this.secrets.resource);

    // A destroyed cluster of this name may hold these names: stop before creating them, and
    // before the retained data volumes, which a rolled-back create would leave behind.
    new LeftoverCheck(this, 'LeftoverCheck', {
      clusterName: config.clusterName,
      secretNames: new ClusterSecretNames(config.clusterName).ofSet('etcd', config.etcd.count),
      bucketName: snapshotBucketName,
      retainedVolumeFilters: [
        `Name=tag:${clusterTagKey(config.clusterName)},Values=owned`,
        `Name=tag-key,Values=${NODE_TAGS.member('etcd')}`,
      ],
    }).guard(this.secrets, snapshots, identities);

    // Member N's role: member N's certificates, interface, volume and snapshots only.
    this.members.memberRoles.forEach((role, member) => {
      this.secrets.grantEtcdMemberRead(role, member);
      identities.grantAttach(role, member);
      snapshots.grantSnapshotWrite(role, member);
    });
  }

  grantClientCertificateRead(grantee: iam.IGrantable): void {
    this.secrets.grantApiServerEtcdClientRead(grantee);
  }
}

/** Known at synth, so that the members' static config can name it. */
export function etcdSnapshotBucketName(config: ClusterConfig): string {
  return `${config.clusterName}-etcd-${config.account}-${config.region}`;
}
