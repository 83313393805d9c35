/**
 * kube-proxy: a DaemonSet on every node with its own ServiceAccount bound to
 * system:node-proxier, reaching the API through the internal endpoint's name (not the Service
 * address it programs), with no node credential in the pod, and its metrics and health servers
 * where the nodes' health check reads them.
 */
import { load } from 'js-yaml';
import { NODE_COMPONENTS } from '../../../manifests/addons/addon';
import { KUBE_PROXY_CONFIG_FILE, kubeProxy } from '../../../manifests/addons/kube-proxy';
import { EVERY_TAINT } from '../../../manifests/addons/placement';
import { MANAGED_BY_LABELS } from '../../../manifests/managed-by';
import { KUBE_PROXY_DAEMONSET, KUBE_PROXY_HEALTHZ_ADDRESS, KUBE_PROXY_METRICS_ADDRESS } from '../../../userdata/kube-proxy';
import { KUBERNETES_VERSION } from '../../../userdata/versions';
import {
  CONTEXT, containersOf, containersWithoutRequests, imageTag, Json, NODES_IN_EVERY_STATE, only, onlyPodTemplate, PINNED_IMAGE,
  rendered, schedulableOn,
} from './addon-fixtures';

const objects = rendered(kubeProxy);
const pod = onlyPodTemplate(objects);
const [container] = pod.spec.containers;
const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e]));
const configMap = only(objects, 'ConfigMap', 'kube-proxy');
const config = load(configMap.data['config.conf']) as Json;
const hostPaths = (pod.spec.volumes ?? []).filter((v) => v.hostPath).map((v) => v.hostPath!.path);

describe('kube-proxy: its contract', () => {
  test('required, on every node, never calls AWS', () => {
    expect(kubeProxy.optional).toBe(false);
    expect(kubeProxy.placement).toBe('every-node');
    expect(kubeProxy.permissions(CONTEXT)).toEqual([]);
  });

  test('needs the API and registered nodes; its name is the kube-proxy capability, so it provides nothing else', () => {
    expect(kubeProxy.needs).toEqual([NODE_COMPONENTS.apiServer, 'cluster-bootstrapped']);
    expect(kubeProxy.name).toBe(NODE_COMPONENTS.kubeProxy);
    expect(kubeProxy.provides).toEqual([]);
  });

  test('the DaemonSet is where the nodes\' health check looks for it', () => {
    expect(pod.owner).toBe(`DaemonSet/${KUBE_PROXY_DAEMONSET}`);
    expect(only(objects, 'DaemonSet').metadata.namespace).toBe('kube-system');
  });
});

describe('kube-proxy reaches the API through the internal endpoint, with its own service account', () => {
  const internal = `internal.${CONTEXT.clusterName}.${CONTEXT.hostedZoneName}`;

  test('in-cluster config pointed at internal.<cluster>.<zone>:443', () => {
    expect(env.KUBERNETES_SERVICE_HOST).toEqual({ name: 'KUBERNETES_SERVICE_HOST', value: internal });
    expect(env.KUBERNETES_SERVICE_PORT).toEqual({ name: 'KUBERNETES_SERVICE_PORT', value: '443' });
  });

  test('the name follows the cluster and zone it is rendered for', () => {
    const other = rendered(kubeProxy, { ...CONTEXT, clusterName: 'other-1', hostedZoneName: 'example.org' });
    const otherEnv = onlyPodTemplate(other).spec.containers[0].env ?? [];
    expect(otherEnv).toContainEqual({ name: 'KUBERNETES_SERVICE_HOST', value: 'internal.other-1.example.org' });
  });

  test('no kubeconfig and no --master: kube-proxy falls back to in-cluster config', () => {
    expect(config.clientConnection).toEqual({ kubeconfig: '' });
    const flags = [...(container.command ?? []), ...(container.args ?? [])];
    expect(flags.filter((f) => /^--(kubeconfig|master)\b/.test(f))).toEqual([]);
  });

  test('never the Service address it programs itself', () => {
    expect(JSON.stringify(objects)).not.toContain('10.3.0.1');
  });

  test('its own ServiceAccount, token mounted', () => {
    expect(pod.spec.serviceAccountName).toBe('kube-proxy');
    expect(pod.spec.automountServiceAccountToken).not.toBe(false);
    expect(only(objects, 'ServiceAccount', 'kube-proxy').metadata.namespace).toBe('kube-system');
  });
});

describe('no node credential in the pod', () => {
  test('host paths: /lib/modules and the xtables lock only', () => {
    expect(hostPaths.sort()).toEqual(['/lib/modules', '/run/xtables.lock']);
  });

  test('nothing of /etc/kubernetes, the kubelet\'s state, or any token or PKI path', () => {
    for (const path of hostPaths) expect(path).not.toMatch(/^\/etc\/kubernetes|^\/var\/lib\/kubelet|pki|token|\.kubeconfig/);
  });

  test('no Secret volume either', () => {
    expect((pod.spec.volumes ?? []).filter((v) => v.secret)).toEqual([]);
  });
});

