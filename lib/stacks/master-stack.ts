import { CfnOutput, Duration, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ClusterConfig } from '../config';
import { ApiLoadBalancer } from '../constructs/api-load-balancer';
import { INTERNAL_API_PORT, InternalApiEndpoint } from '../constructs/internal-api-endpoint';
import { AddonApplier } from '../constructs/addon-applier';
import { addonSteps, ClusterAddons, createAddonRoles, stepsOf } from '../constructs/cluster-addons';
import { AddonContext } from '../../manifests/addons/addon';
import { grantCloudController } from '../constructs/cloud-controller-policy';
import { importClusterNetwork, importHostedZone } from '../constructs/cluster-network';
import { flatcarMachineImage } from '../constructs/flatcar-image';
import { NodeGroup } from '../constructs/node-group';
import { API_SERVER_PORT, ETCD_CLIENT_PORT, FLANNEL_VXLAN_PORT, KUBELET_PORT } from '../../userdata/network';
import { AuthWebhookDelivery } from '../constructs/auth-webhook-delivery';
import { ClusterSecrets } from '../constructs/cluster-secrets';
import { IgnitionUserData } from '../constructs/ignition-user-data';
import { KubernetesVersionGuard } from '../constructs/kubernetes-version-guard';
import { NODE_TERMINATION_HOOK_TIMEOUT_SECONDS, nodeTerminationQueueTags } from '../../manifests/addons/aws-node-termination-handler';
import { NodeTerminationLifecycleRule, NodeTerminationQueue } from '../constructs/node-termination-events';
import { LeftoverCheck } from '../constructs/leftover-check';
import { ClusterCleanup } from '../constructs/cluster-cleanup';
import { ServiceAccountIssuer } from '../constructs/service-account-issuer';
import { API_URL_OUTPUT, BREAK_GLASS_OUTPUT } from '../stack-outputs';
import { iamRoleGroup } from '../../webhook/identities';
import { ClusterSecretNames } from '../../userdata/secret-names';
import { masterConfig } from '../../userdata';
import { WEBHOOK_APPROVER_CONNECTION } from '../../userdata/master';
import { internalApiDnsName } from '../../userdata/types';
import { addonApplierRoleArn, addonApplierRoleName, nodeIdentityName, nodeRoleMapping } from '../node-identities';
import { EtcdClusterRef } from './etcd-stack';
import { uniqueTaints } from '../worker-pools';

export interface MasterStackProps extends StackProps {
  /** The validated cluster configuration. */
  readonly config: ClusterConfig;
  /** The cluster's etcd. */
  readonly etcd: EtcdClusterRef;
}

/** What the worker stack needs of the control plane. */
export interface ControlPlaneRef {
  /** The master stack's name: the worker stack's version guard reads its KubernetesVersion output. */
  readonly stackName: string;
  /** The masters' security group; workers are let in from the worker stack. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** `https://<cluster>.<zone>`. */
  readonly apiUrl: string;
  /**
   * `https://internal.<cluster>.<zone>`: the API from inside the VPC, TLS passed through to
   * the API servers (clients check it with the cluster CA). Not for masters: they use their
   * own API server on 127.0.0.1 (a load balancer does not hairpin to its own target).
   */
  readonly internalApiUrl: string;
  /** The internal endpoint's security group; clients are let in from their own stack. */
  readonly internalApiSecurityGroup: ec2.ISecurityGroup;
  /** The add-on applier's `serviceToken`: the worker stack delivers the add-ons that need workers. */
  readonly addonServiceToken: string;
  /** Lets workers read what they need: the cluster CA certificate and the worker token. */
  grantWorkerSecretsRead(grantee: iam.IGrantable): void;
}

/** The cluster values the add-ons' objects and permissions are made from. */
export function addonContext(config: ClusterConfig): AddonContext {
  return {
    clusterName: config.clusterName,
    region: config.region,
    account: config.account,
    partition: config.partition,
    hostedZoneId: config.hostedZone.id,
    hostedZoneName: config.hostedZone.name,
    kubernetesVersion: `v${config.kubernetesVersion}`,
    clusterGroup: config.clusterGroup,
    // Token-info users of the Administrator groups, and IAM Administrators (the add-on applier among them).
    administratorGroups: [...config.roleGroups.Administrator, iamRoleGroup('Administrator')],
    workerPoolTaints: uniqueTaints(config.workerPools.flatMap((pool) => pool.taints)),
  };
}

