import type { V1Node } from '@kubernetes/client-node';
import type { NodeRole } from '../../../userdata/types';
import { CheckResult, fail, pass } from './check-result';

/** One instance of an Auto Scaling group, as DescribeAutoScalingGroups lists it. */
export interface GroupInstance {
  readonly instanceId: string;
  /** `InService`, `Pending`, `Terminating`, `Standby`... (EC2 Auto Scaling LifecycleState). */
  readonly lifecycleState: string;
  /** `Healthy` or `Unhealthy`. */
  readonly healthStatus: string;
}

/** One Auto Scaling group of the cluster. */
export interface NodeGroupInventory {
  readonly name: string;
  /** Its `kubernetes-on-aws:role` tag (lib/constructs/node-tags.ts); undefined when missing. */
  readonly role?: string;
  readonly desiredCapacity: number;
  readonly instances: readonly GroupInstance[];
}

const CHECK = 'nodes';
/** etcd members run no kubelet: their group is judged by its instances alone. */
export const ETCD_ROLE: NodeRole = 'etcd';

/**
 * Each group runs as many InService, Healthy instances as it wants (DesiredCapacity) and, but
 * for etcd, each of them is a Ready Node. Nodes are matched by spec.providerID, which the AWS
 * cloud provider sets to `aws:///<zone>/<instance-id>`, the instance id its last path part
 * (kubernetes/cloud-provider-aws v1.35.2 pkg/providers/v1/instances.go MapToAWSInstanceID).
 */
export function checkNodeGroups(groups: readonly NodeGroupInventory[], nodes: readonly V1Node[], clusterTag: string): CheckResult[] {
  if (groups.length === 0) return [fail(CHECK, `no Auto Scaling group tagged ${clusterTag}=owned: is the cluster deployed in this account and region?`)];
  const nodesByInstance = new Map(nodes.flatMap((node) => {
    const instanceId = instanceIdOf(node.spec?.providerID);
    return instanceId ? [[instanceId, node] as const] : [];
  }));
  return [...groups]
    .sort((a, b) => `${a.role}/${a.name}`.localeCompare(`${b.role}/${b.name}`)).map((group) => checkGroup(group, nodesByInstance));
}

function checkGroup(group: NodeGroupInventory, nodesByInstance: ReadonlyMap<string, V1Node>): CheckResult {
  const subject = `${group.role ?? 'untagged'} ${group.name}`;
  const inService = group.instances.filter((i) => i.lifecycleState === 'InService');
  const problems: string[] = [];
  if (inService.length !== group.desiredCapacity) problems.push(`${inService.length} InService instances, desired ${group.desiredCapacity}`);
  const others = group.instances.filter((i) => i.lifecycleState !== 'InService');
  if (others.length > 0) problems.push(others.map((i) => `${i.instanceId} ${i.lifecycleState}`).join(', '));
  for (const instance of inService) {
    if (instance.healthStatus !== 'Healthy') problems.push(`${instance.instanceId} ${instance.healthStatus}`);
  }
  if (group.role === ETCD_ROLE) {
    const healthy = inService.filter((i) => i.healthStatus === 'Healthy').length;
    const summary = `${healthy}/${group.desiredCapacity} instances InService and Healthy (etcd members are not Kubernetes nodes)`;
    return healthy === group.desiredCapacity && problems.length === 0 ? pass(CHECK, `${subject}: ${summary}`) : fail(CHECK, `${subject}: ${summary}; ${problems.join('; ')}`);
  }
  let ready = 0;
  for (const instance of inService) {
    const node = nodesByInstance.get(instance.instanceId);
    const condition = node?.status?.conditions?.find((c) => c.type === 'Ready');
    if (!node) problems.push(`${instance.instanceId} not registered as a node`);
    else if (condition?.status !== 'True') problems.push(`${instance.instanceId} (node ${node.metadata?.name}) NotReady${condition?.reason ? `: ${condition.reason}` : ''}`);
    else if (instance.healthStatus === 'Healthy') ready++;
  }
  const summary = `${ready}/${group.desiredCapacity} nodes Ready`;
  return ready === group.desiredCapacity && problems.length === 0 ? pass(CHECK, `${subject}: ${summary}`) : fail(CHECK, `${subject}: ${summary}; ${problems.join('; ')}`);
}

/** The instance id of `aws:///<zone>/<id>` (or a bare id, which the cloud provider also accepts). */
export function instanceIdOf(providerId: string | undefined): string | undefined {
  const last = providerId?.split('/').pop();
  return last && /^i-[0-9a-f]+$/.test(last) ? last : undefined;
}
