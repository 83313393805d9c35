import type { V1Node } from '@kubernetes/client-node';
import type { NodeMetrics } from './e2e-cluster';
import type { E2eStep } from './step';

/** What `kubectl top nodes` shows of each node: both must be there. */
const USAGE = ['cpu', 'memory'] as const;

/** The nodes the metrics API does not report with both usages, by name. */
export function nodesWithoutMetrics(nodes: readonly V1Node[], metrics: readonly NodeMetrics[]): string[] {
  const byName = new Map(metrics.map((m) => [m.metadata?.name, m]));
  return nodes
    .map((node) => node.metadata?.name ?? '')
    .filter((name) => {
      const usage = byName.get(name)?.usage;
      return !USAGE.every((resource) => typeof usage?.[resource] === 'string' && usage[resource] !== '');
    });
}

/**
 * Step 6: metrics as `kubectl top nodes` reads them: GET /apis/metrics.k8s.io/v1beta1/nodes lists
 * every node with cpu and memory usage (metrics-server through the aggregation layer).
 */
export const nodeMetricsStep: E2eStep = {
  name: 'metrics',
  run: async (context) => {
    const count = await context.wait('the metrics API to report every node', context.options.timeouts.metrics, async () => {
      const [nodes, metrics] = await Promise.all([context.cluster.listNodes(), context.cluster.listNodeMetrics()]);
      const missing = nodesWithoutMetrics(nodes, metrics);
      if (nodes.length > 0 && missing.length === 0) return { done: nodes.length };
      return { waiting: nodes.length === 0 ? 'no nodes listed' : `no ${USAGE.join(' and ')} usage for ${missing.length}/${nodes.length} nodes: ${missing.join(', ')}` };
    });
    return `${count} nodes with cpu and memory usage in metrics.k8s.io/v1beta1`;
  },
};
