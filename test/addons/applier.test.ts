import {
  ADDON_LABEL, ADDON_VERSION_ANNOTATION, APPLY_PATCH_CONTENT_TYPE, applyAddon, ApplyAddonRequest, deleteAddon, FIELD_MANAGER,
} from '../../lib/addons/applier';
import { ObjectRef } from '../../lib/addons/object-ref';
import { rolloutState, selectorQuery } from '../../lib/addons/rollout';
import { FakeKubeApi, RecordedRequest, startFakeKubeApi } from './fake-kube-api';

const NS = 'addon-ns';
const ADDON = 'demo';

/** Small waits keep the suite fast; each still lets several polls happen. */
const FAST = {
  requestTimeoutMs: 2_000,
  retryForMs: 1_500,
  initialBackoffMs: 20,
  maxBackoffMs: 100,
  establishedTimeoutMs: 400,
  rolloutTimeoutMs: 400,
  pollIntervalMs: 20,
};

const namespace = (name = NS) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const serviceAccount = () => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'demo', namespace: NS } });
const configMap = (name: string, labels?: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS, ...(labels ? { labels } : {}) }, data: { a: 'b' } });
const clusterRole = () => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'demo-reader' }, rules: [] });
const podTemplate = (app: string) => ({ metadata: { labels: { app } }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] } });
const deployment = (name = 'web') => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: NS },
  spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: podTemplate(name) },
});
const daemonSet = (name = 'agent') => ({
  apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name, namespace: NS },
  spec: { selector: { matchLabels: { app: name } }, template: podTemplate(name) },
});
const pdb = (apiVersion = 'policy/v1') => ({ apiVersion, kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: NS }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } } });
/** A CRD whose plural (`widgetries`) no naive pluralization of `Widget` would produce. */
const crd = () => ({
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgetries.example.com' },
  spec: {
    group: 'example.com', scope: 'Namespaced', names: { plural: 'widgetries', singular: 'widget', kind: 'Widget' },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
});
const widget = () => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: NS }, spec: { size: 1 } });

const PATHS = {
  namespace: `/api/v1/namespaces/${NS}`,
  serviceAccount: `/api/v1/namespaces/${NS}/serviceaccounts/demo`,
  clusterRole: '/apis/rbac.authorization.k8s.io/v1/clusterroles/demo-reader',
  deployment: `/apis/apps/v1/namespaces/${NS}/deployments/web`,
  daemonSet: `/apis/apps/v1/namespaces/${NS}/daemonsets/agent`,
  crd: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgetries.example.com',
  widget: `/apis/example.com/v1/namespaces/${NS}/widgetries/w`,
  configMap: (name: string) => `/api/v1/namespaces/${NS}/configmaps/${name}`,
};

const OUR_LABELS = { 'app.kubernetes.io/managed-by': 'kubernetes-on-aws', [ADDON_LABEL]: ADDON };

let fake: FakeKubeApi;
beforeEach(async () => {
  fake = await startFakeKubeApi();
});
afterEach(() => fake.close());

function applyRequest(objects: readonly unknown[], previousInventory: readonly ObjectRef[] = []): ApplyAddonRequest {
  return {
    connection: { server: fake.url, caPem: fake.caPem, token: fake.token },
    addonName: ADDON,
    addonVersion: 'v1.2.3',
    objects,
    previousInventory,
    timeouts: FAST,
  };
}

const sent = (method: string, path?: string): RecordedRequest[] =>
  fake.requests.filter((request) => request.method === method && (path === undefined || request.path === path));
const indexOf = (method: string, path: string) => fake.requests.findIndex((request) => request.method === method && request.path === path);

