import type { E2eCluster } from './e2e-cluster';

/**
 * A new sign-in this often: an IAM token is honoured for 15 minutes after it was signed
 * (webhook/aws-iam-token.ts PRESIGNED_URL_LIFETIME_MS), and a run with its cleanup can take longer.
 */
export const TOKEN_REFRESH_MS = 5 * 60_000;

/**
 * An E2eCluster that signs in again (`open`) when its connection is older than `maxAgeMs`, so
 * that no call of a long run goes out with an expired token. A failed sign-in is tried again
 * on the next call.
 */
export function refreshingCluster(open: () => Promise<E2eCluster>, now: () => number, maxAgeMs = TOKEN_REFRESH_MS): E2eCluster {
  let current: { readonly cluster: Promise<E2eCluster>; readonly at: number } | undefined;
  const fresh = (): Promise<E2eCluster> => {
    if (!current || now() - current.at >= maxAgeMs) {
      const cluster = open();
      current = { cluster, at: now() };
      cluster.catch(() => {
        if (current?.cluster === cluster) current = undefined;
      });
    }
    return current.cluster;
  };
  // Every method the same way: resolve a fresh connection, then call it. No `then`: the proxy
  // must not pass for a promise when awaited or returned from an async function.
  return new Proxy({} as E2eCluster, {
    get: (_target, method: string | symbol) =>
      method === 'then' || typeof method === 'symbol'
        ? undefined
        : async (...args: unknown[]) => ((await fresh())[method as keyof E2eCluster] as (...a: unknown[]) => Promise<unknown>)(...args),
  });
}
