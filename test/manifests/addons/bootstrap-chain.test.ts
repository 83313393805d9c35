import { Addon } from '../../../manifests/addons/addon';
import { bootstrapChain } from '../../../manifests/addons/bootstrap-chain';
import { ADDONS } from '../../../manifests/addons/registry';

/** A minimal add-on for the chain: only what the chain reads matters. */
function addon(name: string, needs: string[], provides: string[] = [], placement: Addon['placement'] = 'masters'): Addon {
  return { name, version: 'v1', description: name, optional: false, placement, needs, provides, toleratedTaints: {}, permissions: () => [], objects: () => [] };
}

const ccm = addon('ccm', ['api-server'], ['node-initialized']);
const dns = addon('dns', ['node-initialized'], ['cluster-dns']);
const autoscaler = addon('autoscaler', ['api-server', 'cluster-dns']);
const dashboard = addon('dashboard', ['cluster-dns', 'workers'], [], 'workers');

describe('bootstrap chain', () => {
  test('orders each add-on after what it needs, whatever the order given', () => {
    const order = bootstrapChain([autoscaler, dashboard, dns, ccm]).map((step) => step.addon.name);
    expect(order.indexOf('ccm')).toBeLessThan(order.indexOf('dns'));
    expect(order.indexOf('dns')).toBeLessThan(order.indexOf('autoscaler'));
    expect(order.indexOf('dns')).toBeLessThan(order.indexOf('dashboard'));
    expect(order).toHaveLength(4);
  });

  test('delivers from the worker stack what needs workers, directly or through another add-on', () => {
    const reporting = addon('reporting', ['dashboard']);
    const stacks = Object.fromEntries(bootstrapChain([ccm, dns, dashboard, reporting]).map((step) => [step.addon.name, step.stack]));
    expect(stacks).toEqual({ ccm: 'master', dns: 'master', dashboard: 'worker', reporting: 'worker' });
  });

  test('refuses a cycle and names it (a DNS that needs the pod network that needs DNS)', () => {
    const network = addon('network', ['cluster-dns'], ['overlay']);
    const cyclicDns = addon('dns', ['overlay'], ['cluster-dns']);
    expect(() => bootstrapChain([network, cyclicDns])).toThrow('bootstrap cycle: network -> dns -> network');
  });

  test('refuses a need that nothing provides, naming the add-on', () => {
    expect(() => bootstrapChain([dns])).toThrow("add-on dns needs 'node-initialized', which no node component or add-on provides");
  });

  test('refuses two providers of one capability', () => {
    expect(() => bootstrapChain([ccm, addon('other-ccm', ['api-server'], ['node-initialized'])])).toThrow(
      "'node-initialized' is provided by both add-on ccm and add-on other-ccm",
    );
  });

  test('refuses an add-on placed on workers that does not say it needs them', () => {
    expect(() => bootstrapChain([addon('web', ['api-server'], [], 'workers')])).toThrow("add-on web runs on workers, so it needs 'workers'");
  });
});

/**
 * The bootstrap chain of a new cluster, as a table: each component of the registry, what it
 * needs up (its direct needs), and the stack that delivers it and waits for it. Changing an
 * add-on's needs changes this table on purpose.
 */
describe("a new cluster's bootstrap chain (the registry's add-ons)", () => {
  const steps = bootstrapChain(ADDONS);
  const row = (name: string) => {
    const step = steps.find((s) => s.addon.name === name)!;
    return `${step.stack} stack: ${[...step.addon.needs].sort().join(', ')}`;
  };

  test('has no cycle, delivers every add-on once, and says who needs what', () => {
    expect(steps.map((s) => s.addon.name).sort()).toEqual(ADDONS.map((a) => a.name).sort());
    expect(Object.fromEntries(ADDONS.map((a) => [a.name, row(a.name)]))).toEqual({
      // Nothing but the API server: the node RBAC, so that the kubelets can register.
      'cluster-bootstrap': 'master stack: api-server',
      // The API endpoint by name, never 10.3.0.1: kube-proxy programs that address itself.
      'kube-proxy': 'master stack: api-server, cluster-bootstrapped',
      // The same, and no kube-proxy: flannel reaches the API without a Service address.
      flannel: 'master stack: api-server, cluster-bootstrapped',
      // Host network on the masters: registered masters, no pod network.
      'aws-cloud-controller-manager': 'master stack: api-server, cluster-bootstrapped',
      coredns: 'master stack: kube-proxy, node-initialized, pod-network',
      'aws-ebs-csi-driver': 'master stack: api-server, kube-proxy, node-initialized, pod-network',
      // On the masters' pod network (its own IAM role's tokens, like the other AWS writers).
      'aws-node-termination-handler': 'master stack: api-server, kube-proxy, node-initialized, pod-network',
      // The API server reaches it by pod IP: the masters run the pod network (flannel on every node).
      'metrics-server': 'master stack: kube-proxy, node-initialized, pod-network',
      'kube-state-metrics': 'worker stack: kube-proxy, node-initialized, pod-network, workers',
      'node-exporter': 'master stack: api-server, cluster-bootstrapped',
      // Runs on the masters beside the API server (static pod); reads service accounts with its bootstrap RBAC.
      'pod-identity-webhook': 'master stack: api-server, cluster-bootstrapped',
      headlamp: 'worker stack: kube-proxy, node-initialized, pod-network, workers',
      // On the masters' pod network with their own roles (no host network for instance metadata).
      'cluster-autoscaler': 'master stack: api-server, kube-proxy, node-initialized, pod-network',
      'external-dns': 'master stack: api-server, kube-proxy, node-initialized, pod-network',
    });
  });

  test('the API server reaches metrics-server by pod IP: it needs the pod network, which runs on the masters too', () => {
    expect(row('metrics-server')).toMatch(/^master stack: .*pod-network/);
    const flannel = ADDONS.find((a) => a.name === 'flannel')!;
    expect(flannel.placement).toBe('every-node');
  });

  test('kube-proxy, flannel and the cluster bootstrap come before every add-on that runs pods', () => {
    const order = steps.map((s) => s.addon.name);
    for (const step of steps.filter((s) => s.addon.placement !== 'api' && !['kube-proxy', 'flannel'].includes(s.addon.name))) {
      expect(order.indexOf(step.addon.name)).toBeGreaterThan(order.indexOf('cluster-bootstrap'));
    }
    const podNetworkUsers = steps.filter((s) => s.addon.needs.includes('pod-network')).map((s) => order.indexOf(s.addon.name));
    expect(Math.min(...podNetworkUsers)).toBeGreaterThan(order.indexOf('flannel'));
  });

  test('every add-on with pods needs, directly or through another, the cluster bootstrap', () => {
    const byCapability = new Map(ADDONS.flatMap((a) => [a.name, ...a.provides].map((c) => [c, a] as const)));
    const reaches = (name: string, seen = new Set<string>()): boolean => {
      if (name === 'cluster-bootstrapped') return true;
      if (seen.has(name)) return false;
      seen.add(name);
      return (byCapability.get(name)?.needs ?? []).some((need) => reaches(need, seen));
    };
    for (const addon of ADDONS.filter((a) => a.placement !== 'api')) expect([addon.name, reaches(addon.name)]).toEqual([addon.name, true]);
  });
});
