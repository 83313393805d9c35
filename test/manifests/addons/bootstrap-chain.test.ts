import { Addon } from '../../../manifests/addons/addon';
import { bootstrapChain } from '../../../manifests/addons/bootstrap-chain';

/** A minimal add-on for the chain: only what the chain reads matters. */
function addon(name: string, needs: string[], provides: string[] = [], placement: Addon['placement'] = 'masters'): Addon {
  return { name, version: 'v1', description: name, optional: false, placement, needs, provides, toleratedTaints: {}, permissions: () => [], objects: () => [] };
}

const ccm = addon('ccm', ['api-server'], ['node-initialized']);
const dns = addon('dns', ['pod-network', 'kube-proxy', 'node-initialized'], ['cluster-dns']);
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