describe('kube-proxy\'s RBAC: the built-in node-proxier role, nothing more', () => {
  test('one ClusterRoleBinding of its ServiceAccount to system:node-proxier', () => {
    const binding = only(objects, 'ClusterRoleBinding');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node-proxier' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'kube-proxy', namespace: 'kube-system' }]);
  });

  test('no role of its own, no other binding', () => {
    expect(objects.filter((o) => /Role/.test(o.kind)).map((o) => o.kind)).toEqual(['ClusterRoleBinding']);
  });
});

describe('kube-proxy runs on every node', () => {
  test.each(NODES_IN_EVERY_STATE)('schedulable on %s', (_name, node) => {
    expect(schedulableOn(pod.spec, node)).toBe(true);
  });

  test('declared as every taint, node-critical, host network, one node at a time', () => {
    expect(Object.keys(kubeProxy.toleratedTaints)).toEqual([EVERY_TAINT]);
    expect(pod.spec.priorityClassName).toBe('system-node-critical');
    expect(pod.spec.hostNetwork).toBe(true);
    expect(only(objects, 'DaemonSet').spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } });
  });
});

describe('kube-proxy\'s configuration', () => {
  test('metrics and health on exactly the loopback addresses the nodes\' health check reads', () => {
    expect(config.metricsBindAddress).toBe(KUBE_PROXY_METRICS_ADDRESS);
    expect(config.healthzBindAddress).toBe(KUBE_PROXY_HEALTHZ_ADDRESS);
    expect([config.metricsBindAddress, config.healthzBindAddress]).toEqual(['127.0.0.1:10249', '127.0.0.1:10256']);
  });

  test('iptables mode; the pod network is the cluster CIDR', () => {
    expect(config).toMatchObject({ apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', mode: 'iptables', clusterCIDR: '10.2.0.0/16' });
  });

  test('--config names the file the ConfigMap is mounted as', () => {
    expect(container.command).toContain(`--config=${KUBE_PROXY_CONFIG_FILE}`);
    const volume = (pod.spec.volumes ?? []).find((v) => v.configMap?.name === configMap.metadata.name)!;
    const mount = container.volumeMounts!.find((m) => m.name === volume.name)!;
    const [key] = Object.keys(configMap.data);
    expect(`${mount.mountPath}/${key}`).toBe(KUBE_PROXY_CONFIG_FILE);
  });

  test('the node name is the kubelet\'s (spec.nodeName)', () => {
    expect(container.command).toContain('--hostname-override=$(NODE_NAME)');
    expect(env.NODE_NAME.valueFrom).toEqual({ fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } });
  });

  test('privileged, /lib/modules read-only, the xtables lock created if missing', () => {
    expect(container.securityContext?.privileged).toBe(true);
    const byName = Object.fromEntries((pod.spec.volumes ?? []).map((v) => [v.name, v]));
    const mountOf = (path: string) => container.volumeMounts!.find((m) => byName[m.name].hostPath?.path === path)!;
    expect(mountOf('/lib/modules')).toMatchObject({ mountPath: '/lib/modules', readOnly: true });
    expect(mountOf('/run/xtables.lock').mountPath).toBe('/run/xtables.lock');
    expect(byName[mountOf('/run/xtables.lock').name].hostPath?.type).toBe('FileOrCreate');
  });
});

describe('kube-proxy passes the registry\'s generic checks', () => {
  test('schema-valid objects, each labelled as ours', () => {
    for (const model of kubeProxy.objects(CONTEXT)) expect(() => model.validate()).not.toThrow();
    for (const object of objects) expect(object.metadata.labels).toEqual(expect.objectContaining(MANAGED_BY_LABELS));
  });

  test('the kube-proxy image of the cluster\'s Kubernetes release, pinned', () => {
    expect(kubeProxy.version).toBe(KUBERNETES_VERSION);
    expect(container.image).toBe(`registry.k8s.io/kube-proxy:${KUBERNETES_VERSION}`);
    expect(container.image).toMatch(PINNED_IMAGE);
    expect(imageTag(container.image!)).toBe(kubeProxy.version);
    expect(onlyPodTemplate(rendered(kubeProxy, { ...CONTEXT, kubernetesVersion: 'v1.35.9' })).spec.containers[0].image).toBe('registry.k8s.io/kube-proxy:v1.35.9');
  });

  test('CPU and memory requested', () => {
    expect(containersOf(pod.spec).length).toBe(1);
    expect(containersWithoutRequests(pod.spec)).toEqual([]);
  });
});
