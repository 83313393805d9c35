import { Duration, Size, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
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
import { workerEphemeralStorageGiB, workerNodeLabels } from '../../userdata/worker';
import { AUTOSCALER_ENABLED_TAG, autoscalerClusterTag, nodeTemplateTags } from '../../manifests/addons/cluster-autoscaler';
import { DEFAULT_POOL_NAME } from '../worker-pools';
import { addonContext, ControlPlaneRef } from './master-stack';
import { addonSteps, ClusterAddons, stepsOf } from '../constructs/cluster-addons';
import { nodeIdentityName } from '../node-identities';

/** Time for a new worker to boot, join and become Ready before its kubelet checks count. */
export const WORKER_HEALTH_CHECK_GRACE = Duration.seconds(480);

export interface WorkerStackProps extends StackProps {
  /** The validated cluster configuration. */
  readonly config: ClusterConfig;
  /** The cluster's control plane. */
  readonly controlPlane: ControlPlaneRef;
}

/**
 * The construct id prefix of a pool's resources, one per pool name (`Pool-<name>-`). The
 * default pool's resources keep the ids the worker stack had before pools (`UserData`,
 * `Workers/LaunchTemplate`, `Workers/Group`), so a cluster that moves from the `worker*` keys
 * to `workerPools` with a pool named `default` keeps its group.
 */
export function poolConstructId(poolName: string): string {
  return poolName === DEFAULT_POOL_NAME ? '' : `Pool-${poolName}-`;
}

/**
 * `<cluster>-worker`: the workers, one Auto Scaling group per pool, found and scaled by
 * cluster-autoscaler. All pools share the workers' instance role (so the masters' auth
 * webhook, which maps that role to nodes, knows every pool without a change) and security group.
 */
export class WorkerStack extends Stack {
  readonly workers: NodeGroup;
  /** Each pool's user data, by pool name. */
  readonly userData: ReadonlyMap<string, IgnitionUserData>;

  constructor(scope: Construct, id: string, props: WorkerStackProps) {
    super(scope, id, props);
    const { config } = props;
    const network = importClusterNetwork(this, config.network);
    const subnetsById = new Map(network.nodeSubnets.map((subnet) => [subnet.subnetId, subnet]));
    const userData = new Map<string, IgnitionUserData>();
    for (const pool of config.workerPools) {
      userData.set(pool.name, new IgnitionUserData(this, `${poolConstructId(pool.name)}UserData`, {
        config: workerConfig({
          cluster: config.clusterName,
          zone: config.hostedZone.name,
          region: config.region,
          account: config.account,
          // Inside the VPC: no NAT, public endpoint or apiAllowedCidrs between workers and the API.
          apiServerUrl: props.controlPlane.internalApiUrl,
          pool: { name: pool.name, labels: pool.labels, taints: pool.taints },
        }),
      }));
    }
    this.userData = userData;

    this.workers = new NodeGroup(this, 'Workers', {
      clusterName: config.clusterName,
      role: 'worker',
      // Named: the auth webhook's config on the masters maps its sessions to nodes.
      identityName: nodeIdentityName(config.clusterName, 'worker'),
      vpc: network.vpc,
      subnets: network.nodeSubnets,
      machineImage: flatcarMachineImage(this, config.flatcarAmi, config.region),
      pools: config.workerPools.map((pool) => ({
        id: poolConstructId(pool.name),
        capacity: { min: pool.minSize, desired: pool.desiredCapacity, max: pool.maxSize },
        instanceTypes: pool.instanceTypes.map((type) => new ec2.InstanceType(type)),
        spot: pool.spot && {
          onDemandBaseCapacity: pool.spot.onDemandBaseCapacity,
          onDemandPercentageAboveBaseCapacity: pool.spot.onDemandPercentageAboveBaseCapacity,
          allocationStrategy: pool.spot.allocationStrategy as autoscaling.SpotAllocationStrategy,
        },
        userData: userData.get(pool.name)!.userData,
        subnets: pool.subnetIds?.map((subnetId) => subnetsById.get(subnetId)!),
        rootVolumeSize: Size.gibibytes(pool.rootVolumeSizeGiB),
        groupTags: {
          // cluster-autoscaler's auto-discovery (--node-group-auto-discovery=asg:tag=<these keys>)
          [AUTOSCALER_ENABLED_TAG]: 'true',
          [autoscalerClusterTag(config.clusterName)]: 'owned',
          // and what the pool's nodes will look like, for scaling it up from zero.
          ...nodeTemplateTags({ labels: workerNodeLabels(pool), taints: pool.taints, ephemeralStorageGiB: workerEphemeralStorageGiB(pool.rootVolumeSizeGiB) }),
        },
      })),
      // A leaving worker is drained first (aws-node-termination-handler), for at most this long.
      terminationDrainTimeout: Duration.seconds(NODE_TERMINATION_HOOK_TIMEOUT_SECONDS),
      rollToken: config.forceRoll?.roles.includes('worker') ? config.forceRoll.token : undefined,
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
    for (const poolUserData of userData.values()) poolUserData.grantRead(this.workers.role);
    props.controlPlane.grantWorkerSecretsRead(this.workers.role);

    new KubeletHealthCheck(this, 'HealthCheck', { vpc: network.vpc, subnets: network.nodeSubnets, nodes: this.workers.autoScalingGroups });

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
