/**
 * flannel: a DaemonSet on every node, ready or not, with its own ServiceAccount and upstream's
 * RBAC, reaching the API through the internal endpoint's name, putting its CNI plugin and
 * config where the node's runtime reads them, and its lease where the nodes' health check
 * reads it; no node credential in the pod.
 */
import { NODE_COMPONENTS } from '../../../manifests/addons/addon';
import { flannel, FLANNEL_VERSION } from '../../../manifests/addons/flannel';
import { EVERY_TAINT } from '../../../manifests/addons/placement';
import { MANAGED_BY_LABELS } from '../../../manifests/managed-by';
import { FLANNEL_DAEMONSET, FLANNEL_SUBNET_FILE } from '../../../userdata/flannel';
import { IMAGES } from '../../../userdata/versions';
import {
  CONTEXT, containersOf, containersWithoutRequests, imageTag, Json, NODES_IN_EVERY_STATE, only, onlyPodTemplate, PINNED_IMAGE,
  rendered, schedulableOn,
} from './addon-fixtures';

/**
 * The ClusterRole of flannel-io/flannel v0.27.3 Documentation/kube-flannel.yml (tag commit
 * b243632fbf70280bc46b949d9ea5ace5d91ef105), written out here because the upstream mirror is
 * not there in CI.
 */
const UPSTREAM_FLANNEL_RULES = [
  { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
  { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['nodes/status'], verbs: ['patch'] },
];

const objects = rendered(flannel);
const pod = onlyPodTemplate(objects);
const flanneld = pod.spec.containers.find((c) => c.name === 'kube-flannel')!;
const init = Object.fromEntries((pod.spec.initContainers ?? []).map((c) => [c.name, c]));
const env = Object.fromEntries((flanneld.env ?? []).map((e) => [e.name, e]));
const volumes = Object.fromEntries((pod.spec.volumes ?? []).map((v) => [v.name, v]));
const hostPaths = (pod.spec.volumes ?? []).filter((v) => v.hostPath).map((v) => v.hostPath!.path);
const configMap = only(objects, 'ConfigMap', 'kube-flannel-cfg');

/** Where a container's path lands: the host path (hostPath volume) or `configMap:<name>/<rest>`. */
function resolve(container: Json, path: string): string | undefined {
  const mount = (container.volumeMounts ?? [])
    .filter((m: Json) => path === m.mountPath || path.startsWith(`${m.mountPath.replace(/\/$/, '')}/`))
    .sort((a: Json, b: Json) => b.mountPath.length - a.mountPath.length)[0];
  if (!mount) return undefined;
  const rest = path.slice(mount.mountPath.replace(/\/$/, '').length);
  const volume = volumes[mount.name];
  if (volume.hostPath) return `${volume.hostPath.path}${rest}`;
  if (volume.configMap) return `configMap:${volume.configMap.name}${rest}`;
  return undefined;
}

describe('flannel: its contract', () => {
  test('required, on every node, never calls AWS', () => {
    expect(flannel.optional).toBe(false);
    expect(flannel.placement).toBe('every-node');
    expect(flannel.permissions(CONTEXT)).toEqual([]);
  });

  test('needs the API and registered nodes, provides the pod network', () => {
    expect(flannel.needs).toEqual([NODE_COMPONENTS.apiServer, 'cluster-bootstrapped']);
    expect(flannel.provides).toEqual([NODE_COMPONENTS.podNetwork]);
  });

  test('the DaemonSet is where the nodes\' health check looks for it', () => {
    expect(pod.owner).toBe(`DaemonSet/${FLANNEL_DAEMONSET}`);
    expect(only(objects, 'DaemonSet').metadata.namespace).toBe('kube-system');
  });
});

describe('flannel reaches the API through the internal endpoint, with its own service account', () => {
  test('in-cluster config pointed at internal.<cluster>.<zone>:443', () => {
    expect(env.KUBERNETES_SERVICE_HOST).toEqual({ name: 'KUBERNETES_SERVICE_HOST', value: `internal.${CONTEXT.clusterName}.${CONTEXT.hostedZoneName}` });
    expect(env.KUBERNETES_SERVICE_PORT).toEqual({ name: 'KUBERNETES_SERVICE_PORT', value: '443' });
  });

  test('no --kubeconfig-file and no --kube-api-url: flanneld falls back to in-cluster config', () => {
    const flags = [...(flanneld.command ?? []), ...(flanneld.args ?? [])];
    expect(flags.filter((f) => /^--kube(config-file|-api-url)\b/.test(f))).toEqual([]);
  });

  test('never the kubernetes Service address (that needs kube-proxy)', () => {
    expect(JSON.stringify(objects)).not.toContain('10.3.0.1');
  });

  test('finds its node through its own pod (POD_NAME, POD_NAMESPACE), not a NODE_NAME', () => {
    expect(env.POD_NAME.valueFrom).toEqual({ fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } });
    expect(env.POD_NAMESPACE.valueFrom).toEqual({ fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } });
    expect(env.NODE_NAME).toBeUndefined();
  });

  test('its own ServiceAccount, token mounted', () => {
    expect(pod.spec.serviceAccountName).toBe('flannel');
    expect(pod.spec.automountServiceAccountToken).not.toBe(false);
    expect(only(objects, 'ServiceAccount', 'flannel').metadata.namespace).toBe('kube-system');
  });
});

describe('no node credential in the pod', () => {
  test('host paths: the CNI dirs, /run/flannel and the xtables lock only', () => {
    expect(hostPaths.sort()).toEqual(['/etc/cni/net.d', '/opt/cni/bin', '/run/flannel', '/run/xtables.lock']);
  });

  test('nothing of /etc/kubernetes, the kubelet\'s state, or any token or PKI path', () => {
    for (const path of hostPaths) expect(path).not.toMatch(/^\/etc\/kubernetes|^\/var\/lib\/kubelet|pki|token|\.kubeconfig/);
  });

  test('flanneld is not privileged: NET_ADMIN and NET_RAW only', () => {
    expect(flanneld.securityContext).toEqual({ privileged: false, capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } });
  });
});

