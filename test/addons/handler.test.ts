import { AddonProperties, createOnEventHandler, OnEventRequest } from '../../lib/addons/handler';
import { FakeKubeApi, startFakeKubeApi } from './fake-kube-api';

const NS = 'kube-system';
const configMap = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS }, data: { a: 'b' } });
const path = (name: string) => `/api/v1/namespaces/${NS}/configmaps/${name}`;
const properties = (names: string[], addon = 'demo'): AddonProperties => ({
  Name: addon,
  Version: 'v1.0.0',
  ContentHash: 'unused-here',
  Objects: JSON.stringify(names.map(configMap)),
});

let fake: FakeKubeApi;
let secretRead: string[];
let signedFor: string[];
beforeEach(async () => {
  fake = await startFakeKubeApi();
  secretRead = [];
  signedFor = [];
});
afterEach(() => fake.close());

const CLUSTER_ID = 'aws:123456789012:eu-central-1:c-1';

function handler(environment = { API_URL: fake.url, CA_SECRET_ID: 'kubernetes-on-aws/c-1/worker', CLUSTER_ID }, secret?: object, deleteRetryMs?: number, tokens?: string[]) {
  return createOnEventHandler({
    readSecret: async (id) => {
      secretRead.push(id);
      return JSON.stringify(secret ?? { 'ca.crt': fake.caPem });
    },
    // The fake API server takes its one token; the real one is the function's IAM token (iam-token.test.ts).
    signIn: async (clusterId) => (signedFor.push(clusterId), tokens?.shift() ?? fake.token),
    signInRetry: { forMs: 200, pauseMs: 10 },
    environment,
    remainingMs: () => 900_000,
    deleteRetryMs,
  });
}

const event = (RequestType: OnEventRequest['RequestType'], props: AddonProperties, old?: AddonProperties): OnEventRequest => ({
  RequestType,
  ResourceProperties: props,
  OldResourceProperties: old,
  PhysicalResourceId: RequestType === 'Create' ? undefined : `addon-${props.Name}`,
});

describe('the add-on applier Lambda', () => {
  test('Create applies the objects with its own IAM token for the cluster, trusting only the CA of the worker secret, and names the resource after the add-on', async () => {
    const response = await handler()(event('Create', properties(['a', 'b'])));
    expect(response).toEqual({ PhysicalResourceId: 'addon-demo' });
    expect(secretRead).toEqual(['kubernetes-on-aws/c-1/worker']);
    expect(signedFor).toEqual([CLUSTER_ID]);
    expect(fake.store.has(path('a')) && fake.store.has(path('b'))).toBe(true);
    expect(fake.requests.filter((r) => r.method === 'PATCH').every((r) => r.authorization === `Bearer ${fake.token}`)).toBe(true);
  });

  test('a token the API server does not accept (401: the webhook could not reach STS) makes it sign in again, and the apply goes on', async () => {
    const response = await handler(undefined, undefined, undefined, ['not-accepted', 'not-accepted'])(event('Create', properties(['a'])));
    expect(response).toEqual({ PhysicalResourceId: 'addon-demo' });
    expect(signedFor).toEqual([CLUSTER_ID, CLUSTER_ID, CLUSTER_ID]);
    expect(fake.store.has(path('a'))).toBe(true);
  });

  test('a 401 that lasts past the retry window fails the apply, with the API server\'s answer', async () => {
    const neverAccepted = Array.from({ length: 100 }, () => 'not-accepted');
    await expect(handler(undefined, undefined, undefined, neverAccepted)(event('Create', properties(['a'])))).rejects.toThrow(/401/);
    expect(signedFor.length).toBeGreaterThan(2);
    expect(fake.store.has(path('a'))).toBe(false);
  });

  test('Update prunes what the old properties had and the new ones do not (also what a rollback does)', async () => {
    await handler()(event('Create', properties(['a', 'b', 'c'])));
    await handler()(event('Update', properties(['a', 'b']), properties(['a', 'b', 'c'])));
    expect(fake.store.has(path('c'))).toBe(false);
    expect(fake.store.has(path('a'))).toBe(true);
  });

  test('Update of a renamed add-on prunes nothing: CloudFormation deletes the old resource itself', async () => {
    await handler()(event('Create', properties(['a', 'c'], 'old-name')));
    await handler()(event('Update', properties(['a']), properties(['a', 'c'], 'old-name')));
    expect(fake.store.has(path('c'))).toBe(true);
  });

  test('Delete removes its objects', async () => {
    await handler()(event('Create', properties(['a', 'b'])));
    await handler()(event('Delete', properties(['a', 'b'])));
    expect(fake.store.has(path('a')) || fake.store.has(path('b'))).toBe(false);
  });

  test('Delete gives up on an API server that does not answer (the cluster goes with its stack), but not on one that refuses', async () => {
    await handler()(event('Create', properties(['a'])));
    fake.fail({ method: 'DELETE', path: path('a'), status: 403, message: 'forbidden by policy' });
    await expect(handler()(event('Delete', properties(['a'])))).rejects.toThrow('forbidden by policy');
    await fake.pause();
    const started = Date.now();
    await expect(handler({ API_URL: fake.url, CA_SECRET_ID: 'x', CLUSTER_ID }, undefined, 1_000)(event('Delete', properties(['a'])))).resolves.toEqual({
      PhysicalResourceId: 'addon-demo',
    });
    expect(Date.now() - started).toBeLessThan(30_000);
    await fake.resume();
  }, 60_000);

  test('fails, naming what is missing, without its environment or with an incomplete secret', async () => {
    await expect(handler({ API_URL: '', CA_SECRET_ID: 'x', CLUSTER_ID })(event('Create', properties(['a'])))).rejects.toThrow('needs API_URL, CA_SECRET_ID and CLUSTER_ID');
    await expect(handler(undefined, { 'admin-token': 'not-what-it-reads' })(event('Create', properties(['a'])))).rejects.toThrow('the CA secret lacks ca.crt');
    expect(fake.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0);
  });
});
