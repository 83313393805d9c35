import { changedResources, synthesizeCluster } from './util';

describe('changing the worker instance type on update', () => {
  const before = synthesizeCluster();
  const after = synthesizeCluster({ workerInstanceType: 'm6i.xlarge' });

  test('changes only the worker launch template, whose new version rolls the group', () => {
    const changed = changedResources(before.templates.worker.toJSON(), after.templates.worker.toJSON());
    expect(changed).toEqual([expect.stringMatching(/^WorkersLaunchTemplate/)]);
    // The group follows the template's latest version, so a new version is an update of the group.
    after.templates.worker.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      LaunchTemplate: { LaunchTemplateId: { Ref: changed[0] }, Version: { 'Fn::GetAtt': [changed[0], 'LatestVersionNumber'] } },
    });
    const lt = (t: any) => Object.values<any>(t.Resources).find((r) => r.Type === 'AWS::EC2::LaunchTemplate');
    expect(lt(before.templates.worker.toJSON()).Properties.LaunchTemplateData.InstanceType).toBe('m6i.large');
    expect(lt(after.templates.worker.toJSON()).Properties.LaunchTemplateData.InstanceType).toBe('m6i.xlarge');
  });

  test('leaves the etcd and master stacks untouched', () => {
    expect(after.templates.etcd.toJSON()).toEqual(before.templates.etcd.toJSON());
    expect(after.templates.master.toJSON()).toEqual(before.templates.master.toJSON());
  });
});