describe('server-side apply', () => {
  test('PATCHes each object at the path discovery gives, with fieldManager, force, the apply content type and the token', async () => {
    await applyAddon(applyRequest([deployment(), clusterRole(), serviceAccount(), namespace()]));

    expect(sent('PATCH').map((request) => request.path).sort()).toEqual(
      [PATHS.namespace, PATHS.serviceAccount, PATHS.clusterRole, PATHS.deployment].sort());
    for (const patch of sent('PATCH')) {
      expect(patch.query).toEqual({ fieldManager: FIELD_MANAGER, force: 'true' });
      expect(patch.contentType).toBe(APPLY_PATCH_CONTENT_TYPE);
    }
    expect(fake.requests.every((request) => request.authorization === `Bearer ${fake.token}`)).toBe(true);
    // One discovery request per group version, however many objects share it.
    expect(sent('GET', '/api/v1')).toHaveLength(1);
    expect(sent('GET', '/apis/apps/v1')).toHaveLength(1);
  });

  test('labels every object as ours and records the add-on version, without touching the caller\'s labels', async () => {
    const alreadyLabelled = configMap('settings', { team: 'platform', ...OUR_LABELS });
    const input = [namespace(), alreadyLabelled, serviceAccount()];
    const copy = JSON.parse(JSON.stringify(input));

    await applyAddon(applyRequest(input));

    for (const patch of sent('PATCH')) {
      expect(patch.body.metadata.labels).toMatchObject(OUR_LABELS);
      expect(patch.body.metadata.annotations).toEqual({ [ADDON_VERSION_ANNOTATION]: 'v1.2.3' });
    }
    expect(sent('PATCH', PATHS.configMap('settings'))[0].body.metadata.labels).toEqual({ team: 'platform', ...OUR_LABELS });
    expect(sent('PATCH', PATHS.serviceAccount)[0].body).toEqual({ ...serviceAccount(), metadata: { ...serviceAccount().metadata, labels: OUR_LABELS, annotations: { [ADDON_VERSION_ANNOTATION]: 'v1.2.3' } } });
    expect(input).toEqual(copy);
  });

  test('returns the inventory in apply order, cluster-scoped entries without a namespace', async () => {
    const result = await applyAddon(applyRequest([clusterRole(), deployment(), namespace()]));
    expect(result.inventory).toEqual([
      { apiVersion: 'v1', kind: 'Namespace', name: NS },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: 'demo-reader' },
      { apiVersion: 'apps/v1', kind: 'Deployment', namespace: NS, name: 'web' },
    ]);
  });

  test('refuses a namespaced object without a namespace, and an object listed twice, before any request', async () => {
    const noNamespace = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } };
    await expect(applyAddon(applyRequest([noNamespace]))).rejects.toThrow('add-on demo: apply ConfigMap x: ConfigMap is namespaced: set metadata.namespace');
    expect(sent('PATCH')).toHaveLength(0);
    await expect(applyAddon(applyRequest([pdb('policy/v1'), pdb('policy/v1beta1')]))).rejects.toThrow('objects listed twice: PodDisruptionBudget addon-ns/web');
  });
});

describe('objects that are not this add-on\'s', () => {
  test('an existing object without its label is refused before anything is applied, naming it and the ways out', async () => {
    // GIVEN a ConfigMap someone else made (no add-on label), e.g. a cluster's own bootstrap from before the add-on
    fake.put(PATHS.configMap('settings'), configMap('settings', { 'app.kubernetes.io/managed-by': 'kubernetes-on-aws' }));
    // WHEN the add-on would apply an object of that name
    const apply = applyAddon(applyRequest([serviceAccount(), configMap('settings')]));
    // THEN nothing is applied, and the error says whose it is and what to do
    await expect(apply).rejects.toThrow(
      `add-on demo: refusing to take over objects that exist and are not this add-on's: ConfigMap ${NS}/settings (no kubernetes-on-aws/addon label)`);
    await expect(apply).rejects.toThrow(/label them kubernetes-on-aws\/addon=demo to hand them over/);
    expect(sent('PATCH')).toEqual([]);
  });

  test("another add-on's object is refused too: one object never belongs to two add-ons", async () => {
    fake.put(PATHS.configMap('settings'), configMap('settings', { [ADDON_LABEL]: 'other' }));
    await expect(applyAddon(applyRequest([configMap('settings')]))).rejects.toThrow("ConfigMap addon-ns/settings (add-on other's)");
    expect(sent('PATCH')).toEqual([]);
  });

  test("its own objects, and those of its name before a rename, are applied over", async () => {
    fake.put(PATHS.configMap('mine'), configMap('mine', OUR_LABELS));
    fake.put(PATHS.configMap('renamed'), configMap('renamed', { [ADDON_LABEL]: 'old-name' }));
    await applyAddon({ ...applyRequest([configMap('mine'), configMap('renamed')]), previousName: 'old-name' });
    expect(sent('PATCH').map((r) => r.path).sort()).toEqual([PATHS.configMap('mine'), PATHS.configMap('renamed')]);
  });
});

