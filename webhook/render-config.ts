import * as yaml from 'js-yaml';
import { validateWebhookConfig, WebhookConfigError, WebhookSettings } from './config';

/**
 * Renders the server's config file from typed settings (defaults filled in), for the
 * master user data. Throws WebhookConfigError at synth time rather than leaving a
 * master whose webhook refuses to start.
 */
export function renderWebhookConfig(settings: WebhookSettings): string {
  const { config, problems } = validateWebhookConfig(settings);
  if (!config) throw new WebhookConfigError(problems);
  return '# kube-auth-webhook configuration (rendered by renderWebhookConfig; see webhook/README.md)\n' +
    yaml.dump(config, { lineWidth: -1, noRefs: true, sortKeys: false });
}
