/**
 * The API server's authorizers, in an AuthorizationConfiguration file (`--authorization-config`,
 * apiserver.config.k8s.io/v1, GA since 1.32; fields as in kubernetes/apiserver v0.35.1
 * pkg/apis/apiserver/v1/types.go AuthorizationConfiguration), rather than the
 * `--authorization-mode` flag:
 * - Node first: kubelets (`system:node:<name>` in `system:nodes`) are scoped to their own node.
 * - then the webhook, for people only: its matchConditions skip every `system:` user and group
 *   (service accounts, nodes, controllers) and the users the cluster binds for its own
 *   components, which RBAC decides. For a person the webhook's `denied` ends the chain, so no
 *   RBAC binding, stray or planted, can widen a role; and `failurePolicy: Deny` makes a webhook
 *   that does not answer a refusal (with the flag, a failure is "no opinion" and RBAC decides).
 * - RBAC last: system components, service accounts, and our own bindings.
 * `system:masters` (each master's own admin, and the break-glass admin when on) is allowed before any authorizer is asked.
 */
import { RESERVED_USERNAMES } from '../webhook/token-info-client';

/** Groups every authenticated user has; they say nothing about who it is. */
const EVERYONE = 'system:authenticated';

/**
 * The CEL conditions under which a request goes to the webhook: all must hold. `request` is
 * the SubjectAccessReview spec, v1 (WebhookMatchCondition.Expression). An expression error
 * would deny under failurePolicy Deny, so absent fields are tested with has().
 */
export const WEBHOOK_MATCH_CONDITIONS: readonly string[] = [
  "!request.user.startsWith('system:')",
  `!(request.user in ${JSON.stringify(RESERVED_USERNAMES)})`,
  `!has(request.groups) || !request.groups.exists(g, g.startsWith('system:') && g != ${JSON.stringify(EVERYONE)})`,
];

export interface AuthorizationConfigurationOptions {
  /** The kubeconfig-format file naming the authorization webhook. */
  readonly webhookKubeconfig: string;
}

export function authorizationConfiguration(options: AuthorizationConfigurationOptions): Record<string, unknown> {
  return {
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'AuthorizationConfiguration',
    authorizers: [
      { type: 'Node', name: 'node' },
      {
        type: 'Webhook',
        name: 'kube-auth-webhook',
        webhook: {
          // The flag's defaults (5m, 30s), now written down.
          authorizedTTL: '5m0s',
          unauthorizedTTL: '30s',
          // The webhook answers on loopback in milliseconds; a stuck one must not hold kubectl.
          timeout: '5s',
          subjectAccessReviewVersion: 'v1',
          matchConditionSubjectAccessReviewVersion: 'v1',
          failurePolicy: 'Deny',
          connectionInfo: { type: 'KubeConfigFile', kubeConfigFile: options.webhookKubeconfig },
          matchConditions: WEBHOOK_MATCH_CONDITIONS.map((expression) => ({ expression })),
        },
      },
      { type: 'RBAC', name: 'rbac' },
    ],
  };
}
