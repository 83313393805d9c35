import { Annotations, Aws, Duration, Size, Stack, Tags, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { NodeRole } from '../../userdata/types';
import { NODE_TAGS, clusterTagKey } from './node-tags';


/** How many instances a pool of interchangeable nodes runs. */
export interface NodeGroupCapacity {
  /** The fewest instances; a rolling update never goes below it. */
  readonly min: number;
  /**
   * The instances to run. Left out, CloudFormation starts at `min` and an update keeps
   * whatever the group runs now (for instance what cluster-autoscaler chose).
   * @default - keep the current desired capacity
   */
  readonly desired?: number;
  /** The most instances; must leave one slot above `min` for the rolling update's extra instance. 0 empties the group. */
  readonly max: number;
}

/** Spot capacity of a pool: a mixed-instances group (EC2 Auto Scaling InstancesDistribution). */
export interface NodePoolSpot {
  /** On-demand instances before any Spot one. */
  readonly onDemandBaseCapacity: number;
  /** The on-demand share, in percent, of the capacity above the base. */
  readonly onDemandPercentageAboveBaseCapacity: number;
  /** How EC2 chooses Spot capacity. */
  readonly allocationStrategy: autoscaling.SpotAllocationStrategy;
}

/** One of several pools of a NodeGroup: its own launch template and Auto Scaling group. */
export interface NodePoolProps {
  /**
   * Prefixes the ids of the pool's launch template and group (`<id>LaunchTemplate`,
   * `<id>Group`). The empty id gives the ids of a one-pool group, so a pool can take over
   * that group's resources without replacing them.
   */
  readonly id: string;
  readonly capacity: NodeGroupCapacity;
  /**
   * The instance types; with several, or with `spot`, the group is a mixed-instances group
   * whose launch template names the first.
   */
  readonly instanceTypes: readonly ec2.InstanceType[];
  /** Spot capacity. @default - on-demand only */
  readonly spot?: NodePoolSpot;
  /** The EC2 user data of the pool's nodes. */
  readonly userData: ec2.UserData;
  /** Where the pool's nodes run. @default - the NodeGroup's subnets */
  readonly subnets?: readonly ec2.ISubnet[];
  /** The size of the encrypted root volume. @default - the NodeGroup's */
  readonly rootVolumeSize?: Size;
  /** Tags of the Auto Scaling group alone, not of its instances (e.g. cluster-autoscaler's node template). @default - none */
  readonly groupTags?: Readonly<Record<string, string>>;
}

/** The root volume of Flatcar; 20 GiB holds the OS, images and logs of a control-plane node. */
export const DEFAULT_ROOT_VOLUME_SIZE = Size.gibibytes(20);
/** How long a new node may take to signal health: above the nodes' own 15-minute deadline (userdata/health-signal.ts), after which they signal failure. */
export const DEFAULT_SIGNAL_TIMEOUT = Duration.minutes(20);
/**
 * IMDSv2's token response (PUT) travels one hop: it reaches processes on the host network
 * (every caller of ours: userdata/node-bootstrap.ts runs the AWS CLI with `--network host`)
 * and dies at the bridge in front of a pod, so no pod gets a token, and with IMDSv1 off no
 * pod reads the instance role. kops' default too (pkg/model/awsmodel/autoscalinggroup.go,
 * v1.36.2: `HTTPPutResponseHopLimit: 1`, `HTTPTokens: required`).
 */
export const IMDS_HOP_LIMIT = 1;

export interface NodeGroupProps {
  /** The cluster the nodes belong to: tagged `kubernetes.io/cluster/<name>=owned` and used in names. */
  readonly clusterName: string;
  /** What the nodes do; tagged `kubernetes-on-aws:role`. */
  readonly role: NodeRole;
  /** The VPC of the cluster. */
  readonly vpc: ec2.IVpc;
  /** Where the nodes run: a pool spreads over all of them; members take one each in turn. */
  readonly subnets: readonly ec2.ISubnet[];
  /** The EC2 instance type of every node (`capacity` and `members`). @default - none: each pool names its own */
  readonly instanceType?: ec2.InstanceType;
  /** The Flatcar Container Linux image. */
  readonly machineImage: ec2.IMachineImage;
  /**
   * The EC2 user data (`capacity` and `members`): the small Ignition config that fetches the
   * role's full config. @default - none: each pool has its own
   */
  readonly userData?: ec2.UserData;
  /**
   * A pool of interchangeable nodes in one Auto Scaling group. Exactly one of
   * `capacity`, `members` and `pools` is given.
   * @default - no pool
   */
  readonly capacity?: NodeGroupCapacity;
  /**
   * Several pools of interchangeable nodes, one Auto Scaling group each, sharing the group's
   * instance role, instance profile and security group.
   * @default - no pools
   */
  readonly pools?: readonly NodePoolProps[];
  /**
   * Nodes with a stable identity: one Auto Scaling group of exactly one instance per
   * member, member N in `subnets[N % subnets.length]`, its instances tagged
   * `kubernetes-on-aws:<role>-member=N`, the groups updated one after another. Each member
   * has its own instance role (and launch template), so that a grant can name one member.
   * @default - no members
   */
  readonly members?: number;
  /** The size of the encrypted root volume. @default 20 GiB */
  readonly rootVolumeSize?: Size;
  /**
   * Load-balancer health checks to act on besides EC2's own (a node that fails them is
   * replaced), after the grace period. Only for checks that fail on the node alone: a check
   * that fails on every node at once (a shared dependency down) replaces them all.
   * @default - EC2 status checks only
   */
  readonly loadBalancerHealthCheckGrace?: Duration;
  /** How long a new node may take to signal health. @default 20 minutes */
  readonly signalTimeout?: Duration;
  /**
   * The name of a pool's instance role and of its instance profile, for principals that
   * others must name by ARN before the stack exists (the auth webhook maps a session of the
   * role to a node). At most 64 characters of IAM's name alphabet.
   * @default - names CloudFormation generates
   */
  readonly identityName?: string;
  /**
   * Hold each leaving instance of a pool (a rolling update, a scale-in, cluster-autoscaler's
   * choice) in Terminating:Wait for up to this long, so that the node termination handler,
   * told by EventBridge (lib/constructs/node-termination-events.ts), drains it first and then
   * completes the action. Past it, or with no handler at all (a new cluster, a rollback), the
   * hook's default result, CONTINUE, lets the termination go on: a hook never holds one
   * forever. Pools only: etcd members are replaced one at a time by their own scripts.
   * @default - no hook: instances are terminated at once
   */
  readonly terminationDrainTimeout?: Duration;
  /**
   * A token that, when it changes, replaces every node of the group and changes nothing else
   * (the context's `forceRoll`): it tags the launch templates' instances, so a new token is a
   * new launch template version, which the groups roll out as any update.
   * @default - none
   */
  readonly rollToken?: string;
}

/** EC2 Auto Scaling's bounds on a lifecycle hook's heartbeat timeout (PutLifecycleHook: 30 to 7200 seconds). */
const HEARTBEAT_TIMEOUT_BOUNDS_SECONDS = { min: 30, max: 7200 };

/**
 * The nodes of one role: launch template (IMDSv2 only, hop limit 1, encrypted root volume),
 * Auto Scaling group(s) that wait for each node's health signal on create and update, an
 * instance role and a security group. Used by etcd, masters and workers alike.
 */
export class NodeGroup extends Construct {
  /** Every instance role of the group: the pool's one, or one per member in member order. */
  readonly roles: readonly iam.IRole[];
  /** The security group of every node of the group. */
  readonly securityGroup: ec2.SecurityGroup;
  /** The connections of the nodes, for `allowFrom` / `allowTo`. */
  readonly connections: ec2.Connections;
  /** The launch templates, parallel to `autoScalingGroups`; a change to one rolls its nodes. */
  readonly launchTemplates: readonly ec2.LaunchTemplate[];
  /** One group for a pool; one per member for members, in member order. */
  readonly autoScalingGroups: readonly autoscaling.AutoScalingGroup[];
  private readonly props: NodeGroupProps;

  constructor(scope: Construct, id: string, props: NodeGroupProps) {
    super(scope, id);
    validate(props);
    this.props = props;

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `${props.clusterName} ${props.role} nodes`,
      // Nodes pull images and call AWS APIs through the VPC's NAT or endpoints.
      allowAllOutbound: true,
    });
    this.connections = this.securityGroup.connections;
    // Egress is open already, so the egress half of `allowTo` rules is redundant.
    Annotations.of(this.securityGroup).acknowledgeWarning('@aws-cdk/aws-ec2:ipv4IgnoreEgressRule');

    const nodes = props.members !== undefined ? this.createMembers(props.members) : this.createPools(poolsOf(props));
    if (props.terminationDrainTimeout) {
      for (const group of nodes.map((n) => n.group)) {
        group.addLifecycleHook('TerminationDrain', {
          lifecycleTransition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
          heartbeatTimeout: props.terminationDrainTimeout,
          defaultResult: autoscaling.DefaultResult.CONTINUE,
        });
      }
    }
    this.roles = nodes.map((n) => n.role);
    this.launchTemplates = nodes.map((n) => n.launchTemplate);
    this.autoScalingGroups = nodes.map((n) => n.group);
    if (props.rollToken !== undefined) {
      for (const launchTemplate of this.launchTemplates) Tags.of(launchTemplate).add(NODE_TAGS.forceRoll, props.rollToken);
    }
  }

  /**
   * The one instance role of a pool's nodes. Members have one role each: a grant to all of
   * them goes through `roles`, a grant to member N through `memberRoles[N]`.
   */
  get role(): iam.IRole {
    if (this.props.members !== undefined) {
      throw new Error(
        `NodeGroup ${this.node.path}: its ${this.props.members} members have one instance role each; ` +
          'grant to each of `roles` (all members) or to `memberRoles[N]` (member N) instead of `role`',
      );
    }
    return this.roles[0];
  }

  /** Member N's own instance role at index N (members only; empty for a pool). */
  get memberRoles(): readonly iam.IRole[] {
    return this.props.members !== undefined ? this.roles : [];
  }

  private createPools(pools: readonly NodePoolProps[]): NodeResources[] {
    const props = this.props;
    const role = this.createRole('Role', `${props.clusterName} ${props.role} nodes`, props.identityName);
    // One profile for every pool's launch template: a named one when the role is named (its
    // ARN is known before the stack exists); the id is the one-pool group's.
    const identity = props.identityName
      ? { instanceProfile: new iam.InstanceProfile(this, 'LaunchTemplateProfile', { role, instanceProfileName: props.identityName }) }
      : { role };
    return pools.map((pool) => {
      const launchTemplate = this.createLaunchTemplate(`${pool.id}LaunchTemplate`, identity, {
        instanceType: pool.instanceTypes[0],
        userData: pool.userData,
        rootVolumeSize: pool.rootVolumeSize,
      });
      const group = this.createGroup(`${pool.id}Group`, launchTemplate, {
        subnets: pool.subnets ?? props.subnets,
        minCapacity: pool.capacity.min,
        desiredCapacity: pool.capacity.desired,
        maxCapacity: pool.capacity.max,
        // The extra instance of the update comes first; `max` leaves room for it.
        minInstancesInService: Math.min(pool.capacity.desired ?? pool.capacity.min, pool.capacity.max - 1),
        mixedInstances: pool.instanceTypes.length > 1 || pool.spot !== undefined ? { instanceTypes: pool.instanceTypes, spot: pool.spot } : undefined,
      });
      for (const [key, value] of Object.entries(pool.groupTags ?? {})) Tags.of(group).add(key, value, { applyToLaunchedInstances: false });
      return { role, launchTemplate, group };
    });
  }

  private createMembers(count: number): NodeResources[] {
    const props = this.props;
    const members: NodeResources[] = [];
    for (let index = 0; index < count; index++) {
      // IAM can't tie a request to the tags of the instance that makes it: only a role of
      // its own lets member N read member N's secrets and nothing of the others'.
      const role = this.createRole(`Member${index}Role`, `${props.clusterName} ${props.role} member ${index}`);
      const launchTemplate = this.createLaunchTemplate(`Member${index}LaunchTemplate`, { role }, { instanceType: props.instanceType!, userData: props.userData! });
      const group = this.createGroup(`Member${index}`, launchTemplate, {
        subnets: [props.subnets[index % props.subnets.length]],
        minCapacity: 1,
        desiredCapacity: 1,
        maxCapacity: 1,
        // A member's identity (address, data volume) can be held by one instance at a
        // time, so the old instance goes before the new one comes.
        minInstancesInService: 0,
      });
      Tags.of(group).add(NODE_TAGS.member(props.role), String(index), { applyToLaunchedInstances: true });
      // One member at a time: the next starts updating only once the previous one has
      // signalled that it is healthy again, so the cluster never loses its majority.
      const previous = members[index - 1];
      if (previous) group.node.addDependency(previous.group);
      members.push({ role, launchTemplate, group });
    }
    return members;
  }

  private createRole(id: string, description: string, roleName?: string): iam.Role {
    // EC2 alone may assume it: whoever else could would choose the session name, which the
    // auth webhook reads as the instance id, and become any node.
    const role = new iam.Role(this, id, { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'), description, roleName });
    grantBootstrap(role);
    return role;
  }

  private createLaunchTemplate(
    id: string,
    identity: { role: iam.IRole } | { instanceProfile: iam.IInstanceProfile },
    node: { instanceType: ec2.InstanceType; userData: ec2.UserData; rootVolumeSize?: Size },
  ): ec2.LaunchTemplate {
    const props = this.props;
    return new ec2.LaunchTemplate(this, id, {
      instanceType: node.instanceType,
      machineImage: props.machineImage,
      userData: node.userData,
      ...identity,
      securityGroup: this.securityGroup,
      requireImdsv2: true,
      httpPutResponseHopLimit: IMDS_HOP_LIMIT,
      blockDevices: [
        {
          // Flatcar's root device.
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs((node.rootVolumeSize ?? props.rootVolumeSize ?? DEFAULT_ROOT_VOLUME_SIZE).toGibibytes(), {
            encrypted: true,
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            deleteOnTermination: true,
          }),
        },
      ],
    });
  }

  private createGroup(
    id: string,
    launchTemplate: ec2.LaunchTemplate,
    sizing: {
      subnets: readonly ec2.ISubnet[];
      minCapacity: number;
      desiredCapacity?: number;
      maxCapacity: number;
      minInstancesInService: number;
      /** Several instance types or Spot capacity: a mixed-instances policy over the launch template. */
      mixedInstances?: { instanceTypes: readonly ec2.InstanceType[]; spot?: NodePoolSpot };
    },
  ): autoscaling.AutoScalingGroup {
    const props = this.props;
    const signalTimeout = props.signalTimeout ?? DEFAULT_SIGNAL_TIMEOUT;
    const mixed = sizing.mixedInstances;
    const group = new autoscaling.AutoScalingGroup(this, id, {
      vpc: props.vpc,
      vpcSubnets: { subnets: [...sizing.subnets] },
      ...(mixed
        ? {
            mixedInstancesPolicy: {
              launchTemplate,
              launchTemplateOverrides: mixed.instanceTypes.map((instanceType) => ({ instanceType })),
              instancesDistribution: mixed.spot
                ? {
                    onDemandBaseCapacity: mixed.spot.onDemandBaseCapacity,
                    onDemandPercentageAboveBaseCapacity: mixed.spot.onDemandPercentageAboveBaseCapacity,
                    spotAllocationStrategy: mixed.spot.allocationStrategy,
                  }
                : // Several types, on-demand only.
                  { onDemandPercentageAboveBaseCapacity: 100 },
            },
          }
        : { launchTemplate }),
      minCapacity: sizing.minCapacity,
      desiredCapacity: sizing.desiredCapacity,
      maxCapacity: sizing.maxCapacity,
      healthChecks: props.loadBalancerHealthCheckGrace
        ? autoscaling.HealthChecks.withAdditionalChecks({
            additionalTypes: [autoscaling.AdditionalHealthCheckType.ELB],
            gracePeriod: props.loadBalancerHealthCheckGrace,
          })
        : autoscaling.HealthChecks.ec2({ gracePeriod: signalTimeout }),
      signals: autoscaling.Signals.waitForMinCapacity({ timeout: signalTimeout }),
      // An emptied group (max 0) has nothing to roll, and CloudFormation refuses a rolling
      // update whose MinInstancesInService is not below MaxSize.
      updatePolicy:
        sizing.maxCapacity > 0
          ? autoscaling.UpdatePolicy.rollingUpdate({
              maxBatchSize: 1,
              minInstancesInService: sizing.minInstancesInService,
              // CDK's default suspends what would fight the update: health-check replacement,
              // AZ rebalancing, alarm notifications and scheduled actions (as the 2016 tool did).
            })
          : undefined,
      // Spot: on a rebalance recommendation the group launches a replacement first and then
      // terminates the node at risk, drained through the termination hook, rather than leave
      // it cordoned (the handler drains on the recommendation) until EC2 takes it back.
      ...(mixed?.spot ? { capacityRebalance: true } : {}),
    });
    const logicalId = Stack.of(this).getLogicalId(group.node.defaultChild as autoscaling.CfnAutoScalingGroup);
    const tags: Record<string, string> = {
      [clusterTagKey(props.clusterName)]: 'owned',
      [NODE_TAGS.role]: props.role,
      [NODE_TAGS.cfnStack]: Stack.of(this).stackName,
      [NODE_TAGS.cfnResource]: logicalId,
      Name: `${props.clusterName}-${props.role}`,
    };
    for (const [key, value] of Object.entries(tags)) {
      Tags.of(group).add(key, value, { applyToLaunchedInstances: true });
    }
    if (sizing.desiredCapacity !== undefined) {
      // Set on purpose: fixed-size groups (members, masters) are meant to return to it.
      Annotations.of(group).acknowledgeWarning('@aws-cdk/aws-autoscaling:desiredCapacitySet');
    }
    if (mixed) {
      Validations.of(group).acknowledge({
        id: 'AwsSolutions-EC26',
        reason:
          "cdk-nag 3.0.2's rule reads the group's top-level launch template, which a mixed-instances group has not, and " +
          'throws (lib/rules/ec2/EC2EBSVolumeEncrypted.js); the launch template it uses encrypts the root volume as every one of ours.',
      });
    }
    Validations.of(group).acknowledge({
      id: 'AwsSolutions-AS3',
      reason:
        'Auto Scaling sends launch and termination events (successful and failed) to EventBridge without ' +
        'a topic; operators route them to their own alerting, and CloudFormation reports failed signals.',
    });
    return group;
  }

  /** Launches no node before `dependency` exists (e.g. the secrets its nodes fetch at boot). */
  launchAfter(dependency: Construct): void {
    for (const group of this.autoScalingGroups) group.node.addDependency(dependency);
  }
}

/** One Auto Scaling group of a NodeGroup, with its launch template and instance role. */
interface NodeResources {
  readonly role: iam.Role;
  readonly launchTemplate: ec2.LaunchTemplate;
  readonly group: autoscaling.AutoScalingGroup;
}

/** What every node does at boot: read its own tags, and signal its group when healthy. */
function grantBootstrap(role: iam.Role): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      // DescribeTags supports no resource-level permissions.
      actions: ['ec2:DescribeTags'],
      resources: ['*'],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['cloudformation:SignalResource'],
      resources: [Aws.STACK_ID],
    }),
  );
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'Resource * only for actions that support no resource-level permissions (EC2, Auto Scaling and ' +
      'load-balancer Describe calls, DescribeTags) or that are narrowed by conditions on the cluster tag.',
  });
}

