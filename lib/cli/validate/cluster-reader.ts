import type { V1APIService, V1DaemonSet, V1Deployment, V1Node } from '@kubernetes/client-node';
import type { ReadyzAnswer } from './api-server-check';

/**
 * What validate reads from the Kubernetes API. cluster-api.ts implements it with
 * @kubernetes/client-node; the checks and the loop depend only on this, so that jest (which
 * cannot load that ESM-only package under Node < 24.9) tests them with plain objects.
 * Each call rejects with a ClusterReadError whose message is for the terminal.
 */
export interface ClusterReader {
  /** GET /readyz?verbose; resolves also when not ready (the answer says why). */
  readyz(): Promise<ReadyzAnswer>;
  listNodes(): Promise<V1Node[]>;
  listDaemonSets(namespace: string): Promise<V1DaemonSet[]>;
  listDeployments(namespace: string): Promise<V1Deployment[]>;
  /** Undefined when it does not exist. */
  readApiService(name: string): Promise<V1APIService | undefined>;
}

/** A read that failed: timeout, refused connection, or an HTTP error the message explains. */
export class ClusterReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClusterReadError';
  }
}
