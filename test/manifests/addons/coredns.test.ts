import { bootstrapChain } from '../../../manifests/addons/bootstrap-chain';
import { cloudControllerManager } from '../../../manifests/addons/cloud-controller-manager';
import { clusterBootstrap } from '../../../manifests/addons/cluster-bootstrap';
import { flannel } from '../../../manifests/addons/flannel';
import { kubeProxy } from '../../../manifests/addons/kube-proxy';
import { COREDNS_VERSION, coreDns, corefile } from '../../../manifests/addons/coredns';
import { CLUSTER_DNS_IP, CLUSTER_DOMAIN } from '../../../userdata/network';
import { CONTEXT, Json, MASTER_NODE, only, rendered, WORKER_NODE } from './addon-fixtures';

const objects = rendered(coreDns);
const deployment = only(objects, 'Deployment', 'coredns');
const pod = deployment.spec.template.spec;
const [container] = pod.containers;
const service = only(objects, 'Service', 'kube-dns');
const configMap = only(objects, 'ConfigMap', 'coredns');
const podLabels = deployment.spec.template.metadata.labels;

const matches = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => podLabels[k] === v);
const portNumber = (name: string) => container.ports.find((p: Json) => p.name === name)?.containerPort;

describe('CoreDNS add-on', () => {
  test('its objects: RBAC, the Corefile, one Deployment of one container, its budget and the kube-dns Service', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Service', 'ServiceAccount']);
    expect(pod.containers).toHaveLength(1);
  });

  test('the kube-dns Service answers at the address every kubelet hands its pods, on 53 UDP and TCP, metrics on 9153', () => {
    expect(service.spec.clusterIP).toBe(CLUSTER_DNS_IP);
    expect(MASTER_NODE.clusterDNS).toEqual([service.spec.clusterIP]);
    expect(WORKER_NODE.clusterDNS).toEqual([service.spec.clusterIP]);
    expect(service.spec.ports.map((p: Json) => `${p.port}/${p.protocol}->${p.targetPort}`)).toEqual(['53/UDP->53', '53/TCP->53', '9153/TCP->9153']);
    expect(matches(service.spec.selector)).toBe(true);
    expect(portNumber('metrics')).toBe(9153);
  });

  test('the Corefile serves the cluster domain the kubelets use and forwards the rest to the node resolver', () => {
    const text = configMap.data.Corefile;
    expect(MASTER_NODE.clusterDomain).toBe(CLUSTER_DOMAIN);
    expect(text).toContain(`kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {`);
    expect(text).toMatch(/\n\s+forward \. \/etc\/resolv\.conf \{/);
    for (const plugin of ['errors', 'health {', 'ready', 'prometheus :9153', 'cache 30 {', 'loop', 'reload']) {
      expect(text).toMatch(new RegExp(`\\n\\s+${plugin.replace(/[.{]/g, '\\$&')}`));
    }
    // The node's resolv.conf (the VPC's servers), not the cluster's own address: no loop.
    expect(pod.dnsPolicy).toBe('Default');
    expect(corefile('example.internal')).toContain('kubernetes example.internal in-addr.arpa');
  });

  test('the pods mount that Corefile where they are told to read it', () => {
    const mount = container.volumeMounts[0];
    const volume = pod.volumes.find((v: Json) => v.name === mount.name);
    expect(volume.configMap.name).toBe(configMap.metadata.name);
    expect(volume.configMap.items).toEqual([{ key: 'Corefile', path: 'Corefile' }]);
    expect(container.args).toEqual(['-conf', `${mount.mountPath}/Corefile`]);
  });

  test('two replicas kept apart by hostname when they can be, and a budget that drains one at a time', () => {
    expect(deployment.spec.replicas).toBe(2);
    const terms = pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution;
    expect(terms).toHaveLength(1);
    expect(terms[0].podAffinityTerm.topologyKey).toBe('kubernetes.io/hostname');
    expect(matches(terms[0].podAffinityTerm.labelSelector.matchLabels)).toBe(true);
    const budget = only(objects, 'PodDisruptionBudget');
    expect(budget.spec.maxUnavailable).toBe(1);
    expect(matches(budget.spec.selector.matchLabels)).toBe(true);
  });

  test('cluster-critical, non-root, read-only, only NET_BIND_SERVICE, with resource requests', () => {
    expect(pod.priorityClassName).toBe('system-cluster-critical');
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
      readOnlyRootFilesystem: true,
    });
    expect(container.resources.requests).toEqual({ cpu: '100m', memory: '70Mi' });
  });

  test('probes: liveness on the health plugin, readiness on the ready plugin', () => {
    expect(container.livenessProbe.httpGet.path).toBe('/health');
    expect(portNumber(container.livenessProbe.httpGet.port)).toBe(8080);
    expect(container.readinessProbe.httpGet.path).toBe('/ready');
    expect(portNumber(container.readinessProbe.httpGet.port)).toBe(8181);
  });

  test('tolerates exactly the taints the masters register with: it may run on masters and workers', () => {
    expect(Object.keys(coreDns.toleratedTaints)).toEqual(MASTER_NODE.taints.map((t) => t.key));
  });

  test('the image is the release the add-on declares', () => {
    expect(container.image).toBe(`registry.k8s.io/coredns/coredns:${coreDns.version}`);
    expect(coreDns.version).toBe(COREDNS_VERSION);
  });

  test('RBAC: its service account may only list and watch what the kubernetes plugin reads', () => {
    const role = only(objects, 'ClusterRole');
    const binding = only(objects, 'ClusterRoleBinding');
    expect(binding.roleRef.name).toBe(role.metadata.name);
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: pod.serviceAccountName, namespace: 'kube-system' }]);
    only(objects, 'ServiceAccount', pod.serviceAccountName);
    const grants = role.rules.flatMap((r: Json) => r.resources.flatMap((res: string) => r.verbs.map((v: string) => `${v} ${r.apiGroups[0] ? `${r.apiGroups[0]}/` : ''}${res}`)));
    expect(grants.sort()).toEqual(
      ['list services', 'watch services', 'list namespaces', 'watch namespaces', 'list discovery.k8s.io/endpointslices', 'watch discovery.k8s.io/endpointslices'].sort(),
    );
  });

  test('bootstrap: needs initialized nodes, the pod network and kube-proxy; comes up in the master stack after the cloud controller', () => {
    expect(coreDns.provides).toEqual(['cluster-dns']);
    expect(coreDns.permissions(CONTEXT)).toEqual([]);
    const chain = bootstrapChain([coreDns, cloudControllerManager, flannel, kubeProxy, clusterBootstrap]).map((step) => `${step.addon.name}@${step.stack}`);
    expect(chain.indexOf('aws-cloud-controller-manager@master')).toBeLessThan(chain.indexOf('coredns@master'));
    expect(chain.indexOf('flannel@master')).toBeLessThan(chain.indexOf('coredns@master'));
    expect(chain.indexOf('kube-proxy@master')).toBeLessThan(chain.indexOf('coredns@master'));
  });
});
