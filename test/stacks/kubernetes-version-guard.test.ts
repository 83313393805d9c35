/**
 * The version guard stands before the nodes in both stacks: a refused version fails the deploy
 * before any master or worker changes, and the worker stack compares with what the master
 * stack records.
 */
import { resourcesOfType, synthesizeCluster } from '../util';

const cluster = synthesizeCluster();
const guardOf = (template: typeof cluster.templates.master) => Object.entries(resourcesOfType(template, 'Custom::KubernetesVersionGuard'));

describe('the Kubernetes version guard', () => {
  test('the master stack guards its version and records it as the KubernetesVersion output', () => {
    const [[, guard]] = guardOf(cluster.templates.master);
    expect(guard.Properties).toMatchObject({ Version: 'v1.35.1' });
    expect(guard.Properties.ApiServerStack).toBeUndefined();
    expect(cluster.templates.master.findOutputs('KubernetesVersion').KubernetesVersion.Value).toBe('v1.35.1');
  });

  test('the worker stack guards its version against the master stack, by name, and may read only that stack', () => {
    const [[, guard]] = guardOf(cluster.templates.worker);
    expect(guard.Properties).toMatchObject({ Version: 'v1.35.1', ApiServerStack: 'kube-aws-test-1-master' });
    const statements = Object.values(resourcesOfType(cluster.templates.worker, 'AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const describe = statements.filter((s) => [s.Action].flat().includes('cloudformation:DescribeStacks'));
    expect(describe).toHaveLength(1);
    expect(JSON.stringify(describe[0].Resource)).toContain(':stack/kube-aws-test-1-master/*');
  });

  test.each(['master', 'worker'] as const)('no %s node is replaced before its guard has allowed the version (the groups roll after it)', (role) => {
    const template = cluster.templates[role];
    const [[guardId]] = guardOf(template);
    const groups = Object.entries(resourcesOfType(template, 'AWS::AutoScaling::AutoScalingGroup'));
    expect(groups.length).toBeGreaterThan(0);
    for (const [id, resource] of groups) expect({ id, dependsOn: resource.DependsOn ?? [] }).toEqual({ id, dependsOn: expect.arrayContaining([guardId]) });
  });
});