describe('order', () => {
  test('CRDs and Namespaces first; a custom resource only once its CRD is Established, at the CRD\'s plural', async () => {
    fake.controllers.crdEstablishedAfterReads = 2;

    await applyAddon(applyRequest([widget(), deployment(), crd(), namespace()]));

    expect(sent('PATCH').map((request) => request.path)).toEqual([PATHS.crd, PATHS.namespace, PATHS.widget, PATHS.deployment]);
    // The fake answers Established on the third read only: the applier read until then (after
    // its apply; the read before it is the check that the object is not someone else's).
    const crdReadsBeforeWidget = fake.requests.slice(indexOf('PATCH', PATHS.crd), indexOf('PATCH', PATHS.widget)).filter((r) => r.method === 'GET' && r.path === PATHS.crd);
    expect(crdReadsBeforeWidget).toHaveLength(3);
  });

  test('a CRD\'s kind missing from discovery for a while after Established is asked for again', async () => {
    fake.controllers.crdDiscoveryLagReads = 2;
    await applyAddon(applyRequest([crd(), widget()]));
    const afterCrd = fake.requests.slice(indexOf('PATCH', PATHS.crd));
    expect(afterCrd.filter((r) => r.method === 'GET' && r.path === '/apis/example.com/v1')).toHaveLength(3);
    expect(sent('PATCH', PATHS.widget)).toHaveLength(1);
  });

  test('a CRD never Established fails naming it, and nothing of its kind is applied', async () => {
    fake.controllers.crdEstablishedAfterReads = Infinity;
    await expect(applyAddon(applyRequest([crd(), widget()])))
      .rejects.toThrow('add-on demo: wait for CustomResourceDefinition widgetries.example.com: not Established after 400 ms');
    expect(sent('PATCH', PATHS.widget)).toHaveLength(0);
  });
});

