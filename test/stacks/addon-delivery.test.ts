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
import * as fs from 'fs';
import * as path from 'path';
import { WEBHOOK_CONFIG_PATH } from '../../userdata/master';
import { parseWebhookConfig } from '../../webhook/config';
import { grantsAction, resourcesOf, statementsOfRole } from '../iam-policy';
import { fileText } from '../userdata/config-files';
import { iamRoleGroup } from '../../webhook/identities';
import { admit } from '../manifests/validating-admission-policy';
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

  test('the applier runs in the VPC, pointed at the internal endpoint, the CA of the worker secret and the cluster id its IAM token is for', () => {
    cluster.templates.master.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Applies one add-on'),
      VpcConfig: { SubnetIds: Match.anyValue(), SecurityGroupIds: Match.anyValue() },
      Environment: {
        Variables: {
          API_URL: Match.stringLikeRegexp('^https://internal\\.'),
          CA_SECRET_ID: 'kubernetes-on-aws/kube-aws-test-1/worker',
          CLUSTER_ID: 'aws:123456789012:eu-central-1:kube-aws-test-1',
        },
      },
    });
  });

  test('the applier signs in as its own role, which the webhook makes an Administrator, and reads no secret but the worker secret', () => {
    const [roleId, role] = Object.entries(resourcesOfType(cluster.templates.master, 'AWS::IAM::Role')).find(([, r]) => r.Properties.RoleName === 'kube-aws-test-1-addon-applier')!;
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }]);
    const webhook = parseWebhookConfig(fileText(JSON.parse(fs.readFileSync(path.join(cluster.app.outdir, cluster.stacks.master.userData.config.asset.assetPath), 'utf8')), WEBHOOK_CONFIG_PATH));
    expect(webhook.iam!.roles.Administrator).toContain('arn:aws:iam::123456789012:role/kube-aws-test-1-addon-applier');
    expect(webhook.iam!.roles.ReadOnly.concat(webhook.iam!.roles.PowerUser)).not.toContain('arn:aws:iam::123456789012:role/kube-aws-test-1-addon-applier');
    const secretReads = statementsOfRole(cluster.templates.master, roleId).filter((st) => grantsAction(st, 'secretsmanager:GetSecretValue'));
    const secretIds = secretReads.flatMap((st) => resourcesOf(st)).map((r) => JSON.stringify(r));
    expect(secretIds).toHaveLength(1);
    expect(secretIds[0]).toMatch(/SecretsWorker/);
  });

  test("the applier, an IAM Administrator, may create the add-ons' namespaces with their pod-security labels (the cluster's own policy admits it)", () => {
    const context = addonContext(cluster.config);
    const bootstrap = ADDONS.find((a) => a.name === 'cluster-bootstrap')!.objects(context).map((o) => JSON.parse(JSON.stringify(o)));
    const policy = bootstrap.find((o) => o.kind === 'ValidatingAdmissionPolicy');
    const binding = bootstrap.find((o) => o.kind === 'ValidatingAdmissionPolicyBinding');
    // Who the webhook says the applier is (webhook/iam-authenticator.ts, a role session in iam.roles.Administrator).
    const applier = { username: 'arn:aws:iam::123456789012:role/kube-aws-test-1-addon-applier/kube-aws-test-1-master-AddonApplierHandler', groups: [cluster.config.clusterGroup, iamRoleGroup('Administrator'), 'system:authenticated'] };
    const labelled = ADDONS.flatMap((a) => a.objects(context)).map((o) => JSON.parse(JSON.stringify(o)))
      .filter((o) => o.kind === 'Namespace' && Object.keys(o.metadata.labels ?? {}).some((k: string) => k.startsWith('pod-security.kubernetes.io/')));
    expect(labelled.length).toBeGreaterThan(0);
    for (const namespace of labelled) {
      const sample = { operation: 'CREATE' as const, resource: { group: '', version: 'v1', resource: 'namespaces' }, userInfo: applier, object: namespace, oldObject: null };
      expect([namespace.metadata.name, admit(policy, binding, sample).allowed]).toEqual([namespace.metadata.name, true]);
      // and not for an IAM PowerUser
      const powerUser = { ...applier, groups: [cluster.config.clusterGroup, iamRoleGroup('PowerUser'), 'system:authenticated'] };
      expect(admit(policy, binding, { ...sample, userInfo: powerUser }).allowed).toBe(false);
    }
  });
});
