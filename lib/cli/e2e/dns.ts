import type { E2eStep, StepContext } from './step';
import { StepFailure } from './wait';
import { DNS, NAME_LABEL, dnsJob } from './workloads';

/** The end of a failed pod's log that goes into the summary. */
const LOG_TAIL = 200;

/**
 * Step 4: DNS from a pod: a Job resolving `kubernetes.default` (the cluster's own names through
 * CoreDNS) and an external name (CoreDNS forwarding to the VPC resolver). Done on its Complete
 * condition, failed on its Failed one (kubernetes/api v0.35.1 batch/v1/types.go JobComplete,
 * JobFailed), with the end of a pod's log to say why.
 */
export const dnsStep: E2eStep = {
  name: 'dns',
  run: async (context) => {
    const { cluster, namespace, options } = context;
    await cluster.createJob(namespace, dnsJob(options.image, options.externalName));
    const names = `kubernetes.default and ${options.externalName}`;
    await context.wait(`Job ${DNS} resolving ${names} to complete`, options.timeouts.job, async () => {
      const conditions = (await cluster.readJob(namespace, DNS))?.status?.conditions ?? [];
      const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
      if (failed) throw new StepFailure(`Job ${DNS} failed (${failed.reason ?? 'Failed'}: ${failed.message ?? ''}) resolving ${names}; ${await lastLog(context)}`);
      return conditions.some((c) => c.type === 'Complete' && c.status === 'True') ? { done: true } : { waiting: 'not complete yet' };
    });
    return `a pod resolved ${names} (Job ${DNS} Complete)`;
  },
};

/** The end of the log of one of the Job's failed pods (getent prints nothing for a name it cannot resolve: the log shows the last name it did). */
async function lastLog(context: StepContext): Promise<string> {
  try {
    const pods = await context.cluster.listPods(context.namespace, `${NAME_LABEL}=${DNS}`);
    const pod = pods.find((p) => p.status?.phase === 'Failed') ?? pods[0];
    if (!pod) return 'no pod left to read a log from';
    const log = (await context.cluster.readPodLog(context.namespace, pod.metadata?.name ?? '')).trim();
    return `pod ${pod.metadata?.name} log: ${log === '' ? '(empty)' : JSON.stringify(log.slice(-LOG_TAIL))}`;
  } catch (error) {
    return `its log could not be read: ${(error as Error).message}`;
  }
}