/** The pools of a pool group: `pools`, or the one pool `capacity` describes. */
function poolsOf(props: NodeGroupProps): readonly NodePoolProps[] {
  return props.pools ?? [{ id: '', capacity: props.capacity!, instanceTypes: [props.instanceType!], userData: props.userData! }];
}

function validate(props: NodeGroupProps): void {
  const where = `NodeGroup ${props.clusterName}/${props.role}`;
  const shapes = [props.capacity, props.members, props.pools].filter((shape) => shape !== undefined);
  if (shapes.length !== 1) {
    throw new Error(`${where}: give exactly one of 'capacity' (a pool), 'members' (stable members) and 'pools' (several pools)`);
  }
  if (props.pools === undefined && (props.instanceType === undefined || props.userData === undefined)) {
    throw new Error(`${where}: 'instanceType' and 'userData' are required with 'capacity' or 'members' (pools name their own)`);
  }
  if (props.pools !== undefined) validatePools(where, props.pools);
  if (props.subnets.length === 0) {
    throw new Error(`${where}: 'subnets' must name at least one subnet`);
  }
  if (props.identityName !== undefined && (props.members !== undefined || !/^[\w+=,.@-]{1,64}$/.test(props.identityName))) {
    throw new Error(`${where}: 'identityName' names a pool's one role: at most 64 letters, digits or +=,.@_- and no 'members', got '${props.identityName}'`);
  }
  if (props.members !== undefined && (!Number.isInteger(props.members) || props.members < 1)) {
    throw new Error(`${where}: 'members' must be a whole number of at least 1, got ${props.members}`);
  }
  const drain = props.terminationDrainTimeout;
  if (drain !== undefined) {
    if (props.members !== undefined) {
      throw new Error(`${where}: 'terminationDrainTimeout' is for a pool; members are replaced one at a time by their own scripts`);
    }
    const seconds = drain.toSeconds();
    if (!Number.isInteger(seconds) || seconds < HEARTBEAT_TIMEOUT_BOUNDS_SECONDS.min || seconds > HEARTBEAT_TIMEOUT_BOUNDS_SECONDS.max) {
      throw new Error(`${where}: 'terminationDrainTimeout' must be whole seconds from ${HEARTBEAT_TIMEOUT_BOUNDS_SECONDS.min} to ${HEARTBEAT_TIMEOUT_BOUNDS_SECONDS.max} (EC2 Auto Scaling's limits), got ${seconds}`);
    }
  }
  if (props.members === undefined) for (const pool of poolsOf(props)) validateCapacity(pool.id === '' ? where : `${where} pool ${pool.id}`, pool.capacity);
}

