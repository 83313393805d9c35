import { CfnOutput, Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ClusterConfig } from '../config';
import { ApiLoadBalancer } from '../constructs/api-load-balancer';
import { cloudControllerPolicy } from '../constructs/cloud-controller-policy';
import { importClusterNetwork, importHostedZone } from '../constructs/cluster-network';
import { flatcarMachineImage } from '../constructs/flatcar-image';
import { NodeGroup } from '../constructs/node-group';
import { API_SERVER_PORT, ETCD_CLIENT_PORT, FLANNEL_VXLAN_PORT, KUBELET_PORT } from '../../userdata/network';
import { AuthWebhookDelivery } from '../constructs/auth-webhook-delivery';
import { ClusterSecrets } from '../constructs/cluster-secrets';
import { IgnitionUserData } from '../constructs/ignition-user-data';
import { addonManifests } from '../../manifests';
import { masterConfig } from '../../userdata';
import { WEBHOOK_WORKER_TOKEN_FILE } from '../../userdata/master';
import { EtcdClusterRef } from './etcd-stack';

/** The 2016 ELB waited 480 s before acting on a new master's health checks. */
export const MASTER_HEALTH_CHECK_GRACE = Duration.seconds(480);

export interface MasterStackProps extends StackProps {
  /** The validated cluster configuration. */
  readonly config: ClusterConfig;
  /** The cluster's etcd. */
  readonly etcd: EtcdClusterRef;
}

/** What the worker stack needs of the control plane. */
export interface ControlPlaneRef {
  /** The masters' security group; workers are let in from the worker stack. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** `https://<cluster>.<zone>`. */
  readonly apiUrl: string;
  /** Lets workers read what they need: the cluster CA certificate and the worker token. */
  grantWorkerSecretsRead(grantee: iam.IGrantable): void;
}

/** `<cluster>-master`: the control plane behind the API load balancer. */
export class MasterStack extends Stack implements ControlPlaneRef {
  readonly securityGroup: ec2.ISecurityGroup;
  readonly apiUrl: string;
  readonly masters: NodeGroup;
  readonly userData: IgnitionUserData;
  private readonly secrets: ClusterSecrets;

  constructor(scope: Construct, id: string, props: MasterStackProps) {
    super(scope, id, props);
    const { config } = props;
    const network = importClusterNetwork(this, config.network);
    const zone = importHostedZone(this, config.hostedZone);

    const webhook = new AuthWebhookDelivery(this, 'AuthWebhook', {
      clusterGroup: config.clusterGroup,
      tokenInfoUrl: config.tokenInfoUrl,
      roleGroups: config.roleGroups,
      workerTokenFile: WEBHOOK_WORKER_TOKEN_FILE,
    });
    this.userData = new IgnitionUserData(this, 'UserData', {
      config: masterConfig({
        cluster: config.clusterName,
        zone: config.hostedZone.name,
        region: config.region,
        apiDnsName: config.apiDomainName,
        etcdMemberNames: props.etcd.memberNames,
        webhookServerConfigYaml: webhook.serverConfigYaml,
        authenticationWebhookKubeconfig: webhook.authenticationKubeconfig,
        authorizationWebhookKubeconfig: webhook.authorizationKubeconfig,
        webhookBundle: webhook.bundle,
        addonManifests: addonManifests(),
      }),
    });

    this.masters = new NodeGroup(this, 'Masters', {
      clusterName: config.clusterName,
      role: 'master',
      vpc: network.vpc,
      subnets: network.nodeSubnets,
      instanceType: new ec2.InstanceType(config.master.instanceType),
      machineImage: flatcarMachineImage(this, config.flatcarAmi, config.region),
      userData: this.userData.userData,
      // One slot above the count for the rolling update's extra master.
      capacity: { min: config.master.count, desired: config.master.count, max: config.master.count + 1 },
      loadBalancerHealthCheckGrace: MASTER_HEALTH_CHECK_GRACE,
    });
    this.securityGroup = this.masters.securityGroup;
    this.userData.grantRead(this.masters.role);
    webhook.grantRead(this.masters.role);
    props.etcd.grantClientCertificateRead(this.masters.role);

    this.secrets = new ClusterSecrets(this, 'Secrets', {
      set: 'control-plane',
      clusterName: config.clusterName,
      zoneName: config.hostedZone.name,
      regenerate: config.secretsGeneration.controlPlane,
    });
    this.secrets.grantControlPlaneRead(this.masters.role);
    this.masters.launchAfter(this.secrets.resource);
    for (const statement of cloudControllerPolicy(config.clusterName)) {
      this.masters.role.addToPrincipalPolicy(statement);
    }

    const api = new ApiLoadBalancer(this, 'Api', {
      vpc: network.vpc,
      subnets: network.loadBalancerSubnets,
      domainName: config.apiDomainName,
      zone,
      certificateArn: config.certificateArn,
      masters: this.masters.autoScalingGroups[0],
      allowedCidrs: config.apiAllowedCidrs,
    });
    this.apiUrl = api.url;

    this.masters.connections.allowFrom(api, ec2.Port.tcp(API_SERVER_PORT), 'API from its load balancer');
    this.masters.connections.allowInternally(ec2.Port.tcp(KUBELET_PORT), 'kubelet API from masters');
    this.masters.connections.allowInternally(ec2.Port.udp(FLANNEL_VXLAN_PORT), 'pod network');
    // The rule lives in this stack, so etcd never depends on its clients.
    this.masters.connections.allowTo(props.etcd.securityGroup, ec2.Port.tcp(ETCD_CLIENT_PORT), 'etcd clients');

    new CfnOutput(this, 'ApiUrl', { value: this.apiUrl, description: 'The Kubernetes API of the cluster' });
  }

  grantWorkerSecretsRead(grantee: iam.IGrantable): void {
    this.secrets.grantWorkerRead(grantee);
  }
}
