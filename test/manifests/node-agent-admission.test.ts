/**
 * The shared worker token's admission policy, run on admission requests with a CEL evaluator
 * (validating-admission-policy.ts) as the masters apply it: what user `kubelet` may still
 * create, delete, relabel and mint, and that nobody else is touched. The requests a kubelet
 * makes are built as upstream builds them (manifests/node-agent-admission.ts cites each).
 */
import * as yaml from 'js-yaml';
import { IValidatingAdmissionPolicy, ValidatingAdmissionPolicy } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy';
import { IValidatingAdmissionPolicyBinding, ValidatingAdmissionPolicyBinding } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding';
import { clusterBootstrap } from '../../manifests/addons/cluster-bootstrap';
import { rendered } from './addons/addon-fixtures';
import { MIRROR_POD_ANNOTATION, MIRROR_POD_NAMESPACE, NODE_AGENT_ADMISSION_POLICY } from '../../manifests/node-agent-admission';
import { NODE_AGENT_CLUSTER_RULES } from '../../manifests/node-agent-rbac';
import { masterConfig, STATIC_PODS } from '../../userdata/master';
import { STATIC_POD_DIR } from '../../userdata/paths';
import { workerConfig } from '../../userdata/worker';
import { KUBELET_IDENTITY } from '../../webhook/authenticator';
import { fileText, files } from '../userdata/config-files';
import { masterInput, workerInput } from '../userdata/fixtures';
import { CLUSTER_GROUP, ROLE_GROUPS } from '../webhook/fixtures';
import { admit, AdmissionSample, Operation } from './validating-admission-policy';

// The objects as the applier sends them (the cluster-bootstrap add-on).
const applied = rendered(clusterBootstrap) as { kind: string; metadata: { name: string } }[];
const named = (kind: string) => applied.find((o) => o.kind === kind && o.metadata.name === NODE_AGENT_ADMISSION_POLICY);
const policy = named('ValidatingAdmissionPolicy') as unknown as IValidatingAdmissionPolicy;
const binding = named('ValidatingAdmissionPolicyBinding') as unknown as IValidatingAdmissionPolicyBinding;

