import * as https from 'node:https';
import { AddressInfo } from 'node:net';
import { createCertificateAuthority, issueCertificate } from '../../lib/secrets/pki';

// A fake Kubernetes API server over real HTTPS on 127.0.0.1, for the add-on applier's tests:
// discovery of a few built-in groups (and of CRDs once Established), an in-memory store, server-
// side apply as a replace, DELETE with preconditions, scripted failures, and a record of every
// request. Controllers are simulated on reads: a CRD becomes Established, a workload rolls out,
// after a set number of reads.

/** A request as the fake received it. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly contentType?: string;
  readonly authorization?: string;
  readonly body?: any;
}

/** A scripted answer for the next requests that match. */
export interface ScriptedFailure {
  readonly method: string;
  /** Matches the request path exactly. */
  readonly path: string;
  readonly status: number;
  readonly message: string;
  /** How many matching requests get it. @default 1 */
  times?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A built-in resource type the fake discovers. */
interface FakeResource {
  readonly name: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

/** Discovery of the built-in groups the applier meets (kinds and plurals as served by Kubernetes). */
const BUILT_IN: Readonly<Record<string, readonly FakeResource[]>> = {
  '/api/v1': [
    { name: 'namespaces', kind: 'Namespace', namespaced: false },
    { name: 'namespaces/status', kind: 'Namespace', namespaced: false },
    { name: 'configmaps', kind: 'ConfigMap', namespaced: true },
    { name: 'services', kind: 'Service', namespaced: true },
    { name: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true },
    { name: 'pods', kind: 'Pod', namespaced: true },
    { name: 'pods/log', kind: 'Pod', namespaced: true },
  ],
  '/apis/apps/v1': [
    { name: 'deployments', kind: 'Deployment', namespaced: true },
    { name: 'deployments/scale', kind: 'Scale', namespaced: true },
    { name: 'daemonsets', kind: 'DaemonSet', namespaced: true },
    { name: 'statefulsets', kind: 'StatefulSet', namespaced: true },
  ],
  '/apis/rbac.authorization.k8s.io/v1': [
    { name: 'clusterroles', kind: 'ClusterRole', namespaced: false },
    { name: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false },
    { name: 'roles', kind: 'Role', namespaced: true },
    { name: 'rolebindings', kind: 'RoleBinding', namespaced: true },
  ],
  '/apis/apiextensions.k8s.io/v1': [
    { name: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false },
  ],
  '/apis/admissionregistration.k8s.io/v1': [
    { name: 'mutatingwebhookconfigurations', kind: 'MutatingWebhookConfiguration', namespaced: false },
    { name: 'validatingwebhookconfigurations', kind: 'ValidatingWebhookConfiguration', namespaced: false },
  ],
  '/apis/policy/v1': [
    { name: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', namespaced: true },
  ],
};

/** How many nodes a DaemonSet lands on in the fake. */
const FAKE_NODES = 2;

/** What the simulated controllers do. */
export interface FakeControllers {
  /** Reads of a CRD before it is Established (Infinity: never). @default 1 */
  crdEstablishedAfterReads: number;
  /** Reads of a Deployment/DaemonSet/StatefulSet before it has rolled out (Infinity: never). @default 0 */
  rolloutAfterReads: number;
  /** Discovery requests of an Established CRD's group version answered 404 first (discovery lag). @default 0 */
  crdDiscoveryLagReads: number;
}

/** A running fake API server. */
export interface FakeKubeApi {
  readonly url: string;
  readonly caPem: string;
  readonly token: string;
  readonly requests: RecordedRequest[];
  readonly controllers: FakeControllers;
  /** Objects by `<path of the object>`. */
  readonly store: Map<string, any>;
  /** Puts an object as if someone else had created it (pods, others' objects). */
  put(path: string, object: any): void;
  /** Answers the next matching requests with a failure. */
  fail(failure: ScriptedFailure): void;
  /** Stops listening (connections are refused) until {@link resume}: an API server coming up. */
  pause(): Promise<void>;
  /** Listens again on the same port. */
  resume(): Promise<void>;
  close(): Promise<void>;
}

/** The status of a rolled-out workload of `generation`. */
function rolledOutStatus(object: any): any {
  const generation = object.metadata.generation;
  const replicas = object.spec?.replicas ?? 1;
  if (object.kind === 'DaemonSet') {
    return { observedGeneration: generation, desiredNumberScheduled: FAKE_NODES, currentNumberScheduled: FAKE_NODES, updatedNumberScheduled: FAKE_NODES, numberAvailable: FAKE_NODES, numberReady: FAKE_NODES };
  }
  if (object.kind === 'StatefulSet') {
    return { observedGeneration: generation, replicas, readyReplicas: replicas, updatedReplicas: replicas, currentRevision: 'r1', updateRevision: 'r1' };
  }
  return { observedGeneration: generation, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas };
}

/** The status of a workload whose new pods never become available. */
function stuckStatus(object: any): any {
  const generation = object.metadata.generation;
  const replicas = object.spec?.replicas ?? 1;
  if (object.kind === 'DaemonSet') return { observedGeneration: generation, desiredNumberScheduled: FAKE_NODES, updatedNumberScheduled: FAKE_NODES, numberAvailable: 0 };
  return { observedGeneration: generation, replicas, updatedReplicas: replicas, readyReplicas: 0, availableReplicas: 0 };
}

const WORKLOADS = new Set(['Deployment', 'DaemonSet', 'StatefulSet']);

/** A CA and a serving certificate for 127.0.0.1; `shared` ones are made once per test file. */
async function tlsMaterial(): Promise<{ caPem: string; certificatePem: string; privateKeyPem: string }> {
  const ca = await createCertificateAuthority('fake-kube-api-ca');
  const serving = await issueCertificate(ca, { commonName: 'fake-kube-api', ipAddresses: ['127.0.0.1'], usages: ['serverAuth'] });
  return { caPem: ca.certificatePem, certificatePem: serving.certificatePem, privateKeyPem: serving.privateKeyPem };
}
let sharedTls: ReturnType<typeof tlsMaterial> | undefined;

/** Starts a fake API server; `ownCa` gives it a CA of its own instead of the file's shared one. */
export async function startFakeKubeApi(options: { ownCa?: boolean } = {}): Promise<FakeKubeApi> {
  const tls = await (options.ownCa ? tlsMaterial() : (sharedTls ??= tlsMaterial()));
  const token = 'fake-admin-token';
  const requests: RecordedRequest[] = [];
  const store = new Map<string, any>();
  const reads = new Map<string, number>();
  const failures: ScriptedFailure[] = [];
  const controllers: FakeControllers = { crdEstablishedAfterReads: 1, rolloutAfterReads: 0, crdDiscoveryLagReads: 0 };
  let crdDiscoveryReads = 0;
  let nextUid = 1;
  let nextResourceVersion = 1;

  const send = (res: any, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const statusBody = (code: number, message: string, reason: string) => ({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code });

  /** Discovery, the built-in groups and the Established CRDs' versions. */
  const discovery = (path: string, lagging = false): FakeResource[] | undefined => {
    const resources = [...BUILT_IN[path] ?? []];
    let served = BUILT_IN[path] !== undefined;
    for (const crd of store.values()) {
      if (crd.kind !== 'CustomResourceDefinition' || !isEstablished(crd)) continue;
      for (const version of crd.spec.versions ?? []) {
        if (path !== `/apis/${crd.spec.group}/${version.name}`) continue;
        if (lagging && ++crdDiscoveryReads <= controllers.crdDiscoveryLagReads) continue;
        served = true;
        resources.push({ name: crd.spec.names.plural, kind: crd.spec.names.kind, namespaced: crd.spec.scope === 'Namespaced' });
      }
    }
    return served ? resources : undefined;
  };
  const isEstablished = (crd: any) => (crd.status?.conditions ?? []).some((c: any) => c.type === 'Established' && c.status === 'True');

  /** Splits `<group version path>[/namespaces/<ns>]/<plural>[/<name>]` against discovery. */
  const parse = (path: string) => {
    const match = /^(\/api\/v1|\/apis\/[^/]+\/[^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    if (!match) return undefined;
    const [, groupVersion, namespace, plural, name] = match;
    const resource = discovery(groupVersion)?.find((candidate) => candidate.name === plural);
    // A namespaced kind is served only under a namespace, a cluster-scoped one only outside.
    if (!resource || resource.namespaced !== (namespace !== undefined)) return undefined;
    return { resource, namespace: namespace ? decodeURIComponent(namespace) : undefined, name: name ? decodeURIComponent(name) : undefined };
  };

  /** Simulated controllers: status filled in after enough reads. */
  const simulate = (path: string, object: any) => {
    const count = (reads.get(path) ?? 0) + 1;
    reads.set(path, count);
    if (object.kind === 'CustomResourceDefinition' && count > controllers.crdEstablishedAfterReads) {
      object.status = { conditions: [{ type: 'NamesAccepted', status: 'True' }, { type: 'Established', status: 'True' }] };
    } else if (WORKLOADS.has(object.kind)) {
      object.status = count > controllers.rolloutAfterReads ? rolledOutStatus(object) : stuckStatus(object);
    }
  };

  const handle = (req: any, res: any, text: string) => {
    const url = new URL(req.url, 'https://127.0.0.1');
    const recorded: RecordedRequest = {
      method: req.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType: req.headers['content-type'],
      authorization: req.headers.authorization,
      body: text ? JSON.parse(text) : undefined,
    };
    requests.push(recorded);
    if (req.headers.authorization !== `Bearer ${token}`) return send(res, 401, statusBody(401, 'Unauthorized', 'Unauthorized'));
    const failure = failures.find((candidate) => candidate.method === req.method && candidate.path === url.pathname);
    if (failure) {
      failure.times = (failure.times ?? 1) - 1;
      if (failure.times <= 0) failures.splice(failures.indexOf(failure), 1);
      return send(res, failure.status, statusBody(failure.status, failure.message, 'Scripted'), failure.headers);
    }

    const discovered = req.method === 'GET' ? discovery(url.pathname, true) : undefined;
    if (discovered) {
      return send(res, 200, { kind: 'APIResourceList', groupVersion: url.pathname.replace(/^\/apis?\//, ''), resources: discovered.map((r) => ({ ...r, singularName: '', verbs: [] })) });
    }
    const target = parse(url.pathname);
    if (!target) return send(res, 404, statusBody(404, `the server could not find the requested resource (${url.pathname})`, 'NotFound'));
    const { resource, namespace, name } = target;

    if (!name) {
      if (req.method !== 'GET') return send(res, 405, statusBody(405, 'method not allowed', 'MethodNotAllowed'));
      const selector = url.searchParams.get('labelSelector') ?? '';
      // Equality terms only (`k=v,k2=v2`): what the applier sends for matchLabels.
      const terms = selector ? selector.split(',').map((term) => term.split('=')) : [];
      const items = [...store.entries()]
        .filter(([path]) => path.startsWith(`${url.pathname}/`))
        .map(([, object]) => object)
        .filter((object) => terms.every(([key, value]) => object.metadata.labels?.[key] === value));
      return send(res, 200, { kind: `${resource.kind}List`, apiVersion: 'v1', items });
    }

    const existing = store.get(url.pathname);
    const notFound = () => send(res, 404, statusBody(404, `${resource.name} "${name}" not found`, 'NotFound'));
    switch (req.method) {
      case 'GET':
        if (!existing) return notFound();
        simulate(url.pathname, existing);
        return send(res, 200, existing);
      case 'PATCH': {
        if (req.headers['content-type'] !== 'application/apply-patch+yaml') return send(res, 415, statusBody(415, 'unsupported media type', 'UnsupportedMediaType'));
        if (!url.searchParams.get('fieldManager')) return send(res, 422, statusBody(422, 'fieldManager: Required value: is required for apply patch', 'Invalid'));
        const applied = recorded.body;
        if (applied.metadata?.name !== name || (applied.metadata?.namespace ?? undefined) !== namespace) {
          return send(res, 400, statusBody(400, 'the name or namespace of the object does not match the URL', 'BadRequest'));
        }
        const specChanged = !existing || JSON.stringify(existing.spec) !== JSON.stringify(applied.spec);
        const generation = (existing?.metadata.generation ?? 0) + (specChanged ? 1 : 0);
        const object = {
          ...applied,
          metadata: { ...applied.metadata, uid: existing?.metadata.uid ?? `uid-${nextUid++}`, resourceVersion: String(nextResourceVersion++), generation },
          status: existing?.status,
        };
        store.set(url.pathname, object);
        reads.set(url.pathname, 0);
        return send(res, existing ? 200 : 201, object);
      }
      case 'DELETE': {
        if (!existing) return notFound();
        const preconditions = recorded.body?.preconditions ?? {};
        if ((preconditions.uid && preconditions.uid !== existing.metadata.uid)
          || (preconditions.resourceVersion && preconditions.resourceVersion !== existing.metadata.resourceVersion)) {
          return send(res, 409, statusBody(409, 'Precondition failed', 'Conflict'));
        }
        store.delete(url.pathname);
        return send(res, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success' });
      }
      default:
        return send(res, 405, statusBody(405, 'method not allowed', 'MethodNotAllowed'));
    }
  };

  const server = https.createServer({ cert: tls.certificatePem, key: tls.privateKeyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const stop = () => new Promise<void>((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });

  return {
    url: `https://127.0.0.1:${port}`,
    caPem: tls.caPem,
    token,
    requests,
    controllers,
    store,
    put: (path, object) => store.set(path, object),
    fail: (failure) => failures.push(failure),
    pause: stop,
    resume: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
    close: stop,
  };
}
