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
    this.userData.grantRead(this.members.role);
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
    this.memberNames = records.memberNames;

    const snapshots = new EtcdSnapshotBucket(this, 'Snapshots', { bucketName: snapshotBucketName });
    snapshots.grantSnapshotWrite(this.members.role);

    this.secrets = new ClusterSecrets(this, 'Secrets', {
      set: 'etcd',
      clusterName: config.clusterName,
      zoneName: config.hostedZone.name,
      etcdMemberCount: config.etcd.count,
      regenerate: config.secretsGeneration.etcd,
    });
    this.secrets.grantEtcdMemberRead(this.members.role);
    this.members.launchAfter(this.secrets.resource);
  }

  grantClientCertificateRead(grantee: iam.IGrantable): void {
    this.secrets.grantApiServerEtcdClientRead(grantee);
  }
}

/** Known at synth, so that the members' static config can name it. */
export function etcdSnapshotBucketName(config: ClusterConfig): string {
  return `${config.clusterName}-etcd-${config.account}-${config.region}`;
}
