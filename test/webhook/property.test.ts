import * as http from 'http';
import fc from 'fast-check';
import { RunningWebhook } from '../../webhook/app';
import { TokenAuthenticator } from '../../webhook/authenticator';
import { authorize } from '../../webhook/authorizer';
import { DEFAULT_TOKEN_INFO_FIELDS } from '../../webhook/config';
import { createRequestHandler, WebhookRequest, WebhookResponse } from '../../webhook/request-handler';
import { CLUSTER_GROUP, ROLE_GROUPS, startTestWebhook, startTokenInfoStub, subjectAccessReview, TokenInfoStub } from './fixtures';

// Runs per property; the in-process share alone is 10,000 bodies, plus 1,000 over real HTTP.
const IN_PROCESS_RUNS = { authenticate: 3500, authorize: 3500, mutations: 3000 };
const HTTP_RUNS = 500;

const POLICY = { clusterGroup: CLUSTER_GROUP, roles: { ReadOnly: [ROLE_GROUPS.ReadOnly], PowerUser: [ROLE_GROUPS.PowerUser], Administrator: [ROLE_GROUPS.Administrator] } };

/** The real handler and authenticator; token-info refuses every token, without a network. */
const handler = createRequestHandler({
  authenticate: (token) => authenticator.authenticate(token),
  policy: POLICY,
});
const authenticator = new TokenAuthenticator({
  tokenInfo: { url: 'http://127.0.0.1:1/unused', timeoutMs: 100, fields: DEFAULT_TOKEN_INFO_FIELDS },
  cacheTtlSeconds: 60,
  cacheMaxEntries: 100,
  lookUp: async () => ({ kind: 'rejected', reason: 'unknown token' }),
});

// --- generated bodies -------------------------------------------------------------

const anyJsonValue = fc.jsonValue();
const tokenReviewShaped = fc.record({
  apiVersion: fc.oneof(fc.constantFrom('authentication.k8s.io/v1', 'authentication.k8s.io/v1beta1'), fc.string(), anyJsonValue),
  kind: fc.oneof(fc.constant('TokenReview'), fc.string(), anyJsonValue),
  spec: fc.oneof(fc.record({ token: fc.oneof(fc.string(), anyJsonValue), audiences: fc.oneof(fc.array(fc.string()), anyJsonValue) }, { requiredKeys: [] }), anyJsonValue),
}, { requiredKeys: [] });

// Groups are arbitrary strings: never the cluster group together with a role group.
const subjectAccessReviewShaped = fc.record({
  apiVersion: fc.oneof(fc.constantFrom('authorization.k8s.io/v1', 'authorization.k8s.io/v1beta1'), fc.string(), anyJsonValue),
  kind: fc.oneof(fc.constant('SubjectAccessReview'), fc.string(), anyJsonValue),
  spec: fc.oneof(fc.record({
    user: fc.oneof(fc.string(), anyJsonValue),
    groups: fc.oneof(fc.array(fc.string()), anyJsonValue),
    group: fc.oneof(fc.array(fc.string()), anyJsonValue),
    resourceAttributes: fc.oneof(fc.dictionary(fc.constantFrom('verb', 'group', 'version', 'resource', 'subresource', 'namespace', 'name'), fc.oneof(fc.string(), anyJsonValue)), anyJsonValue),
    nonResourceAttributes: fc.oneof(fc.record({ verb: fc.oneof(fc.string(), anyJsonValue), path: fc.oneof(fc.string(), anyJsonValue) }, { requiredKeys: [] }), anyJsonValue),
    extra: anyJsonValue,
  }, { requiredKeys: [] }), anyJsonValue),
}, { requiredKeys: [] });

/** Bodies as bytes: JSON of review-shaped objects, arbitrary JSON, text, and raw bytes. */
const garbageBody = (reviewShaped: fc.Arbitrary<unknown>): fc.Arbitrary<Buffer> => fc.oneof(
  reviewShaped.map((v) => Buffer.from(JSON.stringify(v))),
  fc.json().map((text) => Buffer.from(text)),
  fc.string({ unit: 'binary' }).map((text) => Buffer.from(text)),
  fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)),
  reviewShaped.map((v) => Buffer.from(JSON.stringify(v).slice(0, -1))), // truncated JSON
);