describe('errors and retries', () => {
  test('a 422 fails with the object, the status and the API server\'s message, and is not retried', async () => {
    const message = 'Deployment.apps "web" is invalid: spec.template.spec.containers[0].image: Required value';
    fake.fail({ method: 'PATCH', path: PATHS.deployment, status: 422, message });

    await expect(applyAddon(applyRequest([namespace(), deployment(), serviceAccount()])))
      .rejects.toThrow(`add-on demo: apply Deployment addon-ns/web: HTTP 422: ${message}`);
    expect(sent('PATCH', PATHS.deployment)).toHaveLength(1);
    expect(sent('PATCH', PATHS.serviceAccount)).toHaveLength(0);
  });

  test('a 403 is not retried either', async () => {
    fake.fail({ method: 'PATCH', path: PATHS.namespace, status: 403, message: 'namespaces "addon-ns" is forbidden' });
    await expect(applyAddon(applyRequest([namespace()]))).rejects.toThrow('apply Namespace addon-ns: HTTP 403: namespaces "addon-ns" is forbidden');
    expect(sent('PATCH', PATHS.namespace)).toHaveLength(1);
  });

  test('503 then 200 is retried, and so is 429 after its Retry-After', async () => {
    fake.fail({ method: 'PATCH', path: PATHS.namespace, status: 503, message: 'etcd not ready', times: 2 });
    fake.fail({ method: 'GET', path: '/apis/apps/v1', status: 429, message: 'too many requests', headers: { 'Retry-After': '0' } });

    await applyAddon(applyRequest([namespace(), deployment()]));

    expect(sent('PATCH', PATHS.namespace)).toHaveLength(3);
    expect(sent('GET', '/apis/apps/v1')).toHaveLength(2);
    expect(fake.store.get(PATHS.namespace)).toBeDefined();
  });

  test('5xx past the retry time fails with the last status', async () => {
    fake.fail({ method: 'PATCH', path: PATHS.namespace, status: 503, message: 'etcd not ready', times: Infinity });
    const request = { ...applyRequest([namespace()]), timeouts: { ...FAST, retryForMs: 300 } };
    await expect(applyAddon(request)).rejects.toThrow('apply Namespace addon-ns: HTTP 503: etcd not ready');
    expect(sent('PATCH', PATHS.namespace).length).toBeGreaterThan(2);
  });

  test('connections refused while the API server comes up are retried', async () => {
    await fake.pause();
    const applying = applyAddon(applyRequest([namespace()]));
    setTimeout(() => void fake.resume(), 300);
    await applying;
    expect(fake.store.get(PATHS.namespace)).toBeDefined();
  });

  test('an API server whose certificate the CA did not sign is not trusted', async () => {
    const other = await startFakeKubeApi({ ownCa: true });
    try {
      const request = { ...applyRequest([namespace()]), connection: { server: fake.url, caPem: other.caPem, token: fake.token } };
      await expect(applyAddon(request)).rejects.toThrow(/cannot reach the API server .*(self-signed|unable to verify|SELF_SIGNED|UNABLE_TO_VERIFY)/i);
      expect(fake.requests).toHaveLength(0);
    } finally {
      await other.close();
    }
  });
});

describe('prune', () => {
  test('deletes the previous inventory\'s objects that are gone from the add-on, only where they still carry its label', async () => {
    fake.put(PATHS.configMap('old-config'), { ...configMap('old-config', OUR_LABELS), metadata: { ...configMap('old-config', OUR_LABELS).metadata, uid: 'u1', resourceVersion: '7' } });
    fake.put(PATHS.configMap('taken-over'), configMap('taken-over', { ...OUR_LABELS, [ADDON_LABEL]: 'another-addon' }));
    fake.put(PATHS.configMap('unlabelled'), configMap('unlabelled'));
    fake.put('/api/v1/namespaces/old-ns', { ...namespace('old-ns'), metadata: { name: 'old-ns', labels: OUR_LABELS } });
    const ref = (name: string): ObjectRef => ({ apiVersion: 'v1', kind: 'ConfigMap', namespace: NS, name });
    const previous: ObjectRef[] = [
      { apiVersion: 'v1', kind: 'Namespace', name: 'old-ns' },
      ref('old-config'), ref('taken-over'), ref('unlabelled'), ref('gone'),
      { apiVersion: 'apps/v1', kind: 'Deployment', namespace: NS, name: 'web' },
      // The same object at another version of its group: kept, not pruned.
      { apiVersion: 'policy/v1beta1', kind: 'PodDisruptionBudget', namespace: NS, name: 'web' },
    ];

    const result = await applyAddon(applyRequest([namespace(), deployment(), pdb()], previous));

    expect(sent('DELETE').map((request) => request.path)).toEqual([PATHS.configMap('old-config'), '/api/v1/namespaces/old-ns']);
    expect(sent('DELETE')[0].body).toEqual({
      apiVersion: 'meta.k8s.io/v1', kind: 'DeleteOptions', propagationPolicy: 'Background', preconditions: { uid: 'u1', resourceVersion: '7' },
    });
    expect(fake.store.has(PATHS.configMap('taken-over'))).toBe(true);
    expect(fake.store.has(PATHS.configMap('unlabelled'))).toBe(true);
    expect(fake.store.has(PATHS.deployment)).toBe(true);
    expect(result.pruned).toEqual([ref('old-config'), previous[0]]);
    expect(result.leftAlone).toEqual([ref('unlabelled'), ref('taken-over')]);
    expect(result.inventory.map((entry) => entry.kind)).toEqual(['Namespace', 'Deployment', 'PodDisruptionBudget']);
    // After the new objects are applied and up.
    const lastPatch = fake.requests.map((request) => request.method).lastIndexOf('PATCH');
    expect(indexOf('DELETE', PATHS.configMap('old-config'))).toBeGreaterThan(lastPatch);
  });

  test('an object changed between the read and the delete (409) is read again before it is deleted', async () => {
    fake.put(PATHS.configMap('old-config'), configMap('old-config', OUR_LABELS));
    fake.fail({ method: 'DELETE', path: PATHS.configMap('old-config'), status: 409, message: 'Precondition failed' });

    await applyAddon(applyRequest([], [{ apiVersion: 'v1', kind: 'ConfigMap', namespace: NS, name: 'old-config' }]));

    expect(fake.requests.filter((r) => r.path === PATHS.configMap('old-config')).map((r) => r.method)).toEqual(['GET', 'DELETE', 'GET', 'DELETE']);
    expect(fake.store.has(PATHS.configMap('old-config'))).toBe(false);
  });

  test('an object of a kind no longer served (its CRD gone) counts as deleted', async () => {
    const result = await applyAddon(applyRequest([], [{ apiVersion: 'example.com/v1', kind: 'Widget', namespace: NS, name: 'w' }]));
    expect(sent('DELETE')).toHaveLength(0);
    expect(result.pruned).toEqual([]);
  });
});

