/**
 * Headlamp: its own namespace enforcing Pod Security restricted, a pod that passes it, a
 * ServiceAccount that may only view, and a Service reachable from inside the cluster only.
 */
import { HEADLAMP_NAMESPACE, headlamp } from '../../../manifests/addons/headlamp';
import { CONTEXT, only, onlyPodTemplate, rendered } from './addon-fixtures';

describe('Headlamp: its contract', () => {
  test('optional, and it calls no AWS API', () => {
    expect(headlamp.optional).toBe(true);
    expect(headlamp.permissions(CONTEXT)).toEqual([]);
  });
});

const objects = rendered(headlamp);
const pod = onlyPodTemplate(objects);
const container = pod.spec.containers[0];

describe('Headlamp lives in its own namespace, which enforces restricted', () => {
  test('the namespace enforces Pod Security restricted, and audits and warns at it', () => {
    const namespace = only(objects, 'Namespace', HEADLAMP_NAMESPACE);
    expect(namespace.metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
    });
  });

});

describe('Headlamp may only view; users act with their own token', () => {
  test('the one binding gives the built-in view ClusterRole to its ServiceAccount, nothing else', () => {
    const bindings = objects.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding') as unknown as {
      roleRef: { apiGroup: string; kind: string; name: string };
      subjects: { kind: string; name: string; namespace: string }[];
    }[];
    expect(bindings).toHaveLength(1);
    expect(bindings[0].roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' });
    expect(bindings[0].subjects).toEqual([{ kind: 'ServiceAccount', name: pod.spec.serviceAccountName, namespace: HEADLAMP_NAMESPACE }]);
  });

  test('it defines no role of its own (view is built in and read-only)', () => {
    expect(objects.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole')).toEqual([]);
  });

  test("it never acts for users with its own token (no -unsafe-use-service-account-token)", () => {
    expect(container.args).toContain('-in-cluster');
    expect(container.args!.some((a) => a.includes('unsafe'))).toBe(false);
  });
});

describe('Headlamp is reached through the API only', () => {
  const services = objects.filter((o) => o.kind === 'Service') as unknown as { spec: { type?: string; selector: Record<string, string>; ports: { port: number; targetPort: string; nodePort?: number }[]; externalIPs?: string[] } }[];

  test('no Service of type LoadBalancer or NodePort, no node port, no external IP', () => {
    expect(services).toHaveLength(1);
    for (const service of services) {
      expect(service.spec.type ?? 'ClusterIP').toBe('ClusterIP');
      expect(service.spec.ports.every((p) => p.nodePort === undefined)).toBe(true);
      expect(service.spec.externalIPs).toBeUndefined();
    }
    expect(objects.some((o) => o.kind === 'Ingress')).toBe(false);
  });

  test("the Service reaches the pod's http port", () => {
    const [service] = services;
    for (const [key, value] of Object.entries(service.spec.selector)) expect(pod.metadata.labels?.[key]).toBe(value);
    expect(container.ports!.map((p) => p.name)).toContain(service.spec.ports[0].targetPort);
  });

  test('its description tells how to reach it: kubectl port-forward or kubectl proxy', () => {
    expect(headlamp.description).toContain('kubectl port-forward');
    expect(headlamp.description).toContain('kubectl proxy');
  });

  test('on workers, tolerating nothing', () => {
    expect(headlamp.placement).toBe('workers');
    expect(pod.spec.tolerations ?? []).toEqual([]);
  });
});