/** A review an Administrator would be allowed, with exactly one field broken. */
const wrongType = fc.oneof(fc.integer(), fc.boolean(), fc.array(fc.string(), { maxLength: 2 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }), fc.double({ noNaN: true, noDefaultInfinity: true }));
const brokenAdministratorReview = fc.tuple(
  fc.constantFrom('authorization.k8s.io/v1', 'authorization.k8s.io/v1beta1'),
  fc.oneof(
    fc.record({ path: fc.constant(['kind']), value: fc.oneof(fc.string().filter((s) => s !== 'SubjectAccessReview'), wrongType, fc.constant(undefined)) }),
    fc.record({ path: fc.constant(['apiVersion']), value: fc.oneof(fc.string().filter((s) => !s.startsWith('authorization.k8s.io/v1')), wrongType, fc.constant(undefined)) }),
    fc.record({ path: fc.constant(['spec']), value: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.constant(undefined), fc.array(fc.string())) }),
    fc.record({ path: fc.constant(['spec', 'user']), value: fc.oneof(wrongType, fc.constant(''), fc.constant(null), fc.constant(undefined)) }),
    fc.record({ path: fc.constant(['spec', 'GROUPS']), value: fc.oneof(fc.string(), fc.integer(), fc.array(fc.oneof(fc.integer(), fc.constant(null)), { minLength: 1 })) }),
    fc.record({ path: fc.constantFrom(['spec', 'resourceAttributes', 'verb'], ['spec', 'resourceAttributes', 'resource']), value: fc.oneof(wrongType, fc.constant(''), fc.constant(undefined)) }),
    fc.record({ path: fc.constantFrom(['spec', 'resourceAttributes', 'namespace'], ['spec', 'resourceAttributes', 'group'], ['spec', 'resourceAttributes', 'name'], ['spec', 'resourceAttributes', 'subresource'], ['spec', 'uid']), value: wrongType }),
    fc.record({ path: fc.constant(['spec', 'resourceAttributes']), value: fc.oneof(fc.string(), fc.integer(), fc.array(fc.string())) }),
    fc.record({ path: fc.constant(['spec', 'nonResourceAttributes']), value: fc.record({ verb: fc.string(), path: fc.string() }) }),
  ),
).map(([apiVersion, { path, value }]) => {
  const review = JSON.parse(JSON.stringify(subjectAccessReview({ groups: [CLUSTER_GROUP, ROLE_GROUPS.Administrator], resourceAttributes: { verb: 'get', resource: 'pods', namespace: 'team-a' } }, apiVersion)));
  const groupsKey = apiVersion.endsWith('/v1') ? 'groups' : 'group';
  const keys = path.map((k) => (k === 'GROUPS' ? groupsKey : k));
  let target = review;
  for (const key of keys.slice(0, -1)) target = target[key];
  if (value === undefined) delete target[keys[keys.length - 1]];
  else target[keys[keys.length - 1]] = value;
  return Buffer.from(JSON.stringify(review));
});

// --- assertions -------------------------------------------------------------------

function assertSafe(response: WebhookResponse): void {
  expect(response.status).toBeLessThan(500);
  expect([200, 400]).toContain(response.status);
  if (response.status === 200) {
    const status = JSON.parse(response.body).status;
    expect(status.authenticated === true || status.allowed === true).toBe(false);
  }
}

describe('generated bodies through the request handler, in process', () => {
  test('POST /authenticate: never a 5xx, never authenticated', async () => {
    await fc.assert(fc.asyncProperty(garbageBody(tokenReviewShaped), async (body) => {
      assertSafe(await handler({ method: 'POST', url: '/authenticate', body }));
    }), { numRuns: IN_PROCESS_RUNS.authenticate });
  });

  test('POST /authorize: never a 5xx, never allowed', async () => {
    await fc.assert(fc.asyncProperty(garbageBody(subjectAccessReviewShaped), async (body) => {
      assertSafe(await handler({ method: 'POST', url: '/authorize', body }));
    }), { numRuns: IN_PROCESS_RUNS.authorize });
  });

  test('an Administrator review with one broken field is refused with 400, never allowed', async () => {
    // The unbroken review is allowed: the 400s below come from the broken field.
    const intact = Buffer.from(JSON.stringify(subjectAccessReview({ groups: [CLUSTER_GROUP, ROLE_GROUPS.Administrator], resourceAttributes: { verb: 'get', resource: 'pods', namespace: 'team-a' } })));
    expect(JSON.parse((await handler({ method: 'POST', url: '/authorize', body: intact })).body).status.allowed).toBe(true);
    await fc.assert(fc.asyncProperty(brokenAdministratorReview, async (body) => {
      const response = await handler({ method: 'POST', url: '/authorize', body });
      expect(response.status).toBe(400);
    }), { numRuns: IN_PROCESS_RUNS.mutations });
  });
});