describe('readiness', () => {
  test('waits until each Deployment and DaemonSet has rolled out', async () => {
    fake.controllers.rolloutAfterReads = 3;
    await applyAddon(applyRequest([namespace(), deployment(), daemonSet()]));
    // Reads after the apply (the one before it checks that the object is not someone else's).
    const readsAfter = (path: string) => fake.requests.slice(indexOf('PATCH', path)).filter((r) => r.method === 'GET' && r.path === path);
    expect(readsAfter(PATHS.deployment)).toHaveLength(4);
    expect(readsAfter(PATHS.daemonSet)).toHaveLength(4);
  });

  test('a stuck rollout fails with its failing pod\'s waiting reason and message, found by the workload\'s selector', async () => {
    fake.controllers.rolloutAfterReads = Infinity;
    const pullMessage = 'Back-off pulling image "registry.k8s.io/pause:3.10-typo": ErrImagePull: not found';
    fake.put(`/api/v1/namespaces/${NS}/pods/other-1`, {
      metadata: { name: 'other-1', labels: { app: 'other' } },
      status: { containerStatuses: [{ name: 'c', state: { waiting: { reason: 'CrashLoopBackOff', message: 'not this one' } } }] },
    });
    fake.put(`/api/v1/namespaces/${NS}/pods/web-1`, {
      metadata: { name: 'web-1', labels: { app: 'web' } },
      status: { containerStatuses: [{ name: 'c', state: { waiting: { reason: 'ImagePullBackOff', message: pullMessage } } }] },
    });

    const started = Date.now();
    await expect(applyAddon(applyRequest([namespace(), deployment()]))).rejects.toThrow(
      `add-on demo: roll out Deployment addon-ns/web: not rolled out after 400 ms (waiting for 0 of 2 updated replicas available); pod web-1 container c: ImagePullBackOff: ${pullMessage}`);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(sent('GET', `/api/v1/namespaces/${NS}/pods`)[0].query).toEqual({ labelSelector: 'app=web' });
  });

  test('a pod that cannot be scheduled is reported with the scheduler\'s message', async () => {
    fake.controllers.rolloutAfterReads = Infinity;
    const unschedulable = '0/3 nodes are available: 3 node(s) had untolerated taint {node.cloudprovider.kubernetes.io/uninitialized: true}.';
    fake.put(`/api/v1/namespaces/${NS}/pods/agent-1`, {
      metadata: { name: 'agent-1', labels: { app: 'agent' } },
      status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: unschedulable }] },
    });
    await expect(applyAddon(applyRequest([namespace(), daemonSet()])))
      .rejects.toThrow(`roll out DaemonSet addon-ns/agent: not rolled out after 400 ms (waiting for 0 of 2 pods available); pod agent-1: Unschedulable: ${unschedulable}`);
  });

  test('rollout criteria: observed generation, updated, old and available replicas; a passed progress deadline fails at once', () => {
    const spec = { replicas: 2 };
    const deploymentWith = (generation: number, status: Record<string, unknown>) => ({ kind: 'Deployment', metadata: { name: 'web', generation }, spec, status });
    const full = { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 };
    expect(rolloutState(deploymentWith(2, full))).toEqual({ done: true });
    expect(rolloutState(deploymentWith(3, full))).toMatchObject({ done: false, waitingFor: 'the controller to observe the new spec' });
    expect(rolloutState(deploymentWith(2, { ...full, replicas: 3 }))).toMatchObject({ done: false, waitingFor: '1 old replicas to terminate' });
    expect(rolloutState(deploymentWith(2, { ...full, availableReplicas: 1 }))).toMatchObject({ done: false });
    const deadline = { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "web-5d8" has timed out progressing.' };
    expect(rolloutState(deploymentWith(2, { ...full, availableReplicas: 0, conditions: [deadline] })))
      .toMatchObject({ done: false, failed: 'ReplicaSet "web-5d8" has timed out progressing.' });
    const ds = (status: Record<string, unknown>, type = 'RollingUpdate') => ({ kind: 'DaemonSet', metadata: { name: 'a', generation: 1 }, spec: { updateStrategy: { type } }, status: { observedGeneration: 1, ...status } });
    // maxUnavailable (default 1) nodes may lag, so one NotReady node fails no deploy; never the only one
    expect(rolloutState(ds({ desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 1 }))).toMatchObject({ done: false });
    expect(rolloutState(ds({ desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2 }))).toEqual({ done: true });
    expect(rolloutState(ds({ desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 }))).toEqual({ done: true });
    expect(rolloutState(ds({ desiredNumberScheduled: 1, updatedNumberScheduled: 1, numberAvailable: 0 }))).toMatchObject({ done: false });
    expect(rolloutState(ds({ desiredNumberScheduled: 3, updatedNumberScheduled: 0, numberAvailable: 0 }, 'OnDelete'))).toEqual({ done: true });
    // Scheduled nowhere is not rolled out: on a new cluster the nodes register only after the node RBAC
    expect(rolloutState(ds({ desiredNumberScheduled: 0, updatedNumberScheduled: 0, numberAvailable: 0 })))
      .toEqual({ done: false, waitingFor: 'a node to run on (no node has registered that it selects)' });
  });

  test('selectors become the labelSelector query syntax', () => {
    expect(selectorQuery({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['a', 'b'] }, { key: 'x', operator: 'NotIn', values: ['c'] },
        { key: 'y', operator: 'Exists' }, { key: 'z', operator: 'DoesNotExist' },
      ],
    })).toBe('app=web,tier in (a,b),x notin (c),y,!z');
  });
});

describe('delete', () => {
  test('deletes the inventory\'s labelled objects in reverse apply order and leaves the others', async () => {
    const applied = await applyAddon(applyRequest([crd(), namespace(), deployment(), clusterRole(), widget()]));
    // Someone took the ClusterRole over since: no longer ours.
    fake.store.get(PATHS.clusterRole).metadata.labels = { team: 'platform' };

    const result = await deleteAddon({
      connection: { server: fake.url, caPem: fake.caPem, token: fake.token }, addonName: ADDON, inventory: applied.inventory, timeouts: FAST,
    });

    expect(sent('DELETE').map((request) => request.path)).toEqual([PATHS.widget, PATHS.deployment, PATHS.namespace, PATHS.crd]);
    expect(fake.store.has(PATHS.clusterRole)).toBe(true);
    expect(result.leftAlone).toEqual([{ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: 'demo-reader' }]);
  });
});
