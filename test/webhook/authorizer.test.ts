import { readFileSync } from 'fs';
import * as path from 'path';
import { authorizationMatrixMarkdown } from '../../webhook/authorization-matrix-markdown';
import { AccessRequest, authorize, AuthorizationPolicy, AUTHORIZATION_MATRIX, classifyResource, classifyVerb, malformation, roleOf } from '../../webhook/authorizer';
import { ROLE_NAMES } from '../../webhook/config';
import { EXPECTED_MATRIX, MALFORMED_VERBS, NON_RESOURCE_VERBS, RESOURCE_VERBS, ROLE_LETTERS, SAMPLES } from './authorization-matrix-cases';
import { CLUSTER_GROUP, ROLE_GROUPS } from './fixtures';

const POLICY: AuthorizationPolicy = {
  clusterGroup: CLUSTER_GROUP,
  roles: { ReadOnly: [ROLE_GROUPS.ReadOnly], PowerUser: [ROLE_GROUPS.PowerUser], Administrator: [ROLE_GROUPS.Administrator] },
};

function accessRequest(sample: (typeof SAMPLES)[string][number], verb: string, groups: string[], user = 'jdoe'): AccessRequest {
  if ('resourceAttributes' in sample) {
    const a = sample.resourceAttributes;
    return { user, groups, resource: { verb, group: a.group ?? '', resource: a.resource, subresource: a.subresource ?? '', namespace: a.namespace ?? '', name: a.name ?? '' } };
  }
  return { user, groups, nonResource: { verb, path: sample.nonResourceAttributes.path } };
}

describe('authorization matrix', () => {
  test('the expected table covers exactly the classes the authorizer has', () => {
    expect(Object.keys(EXPECTED_MATRIX).sort()).toEqual(Object.keys(AUTHORIZATION_MATRIX).sort());
    expect(Object.keys(SAMPLES).sort()).toEqual(Object.keys(AUTHORIZATION_MATRIX).sort());
  });

  // Every cell: every sample of the resource class, every verb of the verb class, every role.
  for (const [resourceClass, cells] of Object.entries(EXPECTED_MATRIX)) {
    for (const verbClass of ['read', 'write', 'other'] as const) {
      for (const role of ROLE_NAMES) {
        const expectAllowed = cells[verbClass].includes(ROLE_LETTERS[role]);
        test(`${role} ${expectAllowed ? 'may' : 'may not'} ${verbClass} ${resourceClass}`, () => {
          for (const sample of SAMPLES[resourceClass]) {
            const verbs = 'resourceAttributes' in sample ? RESOURCE_VERBS[verbClass] : NON_RESOURCE_VERBS[verbClass];
            for (const verb of verbs) {
              // GIVEN a user in the cluster group with exactly this role
              const request = accessRequest(sample, verb, [CLUSTER_GROUP, ROLE_GROUPS[role], 'system:authenticated']);
              // WHEN / THEN
              expect({ verb, sample, resourceClass: classifyResource(request), verbClass: classifyVerb(request) }).toEqual({ verb, sample, resourceClass, verbClass });
              const decision = authorize(request, POLICY);
              expect({ verb, sample, allowed: decision.allowed, denied: decision.denied }).toEqual({ verb, sample, allowed: expectAllowed, denied: !expectAllowed });
            }
          }
        });
      }
    }
  }

  // Every well-formed sample with a verb the API server never sends: malformed, whatever the role.
  for (const role of ROLE_NAMES) {
    test(`${role} is denied every sample with a verb the API server never sends`, () => {
      for (const [resourceClass, samples] of Object.entries(SAMPLES)) {
        if (resourceClass === 'malformed') continue;
        for (const sample of samples) {
          for (const verb of 'resourceAttributes' in sample ? MALFORMED_VERBS.resource : MALFORMED_VERBS.nonResource) {
            const decision = authorize(accessRequest(sample, verb, [CLUSTER_GROUP, ROLE_GROUPS[role], 'system:authenticated']), POLICY);
            expect({ verb, sample, resourceClass: classifyResource(accessRequest(sample, verb, [])), allowed: decision.allowed, denied: decision.denied })
              .toEqual({ verb, sample, resourceClass: 'malformed', allowed: false, denied: true });
          }
        }
      }
    });
  }

  test('a malformed request is denied with the reason it is malformed', () => {
    const request = { user: 'jdoe', groups: [CLUSTER_GROUP, ROLE_GROUPS.Administrator], resource: { verb: 'get', group: '', resource: 'pods/exec', subresource: '', namespace: 'team-a', name: 'web-1' } };
    expect(authorize(request, POLICY)).toEqual({ allowed: false, denied: true, reason: expect.stringMatching(/never sends.*resource "pods\/exec"/) });
  });

  test('an empty resource with a namespace is malformed here too (the review parser refuses it first, with 400)', () => {
    const request = { user: 'jdoe', groups: [CLUSTER_GROUP, ROLE_GROUPS.Administrator], resource: { verb: 'get', group: '', resource: '', subresource: '', namespace: 'team-a', name: '' } };
    expect(malformation(request)).toMatch(/resource ""/);
    expect(authorize(request, POLICY)).toMatchObject({ allowed: false, denied: true });
  });
});