function validatePools(where: string, pools: readonly NodePoolProps[]): void {
  if (pools.length === 0) throw new Error(`${where}: 'pools' must name at least one pool`);
  const ids = pools.map((pool) => pool.id);
  const repeated = ids.filter((id, index) => ids.indexOf(id) !== index);
  if (repeated.length > 0) throw new Error(`${where}: pool ids must be unique, got ${repeated.map((id) => `'${id}'`).join(', ')} more than once`);
  for (const pool of pools) {
    if (pool.instanceTypes.length === 0) throw new Error(`${where} pool '${pool.id}': 'instanceTypes' must name at least one instance type`);
    if (pool.subnets !== undefined && pool.subnets.length === 0) throw new Error(`${where} pool '${pool.id}': 'subnets' must name at least one subnet, or be left out for the group's`);
    const spot = pool.spot;
    if (spot && !(Number.isInteger(spot.onDemandBaseCapacity) && spot.onDemandBaseCapacity >= 0 && Number.isInteger(spot.onDemandPercentageAboveBaseCapacity) && spot.onDemandPercentageAboveBaseCapacity >= 0 && spot.onDemandPercentageAboveBaseCapacity <= 100)) {
      throw new Error(`${where} pool '${pool.id}': 'spot' needs a whole onDemandBaseCapacity >= 0 and a whole onDemandPercentageAboveBaseCapacity from 0 to 100, got ${JSON.stringify(spot)}`);
    }
  }
}

function validateCapacity(where: string, c: NodeGroupCapacity): void {
  const desired = c.desired ?? c.min;
  if (!(Number.isInteger(c.min) && Number.isInteger(c.max) && c.min >= 0 && c.max >= 0)) {
    throw new Error(`${where}: 'capacity' needs whole numbers min >= 0 and max >= 0, got ${JSON.stringify(c)}`);
  }
  if (desired < c.min || desired > c.max) {
    throw new Error(`${where}: 'capacity.desired' must lie between min ${c.min} and max ${c.max}, got ${desired}`);
  }
  if (c.max <= c.min && c.min > 0) {
    throw new Error(
      `${where}: 'capacity.max' (${c.max}) must exceed 'capacity.min' (${c.min}): a rolling update starts the new instance before it stops an old one`,
    );
  }
}
