/**
 * Every add-on of a cluster, in one list. The `disabledAddons` setting turns optional ones
 * off; the bootstrap chain (bootstrap-chain.ts) orders them and picks the stack that
 * delivers each.
 */
import { Addon } from './addon';
import { awsEbsCsiDriver } from './aws-ebs-csi-driver';
import { awsNodeTerminationHandler } from './aws-node-termination-handler';
import { cloudControllerManager } from './cloud-controller-manager';
import { clusterAutoscaler } from './cluster-autoscaler';
import { clusterBootstrap } from './cluster-bootstrap';
import { coreDns } from './coredns';
import { externalDns } from './external-dns';
import { flannel } from './flannel';
import { headlamp } from './headlamp';
import { kubeProxy } from './kube-proxy';
import { kubeStateMetrics } from './kube-state-metrics';
import { metricsServer } from './metrics-server';
import { nodeExporter } from './node-exporter';
import { podIdentityWebhook } from './pod-identity-webhook';

export const ADDONS: readonly Addon[] = [
  clusterBootstrap,
  kubeProxy,
  flannel,
  cloudControllerManager,
  coreDns,
  awsEbsCsiDriver,
  metricsServer,
  kubeStateMetrics,
  nodeExporter,
  headlamp,
  clusterAutoscaler,
  externalDns,
  awsNodeTerminationHandler,
  podIdentityWebhook,
];

/** The names of the add-ons that may be turned off. */
export const OPTIONAL_ADDON_NAMES: readonly string[] = ADDONS.filter((addon) => addon.optional).map((addon) => addon.name);

/**
 * The add-ons of a cluster with `disabled` turned off. Throws, naming the choices, for a name
 * that is not an add-on or not optional (config validation calls it before any synth).
 */
export function enabledAddons(disabled: readonly string[]): Addon[] {
  for (const name of disabled) {
    const addon = ADDONS.find((a) => a.name === name);
    if (!addon) throw new Error(`'${name}' is not an add-on; optional add-ons: ${OPTIONAL_ADDON_NAMES.join(', ')}`);
    if (!addon.optional) throw new Error(`add-on '${name}' cannot be turned off (the cluster needs it); optional add-ons: ${OPTIONAL_ADDON_NAMES.join(', ')}`);
  }
  return ADDONS.filter((addon) => !disabled.includes(addon.name));
}
