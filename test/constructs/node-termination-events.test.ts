import * as fs from 'fs';
import * as path from 'path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  LEAVING_INSTANCE_STATES,
  NodeTerminationLifecycleRule,
  NodeTerminationQueue,
  nodeTerminationRuleName,
  nodeTerminationRulePrefix,
} from '../../lib/constructs/node-termination-events';
import { nodeTerminationQueueName } from '../../manifests/addons/aws-node-termination-handler';
import { EventPattern, matchesPattern } from '../event-pattern';
import { conditionHolds, resolveIntrinsics, Statement } from '../iam-policy';

const ENV = { account: '123456789012', region: 'eu-central-1' };
const CLUSTER = 'kube-aws-test-1';
const QUEUE_NAME = nodeTerminationQueueName(CLUSTER);
const MASTER_GROUPS = ['kube-aws-test-1-masters'];
const WORKER_GROUPS = ['kube-aws-test-1-workers-a', 'kube-aws-test-1-workers-b'];

/** A documented sample event, as recorded in test/fixtures/aws-events (each file cites its source). */
function fixture(name: string): Record<string, any> {
  const recorded = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'aws-events', `${name}.json`), 'utf8'));
  expect(recorded._source).toMatch(/https:\/\/|aws-node-termination-handler v1\.25\.6/);
  return recorded.event;
}

const withDetail = (event: Record<string, any>, detail: Record<string, unknown>) => ({ ...event, detail: { ...event.detail, ...detail } });

/** The master and worker stacks as the cluster wires them, in one app checked by cdk-nag. */
function cluster() {
  const app = new App();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const master = new Stack(app, 'Master', { env: ENV });
  const worker = new Stack(app, 'Worker', { env: ENV });
  const events = new NodeTerminationQueue(master, 'NodeTermination', { clusterName: CLUSTER });
  const groups = (stack: Stack, names: string[]) =>
    names.map((name) => autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, name, name));
  new NodeTerminationLifecycleRule(master, 'MasterLifecycle', {
    clusterName: CLUSTER,
    ruleNameSuffix: 'masters-lifecycle',
    autoScalingGroups: groups(master, MASTER_GROUPS),
    queue: events.queue,
  });
  new NodeTerminationLifecycleRule(worker, 'WorkerLifecycle', {
    clusterName: CLUSTER,
    ruleNameSuffix: 'workers-lifecycle',
    autoScalingGroups: groups(worker, WORKER_GROUPS),
    queue: NodeTerminationQueue.fromClusterName(worker, 'Queue', CLUSTER),
  });
  // Synthesizes: an unacknowledged cdk-nag finding throws here.
  return { app, master: Template.fromStack(master), worker: Template.fromStack(worker) };
}

type Rule = { name: string; pattern: EventPattern; targets: { Arn: unknown }[] };

function rulesOf(template: Template): Rule[] {
  return Object.values(template.findResources('AWS::Events::Rule')).map((r: any) => ({
    name: r.Properties.Name,
    pattern: r.Properties.EventPattern,
    targets: r.Properties.Targets,
  }));
}

