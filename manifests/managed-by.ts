/** The label on every object the masters apply, so that they can be found (and pruned) as ours. */
export const MANAGED_BY_LABELS: Readonly<Record<string, string>> = { 'app.kubernetes.io/managed-by': 'kubernetes-on-aws' };
