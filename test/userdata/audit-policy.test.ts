/**
 * The API server's audit log: the policy evaluated as the API server evaluates it, the flags,
 * the log's place on the master, its rotation, and the cdk-nag acknowledgement that relies on it.
 *
 * The matcher below follows kubernetes/apiserver v0.35.1 pkg/audit/policy/checker.go
 * (policyRuleEvaluator.EvaluatePolicyRule, ruleMatches, ruleMatchesResource,
 * ruleMatchesNonResource, pathMatches): rules are tried in order and the FIRST match decides;
 * no match means level None. A rule's users, userGroups and verbs must all match; a rule with
 * namespaces or resources matches only resource requests, one with nonResourceURLs only
 * non-resource requests, one with neither matches everything. A resource entry matches on its
 * group ('' = core) and, if it lists resources, on `resource` or `resource/subresource`, `*`,
 * `*\/subresource` or `resource/*` (and on resourceNames if given). A URL entry matches
 * exactly, by `*`, or by prefix when it ends in `*`.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import fc from 'fast-check';
import { load } from 'js-yaml';
import { ApiLoadBalancer } from '../../lib/constructs/api-load-balancer';
import { DEFAULT_ROOT_VOLUME_SIZE } from '../../lib/constructs/node-group';
import { AUDIT_LOG_DIR, AUDIT_LOG_MAX_BACKUPS, AUDIT_LOG_MAX_SIZE_MB, AUDIT_LOG_PATH, AUDIT_POLICY } from '../../userdata/audit-policy';
import { AUDIT_POLICY_FILE, masterConfig } from '../../userdata/master';
import { fileText } from './config-files';
import { masterInput } from './fixtures';
import { AUDIT_POLICY_V1, schemaErrors } from './upstream-schemas';

type Level = 'None' | 'Metadata' | 'Request' | 'RequestResponse';
interface GroupResources {
  group?: string;
  resources?: string[];
  resourceNames?: string[];
}
interface Rule {
  level: Level;
  users?: string[];
  userGroups?: string[];
  verbs?: string[];
  resources?: GroupResources[];
  namespaces?: string[];
  nonResourceURLs?: string[];
}
interface Policy {
  rules: Rule[];
}

interface ResourceRequest {
  user: string;
  groups: string[];
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace: string;
  name: string;
}
interface NonResourceRequest {
  user: string;
  groups: string[];
  verb: string;
  path: string;
}
type Request = ResourceRequest | NonResourceRequest;
const isResource = (r: Request): r is ResourceRequest => 'resource' in r;
const nonEmpty = (list?: unknown[]): list is unknown[] => list !== undefined && list.length > 0;

function urlMatches(path: string, spec: string): boolean {
  return spec === '*' || spec === path || (spec.endsWith('*') && path.startsWith(spec.slice(0, -1)));
}

function resourceMatches(rule: Rule, r: ResourceRequest): boolean {
  if (nonEmpty(rule.namespaces) && !rule.namespaces.includes(r.namespace)) return false;
  if (!nonEmpty(rule.resources)) return true;
  const combined = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
  return rule.resources.some((gr) => {
    if ((gr.group ?? '') !== r.group) return false;
    if (!nonEmpty(gr.resources)) return true;
    if (nonEmpty(gr.resourceNames) && !gr.resourceNames.includes(r.name)) return false;
    return gr.resources.some(
      (res) => res === combined || res === '*' || (r.subresource !== undefined && res === `*/${r.subresource}`) || (res.endsWith('/*') && res.slice(0, -2) === r.resource),
    );
  });
}

function ruleMatches(rule: Rule, r: Request): boolean {
  if (nonEmpty(rule.users) && !rule.users.includes(r.user)) return false;
  if (nonEmpty(rule.userGroups) && !r.groups.some((g) => rule.userGroups!.includes(g))) return false;
  if (nonEmpty(rule.verbs) && !rule.verbs.includes(r.verb)) return false;
  if (nonEmpty(rule.namespaces) || nonEmpty(rule.resources)) return isResource(r) && resourceMatches(rule, r);
  if (nonEmpty(rule.nonResourceURLs)) return !isResource(r) && rule.nonResourceURLs.some((spec) => urlMatches(r.path, spec));
  return true;
}

/** The level the API server records `request` at: the first matching rule's, else None. */
function levelFor(policy: Policy, request: Request): Level {
  return policy.rules.find((rule) => ruleMatches(rule, request))?.level ?? 'None';
}

const BODY_LEVELS: Level[] = ['Request', 'RequestResponse'];

const config = masterConfig(masterInput);
const policy = load(fileText(config, AUDIT_POLICY_FILE)) as Policy;
const apiServer = (load(fileText(config, '/etc/kubernetes/manifests/kube-apiserver.yaml')) as {
  spec: { containers: { command: string[]; volumeMounts: { name: string; mountPath: string; readOnly: boolean }[] }[]; volumes: { name: string; hostPath: { path: string; type: string } }[] };
}).spec;

// Requests whose bodies carry credentials, by anyone, with any verb, anywhere.
const user = fc.record({
  user: fc.oneof(fc.constantFrom('kubernetes-on-aws:admin', 'system:kube-controller-manager', 'kubelet', 'system:serviceaccount:team:ci'), fc.string()),
  groups: fc.array(fc.constantFrom('system:masters', 'system:authenticated', 'system:nodes', 'system:serviceaccounts')),
});
const anyVerb = fc.constantFrom('get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection', 'proxy');
const namespace = fc.constantFrom('kube-system', 'default', 'team-a', '');
const credentialRequest: fc.Arbitrary<ResourceRequest> = fc
  .tuple(
    user,
    anyVerb,
    namespace,
    fc.string(),
    fc.constantFrom<[string, string, string | undefined]>(
      ['', 'secrets', undefined],
      ['', 'configmaps', undefined],
      ['', 'serviceaccounts', 'token'],
      ['authentication.k8s.io', 'tokenreviews', undefined],
    ),
  )
  .map(([u, verb, ns, name, [group, resource, subresource]]) => ({ ...u, verb, namespace: ns, name, group, resource, ...(subresource ? { subresource } : {}) }));

describe('audit policy (audit.k8s.io/v1)', () => {
  test('the master gets the policy, schema-valid for kubernetes/apiserver v0.35.1', () => {
    expect(policy).toEqual(AUDIT_POLICY);
    expect(schemaErrors(policy, AUDIT_POLICY_V1)).toEqual([]);
    expect(AUDIT_POLICY.omitStages).toEqual(['RequestReceived']);
  });

  test('health probes make no event', () => {
    for (const path of ['/livez', '/readyz', '/healthz', '/livez/etcd', '/readyz/shutdown', '/healthz/poststarthook/rbac/bootstrap-roles']) {
      expect({ path, level: levelFor(policy, { user: 'system:anonymous', groups: ['system:unauthenticated'], verb: 'get', path }) }).toEqual({ path, level: 'None' });
    }
  });

  test('secrets, configmaps, token reviews and token requests are logged as metadata only, whoever asks', () => {
    fc.assert(fc.property(credentialRequest, (request) => levelFor(policy, request) === 'Metadata'));
  });

  test('no body-logging rule could match a credential request, even if it were moved first', () => {
    const bodyRules = policy.rules.filter((rule) => BODY_LEVELS.includes(rule.level));
    expect(bodyRules.length).toBeGreaterThan(0);
    fc.assert(fc.property(credentialRequest, (request) => bodyRules.every((rule) => !ruleMatches(rule, request))));
  });

  test('writes to RBAC, admission configuration and namespaces are logged with request and response bodies; reads as metadata', () => {
    const admin = { user: 'team-admin', groups: ['system:authenticated'] };
    const cases: [Omit<ResourceRequest, 'user' | 'groups'>, Level][] = [
      [{ verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings', namespace: '', name: 'x' }, 'RequestResponse'],
      [{ verb: 'patch', group: 'rbac.authorization.k8s.io', resource: 'roles', namespace: 'team-a', name: 'x' }, 'RequestResponse'],
      [{ verb: 'delete', group: 'admissionregistration.k8s.io', resource: 'validatingadmissionpolicybindings', namespace: '', name: 'x' }, 'RequestResponse'],
      [{ verb: 'update', group: '', resource: 'namespaces', namespace: '', name: 'team-a' }, 'RequestResponse'],
      [{ verb: 'get', group: 'rbac.authorization.k8s.io', resource: 'clusterroles', namespace: '', name: 'x' }, 'Metadata'],
      [{ verb: 'watch', group: 'rbac.authorization.k8s.io', resource: 'rolebindings', namespace: '', name: '' }, 'Metadata'],
    ];
    for (const [request, level] of cases) expect({ request, level: levelFor(policy, { ...admin, ...request }) }).toEqual({ request, level });
  });

  test('everything else is logged as metadata, nothing dropped', () => {
    fc.assert(
      fc.property(
        user,
        anyVerb,
        namespace,
        fc.constantFrom(['', 'pods', 'exec'], ['', 'pods', undefined], ['', 'nodes', undefined], ['apps', 'deployments', undefined], ['example.org', 'widgets', undefined], ['', 'services', undefined]),
        (u, verb, ns, [group, resource, subresource]) => levelFor(policy, { ...u, verb, namespace: ns, name: 'n', group: group!, resource: resource!, ...(subresource ? { subresource } : {}) }) === 'Metadata',
      ),
    );
    for (const path of ['/version', '/metrics', '/api', '/openapi/v3']) expect(levelFor(policy, { user: 'u', groups: [], verb: 'get', path })).toBe('Metadata');
  });

  test('the matcher is order-sensitive (a body rule moved first would log secrets): the tests above can fail', () => {
    const reordered: Policy = { rules: [{ level: 'RequestResponse', resources: [{ group: '' }] }, ...policy.rules] };
    const read: ResourceRequest = { user: 'u', groups: [], verb: 'get', group: '', resource: 'secrets', namespace: 'team-a', name: 'db' };
    expect(levelFor(reordered, read)).toBe('RequestResponse');
    expect(levelFor(policy, read)).toBe('Metadata');
  });

  test('the schema check refuses a misspelt rule field, which the API server would only warn about', () => {
    const misspelt = { ...AUDIT_POLICY, rules: [{ level: 'Metadata', resource: [{ group: '' }] }] };
    expect(schemaErrors(misspelt, AUDIT_POLICY_V1)).toEqual([expect.stringMatching(/\$\.rules\[0\]\.resource: unknown field/)]);
    expect(schemaErrors({ ...AUDIT_POLICY, rules: [{ level: 'Everything' }] }, AUDIT_POLICY_V1)).toEqual([expect.stringMatching(/level: must be one of None, Metadata, Request, RequestResponse/)]);
  });
});

describe('audit log on the master', () => {
  const flag = (name: string) => apiServer.containers[0].command.find((f) => f.startsWith(`--${name}=`));

  test('the API server reads the policy and writes JSON events to the log file, rotating it itself', () => {
    // kubernetes/apiserver v0.35.1 pkg/server/options/audit.go AuditOptions/AuditLogOptions.AddFlags.
    expect(flag('audit-policy-file')).toBe(`--audit-policy-file=${AUDIT_POLICY_FILE}`);
    expect(flag('audit-log-path')).toBe('--audit-log-path=/var/log/kubernetes/audit/audit.log');
    expect(flag('audit-log-format')).toBe('--audit-log-format=json');
    expect(flag('audit-log-maxsize')).toBe(`--audit-log-maxsize=${AUDIT_LOG_MAX_SIZE_MB}`);
    expect(flag('audit-log-maxbackup')).toBe(`--audit-log-maxbackup=${AUDIT_LOG_MAX_BACKUPS}`);
    expect(flag('audit-log-maxage')).toBe('--audit-log-maxage=30');
    expect(flag('audit-log-compress')).toBe('--audit-log-compress=true');
  });

  test('the log directory is a writable host mount, created 0700 on the node; the policy is mounted read-only', () => {
    const mount = (path: string) => {
      const volume = apiServer.volumes.find((v) => v.hostPath.path === path);
      const mounted = apiServer.containers[0].volumeMounts.find((m) => m.name === volume?.name);
      return { type: volume?.hostPath.type, mountPath: mounted?.mountPath, readOnly: mounted?.readOnly };
    };
    expect(mount(AUDIT_LOG_DIR)).toEqual({ type: 'Directory', mountPath: AUDIT_LOG_DIR, readOnly: false });
    expect(mount(AUDIT_POLICY_FILE)).toEqual({ type: 'File', mountPath: AUDIT_POLICY_FILE, readOnly: true });
    expect(config.storage?.directories?.find((d) => d.path === AUDIT_LOG_DIR)?.mode).toBe(0o700);
  });

  test('a full log directory stays under a tenth of the master root volume even uncompressed', () => {
    // lumberjack keeps the current file plus maxbackup rotated ones, each up to maxsize MB.
    const worstCaseBytes = (AUDIT_LOG_MAX_BACKUPS + 1) * AUDIT_LOG_MAX_SIZE_MB * 1e6;
    expect(worstCaseBytes).toBeLessThanOrEqual(DEFAULT_ROOT_VOLUME_SIZE.toGibibytes() * 2 ** 30 * 0.1);
  });

  test("the load balancer's cdk-nag acknowledgement (no access logs) names this log and what it records", () => {
    const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'eu-central-1' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1 });
    const masters = new autoscaling.AutoScalingGroup(stack, 'Masters', { vpc, instanceType: new ec2.InstanceType('m5.large'), machineImage: ec2.MachineImage.latestAmazonLinux2023() });
    const api = new ApiLoadBalancer(stack, 'Api', {
      vpc,
      subnets: vpc.publicSubnets,
      domainName: 'kube-aws-test-1.team.example.org',
      zone: route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z1', zoneName: 'team.example.org' }),
      masters,
    });
    const reasons = api.loadBalancer.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>))
      .filter(([id]) => id.endsWith('AwsSolutions-ELB2'))
      .map(([, reason]) => reason);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toContain(AUDIT_LOG_PATH);
    expect(flag('audit-log-path')).toBe(`--audit-log-path=${AUDIT_LOG_PATH}`);
    // It claims bodies only for these writes, and "every request but the health probes".
    expect(reasons[0]).toMatch(/every request but the health probes/);
    expect(policy.rules.filter((r) => r.level === 'None')).toEqual([{ level: 'None', nonResourceURLs: ['/livez*', '/readyz*', '/healthz*'] }]);
  });
});
