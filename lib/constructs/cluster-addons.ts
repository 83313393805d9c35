import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IDependable } from 'constructs';
import { AddonContext } from '../../manifests/addons/addon';
import { addonRoleName } from '../../manifests/addons/aws-identity';
import { bootstrapChain, BootstrapStep, DeliveringStack } from '../../manifests/addons/bootstrap-chain';
import { enabledAddons } from '../../manifests/addons/registry';
import { AddonDelivery } from './addon-delivery';
import { ServiceAccountRoleOptions } from './service-account-issuer';

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
  /** The control-plane secrets' generation: a new cluster CA re-applies the add-ons that name it (AddonDeliveryProps). */
  readonly clusterCaGeneration: number;
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
      const delivery = new AddonDelivery(this, addon.name, { addon, context: props.context, serviceToken: props.serviceToken, clusterCaGeneration: props.clusterCaGeneration });
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

/** What {@link createAddonRoles} needs of the cluster's service-account issuer; `ServiceAccountIssuer` is one. */
export interface ServiceAccountRoleIssuer {
  /** A role that only the named service account's tokens, issued for STS, may assume. */
  roleForServiceAccount(id: string, options: ServiceAccountRoleOptions): iam.IRole;
}

/**
 * Gives each add-on that calls AWS a role of its own, which only its service account
 * (`awsServiceAccount` in its contract) may assume, named as its pods expect
 * (manifests/addons/aws-identity.ts addonRoleName), with the contract's statements as one
 * policy named for the add-on. No node role gets any of them. Throws, naming the add-on, when
 * a contract lists permissions without the service account they are for.
 *
 * @returns the roles by add-on name; add-ons without permissions have none.
 */
export function createAddonRoles(scope: Construct, issuer: ServiceAccountRoleIssuer, steps: readonly BootstrapStep[], context: AddonContext): ReadonlyMap<string, iam.IRole> {
  const roles = new Map<string, iam.IRole>();
  for (const { addon } of steps) {
    const permissions = addon.permissions(context);
    if (permissions.length === 0) continue;
    const account = addon.awsServiceAccount;
    if (!account) {
      throw new Error(
        `add-on ${addon.name} lists IAM permissions but no awsServiceAccount: set it in its file under manifests/addons/ to the service account of the pods that call AWS`,
      );
    }
    const role = issuer.roleForServiceAccount(`AddonRole-${addon.name}`, {
      namespace: account.namespace,
      serviceAccountName: account.name,
      roleName: addonRoleName(context.clusterName, addon.name),
      description: `Add-on ${addon.name} of cluster ${context.clusterName}: service account ${account.namespace}/${account.name}`,
    });
    const policy = new iam.Policy(scope, `AddonPolicy-${addon.name}`, {
      policyName: addon.name,
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
    roles.set(addon.name, role);
  }
  return roles;
}
