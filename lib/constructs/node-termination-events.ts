/**
 * What tells aws-node-termination-handler (queue-processor mode, manifests/addons/
 * aws-node-termination-handler.ts) that a node is leaving: one SQS queue per cluster, and the
 * EventBridge rules that feed it. The setup follows the handler's README at v1.25.6 ("Queue
 * Processor": queue attributes, "4. Create Amazon EventBridge Rules") and docs/cfn-template.yaml,
 * with the queue policy narrowed to this cluster's rules.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { nodeTerminationQueueArn, nodeTerminationQueueName } from '../../manifests/addons/aws-node-termination-handler';

/** EventBridge's limit on a rule name (PutRule: 1 to 64 of `[.\-_A-Za-z0-9]`). */
export const EVENT_RULE_NAME_MAX_LENGTH = 64;
const EVENT_RULE_NAME_ALPHABET = /^[.\-_A-Za-z0-9]+$/;

/** SQS's bounds on MessageRetentionPeriod (60 seconds to 14 days). */
const SQS_RETENTION_BOUNDS_SECONDS = { min: 60, max: 14 * 24 * 3600 };

/**
 * How long an event waits for the handler. The handler's README suggests 300 s; an hour also
 * covers a handler that is away for a while (its own node drained, an upgrade), so that a
 * lifecycle action still waiting in Terminating:Wait gets its drain. Older events are about
 * instances gone by then: the spot warning gives two minutes, and a lifecycle hook here holds
 * an instance for the pool's drain timeout (lib/constructs/node-group.ts).
 */
export const DEFAULT_NODE_TERMINATION_RETENTION = Duration.hours(1);

/**
 * The states of "EC2 Instance State-change Notification" that mean a node is leaving: the
 * ones the handler drains on (aws-node-termination-handler v1.25.6,
 * pkg/monitor/sqsevent/ec2-state-change-event.go, instanceStatesToDrain).
 */
export const LEAVING_INSTANCE_STATES = ['stopping', 'stopped', 'shutting-down', 'terminated'] as const;

/** The cluster-wide rules' name suffixes; a lifecycle rule may not take one of them. */
export const CLUSTER_WIDE_RULE_SUFFIXES = {
  spotInterruption: 'spot-interruption',
  rebalanceRecommendation: 'rebalance',
  instanceStateChange: 'state-change',
  scheduledChange: 'scheduled-change',
} as const;

/**
 * `<cluster>-node-termination-`: every rule that may send to the cluster's queue is named so.
 * The queue policy allows rules by this prefix, so the worker stack's rule needs no reference
 * back from the master stack.
 */
export function nodeTerminationRulePrefix(clusterName: string): string {
  return `${nodeTerminationQueueName(clusterName)}-`;
}

/** `<prefix><suffix>`, checked against EventBridge's limits; errors name what to shorten. */
export function nodeTerminationRuleName(clusterName: string, suffix: string): string {
  const name = `${nodeTerminationRulePrefix(clusterName)}${suffix}`;
  if (!EVENT_RULE_NAME_ALPHABET.test(suffix)) {
    throw new Error(`node termination rule suffix '${suffix}' may hold only letters, digits, '.', '-' and '_' (EventBridge rule names)`);
  }
  if (name.length > EVENT_RULE_NAME_MAX_LENGTH) {
    throw new Error(
      `the EventBridge rule name '${name}' is ${name.length} characters, more than EventBridge's ${EVENT_RULE_NAME_MAX_LENGTH}: ` +
        `shorten the cluster name '${clusterName}' (stack and version) or the suffix '${suffix}'`,
    );
  }
  return name;
}

/** The EventBridge patterns, in CDK's form; `detail-type` is `detailType` here. */
export const NODE_TERMINATION_PATTERNS = {
  spotInterruption: { source: ['aws.ec2'], detailType: ['EC2 Spot Instance Interruption Warning'] },
  rebalanceRecommendation: { source: ['aws.ec2'], detailType: ['EC2 Instance Rebalance Recommendation'] },
  instanceStateChange: {
    source: ['aws.ec2'],
    detailType: ['EC2 Instance State-change Notification'],
    detail: { state: [...LEAVING_INSTANCE_STATES] },
  },
  scheduledChange: {
    source: ['aws.health'],
    detailType: ['AWS Health Event'],
    detail: { service: ['EC2'], eventTypeCategory: ['scheduledChange'] },
  },
} satisfies Record<keyof typeof CLUSTER_WIDE_RULE_SUFFIXES, events.EventPattern>;

/** Terminate lifecycle actions of exactly these Auto Scaling groups (names may be tokens). */
export function terminateLifecycleActionPattern(autoScalingGroupNames: readonly string[]): events.EventPattern {
  return {
    source: ['aws.autoscaling'],
    detailType: ['EC2 Instance-terminate Lifecycle Action'],
    detail: { AutoScalingGroupName: [...autoScalingGroupNames] },
  };
}

