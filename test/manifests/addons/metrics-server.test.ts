/**
 * metrics-server: upstream's components.yaml objects, served through the aggregation layer,
 * on the masters, with the kubelet-TLS choice tied to how the kubelets serve.
 */
import { kubeletConfiguration } from '../../../userdata/kubelet';
import { CLUSTER_DNS_IP, CLUSTER_DOMAIN, POD_CIDR, SERVICE_CIDR } from '../../../userdata/network';
import { NODE_COMPONENTS } from '../../../manifests/addons/addon';
import {
  METRICS_API_SERVICE,
  metricsServer,
  metricsServerArgs,
  KUBELET_SERVING_CA,
} from '../../../manifests/addons/metrics-server';
import { NODE_TAINTS } from '../../../manifests/addons/placement';
import { CONTEXT, MASTER_NODE, only, onlyPodTemplate, rendered, restrictedViolations, schedulableOn, tolerates, WORKER_NODE } from './addon-fixtures';

describe('metrics-server: its contract', () => {
  test('optional, and it calls no AWS API', () => {
    expect(metricsServer.optional).toBe(true);
    expect(metricsServer.permissions(CONTEXT)).toEqual([]);
  });
});

const objects = rendered(metricsServer);
const pod = onlyPodTemplate(objects);
const container = pod.spec.containers[0];

interface ServiceJson { metadata: { name: string; namespace: string }; spec: { selector: Record<string, string>; ports: { port: number; targetPort: string }[]; type?: string } }
interface ApiServiceJson { spec: { service: { name: string; namespace: string; port: number }; group: string; version: string } }

describe('metrics-server is served through the aggregation layer', () => {
  const apiService = only<ApiServiceJson>(objects, 'APIService', METRICS_API_SERVICE);
  const service = only<ServiceJson>(objects, 'Service');

  test('the APIService v1beta1.metrics.k8s.io points at its Service, on the port the Service serves', () => {
    expect(apiService.spec).toMatchObject({ group: 'metrics.k8s.io', version: 'v1beta1' });
    expect(apiService.spec.service).toEqual({ name: service.metadata.name, namespace: service.metadata.namespace, port: 443 });
    expect(service.spec.ports.map((p) => p.port)).toContain(apiService.spec.service.port);
  });

  test("the Service reaches the pod's secure port: its selector matches the pod, its target is a named container port", () => {
    for (const [key, value] of Object.entries(service.spec.selector)) expect(pod.metadata.labels?.[key]).toBe(value);
    const targets = service.spec.ports.map((p) => p.targetPort);
    expect(targets).toEqual(['https']);
    const port = container.ports!.find((p) => p.name === 'https')!;
    expect(metricsServerArgs()).toContain(`--secure-port=${port.containerPort}`);
    expect(service.spec.type ?? 'ClusterIP').toBe('ClusterIP');
  });

  test('it may read the front-proxy CA and delegate authn/authz, and every view/edit/admin user may read metrics', () => {
    const roleBinding = only<{ metadata: { namespace: string }; roleRef: { kind: string; name: string } }>(objects, 'RoleBinding');
    expect(roleBinding.metadata.namespace).toBe('kube-system');
    expect(roleBinding.roleRef).toMatchObject({ kind: 'Role', name: 'extension-apiserver-authentication-reader' });
    const bindings = objects.filter((o) => o.kind === 'ClusterRoleBinding').map((o) => (o as unknown as { roleRef: { name: string } }).roleRef.name);
    expect(bindings.sort()).toEqual(['system:auth-delegator', 'system:metrics-server']);
    const reader = only(objects, 'ClusterRole', 'system:aggregated-metrics-reader');
    expect(reader.metadata.labels).toMatchObject({ 'rbac.authorization.k8s.io/aggregate-to-view': 'true' });
  });

  test('its own ClusterRole reads nodes, pods and the kubelets\' metrics, nothing more', () => {
    const role = only<{ rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] }>(objects, 'ClusterRole', 'system:metrics-server');
    const grants = role.rules.flatMap((r) => r.resources.flatMap((res) => r.verbs.map((v) => `${v} ${res}`))).sort();
    expect(grants).toEqual(['get nodes', 'get nodes/metrics', 'get pods', 'list nodes', 'list pods', 'watch nodes', 'watch pods']);
  });
});

describe('metrics-server scrapes the kubelets as upstream does', () => {
  test("upstream's secure args: private address first, the node's status port, 15 s resolution", () => {
    const args = container.args!;
    expect(args.find((a) => a.startsWith('--kubelet-preferred-address-types='))).toMatch(/^--kubelet-preferred-address-types=InternalIP,/);
    expect(args).toEqual(expect.arrayContaining(['--kubelet-use-node-status-port', '--metric-resolution=15s']));
    expect(args.some((a) => a.startsWith('--deprecated-kubelet-completely-insecure'))).toBe(false);
  });

  test('verifies kubelets against the CA in its service-account volume, which the kubelets\' serving certificates chain to', () => {
    // GIVEN the kubelets' configuration as the nodes render it: serving certificates from CSRs
    const kubelet = kubeletConfiguration({
      network: { podCidr: POD_CIDR, serviceCidr: SERVICE_CIDR, clusterDnsIp: CLUSTER_DNS_IP, clusterDomain: CLUSTER_DOMAIN },
      healthzBindAddress: '127.0.0.1',
      registerWithTaints: [],
      nodeLabels: {},
      after: [],
    });
    expect(kubelet.serverTLSBootstrap).toBe(true);
    // THEN metrics-server checks them, never skips the check (the two flags are exclusive:
    // cmd/metrics-server/app/options/kubelet_client.go, Validate)
    expect(container.args).toContain(`--kubelet-certificate-authority=${KUBELET_SERVING_CA}`);
    expect(container.args).not.toContain('--kubelet-insecure-tls');
    // with the CA file the service-account volume carries (automounted, not turned off)
    expect(pod.spec.automountServiceAccountToken).not.toBe(false);
  });
});

describe('metrics-server runs on the masters, critical and unprivileged', () => {
  test('on the masters only: their label selected, their taint tolerated, nothing else', () => {
    expect(metricsServer.placement).toBe('masters');
    expect(schedulableOn(pod.spec, MASTER_NODE)).toBe(true);
    expect(schedulableOn(pod.spec, WORKER_NODE)).toBe(false);
    expect(tolerates(pod.spec.tolerations, { key: NODE_TAINTS.uninitialized, value: 'true', effect: 'NoSchedule' })).toBe(false);
  });

  test('it needs the pod network (the API server calls its pod IP), kube-proxy and initialized nodes', () => {
    expect(metricsServer.needs).toEqual(expect.arrayContaining([NODE_COMPONENTS.podNetwork, NODE_COMPONENTS.kubeProxy, NODE_COMPONENTS.nodeInitialized]));
  });

  test('priority class system-cluster-critical', () => {
    expect(pod.spec.priorityClassName).toBe('system-cluster-critical');
  });

  test('its pod would pass Pod Security restricted', () => {
    expect(restrictedViolations(pod.spec)).toEqual([]);
  });
});