describe('who is judged by the matrix at all', () => {
  const podRead = { user: 'jdoe', resource: { verb: 'get', group: '', resource: 'pods', subresource: '', namespace: 'team-a', name: '' } };

  test('a user without the cluster group is denied, whatever role groups they have', () => {
    const decision = authorize({ ...podRead, groups: [ROLE_GROUPS.Administrator] }, POLICY);
    expect(decision).toMatchObject({ allowed: false, denied: true });
    expect(decision.reason).toContain(CLUSTER_GROUP);
  });

  test('a user in the cluster group without a role group is denied', () => {
    expect(authorize({ ...podRead, groups: [CLUSTER_GROUP, 'system:authenticated', 'other-team'] }, POLICY)).toMatchObject({ allowed: false, denied: true, reason: expect.stringMatching(/none of the groups/) });
  });

  test.each([
    ['any user in the nodes group', 'kubelet', ['system:nodes', 'system:authenticated']],
    ['a node', 'system:node:ip-10-0-0-1.eu-central-1.compute.internal', ['system:nodes', 'system:authenticated']],
    ['a service account', 'system:serviceaccount:kube-system:coredns', ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated']],
    ['the scheduler', 'system:kube-scheduler', ['system:authenticated']],
    ['anonymous', 'system:anonymous', ['system:unauthenticated']],
  ])('%s gets no opinion (allowed and denied both false), so RBAC and the Node authorizer decide', (_, user, groups) => {
    expect(authorize({ ...podRead, user, groups }, POLICY)).toMatchObject({ allowed: false, denied: false });
  });

  test('system:authenticated alone does not make a human a system identity', () => {
    expect(authorize({ ...podRead, groups: ['system:authenticated'] }, POLICY)).toMatchObject({ denied: true });
  });

  test('a grant is one frozen object per role, verb class and resource class (the handler serializes each once)', () => {
    const read = (user: string, namespace: string) => authorize({ user, groups: [CLUSTER_GROUP, ROLE_GROUPS.PowerUser], resource: { verb: 'get', group: '', resource: 'pods', subresource: '', namespace, name: '' } }, POLICY);
    expect(read('jdoe', 'team-a')).toBe(read('asmith', 'team-b'));
    expect(Object.isFrozen(read('jdoe', 'team-a'))).toBe(true);
    const write = authorize({ user: 'jdoe', groups: [CLUSTER_GROUP, ROLE_GROUPS.PowerUser], resource: { verb: 'create', group: '', resource: 'pods', subresource: '', namespace: 'team-a', name: '' } }, POLICY);
    expect([write.reason, read('jdoe', 'team-a').reason]).toEqual(['PowerUser may write general', 'PowerUser may read general']);
  });

  test('the strongest role wins when a user has several', () => {
    expect(roleOf([ROLE_GROUPS.ReadOnly, ROLE_GROUPS.Administrator], POLICY.roles)).toBe('Administrator');
    expect(roleOf([ROLE_GROUPS.PowerUser, ROLE_GROUPS.ReadOnly], POLICY.roles)).toBe('PowerUser');
    expect(roleOf(['nobody'], POLICY.roles)).toBeUndefined();
  });
});

describe('webhook/README.md', () => {
  test('shows the matrix the authorizer uses', () => {
    const readme = readFileSync(path.join(__dirname, '../../webhook/README.md'), 'utf8');
    expect(readme).toContain(authorizationMatrixMarkdown());
  });
});