/**
 * Targets the queue without granting anything: the queue policy already allows this
 * cluster's rules. (aws-events-targets' SqsQueue would add a statement per rule that also
 * grants sqs:GetQueueAttributes and sqs:GetQueueUrl, and cannot change an imported queue's
 * policy anyway.)
 */
class QueueAllowingRulesByName implements events.IRuleTarget {
  constructor(private readonly queue: sqs.IQueue) {}

  bind(): events.RuleTargetConfig {
    return { arn: this.queue.queueArn };
  }
}

export interface NodeTerminationQueueProps {
  /** The cluster whose nodes' events the queue carries; names the queue and its rules. */
  readonly clusterName: string;
  /**
   * How long an unread event stays in the queue, whole seconds from 60 s to 14 days (SQS).
   * @default DEFAULT_NODE_TERMINATION_RETENTION (1 hour)
   */
  readonly retentionPeriod?: Duration;
}

/**
 * The cluster's queue of node termination events (for the master stack), and the rules for
 * the events that carry only an instance id, which the handler scopes by the cluster tag:
 * spot interruption warnings, rebalance recommendations, state changes to a leaving state and
 * AWS Health scheduled changes for EC2. Lifecycle actions come through
 * `NodeTerminationLifecycleRule`s, one per stack with node groups.
 *
 * Encrypted with SQS-managed keys (SSE-SQS): EventBridge cannot use the AWS-managed KMS key,
 * whose policy cannot be changed (the handler's README, v1.25.6, on server-side encryption).
 * Only EventBridge, and only for this cluster's rules in this account, may send; TLS only.
 */
export class NodeTerminationQueue extends Construct {
  /** The queue an `sqs.Queue.fromQueueArn` of `nodeTerminationQueueArn(...)` elsewhere names. */
  static fromClusterName(scope: Construct, id: string, clusterName: string): sqs.IQueue {
    const stack = Stack.of(scope);
    const arn = nodeTerminationQueueArn({ clusterName, partition: stack.partition, region: stack.region, account: stack.account });
    return sqs.Queue.fromQueueArn(scope, id, arn);
  }

  readonly queue: sqs.Queue;
  /** The cluster-wide rules, by the keys of `NODE_TERMINATION_PATTERNS`. */
  readonly rules: Readonly<Record<keyof typeof CLUSTER_WIDE_RULE_SUFFIXES, events.Rule>>;

  constructor(scope: Construct, id: string, props: NodeTerminationQueueProps) {
    super(scope, id);
    const retentionPeriod = props.retentionPeriod ?? DEFAULT_NODE_TERMINATION_RETENTION;
    validateRetention(retentionPeriod);
    this.queue = new sqs.Queue(this, 'Queue', {
      queueName: nodeTerminationQueueName(props.clusterName),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod,
    });
    this.queue.addToResourcePolicy(this.onlyClusterRulesSend(props.clusterName));
    this.queue.addToResourcePolicy(this.nobodyElseSends(props.clusterName));
    Validations.of(this.queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'Termination events are actionable for minutes: a message the handler cannot process is retried until its ' +
        'retention ends, and by then it describes an instance that is gone. A dead-letter queue would keep only stale events.',
    });
    this.rules = {
      spotInterruption: this.rule(props.clusterName, 'spotInterruption'),
      rebalanceRecommendation: this.rule(props.clusterName, 'rebalanceRecommendation'),
      instanceStateChange: this.rule(props.clusterName, 'instanceStateChange'),
      scheduledChange: this.rule(props.clusterName, 'scheduledChange'),
    };
  }

  /** The ARNs of this cluster's rules, by name prefix. */
  private ruleArns(clusterName: string): string {
    return Stack.of(this).formatArn({ service: 'events', resource: 'rule', resourceName: `${nodeTerminationRulePrefix(clusterName)}*` });
  }

  /**
   * A message on this queue makes the handler drain a node, so nobody but the rules may send
   * one: an account principal allowed `sqs:SendMessage` on every queue by its own policy
   * could otherwise drain any node of the cluster. A direct request has no aws:SourceArn, and
   * a negated operator matches a missing key (IAM User Guide, "Condition operators"), so the
   * Deny holds for it.
   */
  private nobodyElseSends(clusterName: string): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid: 'NobodyElseSends',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['sqs:SendMessage'],
      resources: [this.queue.queueArn],
      conditions: { ArnNotLike: { 'aws:SourceArn': this.ruleArns(clusterName) } },
    });
  }

  private rule(clusterName: string, kind: keyof typeof CLUSTER_WIDE_RULE_SUFFIXES): events.Rule {
    const suffix = CLUSTER_WIDE_RULE_SUFFIXES[kind];
    return new events.Rule(this, pascalCase(suffix), {
      ruleName: nodeTerminationRuleName(clusterName, suffix),
      description: `${clusterName}: ${NODE_TERMINATION_PATTERNS[kind].detailType[0]} events for aws-node-termination-handler`,
      eventPattern: NODE_TERMINATION_PATTERNS[kind],
      targets: [new QueueAllowingRulesByName(this.queue)],
    });
  }

  /**
   * EventBridge sends as the service principal; the rule's ARN (aws:SourceArn) and account
   * (aws:SourceAccount) say on whose behalf. Rules are matched by name prefix, so rules of
   * the worker stack qualify without the master stack knowing them.
   */
  private onlyClusterRulesSend(clusterName: string): iam.PolicyStatement {
    const stack = Stack.of(this);
    const ruleArns = this.ruleArns(clusterName);
    return new iam.PolicyStatement({
      sid: 'OnlyThisClustersRulesSend',
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['sqs:SendMessage'],
      resources: [this.queue.queueArn],
      conditions: {
        ArnLike: { 'aws:SourceArn': ruleArns },
        StringEquals: { 'aws:SourceAccount': stack.account },
      },
    });
  }
}

