import {
  CLOUD_CONTROLLER_MANAGER_PORT,
  CLOUD_CONTROLLER_MANAGER_VERSION,
  cloudControllerManager,
  CONTROLLER_SERVICE_ACCOUNTS,
} from '../../../manifests/addons/cloud-controller-manager';
import { NODE_TAINTS } from '../../../manifests/addons/placement';
import { API_SERVER_PORT } from '../../../userdata/network';
import { CONTEXT, Json, MASTER_NODE, only, rendered, schedulableOn, WORKER_NODE } from './addon-fixtures';

const objects = rendered(cloudControllerManager);
const daemonSet = only(objects, 'DaemonSet', 'aws-cloud-controller-manager');
const pod = daemonSet.spec.template.spec;
const [container] = pod.containers;
const env = Object.fromEntries(container.env.map((e: Json) => [e.name, e.value]));

describe('AWS cloud controller manager add-on', () => {
  test('its objects: a ServiceAccount, its RBAC and one DaemonSet of one container', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'DaemonSet', 'RoleBinding', 'ServiceAccount']);
    expect(pod.containers).toHaveLength(1);
  });

  test('runs on masters only: it lands on a master as it registers, never on a worker', () => {
    expect(schedulableOn(pod, MASTER_NODE)).toBe(true);
    expect(schedulableOn(pod, WORKER_NODE)).toBe(false);
    expect(pod.affinity).toBeUndefined();
  });

  test('host network (instance metadata answers at hop limit 1 only), the node resolver, and no kube-proxy needed', () => {
    expect(pod.hostNetwork).toBe(true);
    expect(pod.dnsPolicy).toBe('Default');
    // In-cluster config dials the master's own API server, not the `kubernetes` Service address.
    expect(env).toEqual({ KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(API_SERVER_PORT) });
    expect(cloudControllerManager.needs).toEqual(['api-server', 'cluster-bootstrapped']);
  });

  test('flags: the AWS provider, a token per controller, no routes, this cluster, leader election in kube-system, loopback only', () => {
    expect(container.args).toEqual([
      '--v=2',
      '--cloud-provider=aws',
      '--use-service-account-credentials=true',
      '--configure-cloud-routes=false',
      `--cluster-name=${CONTEXT.clusterName}`,
      '--leader-elect=true',
      '--leader-elect-resource-namespace=kube-system',
      '--bind-address=127.0.0.1',
    ]);
    const other = only(rendered(cloudControllerManager, { ...CONTEXT, clusterName: 'other-2' }), 'DaemonSet');
    expect(other.spec.template.spec.containers[0].args).toContain('--cluster-name=other-2');
  });

  test('liveness on its own secure port, on loopback where it listens', () => {
    expect(container.livenessProbe.httpGet).toEqual({ host: '127.0.0.1', path: '/healthz', port: CLOUD_CONTROLLER_MANAGER_PORT, scheme: 'HTTPS' });
  });

  test('tolerates the masters\', uninitialized and not-ready taints', () => {
    expect(Object.keys(cloudControllerManager.toleratedTaints).sort()).toEqual([NODE_TAINTS.controlPlane, NODE_TAINTS.uninitialized, NODE_TAINTS.notReady].sort());
    for (const toleration of pod.tolerations) expect(toleration).toMatchObject({ operator: 'Exists', effect: 'NoSchedule' });
  });

  test('node-critical, non-root, read-only, no capabilities, with resource requests', () => {
    expect(pod.priorityClassName).toBe('system-node-critical');
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(container.resources.requests.cpu).toBe('200m');
    expect(container.resources.requests.memory).toBeDefined();
  });

  test('the image is pinned to the release the add-on declares, by tag and digest', () => {
    expect(container.image).toMatch(new RegExp(`^registry\\.k8s\\.io/provider-aws/cloud-controller-manager:${cloudControllerManager.version}@sha256:`));
    expect(cloudControllerManager.version).toBe(CLOUD_CONTROLLER_MANAGER_VERSION);
  });

  test("RBAC: upstream's role bound to its service account; tokens only for the controllers' own accounts", () => {
    const role = only(objects, 'ClusterRole');
    const binding = only(objects, 'ClusterRoleBinding');
    const reader = only(objects, 'RoleBinding');
    only(objects, 'ServiceAccount', pod.serviceAccountName);
    const subjects = [{ kind: 'ServiceAccount', name: pod.serviceAccountName, namespace: 'kube-system' }];
    expect(binding.roleRef.name).toBe(role.metadata.name);
    expect(binding.subjects).toEqual(subjects);
    expect(reader.subjects).toEqual(subjects);
    expect(reader.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'extension-apiserver-authentication-reader' });
    const tokens = role.rules.filter((r: Json) => r.resources.includes('serviceaccounts/token'));
    expect(tokens).toEqual([{ apiGroups: [''], resources: ['serviceaccounts/token'], resourceNames: [...CONTROLLER_SERVICE_ACCOUNTS], verbs: ['create'] }]);
    // What the node controller needs to initialize a node: update it and its status.
    expect(role.rules).toContainEqual({ apiGroups: [''], resources: ['nodes'], verbs: ['*'] });
    expect(role.rules).toContainEqual({ apiGroups: [''], resources: ['nodes/status'], verbs: ['patch'] });
    expect(role.rules).toContainEqual({ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create', 'get', 'list', 'watch', 'update'] });
    // No secrets: kOps grants list/watch on them, upstream's manifests do not.
    expect(role.rules.some((r: Json) => r.resources.includes('secrets'))).toBe(false);
  });

  test('provides node-initialized; its AWS permissions are the masters\' role (no statements of its own)', () => {
    expect(cloudControllerManager.provides).toEqual(['node-initialized']);
    expect(cloudControllerManager.placement).toBe('masters');
    expect(cloudControllerManager.permissions(CONTEXT)).toEqual([]);
  });
});
