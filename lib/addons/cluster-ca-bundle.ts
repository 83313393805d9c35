/**
 * The cluster CA in admission webhook configurations. The CA is made at deploy time by the
 * secrets handler, after synth, so an add-on writes CLUSTER_CA_BUNDLE where it means it
 * (manifests/addons/addon.ts), and the applier, which reads the CA to reach the API server,
 * puts it in before it applies. Only `webhooks[].clientConfig.caBundle` of the two admission
 * webhook configuration kinds is filled in: the marker anywhere else is an add-on's mistake,
 * refused before anything is applied.
 */
import { CLUSTER_CA_BUNDLE } from '../../manifests/addons/addon';
import { describeRef, groupOf, KubeObject, refOf } from './object-ref';

const WEBHOOK_CONFIGURATION_KINDS = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];

interface WebhookEntry {
  readonly clientConfig?: { readonly caBundle?: string; readonly [field: string]: unknown };
  readonly [field: string]: unknown;
}

/** `objects` with the cluster CA (`caPem`, base64 as the field is) wherever an add-on asked for it. */
export function withClusterCaBundle(objects: readonly KubeObject[], caPem: string): KubeObject[] {
  const caBundle = Buffer.from(caPem).toString('base64');
  return objects.map((object) => {
    const filled = isWebhookConfiguration(object)
      ? {
          ...object,
          webhooks: (object.webhooks as WebhookEntry[]).map((webhook) =>
            webhook.clientConfig?.caBundle === CLUSTER_CA_BUNDLE ? { ...webhook, clientConfig: { ...webhook.clientConfig, caBundle } } : webhook,
          ),
        }
      : object;
    if (JSON.stringify(filled).includes(CLUSTER_CA_BUNDLE)) {
      throw new Error(`${describeRef(refOf(object))}: the cluster CA marker is only filled in as a webhook's clientConfig.caBundle of a MutatingWebhookConfiguration or ValidatingWebhookConfiguration`);
    }
    return filled;
  });
}

function isWebhookConfiguration(object: KubeObject): boolean {
  return groupOf(object.apiVersion) === 'admissionregistration.k8s.io' && WEBHOOK_CONFIGURATION_KINDS.includes(object.kind) && Array.isArray(object.webhooks);
}
