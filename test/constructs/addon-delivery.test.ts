import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration';
import { Addon, AddonContext, CLUSTER_CA_BUNDLE } from '../../manifests/addons/addon';
import { ADDON_RESOURCE_TYPE, AddonDelivery } from '../../lib/constructs/addon-delivery';

const context: AddonContext = { clusterName: 'c-1', region: 'eu-central-1', account: '123456789012', partition: 'aws', hostedZoneId: 'Z1', hostedZoneName: 'z.example', kubernetesVersion: 'v1.35.1', clusterGroup: 'aws:123456789012:eu-central-1:c-1', administratorGroups: ['team-admins'], workerPoolTaints: [] };
const addon = (data: Record<string, string>, objects?: Addon['objects']): Addon => ({
  name: 'demo',
  version: 'v1.0.0',
  description: 'demo',
  optional: true,
  placement: 'masters',
  needs: [],
  provides: [],
  toleratedTaints: {},
  permissions: () => [],
  objects: objects ?? (() => [new ConfigMap({ metadata: { name: 'settings', namespace: 'kube-system' }, data })]),
});
function deliver(subject: Addon, clusterCaGeneration = 1): Record<string, string> {
  const stack = new Stack(new App(), 'S');
  new AddonDelivery(stack, 'Demo', { addon: subject, context, serviceToken: 'arn:aws:lambda:eu-central-1:123456789012:function:applier', clusterCaGeneration });
  return Object.values(Template.fromStack(stack).findResources(ADDON_RESOURCE_TYPE))[0].Properties;
}

describe('AddonDelivery', () => {
  test('a change of content at the same version changes the content hash, and only with the content', () => {
    const [a, b, again] = [deliver(addon({ x: '1' })), deliver(addon({ x: '2' })), deliver(addon({ x: '1' }))];
    expect(a.Version).toBe(b.Version);
    expect(a.ContentHash).not.toBe(b.ContentHash);
    expect(again.ContentHash).toBe(a.ContentHash);
  });

  test('refuses, before synthesis, an object that does not match its schema, naming it', () => {
    const bad = addon({}, () => [new ConfigMap({ metadata: { name: 'settings', namespace: 'kube-system' }, data: { x: 1 as unknown as string } })]);
    expect(() => deliver(bad)).toThrow(/add-on demo: ConfigMap kube-system\/settings does not match its Kubernetes schema/);
  });

  test('an add-on whose objects name the cluster CA is applied again with a new CA (a new control-plane secrets generation); others are not', () => {
    const namesCa = addon({}, () => [
      new MutatingWebhookConfiguration({
        metadata: { name: 'w' },
        webhooks: [{ name: 'w.example.org', clientConfig: { url: 'https://127.0.0.1:9443/m', caBundle: CLUSTER_CA_BUNDLE }, sideEffects: 'None', admissionReviewVersions: ['v1'] }],
      }),
    ]);
    expect(deliver(namesCa, 1).ClusterCaGeneration).toBe('1');
    expect(deliver(namesCa, 2).ClusterCaGeneration).toBe('2');
    expect(deliver(addon({ x: '1' }), 1)).toEqual(deliver(addon({ x: '1' }), 2));
    expect(deliver(addon({ x: '1' }), 2).ClusterCaGeneration).toBeUndefined();
  });

  test('refuses an add-on without objects', () => {
    expect(() => deliver(addon({}, () => []))).toThrow('add-on demo: it has no objects; turn it off instead');
  });
});