describe('what a PowerUser may write, for generated requests', () => {
  const name = fc.oneof(fc.constant(''), fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,20}$/));
  const group = fc.oneof(fc.constantFrom('', 'apps', 'storage.k8s.io', 'node.k8s.io', 'apiextensions.k8s.io', 'certificates.k8s.io', 'scheduling.k8s.io', 'authorization.k8s.io'), name);
  const resource = fc.oneof(fc.constantFrom('persistentvolumes', 'storageclasses', 'runtimeclasses', 'namespaces', 'pods', 'secrets', 'leases', 'selfsubjectaccessreviews'), name.filter((n) => n !== ''));
  // Subresources as the API server parses them from a path: lower-case DNS labels (names may
  // hold dots, a subresource never does; any other shape is a malformed request, denied to all).
  const subresource = fc.oneof(fc.constantFrom('', 'status', 'finalize', 'approval', 'exec'), fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?$/));
  const writeVerb = fc.constantFrom('create', 'update', 'patch', 'delete', 'deletecollection');
  const powerUser = (resourceAttributes: { group: string; resource: string; subresource: string; namespace: string; name: string }, verb: string) =>
    authorize({ user: 'jdoe', groups: [CLUSTER_GROUP, ROLE_GROUPS.PowerUser, 'system:authenticated'], resource: { verb, ...resourceAttributes } }, POLICY);
  const isOwnAccessReview = (g: string, r: string) => (g === 'authorization.k8s.io' && (r === 'selfsubjectaccessreviews' || r === 'selfsubjectrulesreviews')) || (g === 'authentication.k8s.io' && r === 'selfsubjectreviews');

  test('nothing outside a namespace (cluster-scoped objects, all namespaces), own access reviews aside', () => {
    fc.assert(fc.property(group, resource, subresource, name, writeVerb, (g, r, sub, n, verb) => {
      const decision = powerUser({ group: g, resource: r, subresource: sub, namespace: '', name: n }, verb);
      expect(decision.allowed).toBe(isOwnAccessReview(g, r));
    }), { numRuns: 3000 });
  });

  test('nothing in kube-system, kube-public or kube-node-lease, nor those Namespaces', () => {
    fc.assert(fc.property(group, resource, subresource, name, writeVerb, fc.constantFrom('kube-system', 'kube-public', 'kube-node-lease'), (g, r, sub, n, verb, ns) => {
      fc.pre(!isOwnAccessReview(g, r));
      expect(powerUser({ group: g, resource: r, subresource: sub, namespace: ns, name: n }, verb).allowed).toBe(false);
      expect(powerUser({ group: '', resource: 'namespaces', subresource: sub, namespace: '', name: ns }, verb).allowed).toBe(false);
    }), { numRuns: 2000 });
  });

  test("never a Namespace's status or finalize subresource, through which its labels change", () => {
    fc.assert(fc.property(name.filter((n) => n !== ''), writeVerb, (ns, verb) => {
      expect(powerUser({ group: '', resource: 'namespaces', subresource: 'status', namespace: ns, name: ns }, verb).allowed).toBe(false);
      expect(powerUser({ group: '', resource: 'namespaces', subresource: 'finalize', namespace: ns, name: ns }, verb).allowed).toBe(false);
    }), { numRuns: 500 });
  });
});

describe('generated bodies over real HTTP', () => {
  let stub: TokenInfoStub;
  let webhook: RunningWebhook;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  beforeAll(async () => {
    stub = await startTokenInfoStub(); // knows no tokens: every lookup is a 401
    webhook = await startTestWebhook(stub.url);
  });
  afterAll(async () => {
    agent.destroy();
    await webhook.close();
    await stub.close();
  });

  const send = (request: WebhookRequest): Promise<WebhookResponse> => new Promise((resolve, reject) => {
    const outgoing = http.request(`${webhook.url}${request.url}`, { method: request.method, agent, headers: { 'content-type': 'application/json' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, contentType: String(response.headers['content-type']), body: Buffer.concat(chunks).toString('utf8') }));
    });
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });

  test('never a 5xx, never authenticated or allowed', async () => {
    const anyRequest = fc.oneof(
      garbageBody(tokenReviewShaped).map((body) => ({ method: 'POST', url: '/authenticate', body })),
      garbageBody(subjectAccessReviewShaped).map((body) => ({ method: 'POST', url: '/authorize', body })),
    );
    await fc.assert(fc.asyncProperty(anyRequest, async (request) => assertSafe(await send(request))), { numRuns: HTTP_RUNS });
  });

  test('broken Administrator reviews are 400 over HTTP too', async () => {
    await fc.assert(fc.asyncProperty(brokenAdministratorReview, async (body) => {
      expect((await send({ method: 'POST', url: '/authorize', body })).status).toBe(400);
    }), { numRuns: HTTP_RUNS });
  });
});
