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
  /** The most instances; must leave one slot above `min` for the rolling update's extra instance. */
  readonly max: number;
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
  /** The EC2 instance type of every node. */
  readonly instanceType: ec2.InstanceType;
  /** The Flatcar Container Linux image. */
  readonly machineImage: ec2.IMachineImage;
  /** The EC2 user data: the small Ignition config that fetches the role's full config. */
  readonly userData: ec2.UserData;
  /**
   * A pool of interchangeable nodes in one Auto Scaling group. Exactly one of
   * `capacity` and `members` is given.
   * @default - no pool
   */
  readonly capacity?: NodeGroupCapacity;
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

    const nodes = props.members !== undefined ? this.createMembers(props.members) : [this.createPool(props.capacity!)];
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

  private createPool(capacity: NodeGroupCapacity): NodeResources {
    const role = this.createRole('Role', `${this.props.clusterName} ${this.props.role} nodes`, this.props.identityName);
    const launchTemplate = this.createLaunchTemplate('LaunchTemplate', role, this.props.identityName);
    const group = this.createGroup('Group', launchTemplate, {
      subnets: this.props.subnets,
      minCapacity: capacity.min,
      desiredCapacity: capacity.desired,
      maxCapacity: capacity.max,
      // The extra instance of the update comes first; `max` leaves room for it.
      minInstancesInService: Math.min(capacity.desired ?? capacity.min, capacity.max - 1),
    });
    return { role, launchTemplate, group };
  }

  private createMembers(count: number): NodeResources[] {
    const props = this.props;
    const members: NodeResources[] = [];
    for (let index = 0; index < count; index++) {
      // IAM can't tie a request to the tags of the instance that makes it: only a role of
      // its own lets member N read member N's secrets and nothing of the others'.
      const role = this.createRole(`Member${index}Role`, `${props.clusterName} ${props.role} member ${index}`);
      const launchTemplate = this.createLaunchTemplate(`Member${index}LaunchTemplate`, role);
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

  private createLaunchTemplate(id: string, role: iam.IRole, instanceProfileName?: string): ec2.LaunchTemplate {
    const props = this.props;
    return new ec2.LaunchTemplate(this, id, {
      instanceType: props.instanceType,
      machineImage: props.machineImage,
      userData: props.userData,
      // A named profile when the role is named (its ARN is known before the stack exists).
      ...(instanceProfileName ? { instanceProfile: new iam.InstanceProfile(this, `${id}Profile`, { role, instanceProfileName }) } : { role }),
      securityGroup: this.securityGroup,
      requireImdsv2: true,
      httpPutResponseHopLimit: IMDS_HOP_LIMIT,
      blockDevices: [
        {
          // Flatcar's root device.
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs((props.rootVolumeSize ?? DEFAULT_ROOT_VOLUME_SIZE).toGibibytes(), {
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
    },
  ): autoscaling.AutoScalingGroup {
    const props = this.props;
    const signalTimeout = props.signalTimeout ?? DEFAULT_SIGNAL_TIMEOUT;
    const group = new autoscaling.AutoScalingGroup(this, id, {
      vpc: props.vpc,
      vpcSubnets: { subnets: [...sizing.subnets] },
      launchTemplate,
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
      updatePolicy: autoscaling.UpdatePolicy.rollingUpdate({
        maxBatchSize: 1,
        minInstancesInService: sizing.minInstancesInService,
        // CDK's default suspends what would fight the update: health-check replacement,
        // AZ rebalancing, alarm notifications and scheduled actions (as the 2016 tool did).
      }),
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

function validate(props: NodeGroupProps): void {
  const where = `NodeGroup ${props.clusterName}/${props.role}`;
  if ((props.capacity === undefined) === (props.members === undefined)) {
    throw new Error(`${where}: give exactly one of 'capacity' (a pool) and 'members' (stable members)`);
  }
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
  const c = props.capacity;
  if (c) {
    const desired = c.desired ?? c.min;
    if (!(Number.isInteger(c.min) && Number.isInteger(c.max) && c.min >= 0 && c.max >= 1)) {
      throw new Error(`${where}: 'capacity' needs whole numbers min >= 0 and max >= 1, got ${JSON.stringify(c)}`);
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
}