const NODE = 'ip-10-0-1-23.eu-central-1.compute.internal';
const people = {
  kubelet: { username: KUBELET_IDENTITY.username, groups: [...KUBELET_IDENTITY.groups] },
  powerUser: { username: 'dev', groups: [CLUSTER_GROUP, ROLE_GROUPS.PowerUser, 'system:authenticated'] },
  administrator: { username: 'admin', groups: [CLUSTER_GROUP, ROLE_GROUPS.Administrator, 'system:authenticated'] },
  // A per-node kubelet identity: the Node authorizer and NodeRestriction scope it, not this policy.
  nodeIdentity: { username: `system:node:${NODE}`, groups: ['system:nodes', 'system:authenticated'] },
  podGarbageCollector: { username: 'system:serviceaccount:kube-system:pod-garbage-collector', groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'] },
};

/** A static pod manifest as a kubelet reads it from its manifest directory. */
interface StaticPodManifest {
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
}
/** The static pods of a rendered node config. */
const staticPodsOf = (config: ReturnType<typeof masterConfig>): StaticPodManifest[] => files(config)
  .filter((f) => f.path.startsWith(`${STATIC_POD_DIR}/`))
  .map((f) => yaml.load(fileText(config, f.path)) as StaticPodManifest);
const MASTER_NODE = 'ip-10-0-0-10.eu-central-1.compute.internal';
const renderedStaticPods = [
  ...staticPodsOf(masterConfig(masterInput)).map((pod) => ({ role: 'master', node: MASTER_NODE, pod })),
  ...staticPodsOf(workerConfig(workerInput)).map((pod) => ({ role: 'worker', node: NODE, pod })),
];

/**
 * The mirror pod a kubelet creates for a static pod (kubernetes/kubernetes pkg/kubelet/
 * config/common.go applyDefaults: named by generatePodName, `<name>-<lower-cased node
 * name>`, bound to the node, a config.hash annotation; pkg/kubelet/pod/mirror_client.go
 * CreateMirrorPod: the mirror annotation and the Node owner; labels untouched).
 */
function mirrorOf(staticPod: StaticPodManifest, node: string) {
  return {
    ...staticPod,
    metadata: {
      ...staticPod.metadata,
      name: `${staticPod.metadata.name}-${node.toLowerCase()}`,
      uid: 'a1b2c3',
      annotations: { 'kubernetes.io/config.hash': 'abc123', [MIRROR_POD_ANNOTATION]: 'abc123', 'kubernetes.io/config.source': 'file' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node, uid: 'node-uid', controller: true }],
    },
    spec: { ...staticPod.spec, nodeName: node },
  };
}
const kubeScheduler = renderedStaticPods.find(({ role, pod }) => role === 'master' && pod.metadata.name === 'kube-scheduler')!.pod;
const mirrorPod = mirrorOf(kubeScheduler, MASTER_NODE);
/** The same mirror pod with other labels or another name, everything else as the kubelet makes it. */
const relabelled = (labels: Record<string, string> | undefined) => ({ ...mirrorPod, metadata: { ...mirrorPod.metadata, labels } });
const renamed = (name: string) => ({ ...mirrorPod, metadata: { ...mirrorPod.metadata, name } });
/** A node the thief registered (create nodes) and keeps alive (nodes/status, its lease): no kubelet deletes its pods. */
const FAKE_NODE = 'evil';
/** What a thief would create: a privileged pod with the host's / pinned to a master, no annotation. */
const rootPod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'x', namespace: MIRROR_POD_NAMESPACE, uid: 'd4e5f6' },
  spec: {
    nodeName: NODE,
    hostNetwork: true,
    tolerations: [{ operator: 'Exists' }],
    containers: [{ name: 'x', image: 'busybox', securityContext: { privileged: true }, volumeMounts: [{ name: 'root', mountPath: '/host' }] }],
    volumes: [{ name: 'root', hostPath: { path: '/' } }],
  },
};
const inNamespace = (pod: typeof rootPod, namespace: string) => ({ ...pod, metadata: { ...pod.metadata, namespace } });
const withMirrorAnnotation = (pod: typeof rootPod) => ({ ...pod, metadata: { ...pod.metadata, annotations: { [MIRROR_POD_ANNOTATION]: 'x' } } });
/** An ordinary pod of a Deployment, running, and the same pod after a drain or `kubectl delete` began its deletion. */
const runningPod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-7d4b9c-x2x9z', namespace: 'team-a', uid: 'f00', labels: { app: 'web' } },
  spec: { nodeName: NODE, serviceAccountName: 'web', containers: [{ name: 'web', image: 'nginx' }] },
  status: { phase: 'Running', podIP: '10.2.3.4', conditions: [{ type: 'Ready', status: 'True' }] },
};
const terminatingPod = {
  ...runningPod,
  metadata: { ...runningPod.metadata, deletionTimestamp: '2026-01-01T00:00:00Z', deletionGracePeriodSeconds: 30 },
  status: { ...runningPod.status, phase: 'Succeeded' },
};

/** Any pod object: the policy reads it as JSON, whatever its fields. */
type PodObject = { metadata: { namespace: string; [field: string]: unknown }; [field: string]: unknown };

const podRequest = (userInfo: AdmissionSample['userInfo'], operation: Operation, object: unknown, oldObject: unknown, namespace: string): AdmissionSample => ({
  operation,
  resource: { group: '', version: 'v1', resource: 'pods' },
  namespace,
  userInfo,
  object,
  oldObject,
});
const create = (userInfo: AdmissionSample['userInfo'], pod: PodObject) => podRequest(userInfo, 'CREATE', pod, null, pod.metadata.namespace);
const remove = (userInfo: AdmissionSample['userInfo'], pod: PodObject) => podRequest(userInfo, 'DELETE', null, pod, pod.metadata.namespace);
/** A pods/status update or patch (PATCH is an UPDATE to admission): the pod after, the pod before. */
function statusUpdate(userInfo: AdmissionSample['userInfo'], pod: PodObject, oldPod: PodObject): AdmissionSample {
  return { ...podRequest(userInfo, 'UPDATE', pod, oldPod, pod.metadata.namespace), subResource: 'status' };
}
const withLabels = (labels: Record<string, string> | undefined) => ({ ...runningPod, metadata: { ...runningPod.metadata, labels } });

