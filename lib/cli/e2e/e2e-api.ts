import { ApiException, AppsV1Api, AuthorizationV1Api, BatchV1Api, CoreV1Api } from '@kubernetes/client-node';
import { ClusterApi, explainApiError, explainStatus, rawGet } from '../validate/cluster-api';
import { ClusterReadError } from '../validate/cluster-reader';
import type { E2eCluster, NodeMetrics } from './e2e-cluster';

// With validate/cluster-api.ts, the one other module that loads @kubernetes/client-node: tested by
// running the suite in a child process against a fake API server (test/cli/e2e-cli.test.ts).

/** The suite makes a namespace and SubjectAccessReviews: an Administrator's work. */
const E2E_ACCESS = {
  unauthorized: "the API server did not accept your AWS identity; is its role or user in the cluster's administratorRoleArns?",
  forbidden: 'the suite makes a namespace and SubjectAccessReviews, which only an Administrator may (administratorRoleArns)',
};

/** The metrics API's node list, as `kubectl top nodes` reads it (kubernetes/metrics v0.35.1 pkg/apis/metrics/v1beta1). */
const NODE_METRICS_PATH = '/apis/metrics.k8s.io/v1beta1/nodes';

/**
 * The suite's calls on a connection made by connectCluster (validate/cluster-api.ts): its
 * KubeConfig and per-call timeout options, with the typed clients of the kinds the suite makes.
 */
export function e2eClusterOf(api: ClusterApi, apiUrl: string, requestTimeoutMs: number): E2eCluster {
  const core = api.kubeConfig.makeApiClient(CoreV1Api);
  const apps = api.kubeConfig.makeApiClient(AppsV1Api);
  const batch = api.kubeConfig.makeApiClient(BatchV1Api);
  const authorization = api.kubeConfig.makeApiClient(AuthorizationV1Api);
  const options = api.callOptions;
  const call = async <T>(what: string, request: () => Promise<T>): Promise<T> => {
    try {
      return await request();
    } catch (error) {
      throw explainApiError(error, what, requestTimeoutMs, E2E_ACCESS);
    }
  };
  /** A read or delete for which a 404 is an answer: the object is not there. */
  const absentOn404 = async <T>(what: string, request: () => Promise<T>): Promise<T | undefined> =>
    call(what, async () => {
      try {
        return await request();
      } catch (error) {
        if (error instanceof ApiException && error.code === 404) return undefined;
        throw error;
      }
    });
  return {
    createNamespace: (body) => call(`creating namespace ${body.metadata?.name}`, () => core.createNamespace({ body }, options())),
    readNamespace: (name) => absentOn404(`reading namespace ${name}`, () => core.readNamespace({ name }, options())),
    deleteNamespace: async (name) => void (await absentOn404(`deleting namespace ${name}`, () => core.deleteNamespace({ name }, options()))),
    listPods: (namespace, labelSelector) => call(`listing pods in ${namespace}`, async () => (await core.listNamespacedPod({ namespace, labelSelector }, options())).items),
    deletePod: async (namespace, name) => void (await absentOn404(`deleting pod ${namespace}/${name}`, () => core.deleteNamespacedPod({ namespace, name }, options()))),
    readPodLog: (namespace, name) => call(`reading the log of pod ${namespace}/${name}`, () => core.readNamespacedPodLog({ namespace, name }, options())),
    createDeployment: (namespace, body) => call(`creating Deployment ${namespace}/${body.metadata?.name}`, async () => void (await apps.createNamespacedDeployment({ namespace, body }, options()))),
    readDeployment: (namespace, name) => absentOn404(`reading Deployment ${namespace}/${name}`, () => apps.readNamespacedDeployment({ namespace, name }, options())),
    createService: (namespace, body) => call(`creating Service ${namespace}/${body.metadata?.name}`, async () => void (await core.createNamespacedService({ namespace, body }, options()))),
    readService: (namespace, name) => absentOn404(`reading Service ${namespace}/${name}`, () => core.readNamespacedService({ namespace, name }, options())),
    createStatefulSet: (namespace, body) => call(`creating StatefulSet ${namespace}/${body.metadata?.name}`, async () => void (await apps.createNamespacedStatefulSet({ namespace, body }, options()))),
    readPersistentVolumeClaim: (namespace, name) => absentOn404(`reading claim ${namespace}/${name}`, () => core.readNamespacedPersistentVolumeClaim({ namespace, name }, options())),
    listPersistentVolumes: () => call('listing PersistentVolumes', async () => (await core.listPersistentVolume({}, options())).items),
    deletePersistentVolume: async (name) => void (await absentOn404(`deleting PersistentVolume ${name}`, () => core.deletePersistentVolume({ name }, options()))),
    createJob: (namespace, body) => call(`creating Job ${namespace}/${body.metadata?.name}`, async () => void (await batch.createNamespacedJob({ namespace, body }, options()))),
    readJob: (namespace, name) => absentOn404(`reading Job ${namespace}/${name}`, () => batch.readNamespacedJob({ namespace, name }, options())),
    createSubjectAccessReview: (body) => call('creating a SubjectAccessReview', () => authorization.createSubjectAccessReview({ body }, options())),
    listNodes: () => call('listing nodes', async () => (await core.listNode({}, options())).items),
    listNodeMetrics: async () => ((await getJson(api, apiUrl, NODE_METRICS_PATH, requestTimeoutMs)) as { items?: NodeMetrics[] }).items ?? [],
  };
}

/** An aggregated API has no typed client here: a plain GET (rawGet), its body parsed. */
async function getJson(api: ClusterApi, apiUrl: string, path: string, timeoutMs: number): Promise<unknown> {
  const what = `GET ${path}`;
  let answer: { status: number; body: string };
  try {
    answer = await rawGet(api.kubeConfig, apiUrl, path, timeoutMs);
  } catch (error) {
    throw explainApiError(error, what, timeoutMs, E2E_ACCESS);
  }
  const { status, body } = answer;
  if (status !== 200) throw explainStatus(status, body, what, E2E_ACCESS);
  try {
    return JSON.parse(body);
  } catch {
    throw new ClusterReadError(`${what}: not JSON: ${body.slice(0, 200)}`);
  }
}
