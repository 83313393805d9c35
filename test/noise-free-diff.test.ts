/**
 * `cdk diff` is noise-free: the same input synthesizes the same templates and assets, and a
 * change of one common setting changes exactly the resources it must (what a reviewer of the
 * diff expects to see, and nothing that would surprise them). The worker instance type and
 * forceRoll have their own files (instance-type-change.test.ts, force-roll.test.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import { changedResources, synthesizeCluster, SynthesizedCluster } from './util';

const STACKS = ['etcd', 'master', 'worker'] as const;
const base = synthesizeCluster();

/** The changed logical ids of each stack, by stack, the empty ones left out. */
function changesBy(after: SynthesizedCluster): Record<string, string[]> {
  const changes = STACKS.map((stack) => [stack, changedResources(base.templates[stack].toJSON(), after.templates[stack].toJSON())] as const);
  return Object.fromEntries(changes.filter(([, ids]) => ids.length > 0));
}

/** Every asset manifest of an assembly: what would be uploaded, by content hash. */
function assetManifests(cluster: SynthesizedCluster): Record<string, unknown> {
  const directory = cluster.app.synth().directory;
  const files = fs.readdirSync(directory).filter((name) => name.endsWith('.assets.json')).sort();
  return Object.fromEntries(files.map((name) => [name, JSON.parse(fs.readFileSync(path.join(directory, name), 'utf8'))]));
}

describe('the same input gives the same output', () => {
  test('two synths of the example cluster give identical templates and identical assets', () => {
    const again = synthesizeCluster();
    for (const stack of STACKS) expect(again.templates[stack].toJSON()).toEqual(base.templates[stack].toJSON());
    const manifests = assetManifests(base);
    expect(Object.keys(manifests).length).toBe(STACKS.length);
    expect(assetManifests(again)).toEqual(manifests);
  });
});

describe('a change of one setting changes exactly what it must', () => {
  const LAUNCH_TEMPLATES = {
    etcd: ['MembersMember0LaunchTemplateF76B3E8C', 'MembersMember1LaunchTemplate105892D9', 'MembersMember2LaunchTemplateE72B199F'],
    master: ['MastersLaunchTemplateDAA3BFA8'],
    worker: ['WorkersLaunchTemplate69D9C8E6'],
  };
  test.each([
    ['masterInstanceType: the masters\' launch template', { masterInstanceType: 'm6i.xlarge' }, { master: LAUNCH_TEMPLATES.master }],
    ['etcdInstanceType: each member\'s launch template', { etcdInstanceType: 'm6i.xlarge' }, { etcd: LAUNCH_TEMPLATES.etcd }],
    ['flatcarAmi: every launch template, nothing else', { flatcarAmi: { 'eu-central-1': 'ami-0aaaaaaaaaaaaaaaa' } }, LAUNCH_TEMPLATES],
    ['workerMaxSize: the workers\' group', { workerMaxSize: 20 }, { worker: ['WorkersGroupASG4E50A46C'] }],
    ['workerMinSize: the workers\' group', { workerMinSize: 2 }, { worker: ['WorkersGroupASG4E50A46C'] }],
    ['masterCount: the masters\' group', { masterCount: 3 }, { master: ['MastersGroupASGA08C3688'] }],
    ['apiAllowedCidrs: the API load balancer\'s security group', { apiAllowedCidrs: '203.0.113.0/24' }, { master: ['ApiSecurityGroup2D7B9747'] }],
    ['disabledAddons: the add-on\'s delivery, which deletes it', { disabledAddons: 'headlamp' }, { worker: ['AddonsheadlampB2969233'] }],
    // The auth webhook's config is a file on the masters: a new Ignition config (a new S3
    // object, which the masters' role may read) and so a roll of the masters.
    ['readOnlyGroups: the masters\' config and the grant to read it', { readOnlyGroups: 'team-readers' }, { master: ['MastersLaunchTemplateDAA3BFA8', 'MastersRoleDefaultPolicyA54968CF'] }],
    ['administratorRoleArns: the same', { administratorRoleArns: 'arn:aws:iam::123456789012:role/PlatformAdmins' }, { master: ['MastersLaunchTemplateDAA3BFA8', 'MastersRoleDefaultPolicyA54968CF'] }],
  ])('%s', (_, setting, expected) => {
    expect(changesBy(synthesizeCluster(setting))).toEqual(expected);
  });
});
