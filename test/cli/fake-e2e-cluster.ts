import * as http from 'node:http';
import * as https from 'node:https';
import { AddressInfo } from 'node:net';
import type { V1Job, V1Node, V1Pod, V1Service, V1SubjectAccessReviewSpec, V1SubjectAccessReviewStatus } from '@kubernetes/client-node';
import type { NodeMetrics } from '../../lib/cli/e2e/e2e-cluster';
import { fakeServingTls } from './fake-api-server';
import { pod } from './fixtures/e2e/objects';

// A stateful fake Kubernetes API server over real HTTPS on 127.0.0.1 that plays a cluster for
// `kube-aws e2e` run as a child process: it keeps what the suite creates, makes it ready after a
// few reads as controllers would, and plays the cloud controller (a load balancer address), the
// StatefulSet controller (a new pod after a deletion, with or without the old pod's data), the
// Job controller, the authorizers and metrics-server, each as a scenario says. It records every
// request. Shapes (kubernetes/api v0.35.1): core/v1/types.go Namespace (status.phase
// Terminating, a condition NamespaceFinalizersRemaining; its message here is made up), ServiceStatus.loadBalancer.ingress[].hostname, PersistentVolumeClaim
// (spec.storageClassName, spec.volumeName, status.phase Bound), PersistentVolume
// (spec.claimRef, persistentVolumeReclaimPolicy); apps/v1/types.go DeploymentStatus
// (replicas, readyReplicas, availableReplicas); batch/v1/types.go JobStatus.conditions
// (Complete, Failed); authorization/v1/types.go SubjectAccessReviewStatus; kubernetes/metrics
// v0.35.1 NodeMetricsList; errors as metav1.Status (kubernetes/apimachinery).

/** What the fake cluster does. */
export interface FakeE2eScenario {
  /** What the system namespaces hold: each GET of a namespace's pods lists those of it (a function: made at each GET). */
  readonly systemPods: readonly V1Pod[] | (() => readonly V1Pod[]);
  readonly nodes: readonly V1Node[];
  /** How many reads of an object the suite made before it is ready (controllers at work). @default 2 */
  readonly readyAfter?: number;
  /** The load balancer's DNS name, or never one. */
  readonly loadBalancer: { readonly hostname: string } | 'never';
  /** Whether the StatefulSet's new pod finds the old pod's file. @default true */
  readonly volumeKeepsData?: boolean;
  /** How the DNS Job ends. @default 'complete' */
  readonly dnsJob?: 'complete' | 'fail';
  /** The authorizers' answer to a SubjectAccessReview. */
  readonly access: (spec: V1SubjectAccessReviewSpec) => V1SubjectAccessReviewStatus;
  /** The metrics API's nodes, or the error it answers with. */
  readonly metrics: readonly NodeMetrics[] | { readonly status: number; readonly message: string };
  /** Whether a deleted namespace goes away (after a few reads), or stays Terminating. @default 'finishes' */
  readonly namespaceDeletion?: 'finishes' | 'stuck';
  /** What a namespace creation meets: none, or a namespace of that name made by someone else (409 AlreadyExists). @default 'none' */
  readonly existingNamespace?: 'none' | 'someone-elses';
  /** The store volume's reclaim policy: Delete (the driver deletes it with its claim), or Retain (it stays until its PV is deleted). @default 'Delete' */
  readonly reclaimPolicy?: 'Delete' | 'Retain';
  /** The load balancer's address as an IP instead of a hostname. */
  readonly loadBalancerIp?: string;
}

/** A request as the fake received it. */
export interface ReceivedE2eRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly body?: unknown;
  readonly authorization?: string;
}

export interface FakeE2eCluster {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** A file with the CA's certificate, for NODE_EXTRA_CA_CERTS. */
  readonly caFile: string;
  readonly requests: ReceivedE2eRequest[];
  /** Namespaces the suite created, and which of them it deleted. */
  readonly created: string[];
  readonly deleted: string[];
  /** PersistentVolumes the suite deleted. */
  readonly deletedVolumes: string[];
  /** Requests the fake has no answer for (a test asserts none). */
  readonly unhandled: string[];
  close(): Promise<void>;
}

