/**
 * The add-ons reach the cluster at deploy time, one custom resource each, from the stack the
 * bootstrap chain names; a change to them changes nothing a node boots from.
 */
import { createHash } from 'crypto';
import { Match } from 'aws-cdk-lib/assertions';
import { ADDON_RESOURCE_TYPE } from '../../lib/constructs/addon-delivery';
import { addonContext } from '../../lib/stacks/master-stack';
import { bootstrapChain } from '../../manifests/addons/bootstrap-chain';
import { ADDONS } from '../../manifests/addons/registry';
import { resourcesOfType, synthesizeCluster } from '../util';

const cluster = synthesizeCluster();
interface Delivery {
  readonly id: string;
  readonly Properties: Record<string, unknown>;
  readonly DependsOn: string[];
}
const deliveries = (template: typeof cluster.templates.master): Delivery[] =>
  Object.entries(resourcesOfType(template, ADDON_RESOURCE_TYPE)).map(([id, resource]) => ({ id, Properties: resource.Properties, DependsOn: resource.DependsOn ?? [] }));
const byName = (template: typeof cluster.templates.master) =>
  new Map(deliveries(template).map((delivery) => [delivery.Properties.Name as string, delivery]));

describe('add-on delivery', () => {
  test('every add-on is one custom resource, in the stack the bootstrap chain names, with its version and a hash of its objects', () => {
    const master = byName(cluster.templates.master);
    const worker = byName(cluster.templates.worker);
    for (const { addon, stack } of bootstrapChain(ADDONS)) {
      const delivery = (stack === 'master' ? master : worker).get(addon.name);
      expect({ addon: addon.name, delivered: delivery !== undefined }).toEqual({ addon: addon.name, delivered: true });
      expect((stack === 'master' ? worker : master).has(addon.name)).toBe(false);
      const { Name, Version, ContentHash, Objects } = delivery!.Properties as Record<string, string>;
      expect({ Name, Version }).toEqual({ Name: addon.name, Version: addon.version });
      // The hash is of what is deployed: a change of content shows in `cdk diff` at the same version.
      expect(ContentHash).toBe(createHash('sha256').update(Objects).digest('hex'));
      const identity = (o: { kind: string; metadata?: { namespace?: string; name?: string } }) => `${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
      expect((JSON.parse(Objects) as { kind: string }[]).map(identity)).toEqual(addon.objects(addonContext(cluster.config)).map(identity));
    }
    expect(master.size + worker.size).toBe(ADDONS.length);
  });

  test('an add-on waits for the nodes it runs on and for the add-ons it needs', () => {
    const master = byName(cluster.templates.master);
    const masterGroup = Object.keys(resourcesOfType(cluster.templates.master, 'AWS::AutoScaling::AutoScalingGroup'))[0];
    for (const delivery of master.values()) expect(delivery.DependsOn).toContain(masterGroup);
    expect(master.get('coredns')!.DependsOn).toContain(master.get('aws-cloud-controller-manager')!.id);
    // On a new cluster: the node RBAC first (the kubelets register), then the node agents.
    for (const agent of ['kube-proxy', 'flannel', 'aws-cloud-controller-manager']) expect(master.get(agent)!.DependsOn).toContain(master.get('cluster-bootstrap')!.id);
    expect(master.get('coredns')!.DependsOn).toEqual(expect.arrayContaining([master.get('kube-proxy')!.id, master.get('flannel')!.id]));
    const workerGroup = Object.keys(resourcesOfType(cluster.templates.worker, 'AWS::AutoScaling::AutoScalingGroup'))[0];
    for (const delivery of byName(cluster.templates.worker).values()) expect(delivery.DependsOn).toContain(workerGroup);
  });

  test('turning optional add-ons off removes their deliveries and changes nothing the nodes boot from', () => {
    const trimmed = synthesizeCluster({ disabledAddons: 'headlamp,node-exporter' });
    expect(byName(trimmed.templates.master).has('node-exporter')).toBe(false);
    expect(byName(trimmed.templates.worker).has('headlamp')).toBe(false);
    expect(byName(trimmed.templates.master).has('coredns')).toBe(true);
    for (const stack of ['master', 'worker'] as const) {
      const launchTemplates = (synth: typeof cluster) => resourcesOfType(synth.templates[stack], 'AWS::EC2::LaunchTemplate');
      expect(launchTemplates(trimmed)).toEqual(launchTemplates(cluster));
    }
  });

  test('the applier runs in the VPC, pointed at the internal endpoint and the admin secret', () => {
    cluster.templates.master.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Applies one add-on'),
      VpcConfig: { SubnetIds: Match.anyValue(), SecurityGroupIds: Match.anyValue() },
      Environment: { Variables: { API_URL: Match.stringLikeRegexp('^https://internal\\.'), ADMIN_SECRET_ID: 'kubernetes-on-aws/kube-aws-test-1/admin' } },
    });
  });
});