export interface NodeTerminationLifecycleRuleProps {
  /** The cluster the groups belong to; names the rule. */
  readonly clusterName: string;
  /**
   * What makes this rule's name unique among the cluster's rules, e.g. `masters-lifecycle`,
   * `workers-lifecycle`: the rule is `<cluster>-node-termination-<suffix>`.
   */
  readonly ruleNameSuffix: string;
  /** The groups whose terminate lifecycle actions the handler must see; at least one. */
  readonly autoScalingGroups: readonly autoscaling.IAutoScalingGroup[];
  /**
   * The cluster's queue: `NodeTerminationQueue.queue` in its own stack, or
   * `NodeTerminationQueue.fromClusterName(...)` in another.
   */
  readonly queue: sqs.IQueue;
}

/**
 * The most groups one lifecycle rule names. An event pattern holds at most 2,048 characters
 * by default (docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html, "Event pattern
 * size"), and a name CloudFormation generates for a group (`<stack>-<logical id>-<suffix>`)
 * can be 100 characters or more with a long cluster and pool name: 8 of them leave room.
 */
export const LIFECYCLE_RULE_MAX_GROUPS = 8;

/**
 * Sends the terminate lifecycle actions of the given groups (and of no other group) to the
 * cluster's queue, so that the handler drains each leaving node and then completes its
 * action. One per stack that has node groups; it makes one EventBridge rule per
 * {@link LIFECYCLE_RULE_MAX_GROUPS} groups (`<suffix>`, `<suffix>2`, ...).
 */
export class NodeTerminationLifecycleRule extends Construct {
  readonly rules: readonly events.Rule[];

  constructor(scope: Construct, id: string, props: NodeTerminationLifecycleRuleProps) {
    super(scope, id);
    if (props.autoScalingGroups.length === 0) {
      throw new Error(`NodeTerminationLifecycleRule ${this.node.path}: 'autoScalingGroups' must name at least one group`);
    }
    if ((Object.values(CLUSTER_WIDE_RULE_SUFFIXES) as string[]).includes(props.ruleNameSuffix)) {
      throw new Error(`NodeTerminationLifecycleRule ${this.node.path}: 'ruleNameSuffix' '${props.ruleNameSuffix}' is taken by a cluster-wide rule; choose another`);
    }
    const rules: events.Rule[] = [];
    for (let start = 0; start < props.autoScalingGroups.length; start += LIFECYCLE_RULE_MAX_GROUPS) {
      const groups = props.autoScalingGroups.slice(start, start + LIFECYCLE_RULE_MAX_GROUPS);
      const number = rules.length === 0 ? '' : String(rules.length + 1);
      rules.push(
        new events.Rule(this, `Rule${number}`, {
          ruleName: nodeTerminationRuleName(props.clusterName, `${props.ruleNameSuffix}${number}`),
          description: `${props.clusterName}: terminate lifecycle actions for aws-node-termination-handler`,
          eventPattern: terminateLifecycleActionPattern(groups.map((group) => group.autoScalingGroupName)),
          targets: [new QueueAllowingRulesByName(props.queue)],
        }),
      );
    }
    this.rules = rules;
  }
}

function validateRetention(retention: Duration): void {
  const seconds = retention.toSeconds({ integral: false });
  const { min, max } = SQS_RETENTION_BOUNDS_SECONDS;
  if (!Number.isInteger(seconds) || seconds < min || seconds > max) {
    throw new Error(`NodeTerminationQueue: 'retentionPeriod' must be whole seconds from ${min} to ${max} (SQS's limits), got ${seconds}`);
  }
}

function pascalCase(kebab: string): string {
  return kebab.replace(/(^|-)([a-z])/g, (_, __, letter: string) => letter.toUpperCase());
}
