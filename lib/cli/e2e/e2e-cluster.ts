import type { V1Deployment, V1Job, V1Namespace, V1Node, V1PersistentVolume, V1PersistentVolumeClaim, V1Pod, V1Service, V1StatefulSet, V1SubjectAccessReview } from '@kubernetes/client-node';

/**
 * A node's entry in the metrics API, GET /apis/metrics.k8s.io/v1beta1/nodes, the list `kubectl
 * top nodes` reads (kubernetes/metrics v0.35.1 pkg/apis/metrics/v1beta1/types.go NodeMetrics:
 * metadata, timestamp, window, usage as a ResourceList of quantities).
 */
export interface NodeMetrics {
  readonly metadata?: { readonly name?: string };
  readonly timestamp?: string;
  readonly window?: string;
  readonly usage?: Readonly<Record<string, string>>;
}

/**
 * What `kube-aws e2e` does with the Kubernetes API. e2e-api.ts implements it with
 * @kubernetes/client-node; the steps depend only on this, so that jest (which cannot load that
 * ESM-only package under Node < 24.9) tests them with plain objects. Each call rejects with a
 * ClusterReadError whose message is for the terminal; reads of an object that does not exist
 * resolve to undefined.
 */
export interface E2eCluster {
  /** Resolves to the namespace made, with its creationTimestamp. */
  createNamespace(namespace: V1Namespace): Promise<V1Namespace>;
  readNamespace(name: string): Promise<V1Namespace | undefined>;
  /** Resolves also when it is gone already. */
  deleteNamespace(name: string): Promise<void>;
  listPods(namespace: string, labelSelector?: string): Promise<V1Pod[]>;
  /** Resolves also when it is gone already. */
  deletePod(namespace: string, name: string): Promise<void>;
  readPodLog(namespace: string, name: string): Promise<string>;
  createDeployment(namespace: string, deployment: V1Deployment): Promise<void>;
  readDeployment(namespace: string, name: string): Promise<V1Deployment | undefined>;
  createService(namespace: string, service: V1Service): Promise<void>;
  readService(namespace: string, name: string): Promise<V1Service | undefined>;
  createStatefulSet(namespace: string, statefulSet: V1StatefulSet): Promise<void>;
  readPersistentVolumeClaim(namespace: string, name: string): Promise<V1PersistentVolumeClaim | undefined>;
  listPersistentVolumes(): Promise<V1PersistentVolume[]>;
  /** Resolves also when it is gone already. */
  deletePersistentVolume(name: string): Promise<void>;
  createJob(namespace: string, job: V1Job): Promise<void>;
  readJob(namespace: string, name: string): Promise<V1Job | undefined>;
  /** POST a SubjectAccessReview; resolves to it with the API server's status. */
  createSubjectAccessReview(review: V1SubjectAccessReview): Promise<V1SubjectAccessReview>;
  listNodes(): Promise<V1Node[]>;
  listNodeMetrics(): Promise<NodeMetrics[]>;
}
