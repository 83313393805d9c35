/**
 * kube-state-metrics: read-only (list/watch) over exactly the collectors it runs, never
 * Secrets; a headless Service on 8080 (metrics) and 8081 (telemetry); a restricted pod.
 */
import { COLLECTED_RESOURCES, KUBE_STATE_METRICS_NAME, kubeStateMetrics, METRICS_PORT, TELEMETRY_PORT } from '../../../manifests/addons/kube-state-metrics';
import { CONTEXT, only, onlyPodTemplate, rendered, restrictedViolations } from './addon-fixtures';

describe('kube-state-metrics: its contract', () => {
  test('optional, and it calls no AWS API', () => {
    expect(kubeStateMetrics.optional).toBe(true);
    expect(kubeStateMetrics.permissions(CONTEXT)).toEqual([]);
  });
});

const objects = rendered(kubeStateMetrics);
const pod = onlyPodTemplate(objects);
const container = pod.spec.containers[0];

interface Rule { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[]; nonResourceURLs?: string[] }
const role = only<{ rules: Rule[] }>(objects, 'ClusterRole', KUBE_STATE_METRICS_NAME);
/** "verb group/resource" for every grant of the ClusterRole. */
const grants = role.rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${v} ${g ? `${g}/` : ''}${res}`))));

describe('kube-state-metrics reads, and only what it collects', () => {
  const collectors = container.args!.find((a) => a.startsWith('--resources='))!.slice('--resources='.length).split(',');

  test('the ClusterRole only lists and watches: no get, no write, no subresource, no URL', () => {
    expect(role.rules.every((r) => r.verbs.every((v) => v === 'list' || v === 'watch'))).toBe(true);
    expect(role.rules.every((r) => !r.nonResourceURLs && !r.resourceNames)).toBe(true);
    expect(role.rules.every((r) => r.resources.every((resource) => !resource.includes('/')))).toBe(true);
  });

  test('never Secrets: a list of them would return their data', () => {
    expect(collectors).not.toContain('secrets');
    expect(grants.filter((g) => g.endsWith(' secrets'))).toEqual([]);
  });

  test('every collector it runs can list and watch its resource, and the role grants nothing it does not collect', () => {
    const expected = collectors.flatMap((resource) => {
      const group = COLLECTED_RESOURCES[resource];
      expect(group).toBeDefined();
      return ['list', 'watch'].map((v) => `${v} ${group ? `${group}/` : ''}${resource}`);
    });
    expect([...grants].sort()).toEqual(expected.sort());
  });

  test('the binding gives that role to its ServiceAccount only', () => {
    const binding = only<{ roleRef: { kind: string; name: string }; subjects: { kind: string; name: string; namespace: string }[] }>(objects, 'ClusterRoleBinding');
    expect(binding.roleRef).toMatchObject({ kind: 'ClusterRole', name: KUBE_STATE_METRICS_NAME });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: pod.spec.serviceAccountName, namespace: 'kube-system' }]);
  });
});

describe('kube-state-metrics serves metrics in the cluster only', () => {
  interface ServiceJson { spec: { type?: string; clusterIP?: string; selector: Record<string, string>; ports: { name: string; port: number; targetPort: string }[] } }
  const service = only<ServiceJson>(objects, 'Service');

  test('a Service on 8080 (metrics) and 8081 (telemetry), each to the container port of that name', () => {
    expect(METRICS_PORT).toBe(8080);
    expect(TELEMETRY_PORT).toBe(8081);
    const containerPorts = Object.fromEntries(container.ports!.map((p) => [p.name, p.containerPort]));
    const served = Object.fromEntries(service.spec.ports.map((p) => [p.port, containerPorts[p.targetPort]]));
    expect(served).toEqual({ 8080: 8080, 8081: 8081 });
    expect(service.spec.ports.find((p) => p.port === 8080)!.name).toBe('http-metrics');
    expect(service.spec.ports.find((p) => p.port === 8081)!.name).toBe('telemetry');
  });

  test('headless, never a LoadBalancer or NodePort (the 2016 internal load balancer is gone)', () => {
    expect(service.spec.type ?? 'ClusterIP').toBe('ClusterIP');
    expect(service.spec.clusterIP).toBe('None');
  });

  test("the Service's selector matches the pod", () => {
    for (const [key, value] of Object.entries(service.spec.selector)) expect(pod.metadata.labels?.[key]).toBe(value);
  });

  test('probes as upstream: liveness on the metrics port, readiness on telemetry', () => {
    expect(container.livenessProbe?.httpGet).toMatchObject({ path: '/livez', port: 'http-metrics' });
    expect(container.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 'telemetry' });
  });
});

describe('kube-state-metrics runs as an ordinary workload', () => {
  test('its pod would pass Pod Security restricted', () => {
    expect(restrictedViolations(pod.spec)).toEqual([]);
  });

  test('on workers, tolerating nothing', () => {
    expect(kubeStateMetrics.placement).toBe('workers');
    expect(pod.spec.tolerations ?? []).toEqual([]);
  });
});