/** The EBS volume behind the store's PersistentVolume (its CSI volumeHandle). */
export const VOLUME_ID = 'vol-0123456789abcdef0';

/** The DNS Job's pod's log when it fails: kubernetes.default resolved, the external name not. */
export const FAILED_DNS_LOG = '10.3.0.1          kubernetes.default.svc.cluster.local  kubernetes.default.svc.cluster.local\n';

type Answer = { status: number; body: unknown; contentType?: string };

export async function startFakeE2eCluster(scenario: FakeE2eScenario): Promise<FakeE2eCluster> {
  const { tls, caFile } = await fakeServingTls('fake-e2e-api');
  const readyAfter = scenario.readyAfter ?? 2;
  const requests: ReceivedE2eRequest[] = [];
  const created: string[] = [];
  const deleted: string[] = [];
  const deletedVolumes: string[] = [];
  const unhandled: string[] = [];
  /** Objects the suite made, by API path; with how often each was read. */
  const objects = new Map<string, { object: Record<string, unknown>; reads: number }>();
  /** Per namespace: the StatefulSet's pods (a deletion replaces the current one). */
  const storePods = new Map<string, { uid: string; reads: number; log: string }[]>();
  const deletions = new Map<string, number>();
  let uids = 0;

  const read = (key: string) => {
    const entry = objects.get(key);
    if (entry) entry.reads++;
    return entry;
  };

  function route(method: string, p: string, query: URLSearchParams, body: Record<string, unknown> | undefined): Answer {
    if (method === 'POST' && p === '/api/v1/namespaces') {
      const name = (body?.metadata as { name: string }).name;
      if (scenario.existingNamespace === 'someone-elses') {
        objects.set(p + '/' + name, { object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, creationTimestamp: wholeSecond(new Date(0)) }, status: { phase: 'Active' } }, reads: 0 });
        return status(409, `namespaces "${name}" already exists`, 'AlreadyExists');
      }
      created.push(name);
      // metav1.Time: RFC 3339 in whole seconds.
      objects.set(p + '/' + name, { object: { ...body, metadata: { ...(body?.metadata as object), creationTimestamp: wholeSecond(new Date()) }, status: { phase: 'Active' } }, reads: 0 });
      return { status: 201, body: objects.get(p + '/' + name)!.object };
    }
    const ns = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(p);
    if (ns) {
      const key = p;
      const entry = objects.get(key);
      if (!entry) return notFound(`namespaces "${ns[1]}" not found`);
      if (method === 'DELETE') {
        deleted.push(ns[1]);
        deletions.set(ns[1], 0);
        entry.object = { ...entry.object, status: { phase: 'Terminating' } };
        return ok(entry.object);
      }
      if (deletions.has(ns[1])) {
        const reads = deletions.get(ns[1])! + 1;
        deletions.set(ns[1], reads);
        if (scenario.namespaceDeletion !== 'stuck' && reads >= readyAfter) {
          objects.delete(key);
          return notFound(`namespaces "${ns[1]}" not found`);
        }
        return ok({ ...entry.object, status: { phase: 'Terminating', conditions: scenario.namespaceDeletion === 'stuck' ? [{ type: 'NamespaceFinalizersRemaining', status: 'True', message: 'Some content in the namespace has finalizers remaining: service.kubernetes.io/load-balancer-cleanup in 1 resource instances' }] : [] } });
      }
      return ok(entry.object);
    }
    if (p === '/api/v1/nodes') return list('NodeList', 'v1', scenario.nodes);
    if (p === '/apis/metrics.k8s.io/v1beta1/nodes') {
      return 'status' in scenario.metrics ? status(scenario.metrics.status, scenario.metrics.message, 'ServiceUnavailable') : list('NodeMetricsList', 'metrics.k8s.io/v1beta1', scenario.metrics);
    }
    if (p === '/api/v1/persistentvolumes') {
      // A store's volume stays until its namespace is gone (Delete), or until its PV is deleted (Retain).
      const retained = (n: string) => scenario.reclaimPolicy === 'Retain' && !deletedVolumes.includes(`pvc-${n}`);
      return list('PersistentVolumeList', 'v1', [...storePods.keys()].filter((n) => objects.has(`/api/v1/namespaces/${n}`) || retained(n)).map(persistentVolume));
    }
    const pv = /^\/api\/v1\/persistentvolumes\/([^/]+)$/.exec(p);
    if (pv && method === 'DELETE') {
      deletedVolumes.push(pv[1]);
      return ok({ kind: 'PersistentVolume', apiVersion: 'v1', metadata: { name: pv[1] } });
    }
    if (method === 'POST' && p === '/apis/authorization.k8s.io/v1/subjectaccessreviews') {
      return { status: 201, body: { ...body, status: scenario.access((body as { spec: V1SubjectAccessReviewSpec }).spec) } };
    }
    const pods = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(p);
    if (pods) {
      const selector = query.get('labelSelector');
      if (selector === 'app.kubernetes.io/name=store') return list('PodList', 'v1', currentStorePod(pods[1]));
      if (selector === 'app.kubernetes.io/name=dns') return list('PodList', 'v1', dnsPods(pods[1]));
      const system = typeof scenario.systemPods === 'function' ? scenario.systemPods() : scenario.systemPods;
      return list('PodList', 'v1', system.filter((sp) => sp.metadata?.namespace === pods[1]));
    }
    const podPath = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)(\/log)?$/.exec(p);
    if (podPath) return podRequest(method, podPath[1], podPath[2], podPath[3] !== undefined);
    const collection = /^\/apis?\/(?:v1|apps\/v1|batch\/v1)\/namespaces\/([^/]+)\/(deployments|services|statefulsets|jobs|persistentvolumeclaims)(?:\/([^/]+))?$/.exec(p);
    if (collection) return namespaced(method, p, collection[1], collection[2], collection[3], body);
    unhandled.push(`${method} ${p}`);
    return notFound(`the server could not find the requested resource (${method} ${p})`);
  }

  function namespaced(method: string, p: string, namespace: string, resource: string, name: string | undefined, body: Record<string, unknown> | undefined): Answer {
    if (method === 'POST' && name === undefined) {
      const objectName = (body?.metadata as { name: string }).name;
      objects.set(`${p}/${objectName}`, { object: { ...body, metadata: { ...(body?.metadata as object), namespace, uid: `uid-${++uids}` } }, reads: 0 });
      if (resource === 'statefulsets') storePods.set(namespace, [{ uid: `store-uid-${++uids}`, reads: 0, log: '' }]);
      return { status: 201, body: objects.get(`${p}/${objectName}`)!.object };
    }
    if (resource === 'persistentvolumeclaims' && method === 'GET' && name === 'data-store-0' && storePods.has(namespace)) {
      return ok({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { namespace, name }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'gp3', volumeName: `pvc-${namespace}` }, status: { phase: 'Bound' } });
    }
    const entry = method === 'GET' ? read(p) : undefined;
    if (!entry) {
      unhandled.push(`${method} ${p}`);
      return notFound(`${resource} "${name}" not found`);
    }
    const ready = entry.reads >= readyAfter;
    if (resource === 'deployments') {
      const replicas = (entry.object.spec as { replicas: number }).replicas;
      return ok({ ...entry.object, status: ready ? { replicas, readyReplicas: replicas, availableReplicas: replicas, updatedReplicas: replicas } : { replicas } });
    }
    if (resource === 'services') {
      const ingress = ready && scenario.loadBalancer !== 'never' ? [scenario.loadBalancerIp ? { ip: scenario.loadBalancerIp } : { hostname: scenario.loadBalancer.hostname }] : undefined;
      return ok({ ...(entry.object as V1Service), status: { loadBalancer: ingress ? { ingress } : {} } });
    }
    if (resource === 'jobs') {
      const failed = scenario.dnsJob === 'fail';
      const conditions = ready ? [failed ? { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' } : { type: 'Complete', status: 'True' }] : [];
      return ok({ ...(entry.object as V1Job), status: ready ? { conditions, ...(failed ? { failed: 3 } : { succeeded: 1 }) } : { active: 1 } });
    }
    return ok(entry.object);
  }

  /** The StatefulSet's current pod: Pending, then Running and Ready after a few reads; it mounts claim data-store-0. */
  function currentStorePod(namespace: string): V1Pod[] {
    const current = storePods.get(namespace)?.at(-1);
    if (!current) return [];
    current.reads++;
    const running = current.reads >= readyAfter;
    const made = pod(namespace, 'store-0', current.uid, { kind: 'StatefulSet', name: 'store' }, { 'app.kubernetes.io/name': 'store' }, running ? {} : { phase: 'Pending', waitingReason: 'ContainerCreating' });
    return [{ ...made, spec: { ...made.spec!, volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data-store-0' } }] } }];
  }

  function dnsPods(namespace: string): V1Pod[] {
    const failed = scenario.dnsJob === 'fail';
    return [pod(namespace, 'dns-abcde', 'dns-pod-uid', { kind: 'Job', name: 'dns' }, { 'app.kubernetes.io/name': 'dns' }, { phase: failed ? 'Failed' : 'Succeeded', ready: false })];
  }

  function podRequest(method: string, namespace: string, name: string, log: boolean): Answer {
    const history = storePods.get(namespace);
    if (name === 'dns-abcde' && log) return { status: 200, body: scenario.dnsJob === 'fail' ? FAILED_DNS_LOG : '', contentType: 'text/plain' };
    if (!history || name !== 'store-0') {
      unhandled.push(`${method} /pods/${name}`);
      return notFound(`pods "${name}" not found`);
    }
    if (method === 'DELETE') {
      const gone = currentStorePod(namespace)[0];
      // The controller makes a new pod on the same claim: the file lists both boots, or only the new one on a fresh volume.
      const uid = `store-uid-${++uids}`;
      const keeps = scenario.volumeKeepsData ?? true;
      history.push({ uid, reads: 0, log: `${keeps ? history.map((h) => h.uid).join('\n') + '\n' : ''}${uid}\n` });
      return ok(gone);
    }
    if (log) return { status: 200, body: history.at(-1)!.log || `${history.at(-1)!.uid}\n`, contentType: 'text/plain' };
    unhandled.push(`${method} /pods/${name}`);
    return notFound(`pods "${name}" not found`);
  }

  function persistentVolume(namespace: string) {
    const spec = {
      claimRef: { kind: 'PersistentVolumeClaim', namespace, name: 'data-store-0' },
      persistentVolumeReclaimPolicy: scenario.reclaimPolicy ?? 'Delete',
      storageClassName: 'gp3',
      csi: { driver: 'ebs.csi.aws.com', volumeHandle: VOLUME_ID },
    };
    return { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: `pvc-${namespace}` }, spec, status: { phase: objects.has(`/api/v1/namespaces/${namespace}`) ? 'Bound' : 'Released' } };
  }

  const server = https.createServer(tls, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
      requests.push({ method: req.method ?? 'GET', path: url.pathname, query: url.search, body, authorization: req.headers.authorization });
      const answer = route(req.method ?? 'GET', url.pathname, url.searchParams, body);
      res.writeHead(answer.status, { 'content-type': answer.contentType ?? 'application/json' });
      res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    caFile,
    requests,
    created,
    deleted,
    deletedVolumes,
    unhandled,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A local HTTP server standing in for the load balancer: `body` with `status` (and `headers`) to every GET; counts them. */
export async function startFakeLoadBalancer(status: number, body: string, headers: Record<string, string> = {}): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server = http.createServer((_req, res) => {
    hits++;
    res.writeHead(status, { 'content-type': 'text/html', ...headers });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    hits: () => hits,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const ok = (body: unknown): Answer => ({ status: 200, body });

/** A time as metav1.Time serializes it: RFC 3339, whole seconds. */
function wholeSecond(time: Date): string {
  return `${time.toISOString().slice(0, 19)}Z`;
}

function list(kind: string, apiVersion: string, items: readonly unknown[]): Answer {
  return ok({ kind, apiVersion, metadata: { resourceVersion: '1' }, items });
}

function notFound(message: string): Answer {
  return status(404, message, 'NotFound');
}

/** A metav1.Status as the API server sends it with an error. */
function status(code: number, message: string, reason: string): Answer {
  return { status: code, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code } };
}
