import type { V1LoadBalancerIngress } from '@kubernetes/client-node';
import { loadBalancerHost } from './load-balancer-address';
import type { E2eStep, StepContext } from './step';
import { NGINX_WELCOME, WEB, WEB_PORT, webDeployment, webService } from './workloads';

/** At most this much of an unexpected answer goes into the summary. */
const BODY_EXCERPT = 80;

/**
 * Step 2: nginx behind a Service of type LoadBalancer answers through the load balancer the cloud
 * controller manager makes: the Deployment available, then status.loadBalancer.ingress set
 * (a hostname for an ELB, or an IP; kubernetes/api v0.35.1 core/v1/types.go LoadBalancerIngress),
 * then an HTTP GET of it serving nginx's welcome page, if the address is an ELB of the region
 * or a public IP (loadBalancerHost), without following redirects (httpGet).
 */
export const loadBalancerStep: E2eStep = {
  name: 'nginx-lb',
  run: async (context) => {
    const { cluster, namespace, options } = context;
    await cluster.createDeployment(namespace, webDeployment(options.image));
    await cluster.createService(namespace, webService());
    await awaitAvailable(context);
    const ingress = await context.wait<V1LoadBalancerIngress>(`Service ${WEB}'s load balancer address (status.loadBalancer.ingress)`, options.timeouts.loadBalancerAddress, async () => {
      const service = await cluster.readService(namespace, WEB);
      const first = service?.status?.loadBalancer?.ingress?.find((i) => i.hostname || i.ip);
      return first ? { done: first } : { waiting: service ? 'no ingress yet' : `Service ${WEB} not found` };
    });
    // The address is the cluster's text: checked before anything is requested (loadBalancerHost).
    const host = loadBalancerHost(ingress, context.region);
    const url = context.loadBalancerUrl(host, WEB_PORT);
    context.progress(`nginx-lb: load balancer ${host}; waiting for it to answer at ${url}`);
    await context.wait(`${url} to serve nginx's welcome page`, options.timeouts.loadBalancerAnswer, async () => {
      const answer = await context.httpGet(url, options.requestTimeoutMs);
      if (answer.status === 200 && answer.body.includes(NGINX_WELCOME)) return { done: answer };
      return { waiting: `HTTP ${answer.status}: ${JSON.stringify(answer.body.slice(0, BODY_EXCERPT))}` };
    });
    return `${url} (${host}) served "${NGINX_WELCOME}"`;
  },
};

/**
 * Rolled out: the available replicas reach spec.replicas (kubernetes/api v0.35.1 apps/v1/types.go
 * DeploymentStatus.AvailableReplicas).
 */
async function awaitAvailable(context: StepContext): Promise<void> {
  await context.wait(`Deployment ${WEB} to be available`, context.options.timeouts.rollout, async () => {
    const deployment = await context.cluster.readDeployment(context.namespace, WEB);
    const want = deployment?.spec?.replicas ?? 1;
    const available = deployment?.status?.availableReplicas ?? 0;
    return available >= want ? { done: true } : { waiting: `${available}/${want} available` };
  });
}
