/**
 * The checks every add-on of the registry shares, run over ADDONS: a new add-on gets them by
 * being listed. Each add-on's own test keeps only what is specific to it. Below, the
 * placement constants against the rendered node configs, and the shared checkers shown to fail.
 */
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { IamStatement } from '../../../manifests/addons/addon';
import { ADDONS } from '../../../manifests/addons/registry';
import { MANAGED_BY_LABELS } from '../../../manifests/managed-by';
import { EVERY_TAINT, MASTER_NODE_SELECTOR, NODE_TAINTS, onMasters, tolerationsFor } from '../../../manifests/addons/placement';
import { CONTEXT, containersOf, containersWithoutRequests, imageTag, Json, MASTER_NODE, PINNED_IMAGE, podTemplates, rendered, restrictedViolations, schedulableOn, toleratedKeys, unscopedWrites, WORKER_NODE } from './addon-fixtures';

/** Kinds without a namespace among the add-ons' objects; any other kind must name one. */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CSIDriver', 'StorageClass', 'APIService', 'CustomResourceDefinition', 'PriorityClass', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'MutatingWebhookConfiguration']);
/** The priority classes the API server creates (no add-on creates its own); any other name is refused at admission. */
const BUILT_IN_PRIORITY_CLASSES = ['system-cluster-critical', 'system-node-critical'];
/** RFC 1123 label: the add-on's name is also its delivery's (a custom resource) name. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

describe.each(ADDONS.map((addon) => [addon.name, addon] as const))('add-on %s', (_name, addon) => {
  const objects = rendered(addon);
  const templates = podTemplates(objects);
  const ownNamespace = objects.find((o) => o.kind === 'Namespace');

  test('every object is valid against its Kubernetes schema', () => {
    const models = addon.objects(CONTEXT);
    expect(models.length).toBeGreaterThan(0);
    for (const model of models) expect(() => model.validate()).not.toThrow();
  });

  test('every object carries our managed-by label (how the applier finds, and prunes, what is ours)', () => {
    for (const object of objects) expect([`${object.kind}/${object.metadata.name}`, object.metadata.labels]).toEqual([`${object.kind}/${object.metadata.name}`, expect.objectContaining(MANAGED_BY_LABELS)]);
  });

  test('no two objects share a kind, namespace and name', () => {
    const ids = objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  test('every image is pinned to a release (never latest), and its own image to the add-on version', () => {
    expect(addon.version).toMatch(/^v\d+\.\d+\.\d+$/);
    const images = templates.flatMap((t) => containersOf(t.spec).map((c) => c.image as string));
    // Only an add-on of API objects alone runs no image.
    if (addon.placement === 'api') return expect(images).toEqual([]);
    expect(images.length).toBeGreaterThan(0);
    expect(images.filter((image) => !PINNED_IMAGE.test(image))).toEqual([]);
    expect(images.map(imageTag)).toContain(addon.version);
  });

  test('every container requests CPU and memory', () => {
    for (const { owner, spec } of templates) expect([owner, containersWithoutRequests(spec)]).toEqual([owner, []]);
  });

  test('its pods tolerate exactly the taints it declares (the README table reads toleratedTaints), each with why', () => {
    for (const { owner, spec } of templates) expect([owner, toleratedKeys(spec.tolerations)]).toEqual([owner, Object.keys(addon.toleratedTaints).sort()]);
    for (const reason of Object.values(addon.toleratedTaints)) expect(reason.length).toBeGreaterThan(20);
  });

  test("its pods can land where its placement says, on the nodes as they register", () => {
    const on = (node: typeof MASTER_NODE) => templates.filter((t) => schedulableOn(t.spec, node)).map((t) => t.owner);
    if (addon.placement === 'masters') expect(on(MASTER_NODE).length).toBeGreaterThan(0);
    if (addon.placement === 'every-node') {
      const daemonSets = templates.filter((t) => t.owner.startsWith('DaemonSet/')).map((t) => t.owner);
      expect(daemonSets.filter((owner) => on(MASTER_NODE).includes(owner) && on(WORKER_NODE).includes(owner))).not.toEqual([]);
    }
    if (addon.placement === 'workers') expect(on(WORKER_NODE)).toEqual(templates.map((t) => t.owner));
  });

  test(ownNamespace
    ? 'every namespaced object is in its own namespace, which enforces a Pod Security level its pods pass'
    : 'every namespaced object is in kube-system (the one namespace Pod Security exempts)', () => {
    const namespace = ownNamespace?.metadata.name ?? 'kube-system';
    // The kubelets' heartbeat leases live in kube-node-lease; the one Role there grants only them.
    const nodeLeaseRole = (o: Json) => addon.name === 'cluster-bootstrap' && ['Role', 'RoleBinding'].includes(o.kind) && o.metadata.namespace === 'kube-node-lease';
    for (const object of objects.filter((o) => !nodeLeaseRole(o))) {
      const where = `${object.kind}/${object.metadata.name}`;
      expect([where, object.metadata.namespace]).toEqual([where, CLUSTER_SCOPED.has(object.kind) ? undefined : namespace]);
    }
    if (!ownNamespace) return;
    const level = ownNamespace.metadata.labels?.['pod-security.kubernetes.io/enforce'];
    // Only `restricted` is modelled here; another level needs its checker first.
    expect(level).toBe('restricted');
    for (const { owner, spec } of templates) expect([owner, restrictedViolations(spec)]).toEqual([owner, []]);
  });

  test('priority classes: a built-in one on every workload of an add-on on the masters or on every node', () => {
    for (const { owner, spec } of templates) {
      if (addon.placement !== 'workers') expect([owner, spec.priorityClassName]).toEqual([owner, expect.any(String)]);
      if (spec.priorityClassName !== undefined) expect(BUILT_IN_PRIORITY_CLASSES).toContain(spec.priorityClassName);
    }
  });

  test('a pod that reaches the API through the internal endpoint\'s name is on the host network (on a master only the node\'s hosts file makes that name its own API server)', () => {
    const internal = `internal.${CONTEXT.clusterName}.${CONTEXT.hostedZoneName}`;
    for (const { owner, spec } of templates) {
      const dialsInternal = containersOf(spec).some((c) => (c.env ?? []).some((e: Json) => e.name === 'KUBERNETES_SERVICE_HOST' && e.value === internal));
      if (dialsInternal) expect([owner, spec.hostNetwork]).toEqual([owner, true]);
    }
  });

  test("IAM: every write is scoped to this cluster (its tags or its hosted zone)", () => {
    expect(unscopedWrites(addon.permissions(CONTEXT), CONTEXT)).toEqual([]);
  });

  test('IAM: permissions name the service account they are for (its own role trusts that account only), and only then', () => {
    const hasPermissions = addon.permissions(CONTEXT).length > 0;
    expect([addon.name, addon.awsServiceAccount !== undefined]).toEqual([addon.name, hasPermissions]);
  });
});

describe('the registry', () => {
  test('add-on names are unique DNS labels', () => {
    const names = ADDONS.map((addon) => addon.name);
    for (const name of names) expect(name).toMatch(DNS_LABEL);
    expect(new Set(names).size).toBe(names.length);
  });

  test('no object belongs to two add-ons (each delivery would prune the other\'s)', () => {
    const ids = ADDONS.flatMap((addon) => rendered(addon).map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`));
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });
});

describe('placement constants match how the nodes register (userdata/master.ts, userdata/worker.ts)', () => {
  test('a master carries the master selector\'s labels (applied at boot by the admin) and registers with the control-plane taint', () => {
    for (const [key, value] of Object.entries(MASTER_NODE_SELECTOR)) expect(MASTER_NODE.labels[key]).toBe(value);
    expect(MASTER_NODE.taints).toEqual([{ key: NODE_TAINTS.controlPlane, effect: 'NoSchedule' }]);
  });

  /**
   * The labels a kubelet may set on its own Node (k8s.io/kubelet v0.35.1 pkg/apis/well_known_labels.go
   * IsKubeletLabel, which the kubelet applies to --node-labels and NodeRestriction to a node's
   * own Node): any key outside the kubernetes.io and k8s.io namespaces, and inside them only the
   * kubelet.kubernetes.io and node.kubernetes.io namespaces and a fixed list of keys.
   */
  const KUBELET_LABELS = ['kubernetes.io/hostname', 'topology.kubernetes.io/zone', 'topology.kubernetes.io/region', 'failure-domain.beta.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/region', 'node.kubernetes.io/instance-type', 'beta.kubernetes.io/instance-type', 'kubernetes.io/os', 'kubernetes.io/arch', 'beta.kubernetes.io/os', 'beta.kubernetes.io/arch'];
  const kubeletMaySet = (key: string) => {
    const namespace = key.includes('/') ? key.split('/')[0] : '';
    const restricted = ['kubernetes.io', 'k8s.io'].some((ns) => namespace === ns || namespace.endsWith(`.${ns}`));
    if (!restricted) return true;
    return KUBELET_LABELS.includes(key) || ['kubelet.kubernetes.io', 'node.kubernetes.io'].some((ns) => namespace === ns || namespace.endsWith(`.${ns}`));
  };

  test('no kubelet can claim to be a master: every label of the master selector is one a kubelet may not set on itself', () => {
    expect(Object.keys(MASTER_NODE_SELECTOR).length).toBeGreaterThan(0);
    for (const key of Object.keys(MASTER_NODE_SELECTOR)) expect([key, kubeletMaySet(key)]).toEqual([key, false]);
    // The model is not a no-op: the labels our kubelets do set are allowed, the master one is not.
    expect(kubeletMaySet('kubernetes-on-aws/role')).toBe(true);
    expect(kubeletMaySet('node.kubernetes.io/pool')).toBe(true);
    expect(kubeletMaySet('node-role.kubernetes.io/worker')).toBe(false);
  });

  test('no pod selects its nodes by a label a kubelet sets on itself (the OS label aside); those that must run on masters select the master selector', () => {
    let onMastersOnly = 0;
    for (const addon of ADDONS) {
      for (const { owner, spec } of podTemplates(rendered(addon))) {
        const claimable = Object.keys(spec.nodeSelector ?? {}).filter((key) => kubeletMaySet(key) && key !== 'kubernetes.io/os');
        expect([owner, claimable]).toEqual([owner, []]);
        if (schedulableOn(spec, WORKER_NODE)) continue;
        onMastersOnly++;
        expect([owner, spec.nodeSelector]).toEqual([owner, expect.objectContaining(MASTER_NODE_SELECTOR)]);
      }
    }
    // The cloud controller, the EBS CSI controller, cluster-autoscaler, external-dns, metrics-server.
    expect(onMastersOnly).toBeGreaterThanOrEqual(5);
  });

  test('a worker carries neither the master label nor any taint', () => {
    for (const [key, value] of Object.entries(MASTER_NODE_SELECTOR)) expect(WORKER_NODE.labels[key]).not.toBe(value);
    expect(WORKER_NODE.taints).toEqual([]);
  });

  test('both run the kubelet with --cloud-provider=external, which adds the uninitialized taint', () => {
    expect(MASTER_NODE.cloudProvider).toBe('external');
    expect(WORKER_NODE.cloudProvider).toBe('external');
  });

  test('onMasters() lands on a master and never on a worker', () => {
    const spec = { containers: [], ...onMasters({ [NODE_TAINTS.controlPlane]: 'why' }) };
    expect(schedulableOn(spec, MASTER_NODE)).toBe(true);
    expect(schedulableOn(spec, WORKER_NODE)).toBe(false);
  });

  test('tolerationsFor(): one NoSchedule toleration per key, and EVERY_TAINT as the key-less one', () => {
    expect(tolerationsFor({ [NODE_TAINTS.notReady]: 'why', [EVERY_TAINT]: 'why' })).toEqual([
      { key: NODE_TAINTS.notReady, operator: 'Exists', effect: 'NoSchedule' },
      { operator: 'Exists' },
    ]);
  });
});

