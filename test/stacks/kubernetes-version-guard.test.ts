/**
 * The version guard stands before the nodes in both stacks: a refused version fails the deploy
 * before any master or worker changes, and the worker stack compares with what the master
 * stack records.
 */
import { resourcesOfType, synthesizeCluster } from '../util';

const cluster = synthesizeCluster();
const guardOf = (template: typeof cluster.templates.master) => Object.entries(resourcesOfType(template, 'Custom::KubernetesVersionGuard'));

describe('the Kubernetes version guard', () => {
  test.each(['master', 'worker'] as const)('the %s stack records its version as the KubernetesVersion output (what its next deploy compares with)', (role) => {
    expect(cluster.templates[role].findOutputs('KubernetesVersion').KubernetesVersion.Value).toBe('v1.35.1');
  });

  test("the master stack guards its version against the worker stack's kubelets, by name", () => {
    const [[, guard]] = guardOf(cluster.templates.master);
    expect(guard.Properties).toMatchObject({ Version: 'v1.35.1', KubeletStack: 'kube-aws-test-1-worker' });
    expect(guard.Properties.ApiServerStack).toBeUndefined();
  });

  test('the worker stack guards its version against the master stack, by name, and may read only that stack', () => {
    const [[, guard]] = guardOf(cluster.templates.worker);
    expect(guard.Properties).toMatchObject({ Version: 'v1.35.1', ApiServerStack: 'kube-aws-test-1-master' });
    const statements = Object.values(resourcesOfType(cluster.templates.worker, 'AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const describe = statements.filter((s) => [s.Action].flat().includes('cloudformation:DescribeStacks'));
    expect(describe).toHaveLength(1);
    // Its own stack (status and output) and the master stack, nothing else.
    expect(describe[0].Resource).toEqual(expect.arrayContaining(['arn:aws:cloudformation:eu-central-1:123456789012:stack/kube-aws-test-1-master/*', { Ref: 'AWS::StackId' }]));
    expect(describe[0].Resource).toHaveLength(2);
  });

  test.each(['master', 'worker'] as const)('no %s node is replaced before its guard has allowed the version (the groups roll after it)', (role) => {
    const template = cluster.templates[role];
    const [[guardId]] = guardOf(template);
    const groups = Object.entries(resourcesOfType(template, 'AWS::AutoScaling::AutoScalingGroup'));
    expect(groups.length).toBeGreaterThan(0);
    for (const [id, resource] of groups) expect({ id, dependsOn: resource.DependsOn ?? [] }).toEqual({ id, dependsOn: expect.arrayContaining([guardId]) });
  });
});
