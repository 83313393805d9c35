/**
 * The bootstrap chain of a new cluster: which component needs which other to be up, from
 * the add-ons' contracts plus the node components that are not add-ons. It orders the
 * add-ons (an add-on after everything it needs), says which stack can deliver each one and
 * wait for it, and refuses a cycle or a need nothing provides.
 *
 * Why the stack matters: the master stack deploys before any worker exists, so an add-on
 * that (transitively) needs workers can only be waited for from the worker stack.
 */
import { Addon, NODE_COMPONENTS } from './addon';

/** What the nodes bring up without any add-on, and what each of those needs. */
export const NODE_COMPONENT_NEEDS: Readonly<Record<string, readonly string[]>> = {
  // Static pods on the masters; etcd is a separate stack deployed before. Its health is all
  // a master signals on a new cluster: everything below is delivered after that signal.
  [NODE_COMPONENTS.apiServer]: [],
  // The worker stack deploys after the master stack; its nodes join through the API.
  [NODE_COMPONENTS.workers]: [NODE_COMPONENTS.apiServer],
};

/** Which stack delivers an add-on and waits for it to be ready. */
export type DeliveringStack = 'master' | 'worker';

export interface BootstrapStep {
  readonly addon: Addon;
  readonly stack: DeliveringStack;
}

/**
 * The add-ons in an order where each comes after what it needs, each with the stack that
 * delivers it. Throws when a need is provided by nothing, when two add-ons provide the same
 * capability, or on a cycle (naming it).
 */
export function bootstrapChain(addons: readonly Addon[]): BootstrapStep[] {
  const providers = new Map<string, string>();
  for (const component of Object.keys(NODE_COMPONENT_NEEDS)) providers.set(component, `node component ${component}`);
  for (const addon of addons) {
    for (const capability of [addon.name, ...addon.provides]) {
      const earlier = providers.get(capability);
      if (earlier) throw new Error(`'${capability}' is provided by both ${earlier} and add-on ${addon.name}`);
      providers.set(capability, `add-on ${addon.name}`);
    }
  }
  const byCapability = new Map<string, Addon>();
  for (const addon of addons) for (const capability of [addon.name, ...addon.provides]) byCapability.set(capability, addon);
  const needsOf = (capability: string): readonly string[] => byCapability.get(capability)?.needs ?? NODE_COMPONENT_NEEDS[capability] ?? [];
  /** A capability by who provides it: the add-on's name, or the node component. */
  const providerOf = (capability: string): string => byCapability.get(capability)?.name ?? capability;

  for (const addon of addons) {
    if (addon.placement === 'workers' && !addon.needs.includes(NODE_COMPONENTS.workers)) {
      throw new Error(`add-on ${addon.name} runs on workers, so it needs '${NODE_COMPONENTS.workers}': add it to its needs`);
    }
    for (const need of addon.needs) {
      if (!providers.has(need)) throw new Error(`add-on ${addon.name} needs '${need}', which no node component or add-on provides`);
    }
  }

  // Depth-first over providers; one met again while on the path is a cycle.
  const done = new Set<string>();
  const onPath: string[] = [];
  const visit = (capability: string): void => {
    const provider = providerOf(capability);
    if (done.has(provider)) return;
    const at = onPath.indexOf(provider);
    if (at >= 0) throw new Error(`bootstrap cycle: ${[...onPath.slice(at), provider].join(' -> ')}`);
    onPath.push(provider);
    for (const need of needsOf(capability)) visit(need);
    onPath.pop();
    done.add(provider);
  };
  const needsWorkers = (capability: string, seen = new Set<string>()): boolean => {
    if (capability === NODE_COMPONENTS.workers) return true;
    if (seen.has(capability)) return false;
    seen.add(capability);
    return needsOf(capability).some((need) => needsWorkers(need, seen));
  };

  const order: BootstrapStep[] = [];
  for (const addon of addons) {
    visit(addon.name);
  }
  // `done` holds providers in dependency order; keep the add-ons.
  for (const provider of done) {
    const addon = byCapability.get(provider);
    if (!addon) continue;
    order.push({ addon, stack: needsWorkers(addon.name) ? 'worker' : 'master' });
  }
  return order;
}