describe('NodeTerminationQueue and NodeTerminationLifecycleRule', () => {
  const { master, worker } = cluster();
  const rules = [...rulesOf(master), ...rulesOf(worker)];
  const queueId = Object.keys(master.findResources('AWS::SQS::Queue'))[0];
  const queueStatements = (): Statement[] =>
    (Object.values(master.findResources('AWS::SQS::QueuePolicy'))[0] as any).Properties.PolicyDocument.Statement;
  /** The rules an event would go to, by name. */
  const rulesMatching = (event: unknown) => rules.filter((rule) => matchesPattern(rule.pattern, event)).map((rule) => rule.name);
  const name = (suffix: string) => `${CLUSTER}-node-termination-${suffix}`;

  test('the queue has the name the add-on reads, SSE-SQS (not a KMS key), and a one-hour retention', () => {
    master.hasResourceProperties('AWS::SQS::Queue', { QueueName: QUEUE_NAME, SqsManagedSseEnabled: true, MessageRetentionPeriod: 3600 });
    const [queue] = Object.values(master.findResources('AWS::SQS::Queue')) as any[];
    expect(queue.Properties.KmsMasterKeyId).toBeUndefined();
  });

  test('only EventBridge may send, only SendMessage, only for rules named with the cluster prefix in this account', () => {
    const allows = queueStatements().filter((s) => s.Effect === 'Allow');
    expect(allows).toEqual([
      {
        Sid: 'OnlyThisClustersRulesSend',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
        Condition: {
          ArnLike: {
            'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:events:eu-central-1:123456789012:rule/${nodeTerminationRulePrefix(CLUSTER)}*`]] },
          },
          StringEquals: { 'aws:SourceAccount': '123456789012' },
        },
      },
    ]);
  });

  test('requests without TLS are denied, and so is any SendMessage that does not come from a rule of the cluster', () => {
    const denies = queueStatements().filter((s) => s.Effect === 'Deny');
    expect(denies).toEqual([
      expect.objectContaining({ Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      expect.objectContaining({ Sid: 'NobodyElseSends', Principal: { AWS: '*' }, Action: 'sqs:SendMessage' }),
    ]);
    // As IAM evaluates it: a user's direct request (no aws:SourceArn) is denied, a rule of another
    // cluster too, a rule of this cluster is not.
    const deny = denies[1];
    const ruleArn = (name: string) => `arn:aws:events:eu-central-1:123456789012:rule/${name}`;
    const resolved = resolveIntrinsics(deny, { 'AWS::Partition': 'aws' });
    expect(conditionHolds(resolved.Condition, {})).toBe(true);
    expect(conditionHolds(resolved.Condition, { 'aws:SourceArn': ruleArn('other-cluster-node-termination-x') })).toBe(true);
    expect(conditionHolds(resolved.Condition, { 'aws:SourceArn': ruleArn(`${nodeTerminationRulePrefix(CLUSTER)}state-change`) })).toBe(false);
  });

  test('every rule is named with the prefix the queue policy allows and targets the queue, by ARN in the worker stack', () => {
    expect(rules.map((r) => r.name).sort()).toEqual(
      ['spot-interruption', 'rebalance', 'state-change', 'scheduled-change', 'masters-lifecycle', 'workers-lifecycle'].map(name).sort(),
    );
    for (const rule of rulesOf(master)) expect(rule.targets).toEqual([{ Id: 'Target0', Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } }]);
    expect(rulesOf(worker)[0].targets).toEqual([
      { Id: 'Target0', Arn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:sqs:eu-central-1:123456789012:${QUEUE_NAME}`]] } },
    ]);
    // The worker stack changes no policy of the master stack's queue (it could not: imported).
    expect(worker.findResources('AWS::SQS::QueuePolicy')).toEqual({});
  });

  describe('documented sample events reach exactly their rule', () => {
    test.each([
      ['ec2-spot-instance-interruption-warning', 'spot-interruption'],
      ['ec2-instance-rebalance-recommendation', 'rebalance'],
      ['aws-health-ec2-scheduled-change', 'scheduled-change'],
    ])('%s → %s', (file, suffix) => {
      expect(rulesMatching(fixture(file))).toEqual([name(suffix)]);
    });

    test.each([...LEAVING_INSTANCE_STATES])('a state change to %s → state-change', (state) => {
      expect(rulesMatching(withDetail(fixture('ec2-instance-state-change-notification'), { state }))).toEqual([name('state-change')]);
    });

    test.each(['pending', 'running'])('a state change to %s (the documented sample is pending) reaches no rule', (state) => {
      expect(rulesMatching(withDetail(fixture('ec2-instance-state-change-notification'), { state }))).toEqual([]);
    });

    test("a terminate lifecycle action reaches its own stack's rule only", () => {
      const terminating = fixture('asg-terminate-lifecycle-action');
      expect(rulesMatching(withDetail(terminating, { AutoScalingGroupName: WORKER_GROUPS[1] }))).toEqual([name('workers-lifecycle')]);
      expect(rulesMatching(withDetail(terminating, { AutoScalingGroupName: MASTER_GROUPS[0] }))).toEqual([name('masters-lifecycle')]);
    });

    test("another cluster's group (the sample's my-asg, a name sharing our prefix) reaches no rule", () => {
      const terminating = fixture('asg-terminate-lifecycle-action');
      expect(rulesMatching(terminating)).toEqual([]);
      expect(rulesMatching(withDetail(terminating, { AutoScalingGroupName: 'kube-aws-test-10-workers-a' }))).toEqual([]);
    });

    test('a launch lifecycle action of our own group reaches no rule', () => {
      expect(rulesMatching(withDetail(fixture('asg-launch-lifecycle-action'), { AutoScalingGroupName: WORKER_GROUPS[0] }))).toEqual([]);
    });

    test('a Health scheduled change of another service, or an EC2 issue, reaches no rule', () => {
      const health = fixture('aws-health-ec2-scheduled-change');
      expect(rulesMatching(withDetail(health, { service: 'RDS' }))).toEqual([]);
      expect(rulesMatching(withDetail(health, { eventTypeCategory: 'issue' }))).toEqual([]);
    });
  });

  test('a real group is named by reference, so the pattern follows its generated name', () => {
    const stack = new Stack(undefined, 'Refs', { env: ENV });
    const vpc = new ec2.Vpc(stack, 'Vpc');
    const group = new autoscaling.AutoScalingGroup(stack, 'Group', {
      vpc,
      instanceType: new ec2.InstanceType('t3.micro'),
      machineImage: ec2.MachineImage.latestAmazonLinux2023(),
    });
    const queue = NodeTerminationQueue.fromClusterName(stack, 'Queue', CLUSTER);
    new NodeTerminationLifecycleRule(stack, 'Lifecycle', { clusterName: CLUSTER, ruleNameSuffix: 'x', autoScalingGroups: [group], queue });
    const [rule] = rulesOf(Template.fromStack(stack));
    expect(rule.pattern).toEqual({
      source: ['aws.autoscaling'],
      'detail-type': ['EC2 Instance-terminate Lifecycle Action'],
      detail: { AutoScalingGroupName: [{ Ref: stack.getLogicalId(group.node.defaultChild as autoscaling.CfnAutoScalingGroup) }] },
    });
  });
});

describe('validation', () => {
  const queue = (stack: Stack) => NodeTerminationQueue.fromClusterName(stack, 'Queue', CLUSTER);

  test('a rule name over 64 characters names the cluster to shorten', () => {
    // 28 characters is config.ts's longest cluster name: 28 + 18 + 16 ('scheduled-change') = 62.
    expect(nodeTerminationRuleName('a'.repeat(28), 'scheduled-change')).toHaveLength(62);
    expect(() => nodeTerminationRuleName('a'.repeat(28), 'workers-lifecycle-x')).toThrow(
      new RegExp(`is 65 characters, more than EventBridge's 64: shorten the cluster name '${'a'.repeat(28)}'`),
    );
    const stack = new Stack(undefined, 'Long', { env: ENV });
    expect(() => new NodeTerminationQueue(stack, 'Q', { clusterName: 'c'.repeat(31) })).toThrow(/shorten the cluster name 'c{31}'/);
  });

  test('a lifecycle rule needs a group, a free suffix of the rule-name alphabet', () => {
    const stack = new Stack(undefined, 'V', { env: ENV });
    const props = { clusterName: CLUSTER, queue: queue(stack) };
    const groups = [autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'G', 'g')];
    expect(() => new NodeTerminationLifecycleRule(stack, 'A', { ...props, ruleNameSuffix: 'w', autoScalingGroups: [] })).toThrow(/at least one group/);
    expect(() => new NodeTerminationLifecycleRule(stack, 'B', { ...props, ruleNameSuffix: 'state-change', autoScalingGroups: groups })).toThrow(
      /taken by a cluster-wide rule/,
    );
    expect(() => new NodeTerminationLifecycleRule(stack, 'C', { ...props, ruleNameSuffix: 'a/b', autoScalingGroups: groups })).toThrow(
      /only letters, digits/,
    );
  });

  test.each([Duration.seconds(59), Duration.days(15), Duration.millis(60500)])('retention %p is refused', (retentionPeriod) => {
    const stack = new Stack(undefined, 'R', { env: ENV });
    expect(() => new NodeTerminationQueue(stack, 'Q', { clusterName: CLUSTER, retentionPeriod })).toThrow(/'retentionPeriod' must be whole seconds from 60/);
  });
});

describe('matchesPattern (test/event-pattern.ts)', () => {
  const event = { source: 'aws.ec2', detail: { state: 'stopping', tags: ['a', 'b'], nested: { n: 1 } } };

  test('arrays are an OR of exact values; every key must match', () => {
    expect(matchesPattern({ source: ['aws.ec2', 'aws.health'] }, event)).toBe(true);
    expect(matchesPattern({ source: ['aws.ec2'], detail: { state: ['running'] } }, event)).toBe(false);
    expect(matchesPattern({ source: ['aws.ec'] }, event)).toBe(false);
  });

  test('nested objects match nested values; a missing field or a non-object fails', () => {
    expect(matchesPattern({ detail: { nested: { n: [1] } } }, event)).toBe(true);
    expect(matchesPattern({ detail: { nested: { n: ['1'] } } }, event)).toBe(false);
    expect(matchesPattern({ detail: { absent: ['x'] } }, event)).toBe(false);
    expect(matchesPattern({ source: { x: ['y'] } }, event)).toBe(false);
  });

  test('an array in the event matches when one element does', () => {
    expect(matchesPattern({ detail: { tags: ['b'] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { tags: ['c'] } }, event)).toBe(false);
  });

  test('prefix, anything-but and exists', () => {
    expect(matchesPattern({ source: [{ prefix: 'aws.' }] }, event)).toBe(true);
    expect(matchesPattern({ source: [{ prefix: 'custom.' }] }, event)).toBe(false);
    expect(matchesPattern({ detail: { state: [{ 'anything-but': ['running', 'pending'] }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { state: [{ 'anything-but': 'stopping' }] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { absent: [{ 'anything-but': 'x' }] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { absent: [{ exists: false }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { state: [{ exists: false }] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { state: [{ exists: true }] } }, event)).toBe(true);
  });

  test('operators it does not implement throw rather than pass', () => {
    expect(() => matchesPattern({ source: [{ suffix: '.ec2' }] }, event)).toThrow(/not implemented/);
    expect(() => matchesPattern({ source: [] }, event)).toThrow(/empty array/);
  });
});
