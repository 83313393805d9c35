/**
 * The names of the stacks' outputs that other code reads: the CLI, the version guard. Apart
 * from those readers, so that synthesizing the stacks loads no AWS SDK client.
 */

/** The master stack's output with the API URL (`https://<cluster>.<zone>`). */
export const API_URL_OUTPUT = 'ApiUrl';
/** The master stack's output saying whether the API servers accept the break-glass admin token. */
export const BREAK_GLASS_OUTPUT = 'BreakGlassAdminToken';
/** The output of the master and worker stacks recording the Kubernetes version their nodes run. */
export const KUBERNETES_VERSION_OUTPUT = 'KubernetesVersion';
