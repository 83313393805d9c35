import * as yaml from 'js-yaml';

export interface WebhookKubeconfigOptions {
  /** CA file (on the master) that signed the webhook's certificate; needed for https. */
  readonly certificateAuthorityFile?: string;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Where kube-apiserver reaches the webhook on a master: loopback, so plain HTTP is fine. */
export const DEFAULT_AUTHENTICATE_URL = 'http://127.0.0.1:8443/authenticate';
export const DEFAULT_AUTHORIZE_URL = 'http://127.0.0.1:8443/authorize';

/**
 * The kubeconfig-format file kube-apiserver reads for a webhook
 * (`--authentication-token-webhook-config-file` with DEFAULT_AUTHENTICATE_URL,
 * `--authorization-webhook-config-file` with DEFAULT_AUTHORIZE_URL). The cluster entry
 * is the webhook; the user entry is the API server, which presents no credentials.
 * Plain HTTP is refused off loopback: tokens would cross the network in clear.
 */
export function webhookKubeconfig(endpointUrl: string, options: WebhookKubeconfigOptions = {}): string {
  let url: URL;
  try {
    url = new URL(endpointUrl);
  } catch {
    throw new Error(`endpointUrl: must be an absolute http(s) URL such as ${DEFAULT_AUTHENTICATE_URL}, got ${JSON.stringify(endpointUrl)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`endpointUrl: must use http or https, got ${JSON.stringify(endpointUrl)}`);
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    throw new Error(`endpointUrl: plain http is only allowed on loopback (127.0.0.1, localhost, [::1]); use https for ${url.hostname}`);
  }
  if (url.protocol === 'https:' && !options.certificateAuthorityFile) {
    throw new Error('certificateAuthorityFile: required for an https endpoint, so the API server can verify the webhook');
  }
  const cluster = { server: url.toString(), ...(options.certificateAuthorityFile ? { 'certificate-authority': options.certificateAuthorityFile } : {}) };
  return yaml.dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kube-auth-webhook', cluster }],
    users: [{ name: 'kube-apiserver', user: {} }],
    contexts: [{ name: 'webhook', context: { cluster: 'kube-auth-webhook', user: 'kube-apiserver' } }],
    'current-context': 'webhook',
  }, { lineWidth: -1, noRefs: true });
}
