/**
 * The cluster CA reaches the add-ons' admission webhook configurations at deploy time: the
 * marker an add-on writes (CLUSTER_CA_BUNDLE) never reaches the API server, and the API server
 * is told to trust exactly the CA that the applier itself checks the API server with.
 */
import { withClusterCaBundle } from '../../lib/addons/cluster-ca-bundle';
import { createOnEventHandler } from '../../lib/addons/handler';
import { KubeObject } from '../../lib/addons/object-ref';
import { CLUSTER_CA_BUNDLE } from '../../manifests/addons/addon';
import { podIdentityWebhook } from '../../manifests/addons/pod-identity-webhook';
import { rendered } from '../manifests/addons/addon-fixtures';
import { startFakeKubeApi } from './fake-kube-api';

const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';
const webhookConfiguration = (kind: string, caBundles: (string | undefined)[]): KubeObject => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind,
  metadata: { name: 'w' },
  webhooks: caBundles.map((caBundle, i) => ({ name: `w${i}.example.org`, clientConfig: { url: 'https://127.0.0.1:9443/x', ...(caBundle ? { caBundle } : {}) } })),
});
const caBundles = (object: KubeObject) => (object.webhooks as { clientConfig: { caBundle?: string } }[]).map((w) => w.clientConfig.caBundle);

describe('withClusterCaBundle', () => {
  test.each(['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'])('fills the marker of a %s with the base64 CA, and only the marker', (kind) => {
    const other = Buffer.from('another CA').toString('base64');
    const [filled] = withClusterCaBundle([webhookConfiguration(kind, [CLUSTER_CA_BUNDLE, other, undefined])], CA_PEM);
    expect(caBundles(filled)).toEqual([Buffer.from(CA_PEM).toString('base64'), other, undefined]);
  });

  test('leaves every other object as it is', () => {
    const configMap: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'kube-system' }, data: { a: 'b' } };
    expect(withClusterCaBundle([configMap], CA_PEM)).toEqual([configMap]);
  });

  test('refuses the marker anywhere else, naming the object, rather than sending it to the API server', () => {
    const stray: KubeObject = { apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: 'v1beta1.metrics.k8s.io' }, spec: { caBundle: CLUSTER_CA_BUNDLE } };
    expect(() => withClusterCaBundle([stray], CA_PEM)).toThrow(/APIService v1beta1.metrics.k8s.io: the cluster CA marker is only filled in as a webhook's clientConfig.caBundle/);
    const wrongGroup = { ...webhookConfiguration('MutatingWebhookConfiguration', [CLUSTER_CA_BUNDLE]), apiVersion: 'example.org/v1' };
    expect(() => withClusterCaBundle([wrongGroup], CA_PEM)).toThrow(/cluster CA marker/);
  });
});

describe('the applier Lambda delivers the pod identity webhook with the cluster CA', () => {
  test('the API server receives the CA of the worker secret as the caBundle, never the marker', async () => {
    const fake = await startFakeKubeApi();
    try {
      const objects = rendered(podIdentityWebhook);
      expect(JSON.stringify(objects)).toContain(CLUSTER_CA_BUNDLE);
      const onEvent = createOnEventHandler({
        readSecret: async () => JSON.stringify({ 'ca.crt': fake.caPem }),
        signIn: async () => fake.token,
        environment: { API_URL: fake.url, CA_SECRET_ID: 'kubernetes-on-aws/c-1/worker', CLUSTER_ID: 'aws:123456789012:eu-central-1:c-1' },
        remainingMs: () => 900_000,
      });
      await onEvent({ RequestType: 'Create', ResourceProperties: { Name: podIdentityWebhook.name, Version: podIdentityWebhook.version, ContentHash: 'h', Objects: JSON.stringify(objects) } });
      const stored = fake.store.get('/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/pod-identity-webhook');
      expect(stored).toBeDefined();
      expect(caBundles(stored)).toEqual([Buffer.from(fake.caPem).toString('base64')]);
      expect(JSON.stringify([...fake.store.values()])).not.toContain(CLUSTER_CA_BUNDLE);
    } finally {
      await fake.close();
    }
  });
});