/** A TokenRequest for a service account, as POSTed to serviceaccounts/<name>/token. */
function tokenRequest(userInfo: AdmissionSample['userInfo'], boundObjectRef?: Record<string, string>, namespace = 'team-a'): AdmissionSample {
  return {
    operation: 'CREATE',
    resource: { group: '', version: 'v1', resource: 'serviceaccounts' },
    subResource: 'token',
    namespace,
    userInfo,
    object: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ['https://kubernetes.default.svc'], expirationSeconds: 3607, ...(boundObjectRef ? { boundObjectRef } : {}) } },
    oldObject: null,
  };
}
// How the kubelet binds a projected token (pkg/volume/projected/projected.go).
const podBinding = { apiVersion: 'v1', kind: 'Pod', name: runningPod.metadata.name, uid: runningPod.metadata.uid };

const allowed = { matched: true, allowed: true };
const notMatched = { matched: false, allowed: true };
const denied = (message: RegExp) => ({ matched: true, allowed: false, message: expect.stringMatching(message) });

describe('pod creation by the shared worker token: mirror pods in kube-system only', () => {
  test('a kubelet creates the mirror pod of one of our static pods: allowed', () => {
    expect(admit(policy, binding, create(people.kubelet, mirrorPod))).toEqual(allowed);
  });

  test('a privileged hostPath pod without the mirror annotation, pinned to a node in kube-system: denied', () => {
    expect(admit(policy, binding, create(people.kubelet, rootPod))).toEqual(denied(/may create only mirror pods \(annotation kubernetes\.io\/config\.mirror\) bound to a node \(spec\.nodeName\) in kube-system/));
  });

  test('the same pod in another namespace: denied', () => {
    expect(admit(policy, binding, create(people.kubelet, inNamespace(rootPod, 'team-a')))).toEqual(denied(/only mirror pods/));
  });

  test('a mirror pod outside kube-system (no static pod of ours is there): denied', () => {
    expect(admit(policy, binding, create(people.kubelet, inNamespace(withMirrorAnnotation(rootPod), 'team-a')))).toEqual(denied(/only mirror pods/));
  });

  test('a mirror pod bound to no node (the scheduler would place it, or it would wait forever): denied', () => {
    const { nodeName, ...unboundSpec } = mirrorPod.spec;
    expect(nodeName).toBe(MASTER_NODE);
    expect(admit(policy, binding, create(people.kubelet, { ...mirrorPod, spec: unboundSpec }))).toEqual(denied(/bound to a node \(spec\.nodeName\)/));
    expect(admit(policy, binding, create(people.kubelet, { ...mirrorPod, spec: { ...mirrorPod.spec, nodeName: '' } }))).toEqual(denied(/only mirror pods/));
  });

  test('the annotation with an empty value still marks a mirror pod (the kubelet tests presence)', () => {
    const pod = { ...mirrorPod, metadata: { ...mirrorPod.metadata, annotations: { [MIRROR_POD_ANNOTATION]: '' } } };
    expect(admit(policy, binding, create(people.kubelet, pod))).toEqual(allowed);
  });

  test.each(renderedStaticPods.map(({ role, node, pod }) => [pod.metadata.name, role, node, pod] as const))(
    'the mirror pod of static pod %s, as a %s\'s kubelet creates it: allowed',
    (_, __, node, pod) => {
      expect(admit(policy, binding, create(people.kubelet, mirrorOf(pod, node)))).toEqual(allowed);
    },
  );

  test('the static pods the policy admits are exactly those the rendered masters and workers run, with the same labels', () => {
    const rendered = new Map(renderedStaticPods.map(({ pod }) => [pod.metadata.name, pod.metadata.labels ?? {}]));
    expect([...rendered.keys()].sort()).toEqual(['kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
    expect(new Map(STATIC_PODS.map((p) => [p.name, p.labels]))).toEqual(rendered);
  });

  // The attack: a fake node, a mirror pod bound to it with a Service's selector, then a
  // pods/status patch with the thief's podIP and Ready; nobody ever deletes it.
  test('a thief\'s mirror pod on its fake node labelled like the cluster DNS (k8s-app: kube-dns): denied', () => {
    const thiefs = {
      ...rootPod,
      metadata: { name: `coredns-${FAKE_NODE}`, namespace: MIRROR_POD_NAMESPACE, labels: { 'k8s-app': 'kube-dns' }, annotations: { [MIRROR_POD_ANNOTATION]: 'x' } },
      spec: { ...rootPod.spec, nodeName: FAKE_NODE },
    };
    expect(admit(policy, binding, create(people.kubelet, thiefs))).toEqual(denied(/may create only the mirror pod of one of our static pods \(kube-apiserver, kube-controller-manager, kube-scheduler\): named <static pod>-<spec\.nodeName>, with exactly that static pod's labels/));
  });

  test.each([
    ['a Service\'s selector instead of ours', { 'k8s-app': 'kube-dns' }],
    ['ours plus one more', { component: 'kube-scheduler', tier: 'control-plane', app: 'web' }],
    ['ours with a changed value', { component: 'kube-scheduler', tier: 'node' }],
    ['another static pod\'s', { component: 'kube-apiserver', tier: 'control-plane' }],
    ['none', undefined],
  ])('a mirror pod named like kube-scheduler on its node with labels %s: denied', (_, labels) => {
    expect(admit(policy, binding, create(people.kubelet, relabelled(labels)))).toEqual(denied(/mirror pod of one of our static pods/));
  });

  test.each([
    ['another node\'s suffix', `kube-scheduler-${NODE}`],
    ['a fake node\'s suffix', `kube-scheduler-${FAKE_NODE}`],
    ['no suffix', 'kube-scheduler'],
    ['something between name and node', `kube-scheduler-x-${MASTER_NODE}`],
    ['no static pod\'s name', `kube-dns-${MASTER_NODE}`],
  ])('a mirror pod with kube-scheduler\'s labels bound to its node, named with %s: denied', (_, name) => {
    expect(admit(policy, binding, create(people.kubelet, renamed(name)))).toEqual(denied(/mirror pod of one of our static pods/));
  });

  test('the annotation key is the upstream constant (kubernetes/api v0.35.1 core/v1 MirrorPodAnnotationKey)', () => {
    expect(MIRROR_POD_ANNOTATION).toBe('kubernetes.io/config.mirror');
  });

  test('every static pod of masters and workers is in the namespace where mirror pods are allowed', () => {
    expect(renderedStaticPods.length).toBe(STATIC_PODS.length);
    for (const { pod } of renderedStaticPods) expect(`${pod.metadata.name} in ${pod.metadata.namespace}`).toBe(`${pod.metadata.name} in ${MIRROR_POD_NAMESPACE}`);
  });

  test.each([
    ['a PowerUser', people.powerUser, inNamespace(rootPod, 'team-a')],
    ['an Administrator', people.administrator, rootPod],
    ['a per-node kubelet identity', people.nodeIdentity, mirrorPod],
  ])('%s creating a pod is not this policy\'s business', (_, who, pod) => {
    expect(admit(policy, binding, create(who, pod))).toEqual(notMatched);
  });
});

describe('pod deletion by the shared worker token: mirror pods and pods already being deleted', () => {
  test('a kubelet deletes a mirror pod whose static pod is gone: allowed', () => {
    expect(admit(policy, binding, remove(people.kubelet, mirrorPod))).toEqual(allowed);
  });

  test('a kubelet removes a pod it finished stopping after a drain or kubectl delete: allowed', () => {
    expect(admit(policy, binding, remove(people.kubelet, terminatingPod))).toEqual(allowed);
  });

  test('deleting a running ordinary pod: denied', () => {
    expect(admit(policy, binding, remove(people.kubelet, runningPod))).toEqual(denied(/may delete only mirror pods and pods already being deleted/));
  });

  test('deleting a running kube-system pod without annotations: denied', () => {
    expect(admit(policy, binding, remove(people.kubelet, rootPod))).toEqual(denied(/may delete only mirror pods/));
  });

  test('the pod garbage collector deleting a running pod is not this policy\'s business', () => {
    expect(admit(policy, binding, remove(people.podGarbageCollector, runningPod))).toEqual(notMatched);
  });
});

describe('pod status by the shared worker token: no label changes', () => {
  const ready = { ...runningPod, status: { ...runningPod.status, conditions: [{ type: 'Ready', status: 'False' }] } };

  test('a kubelet patches phase and conditions, labels as they were: allowed', () => {
    expect(admit(policy, binding, statusUpdate(people.kubelet, ready, runningPod))).toEqual(allowed);
  });

  test('a kubelet updates the status of a pod without labels: allowed', () => {
    expect(admit(policy, binding, statusUpdate(people.kubelet, withLabels(undefined), withLabels(undefined)))).toEqual(allowed);
  });

  test.each([
    ['adding a label (drawing a Service\'s traffic)', { app: 'web', role: 'payments' }, { app: 'web' }],
    ['changing a label', { app: 'payments' }, { app: 'web' }],
    ['removing a label', { app: 'web' }, { app: 'web', tier: 'front' }],
    ['removing every label', undefined, { app: 'web' }],
    ['labelling an unlabelled pod', { app: 'web' }, undefined],
  ])('%s through pods/status: denied', (_, labels, oldLabels) => {
    expect(admit(policy, binding, statusUpdate(people.kubelet, withLabels(labels), withLabels(oldLabels)))).toEqual(denied(/may not change a pod's labels through pods\/status/));
  });

  test('an Administrator changing labels through pods/status is not this policy\'s business', () => {
    expect(admit(policy, binding, statusUpdate(people.administrator, withLabels({ app: 'x' }), withLabels({ app: 'web' })))).toEqual(notMatched);
  });
});

describe('service-account tokens by the shared worker token: bound to a pod only', () => {
  test('a kubelet requests a projected token bound to the pod that mounts it: allowed', () => {
    expect(admit(policy, binding, tokenRequest(people.kubelet, podBinding))).toEqual(allowed);
  });

  test.each([
    // e.g. kube-system's clusterrole-aggregation-controller, which may escalate ClusterRoles
    ['an unbound token', undefined],
    ['a token bound to a Secret', { apiVersion: 'v1', kind: 'Secret', name: 'anything', uid: 'u' }],
    ['a token bound to a Node (ServiceAccountTokenNodeBinding: any account)', { apiVersion: 'v1', kind: 'Node', name: NODE, uid: 'node-uid' }],
    ['a pod binding without a uid', { apiVersion: 'v1', kind: 'Pod', name: podBinding.name }],
    ['a pod binding with an empty uid', { ...podBinding, uid: '' }],
    ['a pod binding without a name', { apiVersion: 'v1', kind: 'Pod', uid: podBinding.uid }],
    ['a pod binding without an apiVersion', { kind: 'Pod', name: podBinding.name, uid: podBinding.uid }],
    ['a "Pod" of another group', { ...podBinding, apiVersion: 'example.com/v1' }],
  ])('%s: denied', (_, ref) => {
    expect(admit(policy, binding, tokenRequest(people.kubelet, ref, 'kube-system'))).toEqual(denied(/may request only tokens bound to a pod/));
  });

  test('an unbound token requested by anyone else (kube-controller-manager, a PowerUser) is not this policy\'s business', () => {
    expect(admit(policy, binding, tokenRequest(people.powerUser, undefined))).toEqual(notMatched);
    expect(admit(policy, binding, tokenRequest({ username: 'system:kube-controller-manager', groups: ['system:authenticated'] }, undefined, 'kube-system'))).toEqual(notMatched);
  });
});

describe('the policy as applied', () => {
  test('is a valid admissionregistration.k8s.io/v1 object, bound with Deny, failing closed', () => {
    expect(() => new ValidatingAdmissionPolicy(policy as never).validate()).not.toThrow();
    expect(() => new ValidatingAdmissionPolicyBinding(binding as never).validate()).not.toThrow();
    expect(binding.spec).toEqual({ policyName: NODE_AGENT_ADMISSION_POLICY, validationActions: ['Deny'] });
    expect(policy.spec?.failurePolicy).toBe('Fail');
    expect(NODE_AGENT_ADMISSION_POLICY).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);
  });

  test('a kubelet request it cannot evaluate is denied (failurePolicy Fail)', () => {
    expect(admit(policy, binding, podRequest(people.kubelet, 'CREATE', { kind: 'Pod' }, null, MIRROR_POD_NAMESPACE))).toMatchObject({ matched: true, allowed: false });
    expect(admit(policy, binding, { ...remove(people.kubelet, runningPod), oldObject: { kind: 'Pod' } })).toMatchObject({ matched: true, allowed: false });
  });

  test('tests request.subResource with has(): the API server leaves it out when empty, and reading it then would deny every kubelet pod create', () => {
    // GIVEN the same policy reading request.subResource without has()
    const carelessly = (expression: string) => expression.replace(/has\(request\.subResource\) && /g, '').replace(/has\(request\.subResource\) \|\| /g, 'request.subResource != "" || ');
    const careless = { ...policy, spec: { ...policy.spec, validations: policy.spec!.validations!.map((v) => ({ ...v, expression: carelessly(v.expression) })) } };
    expect(JSON.stringify(careless)).not.toContain('has(request.subResource)');
    // THEN a kubelet's own mirror pod is refused by the error (failurePolicy Fail), and by this policy it is not
    expect(admit(careless, binding, create(people.kubelet, mirrorPod))).toEqual(denied(/no such key|subResource/));
    expect(admit(policy, binding, create(people.kubelet, mirrorPod))).toEqual(allowed);
  });

  test('matches the shared worker token by its username, and a request without a username not at all', () => {
    expect(policy.spec?.matchConditions).toHaveLength(1);
    // Same user, other groups: still the token's user name, still restricted.
    expect(admit(policy, binding, create({ username: KUBELET_IDENTITY.username }, rootPod))).toMatchObject({ matched: true, allowed: false });
    expect(admit(policy, binding, create({ username: '' }, rootPod))).toEqual(notMatched);
  });

  // RBAC grants the shared identity these writes on pods and service accounts; a
  // subresource the policy did not see would be a way around it.
  const VERB_OPERATION: Record<string, Operation> = { create: 'CREATE', update: 'UPDATE', patch: 'UPDATE', delete: 'DELETE', deletecollection: 'DELETE' };
  const writes = NODE_AGENT_CLUSTER_RULES.flatMap((rule) => (rule.resources ?? [])
    .filter((resource) => /^(pods|serviceaccounts)(\/|$)/.test(resource))
    .flatMap((resource) => rule.verbs.filter((verb) => verb in VERB_OPERATION).map((verb) => [`${verb} ${resource}`, resource, VERB_OPERATION[verb]] as const)));

  test('sees every write the node-agent role grants on pods and service accounts, and those are these four', () => {
    expect(writes.map(([what]) => what).sort()).toEqual(['create pods', 'create serviceaccounts/token', 'delete pods', 'patch pods/status', 'update pods/status']);
  });

  test.each(writes)('%s is matched for the shared worker token', (_, resourcePath, operation) => {
    const [resource, subResource] = resourcePath.split('/');
    const sample: AdmissionSample = {
      operation,
      resource: { group: '', version: 'v1', resource },
      subResource,
      namespace: 'team-a',
      userInfo: people.kubelet,
      object: operation === 'DELETE' ? null : runningPod,
      oldObject: operation === 'CREATE' ? null : runningPod,
    };
    expect(admit(policy, binding, sample).matched).toBe(true);
  });
});
