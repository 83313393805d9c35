/**
 * DNS for everything a node runs: every static pod and every host process resolves names
 * through the node's resolver (the VPC resolver, via systemd-resolved's upstream list), and no
 * name any of them dials needs the cluster DNS, which cannot answer before the API server and
 * CoreDNS run. Resolvers and names are derived from the rendered configs (dns-resolution.ts).
 */
import { load } from 'js-yaml';
import { etcdConfig } from '../../userdata/etcd';
import { IgnitionConfig } from '../../userdata/ignition';
import { HOST_RESOLV_CONF, KUBELET_CONFIG } from '../../userdata/kubelet';
import { masterConfig } from '../../userdata/master';
import { CLUSTER_DOMAIN, SERVICE_CIDR } from '../../userdata/network';
import { workerConfig } from '../../userdata/worker';
import { fileText } from './config-files';
import { flannel } from '../../manifests/addons/flannel';
import { kubeProxy } from '../../manifests/addons/kube-proxy';
import { rendered } from '../manifests/addons/addon-fixtures';
import { FLATCAR_ETC_RESOLV_CONF, needsClusterDns, podResolver, Process, processes, Resolver } from './dns-resolution';
import { etcdInput, masterInput, workerInput, ZONE } from './fixtures';

const network = { clusterDomain: CLUSTER_DOMAIN, serviceCidr: SERVICE_CIDR };
const roles: [string, IgnitionConfig][] = [
  ['master', masterConfig(masterInput)],
  ['worker', workerConfig(workerInput)],
  ['etcd', etcdConfig(etcdInput)],
];
const byRole = new Map(roles.map(([role, config]) => [role, processes(config)]));
const all: [string, Process][] = roles.flatMap(([role]) => byRole.get(role)!.map((p) => [role, p] as [string, Process]));

const describeResolver = (r: Resolver): string => (r.kind === 'node' ? `node resolver (${r.file})` : r.kind === 'cluster' ? `cluster DNS ${r.servers.join(',')}` : r.kind);
const describeDials = (p: Process): string => (p.dials.length ? p.dials.join(', ') : 'no name');
const names = (role: string, prefix: string) => byRole.get(role)!.filter((p) => p.name.startsWith(prefix)).map((p) => p.name);
const dialsOf = (role: string, name: string) => byRole.get(role)!.find((p) => p.name === name)!.dials;

/** The files that count as "the node's resolver": Flatcar's /etc/resolv.conf and the file it links to. */
const NODE_RESOLVER_FILES = [FLATCAR_ETC_RESOLV_CONF.path, FLATCAR_ETC_RESOLV_CONF.target];

describe('DNS of every process on every node', () => {
  test.each(all.map(([role, p]) => [role, p.name, describeResolver(p.resolver), describeDials(p), p] as const))(
    '%s: %s uses the %s and dials %s, none of it through the cluster DNS',
    (_role, _name, _resolver, _dials, p) => {
      expect(p.resolver.kind).toBe('node');
      expect(NODE_RESOLVER_FILES).toContain((p.resolver as { file: string }).file);
      expect(p.dials.map((d) => needsClusterDns(d, network)).filter((why) => why !== undefined)).toEqual([]);
    },
  );

  test('host-network pods get the same upstream servers as host processes: the kubelet hands them the file /etc/resolv.conf links to', () => {
    for (const role of ['master', 'worker']) {
      const kubelet = load(fileText(roles.find(([r]) => r === role)![1], KUBELET_CONFIG)) as { resolvConf: string };
      expect(kubelet.resolvConf).toBe(HOST_RESOLV_CONF);
      expect(HOST_RESOLV_CONF).toBe(FLATCAR_ETC_RESOLV_CONF.target);
    }
  });

  test('every static pod and host process is covered (nothing escapes the check)', () => {
    // Masters: the control plane and the pod identity webhook; workers: no static pod (kube-proxy and flannel are DaemonSets, below).
    expect(names('master', 'static pod ')).toEqual(
      ['kube-apiserver/kube-apiserver', 'kube-controller-manager/kube-controller-manager', 'kube-scheduler/kube-scheduler', 'pod-identity-webhook/pod-identity-webhook'].map((c) => `static pod ${c}`),
    );
    expect(names('worker', 'static pod ')).toEqual([]);
    for (const role of ['master', 'worker']) {
      expect(names(role, '')).toEqual(
        expect.arrayContaining([
          'unit kubelet.service: /opt/bin/kubelet',
          'credential provider /opt/bin/credential-providers/ecr-credential-provider',
          'container public.ecr.aws/aws-cli/aws-cli:2.31.23 (from script /opt/bin/aws)',
          'script /opt/bin/cfn-signal',
          'script /opt/bin/node-health-check',
          'script /opt/bin/imds',
        ]),
      );
    }
    expect(names('master', 'container docker.io/library/node')).toHaveLength(1); // the auth webhook
    expect(names('etcd', 'unit etcd.service: /opt/etcd/')).toHaveLength(1);
  });

  test('the names the control plane needs at boot are found, and live in the hosted zone the VPC resolver answers', () => {
    // The API server dials every etcd member by name; the kubelet on workers dials the
    // internal API endpoint's name (an alias record in the zone).
    const apiServer = dialsOf('master', 'static pod kube-apiserver/kube-apiserver');
    expect(apiServer).toEqual(expect.arrayContaining([...masterInput.etcdMemberNames]));
    expect(dialsOf('worker', 'unit kubelet.service: /opt/bin/kubelet')).toEqual([`internal.${workerInput.cluster}.${ZONE}`]);
    // etcd finds its peers through SRV records in the zone.
    expect(dialsOf('etcd', 'unit etcd.service: /opt/etcd/v3.5.27/etcd')).toContain(`_etcd-server-ssl._tcp.etcd.${etcdInput.cluster}.${ZONE}`);
    // The webhook dials the token-info URL of its config; AWS calls go to regional endpoints.
    expect(dialsOf('master', names('master', 'container docker.io/library/node')[0])).toEqual(['auth.example.org']);
    expect(dialsOf('worker', 'script /opt/bin/fetch-secrets')).toEqual(['secretsmanager.eu-central-1.amazonaws.com']);
    const zoneNames = all.flatMap(([, p]) => p.dials).filter((d) => d.endsWith(`.${ZONE}`));
    expect(zoneNames.length).toBeGreaterThan(5);
  });
});

