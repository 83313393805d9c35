/**
 * `--context forceRoll=<token>` (the 2016 tool's `--force`): a new token replaces every node of
 * the chosen roles through the groups' rolling update, and changes nothing else.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { changedResources, resourcesOfType, synthesizeCluster } from './util';

interface LaunchTemplateData {
  readonly TagSpecifications?: { readonly ResourceType: string; readonly Tags: { readonly Key: string; readonly Value: string }[] }[];
}
const launchTemplateOf = (template: Template): LaunchTemplateData => Object.values(resourcesOfType(template, 'AWS::EC2::LaunchTemplate'))[0].Properties.LaunchTemplateData;

describe('forceRoll', () => {
  const before = synthesizeCluster();
  const first = synthesizeCluster({ forceRoll: 'a' });
  const second = synthesizeCluster({ forceRoll: 'b' });

  test('a token (first or new) changes only the master and worker launch templates, whose new versions roll the groups', () => {
    for (const [from, to] of [[before, first], [first, second]]) {
      expect(changedResources(from.templates.master.toJSON(), to.templates.master.toJSON())).toEqual([expect.stringMatching(/^MastersLaunchTemplate/)]);
      expect(changedResources(from.templates.worker.toJSON(), to.templates.worker.toJSON())).toEqual([expect.stringMatching(/^WorkersLaunchTemplate/)]);
      expect(to.templates.etcd.toJSON()).toEqual(from.templates.etcd.toJSON());
    }
  });

  test('the token tags the new instances and volumes, so each launch template version is new', () => {
    const specs = launchTemplateOf(second.templates.worker).TagSpecifications!;
    expect(specs.map((s) => s.ResourceType).sort()).toEqual(['instance', 'volume']);
    for (const spec of specs) expect(spec.Tags).toEqual(expect.arrayContaining([{ Key: 'kubernetes-on-aws:force-roll', Value: 'b' }]));
    expect(JSON.stringify(launchTemplateOf(before.templates.worker).TagSpecifications ?? [])).not.toContain('kubernetes-on-aws:force-roll');
  });

  test('forceRollRoles=worker rolls the workers only', () => {
    const workersOnly = synthesizeCluster({ forceRoll: 'a', forceRollRoles: 'worker' });
    expect(workersOnly.templates.master.toJSON()).toEqual(before.templates.master.toJSON());
    expect(changedResources(before.templates.worker.toJSON(), workersOnly.templates.worker.toJSON())).toEqual([expect.stringMatching(/^WorkersLaunchTemplate/)]);
  });

  test('a malformed token or an unknown role is refused, naming the setting and an example', () => {
    expect(() => synthesizeCluster({ forceRoll: 'with space' })).toThrow(/forceRoll.*a token of your choice.*e\.g\. 2026-12-04|forceRoll[\s\S]*2026-12-04/);
    expect(() => synthesizeCluster({ forceRoll: 'a', forceRollRoles: 'etcd' })).toThrow(/forceRollRoles[\s\S]*master, worker/);
  });
});
