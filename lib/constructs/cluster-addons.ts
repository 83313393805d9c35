import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IDependable } from 'constructs';
import { AddonContext } from '../../manifests/addons/addon';
import { bootstrapChain, BootstrapStep, DeliveringStack } from '../../manifests/addons/bootstrap-chain';
import { enabledAddons } from '../../manifests/addons/registry';
import { AddonDelivery } from './addon-delivery';

/** The enabled add-ons in bootstrap order, each with the stack that delivers it. */
export function addonSteps(disabledAddons: readonly string[]): BootstrapStep[] {
  return bootstrapChain(enabledAddons(disabledAddons));
}

/** The steps `stack` delivers. */
export function stepsOf(steps: readonly BootstrapStep[], stack: DeliveringStack): BootstrapStep[] {
  return steps.filter((step) => step.stack === stack);
}

/** Properties of {@link ClusterAddons}. */
export interface ClusterAddonsProps {
  /** The add-ons this stack delivers, in bootstrap order (manifests/addons/bootstrap-chain.ts). */
  readonly steps: readonly BootstrapStep[];
  /** The cluster values their objects are made from. */
  readonly context: AddonContext;
  /** The add-on applier's `serviceToken`. */
  readonly serviceToken: string;
  /** What must be up before any add-on is applied: the nodes they run on. */
  readonly after: readonly IDependable[];
}

/**
 * The add-ons one stack delivers, one custom resource each. Each waits for the add-ons that
 * provide what it needs (CoreDNS after the cloud-controller-manager, ...), so CloudFormation
 * applies independent ones side by side and dependent ones in order.
 */
export class ClusterAddons extends Construct {
  /** Each add-on's delivery, by add-on name. */
  public readonly deliveries: ReadonlyMap<string, AddonDelivery>;

  constructor(scope: Construct, id: string, props: ClusterAddonsProps) {
    super(scope, id);
    const deliveries = new Map<string, AddonDelivery>();
    for (const { addon } of props.steps) {
      const delivery = new AddonDelivery(this, addon.name, { addon, context: props.context, serviceToken: props.serviceToken });
      delivery.node.addDependency(...props.after);
      for (const need of addon.needs) {
        const provider = props.steps.find((step) => step.addon.name === need || step.addon.provides.includes(need));
        const providerDelivery = provider && deliveries.get(provider.addon.name);
        if (providerDelivery) delivery.node.addDependency(providerDelivery);
      }
      deliveries.set(addon.name, delivery);
    }
    this.deliveries = deliveries;
  }
}

/**
 * Gives the masters' role what the add-ons running on masters call in AWS (each add-on's
 * contract lists it, scoped), one policy per add-on so that each is named in IAM.
 */
export function grantAddonPermissions(scope: Construct, role: iam.IRole, steps: readonly BootstrapStep[], context: AddonContext): void {
  for (const { addon } of steps) {
    const permissions = addon.permissions(context);
    if (permissions.length === 0) continue;
    const policy = new iam.Policy(scope, `AddonPolicy-${addon.name}`, {
      statements: permissions.map((statement) => iam.PolicyStatement.fromJson(statement)),
      roles: [role],
    });
    // The wildcards left are Describe/List/Get actions, which IAM cannot scope to resources,
    // and resource patterns whose writes carry tag or zone conditions: the registry test
    // (test/manifests/addons/registry.test.ts) fails on any unscoped write.
    const wildcards = new Set(
      permissions.flatMap((statement) => [
        ...statement.Resource.filter((resource) => resource.includes('*')).map((resource) => `Resource::${resource}`),
        ...statement.Action.filter((action) => action.includes('*')).map((action) => `Action::${action}`),
      ]),
    );
    Validations.of(policy).acknowledge(
      ...[...wildcards].map((finding) => ({
        id: `AwsSolutions-IAM5[${finding}]`,
        reason: `${addon.name}'s permissions from its contract (manifests/addons/): reads on '*' cannot be scoped by IAM; every write carries a tag or hosted-zone condition (tested).`,
      })),
    );
  }
}