/** `<cluster>-master`: the control plane behind the API load balancer. */
export class MasterStack extends Stack implements ControlPlaneRef {
  readonly securityGroup: ec2.ISecurityGroup;
  readonly apiUrl: string;
  readonly internalApiUrl: string;
  readonly internalApiSecurityGroup: ec2.ISecurityGroup;
  readonly addonServiceToken: string;
  readonly masters: NodeGroup;
  readonly userData: IgnitionUserData;
  /** The published issuer of the cluster's service-account tokens and its IAM OIDC provider. */
  readonly serviceAccountIssuer: ServiceAccountIssuer;
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
      kubeletServingApprover: WEBHOOK_APPROVER_CONNECTION,
      iam: {
        // The cluster group, unique across accounts and regions: what `aws eks get-token --cluster-name` signs.
        clusterId: config.clusterGroup,
        partition: config.partition,
        region: config.region,
        nodeRoles: [nodeRoleMapping(config, 'master'), nodeRoleMapping(config, 'worker')],
        // The add-on applier signs in as its own role, an Administrator like the people listed.
        roleArns: { ...config.roleArns, Administrator: [...config.roleArns.Administrator, addonApplierRoleArn(config)] },
      },
    });
    this.secrets = new ClusterSecrets(this, 'Secrets', {
      set: 'control-plane',
      clusterName: config.clusterName,
      zoneName: config.hostedZone.name,
      regenerate: config.secretsGeneration.controlPlane,
    });
    this.serviceAccountIssuer = new ServiceAccountIssuer(this, 'ServiceAccountIssuer', {
      bucketName: serviceAccountIssuerBucketName(config),
      secrets: this.secrets,
    });
    this.userData = new IgnitionUserData(this, 'UserData', {
      config: masterConfig({
        cluster: config.clusterName,
        zone: config.hostedZone.name,
        region: config.region,
        account: config.account,
        apiDnsName: config.apiDomainName,
        etcdMemberNames: props.etcd.memberNames,
        // A release adding a name replaces the masters, after the handler re-issued the certificate.
        apiServerCertificateNames: this.secrets.apiServerNames.map((san) => san.replace(/^(DNS|IP):/, '')),
        webhookServerConfigYaml: webhook.serverConfigYaml,
        authenticationWebhookKubeconfig: webhook.authenticationKubeconfig,
        authorizationWebhookKubeconfig: webhook.authorizationKubeconfig,
        webhookBundle: webhook.bundle,
        serviceAccountIssuer: this.serviceAccountIssuer.issuerUrl,
        breakGlassAdminToken: config.breakGlassAdminToken,
      }),
    });

    this.masters = new NodeGroup(this, 'Masters', {
      clusterName: config.clusterName,
      role: 'master',
      // Named: the auth webhook's config (in this user data) maps its sessions to nodes.
      identityName: nodeIdentityName(config.clusterName, 'master'),
      vpc: network.vpc,
      subnets: network.nodeSubnets,
      instanceType: new ec2.InstanceType(config.master.instanceType),
      machineImage: flatcarMachineImage(this, config.flatcarAmi, config.region),
      userData: this.userData.userData,
      // One slot above the count for the rolling update's extra master.
      capacity: { min: config.master.count, desired: config.master.count, max: config.master.count + 1 },
      // A leaving master is drained first (aws-node-termination-handler), for at most this long.
      terminationDrainTimeout: Duration.seconds(NODE_TERMINATION_HOOK_TIMEOUT_SECONDS),
      rollToken: config.forceRoll?.roles.includes('master') ? config.forceRoll.token : undefined,
      // EC2's checks only: /readyz and /livez both fail on every master at once when etcd is
      // down (kubernetes/apiserver v0.35.1, pkg/server/options/etcd.go addEtcdHealthEndpoint:
      // the "etcd" check goes to healthz, livez and readyz), and replacing every master would
      // not bring etcd back. The load balancer still sends traffic only to masters passing /readyz.
    });
    // On deletion, what the masters' controllers made in AWS goes once the masters are gone
    // (the worker stack is gone already): every master resource is deleted before it runs.
    new ClusterCleanup(this, 'ClusterCleanup', {
      clusterName: config.clusterName,
      hostedZoneId: config.hostedZone.id,
      hostedZoneName: config.hostedZone.name,
    }).runAfterDeletionOf(this.masters);
    // Every way a node leaves reaches the termination handler through this queue (lib/constructs/node-termination-events.ts).
    const terminations = new NodeTerminationQueue(this, 'NodeTermination', { clusterName: config.clusterName });
    // The handler's role may use the queue only through this tag (aws-node-termination-handler.ts permissions).
    for (const [key, value] of Object.entries(nodeTerminationQueueTags(config.clusterName))) Tags.of(terminations.queue).add(key, value);
    new NodeTerminationLifecycleRule(this, 'MastersTermination', {
      clusterName: config.clusterName,
      ruleNameSuffix: 'masters-lifecycle',
      autoScalingGroups: this.masters.autoScalingGroups,
      queue: terminations.queue,
    });
    // No master changes before the version is one the cluster can move to.
    new KubernetesVersionGuard(this, 'KubernetesVersionGuard', { version: `v${config.kubernetesVersion}`, kubeletStackName: config.stackNames.worker }).guard(...this.masters.autoScalingGroups);
    this.securityGroup = this.masters.securityGroup;
    this.userData.grantRead(this.masters.role);
    webhook.grantRead(this.masters.role);
    props.etcd.grantClientCertificateRead(this.masters.role);

    this.secrets.grantControlPlaneRead(this.masters.role);
    this.masters.launchAfter(this.secrets.resource);
    new LeftoverCheck(this, 'LeftoverCheck', {
      clusterName: config.clusterName,
      secretNames: new ClusterSecretNames(config.clusterName).ofSet('control-plane', config.etcd.count),
    }).guard(this.secrets);
    grantCloudController(this.masters.role, { clusterName: config.clusterName, vpc: network.vpc });

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

    // Nodes and in-VPC clients reach the API here, without NAT, the public endpoint or
    // apiAllowedCidrs; its name is in the API server certificate (lib/secrets/sans.ts).
    const internalApi = new InternalApiEndpoint(this, 'InternalApi', {
      vpc: network.vpc,
      subnets: network.nodeSubnets,
      domainName: internalApiDnsName({ cluster: config.clusterName, zone: config.hostedZone.name }),
      zone,
      masters: this.masters.autoScalingGroups[0],
    });
    this.internalApiUrl = internalApi.url;
    this.internalApiSecurityGroup = internalApi.securityGroup;

    // Add-ons, delivered at deploy time through the internal endpoint (lib/addons/handler.ts).
    const applier = new AddonApplier(this, 'AddonApplier', {
      vpc: network.vpc,
      subnets: network.nodeSubnets,
      apiUrl: this.internalApiUrl,
      secrets: this.secrets,
      clusterId: config.clusterGroup,
      roleName: addonApplierRoleName(config.clusterName),
    });
    this.addonServiceToken = applier.serviceToken;
    // Into the endpoint only: the masters admit the endpoint's security group, which covers its
    // clients even with their addresses preserved (lib/constructs/internal-api-endpoint.ts).
    this.internalApiSecurityGroup.connections.allowFrom(applier, ec2.Port.tcp(INTERNAL_API_PORT), 'add-on applier');
    const steps = addonSteps(config.disabledAddons);
    const context = addonContext(config);
    // Each add-on that calls AWS has a role of its own, assumed with its service account's token.
    createAddonRoles(this, this.serviceAccountIssuer, steps, context);
    new ClusterAddons(this, 'Addons', {
      steps: stepsOf(steps, 'master'),
      context,
      serviceToken: applier.serviceToken,
      after: [...this.masters.autoScalingGroups, internalApi, terminations.queue],
      clusterCaGeneration: config.secretsGeneration.controlPlane,
    });

    this.masters.connections.allowFrom(api, ec2.Port.tcp(API_SERVER_PORT), 'API from its load balancer');
    this.masters.connections.allowInternally(ec2.Port.tcp(KUBELET_PORT), 'kubelet API from masters');
    this.masters.connections.allowInternally(ec2.Port.udp(FLANNEL_VXLAN_PORT), 'pod network');
    // The rule lives in this stack, so etcd never depends on its clients.
    this.masters.connections.allowTo(props.etcd.securityGroup, ec2.Port.tcp(ETCD_CLIENT_PORT), 'etcd clients');

    new CfnOutput(this, API_URL_OUTPUT, { value: this.apiUrl, description: 'The Kubernetes API of the cluster' });
    // Read by `kubeconfig --admin-token` and `get-api-token`, which refuse when it is off.
    new CfnOutput(this, BREAK_GLASS_OUTPUT, {
      value: config.breakGlassAdminToken ? 'enabled' : 'disabled',
      description: 'Whether the API servers accept the static admin token of the admin secret (context breakGlassAdminToken)',
    });
    new CfnOutput(this, 'ServiceAccountIssuerUrl', {
      value: this.serviceAccountIssuer.issuerUrl,
      description: 'The issuer of the cluster\'s service-account tokens, trusted by IAM through the OIDC provider',
    });
    new CfnOutput(this, 'OidcProviderArn', {
      value: this.serviceAccountIssuer.provider.oidcProviderArn,
      description: 'The IAM OIDC provider a role trusts to let pods of one service account assume it (AssumeRoleWithWebIdentity)',
    });
  }

  grantWorkerSecretsRead(grantee: iam.IGrantable): void {
    this.secrets.grantWorkerRead(grantee);
  }
}

/**
 * `<cluster>-oidc-<account>-<region>`: at most 63 characters with the longest cluster name
 * (lib/config.ts MAX_CLUSTER_NAME_LENGTH), as the etcd snapshot bucket's. It names the issuer,
 * which every token and every trusting role carries: it must not change for a cluster.
 */
export function serviceAccountIssuerBucketName(config: ClusterConfig): string {
  return `${config.clusterName}-oidc-${config.account}-${config.region}`;
}
