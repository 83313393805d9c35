import type { V1Namespace } from '@kubernetes/client-node';
import type { E2eCluster } from './e2e-cluster';
import type { StepResult } from './step';
import { PART_OF_LABEL } from './workloads';

/**
 * Marks a namespace as one run's: its value is a random token only that run knows, so that a
 * run deletes a namespace only if it made it, even when its creation failed (a timeout may have
 * made it all the same; a 409 AlreadyExists made nothing).
 */
export const RUN_TOKEN_ANNOTATION = 'kubernetes-on-aws/e2e-run';

/** The run's namespace as the suite creates it. */
export function runNamespace(name: string, token: string): V1Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ...PART_OF_LABEL }, annotations: { [RUN_TOKEN_ANNOTATION]: token } } };
}

/** Whether a namespace whose creation failed is the run's: `ours`, `absent`, `theirs`, or unknown (it could not be read). */
export type Ownership = 'ours' | 'absent' | 'theirs' | { readonly unknown: string };

/** After a failed creation: whether `name` exists, and carries the run's token. */
export async function ownershipOf(cluster: E2eCluster, name: string, token: string): Promise<Ownership> {
  try {
    const found = await cluster.readNamespace(name);
    if (!found) return 'absent';
    return found.metadata?.annotations?.[RUN_TOKEN_ANNOTATION] === token ? 'ours' : 'theirs';
  } catch (error) {
    return { unknown: (error as Error).message };
  }
}

/** The cleanup row when the namespace is not the run's to delete: nothing is, so nothing is deleted. */
export function leftAlone(name: string, ownership: Exclude<Ownership, 'ours'>, token: string): StepResult {
  const row = (passed: boolean, detail: string): StepResult => ({ name: 'cleanup', passed, seconds: 0, detail });
  if (ownership === 'absent') return row(true, `nothing to delete: namespace ${name} was not made`);
  if (ownership === 'theirs') return row(true, `namespace ${name} exists but this run did not make it (no ${RUN_TOKEN_ANNOTATION} annotation of its own): left alone`);
  return row(
    false,
    `could not tell whether this run made namespace ${name} (${ownership.unknown}): left alone; if its ${RUN_TOKEN_ANNOTATION} annotation is ${token}, delete it by hand: kubectl delete namespace ${name}`,
  );
}
