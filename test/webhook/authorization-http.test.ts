import { RunningWebhook } from '../../webhook/app';
import { ROLE_NAMES } from '../../webhook/config';
import { EXPECTED_MATRIX, MALFORMED_VERBS, NON_RESOURCE_VERBS, RESOURCE_VERBS, ROLE_LETTERS, SAMPLES } from './authorization-matrix-cases';
import { CLUSTER_GROUP, post, ROLE_GROUPS, startTestWebhook, subjectAccessReview, unusedLocalUrl } from './fixtures';

let webhook: RunningWebhook;
beforeAll(async () => {
  webhook = await startTestWebhook(await unusedLocalUrl());
});
afterAll(() => webhook.close());

describe.each(['authorization.k8s.io/v1', 'authorization.k8s.io/v1beta1'])('POST /authorize with %s', (apiVersion) => {
  /** The webhook's answer, over HTTP, in the form `allowed` / `not allowed, denied` / `not allowed`. */
  async function outcome(role: (typeof ROLE_NAMES)[number], sample: (typeof SAMPLES)[string][number], verb: string): Promise<string> {
    const review = subjectAccessReview({
      groups: [CLUSTER_GROUP, ROLE_GROUPS[role], 'system:authenticated'],
      ...('resourceAttributes' in sample ? { resourceAttributes: { ...sample.resourceAttributes, verb } } : { nonResourceAttributes: { ...sample.nonResourceAttributes, verb } }),
    }, apiVersion);
    const answer = await post(webhook.url, '/authorize', review);
    if (answer.status !== 200) return `HTTP ${answer.status}`;
    const body = answer.json();
    expect(body).toMatchObject({ apiVersion, kind: 'SubjectAccessReview' });
    return `${body.status.allowed ? 'allowed' : 'not allowed'}${body.status.denied ? ', denied' : ''}`;
  }

  test('every sample of every cell of the matrix, for every role, over real HTTP', async () => {
    const outcomes: string[] = [];
    const expected: string[] = [];
    for (const [resourceClass, cells] of Object.entries(EXPECTED_MATRIX)) {
      for (const verbClass of ['read', 'write', 'other'] as const) {
        for (const [index, sample] of SAMPLES[resourceClass].entries()) {
          // One verb of the class per sample, taking turns, so every verb is sent too.
          const verbs = ('resourceAttributes' in sample ? RESOURCE_VERBS : NON_RESOURCE_VERBS)[verbClass];
          const verb = verbs[index % verbs.length];
          for (const role of ROLE_NAMES) {
            const label = `${role} ${verb} ${resourceClass} ${JSON.stringify(sample)}`;
            outcomes.push(`${label}: ${await outcome(role, sample, verb)}`);
            expected.push(`${label}: ${cells[verbClass].includes(ROLE_LETTERS[role]) ? 'allowed' : 'not allowed, denied'}`);
          }
        }
      }
    }
    expect(outcomes).toEqual(expected);
  });

  test('each allowed answer carries the reason of its own decision, also when answers alternate', async () => {
    const ask = async (role: (typeof ROLE_NAMES)[number], verb: string, namespace: string) => {
      const review = subjectAccessReview({ groups: [CLUSTER_GROUP, ROLE_GROUPS[role]], resourceAttributes: { verb, group: 'apps', resource: 'deployments', namespace } }, apiVersion);
      return (await post(webhook.url, '/authorize', review)).json();
    };
    for (let round = 0; round < 2; round++) {
      expect(await ask('ReadOnly', 'list', 'team-a')).toEqual({ apiVersion, kind: 'SubjectAccessReview', status: { allowed: true, denied: false, reason: 'ReadOnly may read general' } });
      expect(await ask('PowerUser', 'create', 'team-a')).toEqual({ apiVersion, kind: 'SubjectAccessReview', status: { allowed: true, denied: false, reason: 'PowerUser may write general' } });
      expect(await ask('Administrator', 'delete', '')).toEqual({ apiVersion, kind: 'SubjectAccessReview', status: { allowed: true, denied: false, reason: 'Administrator may write cluster-scoped' } });
    }
  });

  test('a verb the API server never sends is denied to every role, over real HTTP', async () => {
    const outcomes: string[] = [];
    for (const [resourceClass, samples] of Object.entries(SAMPLES)) {
      const sample = samples[0];
      for (const verb of 'resourceAttributes' in sample ? MALFORMED_VERBS.resource : MALFORMED_VERBS.nonResource) {
        for (const role of ROLE_NAMES) outcomes.push(`${role} ${JSON.stringify(verb)} ${resourceClass}: ${await outcome(role, sample, verb)}`);
      }
    }
    // The empty verb the parser refuses (400): the API server's webhook authorizer answers a failed
    // review with the configured failurePolicy, Deny (kubernetes/apiserver v0.35.1
    // plugin/pkg/authorizer/webhook/webhook.go Authorize: `return w.decisionOnError, "", err`).
    const denied = (o: string) => o.endsWith(': not allowed, denied') || (o.includes(' "" ') && o.endsWith(': HTTP 400'));
    expect(outcomes.filter((o) => !denied(o))).toEqual([]);
  });

  test('an empty resource with a namespace is refused with 400, which the API server turns into a denial', async () => {
    const review = subjectAccessReview({ groups: [CLUSTER_GROUP, ROLE_GROUPS.Administrator], resourceAttributes: { verb: 'get', resource: '', namespace: 'team-a' } }, apiVersion);
    expect((await post(webhook.url, '/authorize', review)).status).toBe(400);
  });

  test('groups are read from the version\'s field (v1 groups, v1beta1 group)', async () => {
    const review = subjectAccessReview({ groups: [CLUSTER_GROUP, ROLE_GROUPS.Administrator], resourceAttributes: { verb: 'delete', resource: 'nodes' } }, apiVersion);
    const answer = await post(webhook.url, '/authorize', review);
    expect(answer.json().status).toEqual({ allowed: true, denied: false, reason: expect.any(String) });
  });

  test('a node gets no opinion', async () => {
    const review = subjectAccessReview({ user: 'system:node:ip-10-0-1-23.eu-central-1.compute.internal', groups: ['system:nodes', 'system:authenticated'], resourceAttributes: { verb: 'get', resource: 'nodes' } }, apiVersion);
    expect((await post(webhook.url, '/authorize', review)).json().status).toMatchObject({ allowed: false, denied: false });
  });

  test('a user without the cluster group is denied with a reason naming it', async () => {
    const review = subjectAccessReview({ groups: [ROLE_GROUPS.Administrator], resourceAttributes: { verb: 'get', resource: 'pods' } }, apiVersion);
    const status = (await post(webhook.url, '/authorize', review)).json().status;
    expect(status).toMatchObject({ allowed: false, denied: true });
    expect(status.reason).toContain(CLUSTER_GROUP);
  });
});
