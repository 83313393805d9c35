/**
 * Every way a master or worker leaves reaches the termination handler: the groups hold a
 * leaving instance for the drain, EventBridge sends their lifecycle actions (and the instance
 * events) to the cluster's queue, and the handler add-on reads exactly that queue.
 */
import { nodeTerminationHandlerEnv, NODE_DRAIN_SECONDS, NODE_TERMINATION_HOOK_TIMEOUT_SECONDS } from '../../manifests/addons/aws-node-termination-handler';
import { CONTEXT } from '../manifests/addons/addon-fixtures';
import { resourcesOfType, synthesizeCluster } from '../util';

const cluster = synthesizeCluster();
const { etcd, master, worker } = cluster.templates;
const QUEUE_ARN = 'arn:aws:sqs:eu-central-1:123456789012:kube-aws-test-1-node-termination';

describe('node termination: hooks, events and the queue', () => {
  test('masters and workers hold a leaving instance for the drain and then let it go; etcd members have no hook', () => {
    for (const template of [master, worker]) {
      const hooks = Object.values(resourcesOfType(template, 'AWS::AutoScaling::LifecycleHook')).map((h) => h.Properties);
      const groups = Object.keys(resourcesOfType(template, 'AWS::AutoScaling::AutoScalingGroup'));
      expect(hooks).toEqual(groups.map((id) => ({ AutoScalingGroupName: { Ref: id }, LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', HeartbeatTimeout: NODE_TERMINATION_HOOK_TIMEOUT_SECONDS, DefaultResult: 'CONTINUE' })));
    }
    expect(resourcesOfType(etcd, 'AWS::AutoScaling::LifecycleHook')).toEqual({});
    // The hook outlasts the handler's whole drain.
    expect(NODE_TERMINATION_HOOK_TIMEOUT_SECONDS).toBeGreaterThan(NODE_DRAIN_SECONDS);
  });

  test('the master stack has the one queue, named as the handler reads it, tagged for its role\'s condition', () => {
    const queues = Object.values(resourcesOfType(master, 'AWS::SQS::Queue'));
    expect(queues).toHaveLength(1);
    expect(queues[0].Properties.QueueName).toBe('kube-aws-test-1-node-termination');
    expect(queues[0].Properties.Tags).toEqual(expect.arrayContaining([{ Key: 'kubernetes.io/cluster/kube-aws-test-1', Value: 'owned' }]));
    expect(resourcesOfType(worker, 'AWS::SQS::Queue')).toEqual({});
    const env = Object.fromEntries(nodeTerminationHandlerEnv(CONTEXT).map((e) => [e.name, e.value]));
    expect(env.QUEUE_URL).toBe('https://sqs.eu-central-1.amazonaws.com/123456789012/kube-aws-test-1-node-termination');
  });

  test.each([
    ['master', master, /^MastersGroup/],
    ['worker', worker, /^WorkersGroup/],
  ] as const)("the %s stack's lifecycle actions of its own groups go to the queue", (_, template, group) => {
    const rules = Object.values(resourcesOfType(template, 'AWS::Events::Rule')).filter((r) => r.Properties.EventPattern?.source?.[0] === 'aws.autoscaling');
    expect(rules).toHaveLength(1);
    const [rule] = rules;
    expect(rule.Properties.EventPattern['detail-type']).toEqual(['EC2 Instance-terminate Lifecycle Action']);
    expect(rule.Properties.EventPattern.detail.AutoScalingGroupName).toEqual([{ Ref: expect.stringMatching(group) }]);
    expect(JSON.stringify(rule.Properties.Targets)).toMatch(template === master ? /NodeTerminationQueue/ : new RegExp(QUEUE_ARN));
  });

  test('the add-on\'s role may read and delete messages of this queue only', () => {
    const statements = Object.values(resourcesOfType(master, 'AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const sqs = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('sqs:')));
    expect(sqs.length).toBeGreaterThan(0);
    for (const statement of sqs) expect([statement.Resource].flat()).toEqual([QUEUE_ARN]);
  });
});
