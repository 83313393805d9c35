/** The lines of the worker config that matter, asserted one by one. */
import { load } from 'js-yaml';
import { workerConfig } from '../../userdata/worker';
import { CNI_PLUGINS_TARBALL, KUBECTL, KUBELET } from '../../userdata/versions';
import { fileText, files, findFile, unitText } from './config-files';
import { INSTANCE_ROLE_EXEC, workerInput } from './fixtures';

const config = workerConfig(workerInput);
const kubeletConfig = load(fileText(config, '/etc/kubernetes/kubelet.yaml')) as Record<string, any>;

describe('worker', () => {
  test('fetches exactly the worker secret (ca.crt, no credential) before the kubelet', () => {
    const fetch = unitText(config, 'fetch-secrets.service');
    expect(fetch).toContain('ExecStart=/opt/bin/fetch-secrets /etc/kubernetes/pki kubernetes-on-aws/kube-aws-test-1/worker:ca.crt\n');
    expect(fetch).toContain('Before=kubelet.service');
  });

  test('kubeconfig: the internal endpoint, checked with the cluster CA (TLS passes through), signing in as the instance role', () => {
    const kubeconfig = load(fileText(config, '/etc/kubernetes/kubeconfig')) as { clusters: { cluster: Record<string, string> }[]; users: { user: Record<string, string> }[] };
    expect(kubeconfig.clusters[0].cluster).toEqual({
      server: 'https://internal.kube-aws-test-1.team.example.org',
      'certificate-authority': '/etc/kubernetes/pki/ca.crt',
    });
    expect(kubeconfig.users[0].user).toEqual({ exec: INSTANCE_ROLE_EXEC });
    expect(findFile(config, '/etc/kubernetes/kubeconfig').mode).toBe(0o600);
  });

  test('kubelet: external cloud provider, healthz on 0.0.0.0:10248, webhook authn/authz, cluster DNS', () => {
    expect(unitText(config, 'kubelet.service')).toContain(' --cloud-provider=external ');
    expect(kubeletConfig.healthzBindAddress).toBe('0.0.0.0');
    expect(kubeletConfig.healthzPort).toBe(10248);
    expect(kubeletConfig.authentication).toEqual({
      anonymous: { enabled: false },
      webhook: { enabled: true, cacheTTL: '2m0s' },
      x509: { clientCAFile: '/etc/kubernetes/pki/ca.crt' },
    });
    expect(kubeletConfig.authorization.mode).toBe('Webhook');
    expect(kubeletConfig.clusterDNS).toEqual(['10.3.0.10']);
    expect(kubeletConfig.clusterDomain).toBe('cluster.local');
    expect(kubeletConfig.cgroupDriver).toBe('systemd');
    expect(kubeletConfig.registerWithTaints).toEqual([]);
  });

  test('kubelet and kubectl are the pinned release binaries, checked by sha256', () => {
    for (const [path, pinned] of [['/opt/bin/kubelet', KUBELET], ['/opt/bin/kubectl', KUBECTL]] as const) {
      const f = findFile(config, path);
      expect(f.contents).toEqual({ source: pinned.url, verification: { hash: pinned.hash } });
      expect(f.mode).toBe(0o755);
    }
  });

  test('brings the CNI plugins, checked by sha256, but no CNI config and no static pod: flannel and kube-proxy come as DaemonSets', () => {
    const cni = findFile(config, '/opt/cni/cni-plugins-linux-amd64-v1.8.0.tgz');
    expect(cni.contents.verification?.hash).toBe(CNI_PLUGINS_TARBALL.hash);
    expect(unitText(config, 'cni-plugins-install.service')).toContain('ExecStart=/usr/bin/tar -xzf /opt/cni/cni-plugins-linux-amd64-v1.8.0.tgz -C /opt/cni/bin --no-same-owner');
    // Without a CNI config the kubelet reports the network not ready: no pod lands before flannel runs.
    const paths = files(config).map((f) => f.path);
    expect(paths.filter((path) => path.startsWith('/etc/cni/') || path.startsWith('/etc/kubernetes/manifests/'))).toEqual([]);
    expect(paths).not.toContain('/etc/kubernetes/kube-proxy.yaml');
  });

  test('containerd uses systemd cgroups and names no CNI bin dir (its default, /opt/cni/bin)', () => {
    const toml = fileText(config, '/etc/containerd/config.toml');
    expect(toml).toContain('SystemdCgroup = true');
    expect(toml).not.toMatch(/bin_dirs?\s*=/);
    expect(config.systemd?.units?.find((u) => u.name === 'containerd.service')?.dropins?.[0].contents).toContain(
      'ExecStart=\nExecStart=/usr/bin/containerd --config /etc/containerd/config.toml',
    );
  });

  test('signals its ASG only when the kubelet is healthy, the node Ready and the pod network up', () => {
    // Behaviour: boot-scripts.test.ts runs this script against fakes.
    const check = fileText(config, '/opt/bin/node-health-check');
    expect(check).toContain('curl -fsS --max-time 5 http://127.0.0.1:10248/healthz');
    expect(check).toContain('get node "$PRIVATE_DNS_NAME"');
    expect(check).toContain('/run/flannel/subnet.env');
    expect(check).toContain('http://127.0.0.1:10256/healthz');
  });

  test('takes another API URL, and refuses one that is no https URL of a DNS name', () => {
    const custom = workerConfig({ ...workerInput, apiServerUrl: 'https://api.internal.example.org:6443' });
    const kubeconfig = load(fileText(custom, '/etc/kubernetes/kubeconfig')) as { clusters: { cluster: Record<string, string> }[] };
    expect(kubeconfig.clusters[0].cluster.server).toBe('https://api.internal.example.org:6443');
    for (const bad of ['http://internal.example.org', 'https://internal.example.org/', 'internal.example.org']) {
      expect(() => workerConfig({ ...workerInput, apiServerUrl: bad })).toThrow(/worker\.apiServerUrl: got '/);
    }
  });

  test('network defaults can be overridden, and a bad CIDR names the field', () => {
    const custom = workerConfig({ ...workerInput, clusterDnsIp: '10.3.0.53' });
    expect((load(fileText(custom, '/etc/kubernetes/kubelet.yaml')) as { clusterDNS: string[] }).clusterDNS).toEqual(['10.3.0.53']);
    expect(() => workerConfig({ ...workerInput, serviceCidr: '10.30.0.0' })).toThrow(/worker\.serviceCidr: got '10\.30\.0\.0'/);
  });
});
