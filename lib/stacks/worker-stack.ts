import { Duration, Size, Stack, StackProps, Tags, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ClusterConfig } from '../config';
import { importClusterNetwork } from '../constructs/cluster-network';
import { flatcarMachineImage } from '../constructs/flatcar-image';
import { KubernetesVersionGuard } from '../constructs/kubernetes-version-guard';
import { NODE_TERMINATION_HOOK_TIMEOUT_SECONDS } from '../../manifests/addons/aws-node-termination-handler';
import { NodeTerminationLifecycleRule, NodeTerminationQueue } from '../constructs/node-termination-events';
import { KubeletHealthCheck } from '../constructs/kubelet-health-check';
import { NodeGroup } from '../constructs/node-group';
import { API_SERVER_PORT, FLANNEL_VXLAN_PORT, KUBELET_PORT } from '../../userdata/network';
import { IgnitionUserData } from '../constructs/ignition-user-data';
import { INTERNAL_API_PORT } from '../constructs/internal-api-endpoint';
import { workerConfig } from '../../userdata';
import { addonContext, ControlPlaneRef } from './master-stack';
import { addonSteps, ClusterAddons, stepsOf } from '../constructs/cluster-addons';
import { nodeIdentityName } from '../node-identities';

/** Images and container logs live on the root volume: the 2016 workers had 50 GB. */
export const WORKER_ROOT_VOLUME_SIZE = Size.gibibytes(50);
/** Time for a new worker to boot, join and become Ready before its kubelet checks count. */
export const WORKER_HEALTH_CHECK_GRACE = Duration.seconds(480);

export interface WorkerStackProps extends StackProps {
  /** The validated cluster configuration. */
  readonly config: ClusterConfig;
  /** The cluster's control plane. */
  readonly controlPlane: ControlPlaneRef;
}

/** `<cluster>-worker`: the workers, found and scaled by cluster-autoscaler. */
export class WorkerStack extends Stack {
  readonly workers: NodeGroup;
  readonly userData: IgnitionUserData;

  constructor(scope: Construct, id: string, props: WorkerStackProps) {
    super(scope, id, props);
    const { config } = props;
    const network = importClusterNetwork(this, config.network);
    this.userData = new IgnitionUserData(this, 'UserData', {
      config: workerConfig({
        cluster: config.clusterName,
        zone: config.hostedZone.name,
        region: config.region,
        account: config.account,
        // Inside the VPC: no NAT, public endpoint or apiAllowedCidrs between workers and the API.
        apiServerUrl: props.controlPlane.internalApiUrl,
      }),
    });

    this.workers = new NodeGroup(this, 'Workers', {
      clusterName: config.clusterName,
      role: 'worker',
      // Named: the auth webhook's config on the masters maps its sessions to nodes.
      identityName: nodeIdentityName(config.clusterName, 'worker'),
      vpc: network.vpc,
      subnets: network.nodeSubnets,
      instanceType: new ec2.InstanceType(config.worker.instanceType),
      machineImage: flatcarMachineImage(this, config.flatcarAmi, config.region),
      userData: this.userData.userData,
      capacity: { min: config.worker.minSize, desired: config.worker.desiredCapacity, max: config.worker.maxSize },
      // A leaving worker is drained first (aws-node-termination-handler), for at most this long.
      terminationDrainTimeout: Duration.seconds(NODE_TERMINATION_HOOK_TIMEOUT_SECONDS),
      rollToken: config.forceRoll?.roles.includes('worker') ? config.forceRoll.token : undefined,
      rootVolumeSize: WORKER_ROOT_VOLUME_SIZE,
      loadBalancerHealthCheckGrace: WORKER_HEALTH_CHECK_GRACE,
    });
    // Its groups' lifecycle actions go to the cluster's queue, which the master stack made (by name: no reference back).
    new NodeTerminationLifecycleRule(this, 'WorkersTermination', {
      clusterName: config.clusterName,
      ruleNameSuffix: 'workers-lifecycle',
      autoScalingGroups: this.workers.autoScalingGroups,
      queue: NodeTerminationQueue.fromClusterName(this, 'NodeTerminationQueue', config.clusterName),
    });
    // No worker changes before the version is one the cluster can move to, and never ahead of the API servers.
    new KubernetesVersionGuard(this, 'KubernetesVersionGuard', { version: `v${config.kubernetesVersion}`, apiServerStackName: props.controlPlane.stackName }).guard(...this.workers.autoScalingGroups);
    this.userData.grantRead(this.workers.role);
    props.controlPlane.grantWorkerSecretsRead(this.workers.role);
    const [group] = this.workers.autoScalingGroups;
    // cluster-autoscaler's auto-discovery: --node-group-auto-discovery=asg:tag=<these keys>.
    Tags.of(group).add('k8s.io/cluster-autoscaler/enabled', 'true', { applyToLaunchedInstances: false });
    Tags.of(group).add(`k8s.io/cluster-autoscaler/${config.clusterName}`, 'owned', { applyToLaunchedInstances: false });

    new KubeletHealthCheck(this, 'HealthCheck', { vpc: network.vpc, subnets: network.nodeSubnets, nodes: group });

    // Private images from ECR (the kubelet's ECR credential provider uses the node role).
    this.workers.role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonEC2ContainerRegistryReadOnly'));
    Validations.of(this.workers.role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly]',
      reason: "Read-only image pulls from the account's registries: the policy AWS maintains for exactly this.",
    });

    const masters = props.controlPlane.securityGroup;
    this.workers.connections.allowFrom(masters, ec2.Port.tcp(KUBELET_PORT), 'kubelet API from masters');
    this.workers.connections.allowInternally(ec2.Port.udp(FLANNEL_VXLAN_PORT), 'pod network');
    this.workers.connections.allowFrom(masters, ec2.Port.udp(FLANNEL_VXLAN_PORT), 'pod network');
    this.workers.connections.allowTo(masters, ec2.Port.udp(FLANNEL_VXLAN_PORT), 'pod network');
    // Still needed: pods reach the `kubernetes` Service, which kube-proxy sends to the masters directly.
    this.workers.connections.allowTo(masters, ec2.Port.tcp(API_SERVER_PORT), 'API from workers');
    // The internal endpoint admits the nodes' security groups only; this rule lives here, so the
    // master stack never depends on the worker stack.
    this.workers.connections.allowTo(props.controlPlane.internalApiSecurityGroup, ec2.Port.tcp(INTERNAL_API_PORT), 'API from workers through the internal endpoint');

    // The add-ons that run on workers: applied once the workers have signalled healthy.
    new ClusterAddons(this, 'Addons', {
      steps: stepsOf(addonSteps(config.disabledAddons), 'worker'),
      context: addonContext(config),
      serviceToken: props.controlPlane.addonServiceToken,
      after: this.workers.autoScalingGroups,
      clusterCaGeneration: config.secretsGeneration.controlPlane,
    });
  }
}