describe('DNS of the node agents delivered as DaemonSets (kube-proxy, flannel), which run before CoreDNS', () => {
  const kubeletOf = (role: string) => load(fileText(roles.find(([r]) => r === role)![1], KUBELET_CONFIG)) as { clusterDNS?: string[]; resolvConf?: string };
  const agents = [kubeProxy, flannel].flatMap((addon) => rendered(addon)).filter((o) => o.kind === 'DaemonSet');

  test.each(agents.map((ds) => [ds.metadata.name, ds] as const))('%s resolves through the node resolver on masters and workers, and dials only the internal endpoint\'s name', (_, ds) => {
    for (const role of ['master', 'worker']) {
      const resolver = podResolver({ metadata: ds.metadata, spec: ds.spec.template.spec }, kubeletOf(role));
      expect([role, resolver.kind]).toEqual([role, 'node']);
    }
    const env = Object.fromEntries(ds.spec.template.spec.containers.flatMap((c: { env?: { name: string; value?: string }[] }) => c.env ?? []).map((e: { name: string; value?: string }) => [e.name, e.value]));
    const host = env.KUBERNETES_SERVICE_HOST;
    expect(host).toBe(`internal.${masterInput.cluster}.${ZONE}`);
    expect(needsClusterDns(host, network)).toBeUndefined();
  });
});

describe('the model of the kubelet\'s choice (getPodDNSType) is not a no-op', () => {
  const kubelet = { clusterDNS: ['10.3.0.10'], resolvConf: HOST_RESOLV_CONF };
  const pod = (spec: Record<string, unknown>) => ({ metadata: { name: 'p' }, spec });

  test.each<[string, Record<string, unknown>, Resolver]>([
    ['ClusterFirstWithHostNet on the host network: the cluster DNS (what every static pod had)', { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }, { kind: 'cluster', servers: ['10.3.0.10'] }],
    ['unset (ClusterFirst) on the host network: the node resolver', { hostNetwork: true }, { kind: 'node', file: HOST_RESOLV_CONF }],
    ['unset (ClusterFirst) on the pod network: the cluster DNS', {}, { kind: 'cluster', servers: ['10.3.0.10'] }],
    ['Default: the node resolver', { dnsPolicy: 'Default' }, { kind: 'node', file: HOST_RESOLV_CONF }],
    ['None: nothing', { dnsPolicy: 'None' }, { kind: 'none' }],
  ])('%s', (_, spec, expected) => {
    expect(podResolver(pod(spec), kubelet)).toEqual(expected);
  });

  test('an empty kubelet resolvConf would leave host-network pods with 127.0.0.1', () => {
    expect(podResolver(pod({ hostNetwork: true }), { ...kubelet, resolvConf: '' })).toEqual({ kind: 'loopback' });
  });

  test('names only the cluster DNS answers are caught', () => {
    expect(needsClusterDns('kubernetes.default.svc.cluster.local', network)).toMatch(/under the cluster domain/);
    expect(needsClusterDns('10.3.0.1', network)).toMatch(/Service IP/);
    expect(needsClusterDns('kubernetes', network)).toMatch(/bare name/);
    expect(needsClusterDns(`etcd-0.etcd.kube-aws-test-1.${ZONE}`, network)).toBeUndefined();
    expect(needsClusterDns('169.254.169.254', network)).toBeUndefined();
  });
});
