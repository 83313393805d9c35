/**
 * Tainted worker pools: the node agents every node needs (pod network, Service routing, volume
 * mounts, metrics) run on a tainted pool's nodes too, the EBS CSI node plugin by tolerating
 * exactly the pools' taints (AddonContext.workerPoolTaints); the add-ons meant for workers stay
 * off tainted pools, which is why the config asks for an untainted pool (lib/config.ts).
 */
import { ADDONS } from '../../../manifests/addons/registry';
import { workerConfig } from '../../../userdata/worker';
import { workerInput } from '../../userdata/fixtures';
import { CONTEXT, podTemplates, registered, rendered, schedulableOn, tolerates } from './addon-fixtures';

const POOL_TAINTS = [
  { key: 'spot', value: 'true', effect: 'NoSchedule' },
  { key: 'example.com/gpu', effect: 'NoExecute' },
] as const;
const context = { ...CONTEXT, workerPoolTaints: POOL_TAINTS };
const taintedWorker = registered(workerConfig({ ...workerInput, pool: { name: 'spot', labels: { pool: 'spot' }, taints: POOL_TAINTS } }));
const untaintedWorker = registered(workerConfig({ ...workerInput, pool: { name: 'general', labels: {}, taints: [] } }));

describe('worker pool taints', () => {
  test("the tainted pool's kubelet registers with its taints", () => {
    expect(taintedWorker.taints).toEqual(POOL_TAINTS);
    expect(taintedWorker.labels).toMatchObject({ pool: 'spot', 'node.kubernetes.io/pool': 'spot' });
  });

  const everyNode = ADDONS.filter((addon) => addon.placement === 'every-node');
  test.each(everyNode.map((addon) => [addon.name, addon] as const))('%s runs on the nodes of a tainted pool', (_, addon) => {
    const daemonSets = podTemplates(rendered(addon, context)).filter((pod) => pod.owner.startsWith('DaemonSet/'));
    expect(daemonSets.length).toBeGreaterThan(0);
    for (const pod of daemonSets) expect([pod.owner, schedulableOn(pod.spec, taintedWorker)]).toEqual([pod.owner, true]);
  });

  test("the EBS CSI node plugin tolerates exactly the pools' taints, still not the uninitialized one", () => {
    const ebs = ADDONS.find((addon) => addon.name === 'aws-ebs-csi-driver')!;
    const node = (c: typeof CONTEXT) => podTemplates(rendered(ebs, c)).find((pod) => pod.owner === 'DaemonSet/ebs-csi-node')!;
    expect(schedulableOn(node(CONTEXT).spec, taintedWorker)).toBe(false);
    expect(schedulableOn(node(context).spec, taintedWorker)).toBe(true);
    expect(tolerates(node(context).spec.tolerations, { key: 'spot', value: 'other', effect: 'NoSchedule' })).toBe(false);
    expect(tolerates(node(context).spec.tolerations, { key: 'node.cloudprovider.kubernetes.io/uninitialized', value: 'true', effect: 'NoSchedule' })).toBe(false);
  });

  const onWorkers = ADDONS.filter((addon) => addon.placement === 'workers');
  test.each(onWorkers.map((addon) => [addon.name, addon] as const))('%s runs on an untainted pool, never on a tainted one', (_, addon) => {
    for (const pod of podTemplates(rendered(addon, context))) {
      expect([pod.owner, schedulableOn(pod.spec, untaintedWorker), schedulableOn(pod.spec, taintedWorker)]).toEqual([pod.owner, true, false]);
    }
  });
});