describe('the shared checks can fail', () => {
  const deployment = rendered(ADDONS.find((a) => a.name === 'headlamp')!).find((o) => o.kind === 'Deployment');
  const pod = deployment.spec.template.spec;

  test('schema validation refuses a malformed Deployment', () => {
    expect(() => new Deployment({ ...deployment, spec: { ...deployment.spec, replicas: 'two' } }).validate()).toThrow();
  });

  test('the pinned-image check refuses latest, a bare name and a moving tag', () => {
    for (const image of ['registry.k8s.io/coredns/coredns:latest', 'registry.k8s.io/coredns/coredns', 'quay.io/x/y:v1.2']) expect(image).not.toMatch(PINNED_IMAGE);
  });

  test('the requests check names a container without a memory request', () => {
    expect(containersWithoutRequests({ containers: [{ name: 'c', resources: { requests: { cpu: '1m' } } }] })).toEqual(['c']);
  });

  test('the restricted checker refuses what restricted refuses', () => {
    const [container] = pod.containers;
    const loosened = { ...pod, hostNetwork: true, containers: [{ ...container, securityContext: { ...container.securityContext, allowPrivilegeEscalation: true } }] };
    expect(restrictedViolations(loosened)).toEqual(['hostNetwork', `container ${container.name}: allowPrivilegeEscalation is not false`]);
  });

  describe('the IAM scoping check', () => {
    const bad = (statement: Partial<IamStatement>): IamStatement => ({ Sid: 'Bad', Effect: 'Allow', Action: ['ec2:DeleteVolume'], Resource: ['*'], ...statement });
    const clusterTag = `aws:ResourceTag/kubernetes.io/cluster/${CONTEXT.clusterName}`;

    test('flags a write on * without a condition', () => {
      expect(unscopedWrites([bad({})], CONTEXT)).toEqual(['Bad: ec2:DeleteVolume']);
    });

    test("flags upstream's scoping by a tag any cluster sets, a StringLike wildcard, another cluster's tag and a wrong value", () => {
      const conditions: IamStatement['Condition'][] = [
        { StringLike: { 'ec2:ResourceTag/ebs.csi.aws.com/cluster': 'true' } },
        { StringLike: { [clusterTag]: '*' } },
        { StringEquals: { 'aws:ResourceTag/kubernetes.io/cluster/another-cluster': 'owned' } },
        { StringEquals: { [clusterTag]: 'shared' } },
      ];
      for (const Condition of conditions) expect(unscopedWrites([bad({ Condition })], CONTEXT)).toEqual(['Bad: ec2:DeleteVolume']);
    });

    test('flags a wildcard action even if it looks read-only', () => {
      expect(unscopedWrites([bad({ Action: ['ec2:Describe*', 'ec2:*'] })], CONTEXT)).toEqual(['Bad: ec2:Describe*', 'Bad: ec2:*']);
    });

    test('accepts the same write with the cluster tag, and reads on *', () => {
      expect(unscopedWrites([bad({ Condition: { StringEquals: { [clusterTag]: 'owned' } } }), bad({ Action: ['ec2:DescribeVolumes'] })], CONTEXT)).toEqual([]);
    });
  });
});