describe('flannel\'s RBAC is upstream\'s', () => {
  test('the ClusterRole\'s rules equal kube-flannel.yml v0.27.3\'s', () => {
    expect(only(objects, 'ClusterRole', 'flannel').rules).toEqual(UPSTREAM_FLANNEL_RULES);
  });

  test('bound to its ServiceAccount only', () => {
    const binding = only(objects, 'ClusterRoleBinding', 'flannel');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'flannel' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'flannel', namespace: 'kube-system' }]);
    expect(objects.filter((o) => /Role/.test(o.kind)).map((o) => o.kind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding']);
  });
});

describe('flannel runs on every node, ready or not', () => {
  test.each(NODES_IN_EVERY_STATE)('schedulable on %s', (_name, node) => {
    expect(schedulableOn(pod.spec, node)).toBe(true);
  });

  test('declared as every taint, node-critical, host network, one node at a time', () => {
    expect(Object.keys(flannel.toleratedTaints)).toEqual([EVERY_TAINT]);
    expect(pod.spec.priorityClassName).toBe('system-node-critical');
    expect(pod.spec.hostNetwork).toBe(true);
    expect(only(objects, 'DaemonSet').spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } });
  });
});

describe('flannel on the host', () => {
  test('its lease lands in the host\'s /run/flannel, where the nodes\' health check reads subnet.env', () => {
    // flanneld's default --subnet-file (flannel v0.27.3 main.go); no flag overrides it.
    expect((flanneld.args ?? []).filter((a) => a.startsWith('--subnet-file'))).toEqual([]);
    expect(resolve(flanneld, '/run/flannel/subnet.env')).toBe(FLANNEL_SUBNET_FILE);
    expect(FLANNEL_SUBNET_FILE).toBe('/run/flannel/subnet.env');
  });

  test('the CNI config lands where the kubelet\'s runtime reads CNI configs', () => {
    const { command, args } = init['install-cni'];
    expect(command).toEqual(['cp']);
    const [, source, target] = args ?? [];
    expect(resolve(init['install-cni'], source)).toBe('configMap:kube-flannel-cfg/cni-conf.json');
    expect(resolve(init['install-cni'], target)).toBe('/etc/cni/net.d/10-flannel.conflist');
  });

  test('the CNI plugin binary lands among the standard plugins', () => {
    const { command, args } = init['install-cni-plugin'];
    expect([...(command ?? []), ...(args ?? [])]).toEqual(['cp', '-f', '/flannel', '/opt/cni/bin/flannel']);
    expect(resolve(init['install-cni-plugin'], '/opt/cni/bin/flannel')).toBe('/opt/cni/bin/flannel');
  });

  test('the conflist: flannel delegating to the bridge (hairpin, default gateway), then portmap', () => {
    const conflist = JSON.parse(configMap.data['cni-conf.json']);
    expect(conflist.plugins).toEqual([
      { type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } },
      { type: 'portmap', capabilities: { portMappings: true } },
    ]);
  });

  test('flanneld reads the pod network, vxlan on 8472, at its default --net-config-path', () => {
    expect(JSON.parse(configMap.data['net-conf.json'])).toEqual({ Network: '10.2.0.0/16', Backend: { Type: 'vxlan', Port: 8472 } });
    expect(resolve(flanneld, '/etc/kube-flannel/net-conf.json')).toBe('configMap:kube-flannel-cfg/net-conf.json');
    expect(flanneld.args).toEqual(['--ip-masq', '--kube-subnet-mgr']);
  });

  test('the xtables lock is the host\'s, created if missing', () => {
    expect(resolve(flanneld, '/run/xtables.lock')).toBe('/run/xtables.lock');
    expect(Object.values(volumes).find((v) => v.hostPath?.path === '/run/xtables.lock')!.hostPath!.type).toBe('FileOrCreate');
  });
});

describe('flannel passes the registry\'s generic checks', () => {
  test('schema-valid objects, each labelled as ours', () => {
    for (const model of flannel.objects(CONTEXT)) expect(() => model.validate()).not.toThrow();
    for (const object of objects) expect(object.metadata.labels).toEqual(expect.objectContaining(MANAGED_BY_LABELS));
  });

  test('pinned images, flannel\'s own at the add-on version', () => {
    const images = containersOf(pod.spec).map((c) => c.image as string);
    expect(images.sort()).toEqual([IMAGES.flannelCniPlugin, IMAGES.flannel, IMAGES.flannel].sort());
    expect(images.filter((image) => !PINNED_IMAGE.test(image))).toEqual([]);
    expect(images.map(imageTag)).toContain(FLANNEL_VERSION);
    expect(flannel.version).toBe(FLANNEL_VERSION);
  });

  test('the widened pin still refuses a moving -flannel tag', () => {
    expect('ghcr.io/flannel-io/flannel-cni-plugin:v1.7.1-flannel2').toMatch(PINNED_IMAGE);
    for (const image of ['ghcr.io/flannel-io/flannel-cni-plugin:latest', 'ghcr.io/flannel-io/flannel-cni-plugin:v1.7-flannel2', 'ghcr.io/x/y:v1.7.1-flannel']) {
      expect(image).not.toMatch(PINNED_IMAGE);
    }
  });

  test('CPU and memory requested by every container, init containers too', () => {
    expect(containersOf(pod.spec).length).toBe(3);
    expect(containersWithoutRequests(pod.spec)).toEqual([]);
  });
});
