import { RunningWebhook } from '../../webhook/app';
import { ROLE_NAMES } from '../../webhook/config';
import { EXPECTED_MATRIX, NON_RESOURCE_VERBS, RESOURCE_VERBS, ROLE_LETTERS, SAMPLES } from './authorization-matrix-cases';
import { CLUSTER_GROUP, post, ROLE_GROUPS, startTestWebhook, subjectAccessReview, unusedLocalUrl } from './fixtures';

let webhook: RunningWebhook;
beforeAll(async () => {
  webhook = await startTestWebhook(await unusedLocalUrl());
});
afterAll(() => webhook.close());

describe.each(['authorization.k8s.io/v1', 'authorization.k8s.io/v1beta1'])('POST /authorize with %s', (apiVersion) => {
  test('every cell of the matrix, for every role, over real HTTP', async () => {
    const outcomes: string[] = [];
    const expected: string[] = [];
    for (const [resourceClass, cells] of Object.entries(EXPECTED_MATRIX)) {
      for (const verbClass of ['read', 'write', 'other'] as const) {
        const sample = SAMPLES[resourceClass][0];
        const verb = ('resourceAttributes' in sample ? RESOURCE_VERBS : NON_RESOURCE_VERBS)[verbClass][0];
        for (const role of ROLE_NAMES) {
          const review = subjectAccessReview({
            groups: [CLUSTER_GROUP, ROLE_GROUPS[role], 'system:authenticated'],
            ...('resourceAttributes' in sample ? { resourceAttributes: { ...sample.resourceAttributes, verb } } : { nonResourceAttributes: { ...sample.nonResourceAttributes, verb } }),
          }, apiVersion);
          const answer = await post(webhook.url, '/authorize', review);
          expect(answer.status).toBe(200);
          const body = answer.json();
          expect(body).toMatchObject({ apiVersion, kind: 'SubjectAccessReview' });
          const label = `${role} ${verbClass} ${resourceClass}`;
          outcomes.push(`${label}: ${body.status.allowed ? 'allowed' : 'not allowed'}${body.status.denied ? ', denied' : ''}`);
          const allowed = cells[verbClass].includes(ROLE_LETTERS[role]);
          expected.push(`${label}: ${allowed ? 'allowed' : 'not allowed, denied'}`);
        }
      }
    }
    expect(outcomes).toEqual(expected);
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
