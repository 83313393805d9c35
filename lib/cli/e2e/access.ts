import type { V1ResourceAttributes } from '@kubernetes/client-node';
import type { E2eStep } from './step';
import { StepFailure } from './wait';

/** One question to the API server's authorizers about a user of a role. */
export interface AccessQuestion {
  /** What the summary calls the user: `ReadOnly`, `PowerUser`. */
  readonly role: string;
  readonly group: string;
  readonly attributes: V1ResourceAttributes;
  /** What the role's row of the README's table says. */
  readonly expectAllowed: boolean;
}

/**
 * The questions: each role's denial the suite is about, beside an allowance of the same role as
 * a control (a group that grants nothing would be denied everything, and pass the denials).
 * The webhook's matrix (webhook/authorizer.ts AUTHORIZATION_MATRIX): a ReadOnly user reads but
 * writes nothing; a PowerUser writes in ordinary namespaces but not in kube-system, nor reads its
 * Secrets.
 */
export function accessQuestions(namespace: string, groups: { readonly readOnly: string; readonly powerUser: string }): AccessQuestion[] {
  const deployments = { group: 'apps', resource: 'deployments' };
  return [
    { role: 'ReadOnly', group: groups.readOnly, attributes: { namespace, verb: 'list', resource: 'pods' }, expectAllowed: true },
    { role: 'ReadOnly', group: groups.readOnly, attributes: { namespace, verb: 'create', ...deployments }, expectAllowed: false },
    { role: 'PowerUser', group: groups.powerUser, attributes: { namespace, verb: 'create', ...deployments }, expectAllowed: true },
    { role: 'PowerUser', group: groups.powerUser, attributes: { namespace: 'kube-system', verb: 'create', ...deployments }, expectAllowed: false },
    { role: 'PowerUser', group: groups.powerUser, attributes: { namespace: 'kube-system', verb: 'get', resource: 'secrets' }, expectAllowed: false },
  ];
}

/** `create apps/deployments in kube-system`. */
function describe(a: V1ResourceAttributes): string {
  return `${a.verb} ${a.group ? `${a.group}/` : ''}${a.resource} in ${a.namespace}`;
}

/**
 * Step 5: a ReadOnly user is denied a write and a PowerUser kube-system, as the API server's
 * authorizers decide it for a person with the cluster group and the role's group: a
 * SubjectAccessReview per question, created by the signed-in admin (kubernetes/api v0.35.1
 * authorization/v1/types.go SubjectAccessReviewSpec user, groups, resourceAttributes;
 * SubjectAccessReviewStatus allowed, denied, reason). The users are made up: a review needs no
 * such user to exist, only its groups.
 */
export const accessStep: E2eStep = {
  name: 'access',
  run: async (context) => {
    const { options } = context;
    const questions = accessQuestions(context.namespace, { readOnly: options.readOnlyGroup, powerUser: options.powerUserGroup });
    const answers = await Promise.all(
      questions.map(async (q) => {
        const review = await context.cluster.createSubjectAccessReview({
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: { user: `kube-aws-e2e-${q.role.toLowerCase()}`, groups: [context.clusterGroup, q.group], resourceAttributes: q.attributes },
        });
        return { q, allowed: review.status?.allowed === true, reason: review.status?.reason ?? review.status?.evaluationError ?? '' };
      }),
    );
    const wrong = answers.filter((a) => a.allowed !== a.q.expectAllowed);
    if (wrong.length > 0) {
      const hint = wrong.some((a) => a.q.expectAllowed) ? ' (a role allowed nothing: is its group right? --read-only-group, --power-user-group)' : '';
      throw new StepFailure(
        wrong.map((a) => `${a.q.role} (${a.q.group}) ${a.allowed ? 'ALLOWED' : 'denied'} ${describe(a.q.attributes)}, expected ${a.q.expectAllowed ? 'allowed' : 'denied'}${a.reason ? ` (${a.reason})` : ''}`).join('; ') + hint,
      );
    }
    return answers.map((a) => `${a.q.role} ${a.allowed ? 'may' : 'may not'} ${describe(a.q.attributes)}`).join('; ');
  },
};
