/** The lines of the master config that matter, asserted one by one. */
import { load } from 'js-yaml';
import { controlPlaneSecretFiles, masterConfig } from '../../userdata/master';
import { allText, fileText, files, findFile, units, unitText } from './config-files';
import { apiServerSans } from '../../lib/secrets/sans';
import { CLUSTER_DOMAIN, SERVICE_CIDR } from '../../userdata/network';
import { workerConfig } from '../../userdata/worker';
import { EXAMPLE_SHA512, INSTANCE_ROLE_EXEC, masterInput, workerInput } from './fixtures';
import { hostMounts, staticPod } from './static-pod-manifests';

const config = masterConfig(masterInput);

interface PodManifest {
  spec: { containers: { image: string; command: string[] }[] };
}
const command = (name: string) => (load(fileText(config, `/etc/kubernetes/manifests/${name}.yaml`)) as PodManifest).spec.containers[0].command;
const apiServer = command('kube-apiserver');
const controllerManager = command('kube-controller-manager');
const scheduler = command('kube-scheduler');

describe('kube-apiserver static pod', () => {
  test('serves on the secure port 443 with its fetched certificate', () => {
    expect(apiServer).toContain('--secure-port=443');
    expect(apiServer).toContain('--tls-cert-file=/etc/kubernetes/pki/apiserver.crt');
    expect(apiServer).toContain('--tls-private-key-file=/etc/kubernetes/pki/apiserver.key');
  });

  test('lists every etcd member explicitly over TLS', () => {
    expect(apiServer).toContain(
      '--etcd-servers=https://etcd-0.etcd.kube-aws-test-1.team.example.org:2379,https://etcd-1.etcd.kube-aws-test-1.team.example.org:2379,https://etcd-2.etcd.kube-aws-test-1.team.example.org:2379',
    );
    expect(apiServer).toContain('--etcd-cafile=/etc/kubernetes/pki/etcd-ca.crt');
    expect(apiServer).toContain('--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt');
    expect(apiServer).toContain('--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key');
  });

  test('authenticates through the webhook, v1; authorizes by its authorization config (apiserver-authorization.test.ts)', () => {
    expect(apiServer).toContain('--authentication-token-webhook-config-file=/etc/kubernetes/webhook/authentication-kubeconfig.yaml');
    expect(apiServer).toContain('--authentication-token-webhook-version=v1');
    expect(apiServer).toContain('--authorization-config=/etc/kubernetes/apiserver/authorization.yaml');
    expect(fileText(config, '/etc/kubernetes/webhook/authentication-kubeconfig.yaml')).toBe(masterInput.authenticationWebhookKubeconfig);
    expect(fileText(config, '/etc/kubernetes/webhook/authorization-kubeconfig.yaml')).toBe(masterInput.authorizationWebhookKubeconfig);
  });

  test('allows anonymous requests only on the health endpoints', () => {
    expect(apiServer).toContain('--authentication-config=/etc/kubernetes/apiserver/authentication.yaml');
    expect(apiServer.some((f) => f.startsWith('--anonymous-auth'))).toBe(false);
    expect(load(fileText(config, '/etc/kubernetes/apiserver/authentication.yaml'))).toEqual({
      apiVersion: 'apiserver.config.k8s.io/v1beta1',
      kind: 'AuthenticationConfiguration',
      anonymous: { enabled: true, conditions: [{ path: '/livez' }, { path: '/readyz' }, { path: '/healthz' }] },
    });
  });

  test('has a token file generated at boot; the break-glass admin-token in it only when breakGlassAdminToken is on', () => {
    expect(apiServer).toContain('--token-auth-file=/etc/kubernetes/auth/tokens.csv');
    expect(fileText(config, '/opt/bin/control-plane-auth')).not.toContain('admin-token');
    const script = fileText(masterConfig({ ...masterInput, breakGlassAdminToken: true }), '/opt/bin/control-plane-auth');
    expect(script).toContain('admin=$(cat "$pki/admin-token")');
    expect(script).toContain(`kubernetes-on-aws:admin,kubernetes-on-aws:admin,"system:masters"`);
    expect(unitText(config, 'control-plane-auth.service')).toMatch(/^After=fetch-secrets\.service$/m);
  });

  test('issues service-account tokens as the published issuer, still accepting those of the API\'s own name, for the same audience', () => {
    // The first issuer signs new tokens; every one given is accepted (--service-account-issuer help, v1.35).
    expect(apiServer.filter((a) => a.startsWith('--service-account-issuer='))).toEqual([
      `--service-account-issuer=${masterInput.serviceAccountIssuer}`,
      '--service-account-issuer=https://kube-aws-test-1.team.example.org',
    ]);
    // Without --api-audiences the audience would follow the first issuer, and every token
    // issued before the change would be refused.
    expect(apiServer).toContain('--api-audiences=https://kube-aws-test-1.team.example.org');
    expect(apiServer).toContain(`--service-account-jwks-uri=${masterInput.serviceAccountIssuer}/openid/v1/jwks`);
  });

  test('refuses a service-account issuer that is not an https URL of a host', () => {
    for (const serviceAccountIssuer of ['http://x.example.org', 'https://x.example.org/path', '']) {
      expect(() => masterConfig({ ...masterInput, serviceAccountIssuer })).toThrow(/master\.serviceAccountIssuer: got .*, expected an https:\/\/ URL without a path/);
    }
  });

  test('has service-account keys and the service CIDR', () => {
    expect(apiServer).toContain('--service-account-key-file=/etc/kubernetes/pki/sa.pub');
    expect(apiServer).toContain('--service-account-signing-key-file=/etc/kubernetes/pki/sa.key');
    expect(apiServer).toContain('--service-cluster-ip-range=10.3.0.0/24');
  });

  test('has the aggregation layer (front proxy) flags', () => {
    expect(apiServer).toContain('--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt');
    expect(apiServer).toContain('--proxy-client-cert-file=/etc/kubernetes/pki/front-proxy-client.crt');
    expect(apiServer).toContain('--proxy-client-key-file=/etc/kubernetes/pki/front-proxy-client.key');
    expect(apiServer).toContain('--enable-aggregator-routing=true');
  });

  test('encrypts Secrets in etcd with the fetched encryption config, mounted read-only, without automatic reload', () => {
    // kubernetes/apiserver v0.35.1 pkg/server/options/etcd.go (EtcdOptions.AddFlags):
    // --encryption-provider-config; --encryption-provider-config-automatic-reload stays off
    // (the file changes only when a new master boots).
    expect(apiServer).toContain('--encryption-provider-config=/etc/kubernetes/pki/encryption-config.yaml');
    expect(apiServer.some((f) => f.startsWith('--encryption-provider-config-automatic-reload'))).toBe(false);
    expect(controlPlaneSecretFiles(false)).toContain('encryption-config.yaml');
    expect(hostMounts(staticPod(config, 'kube-apiserver'))).toContainEqual({ path: '/etc/kubernetes/pki/encryption-config.yaml', readOnly: true });
    const volume = staticPod(config, 'kube-apiserver').spec.volumes.find((v) => v.hostPath.path === '/etc/kubernetes/pki/encryption-config.yaml');
    expect(volume?.hostPath.type).toBe('File');
  });

  test('sets no in-tree cloud provider', () => {
    expect(apiServer.some((f) => f.startsWith('--cloud-provider') || f.startsWith('--cloud-config'))).toBe(false);
  });
});

describe('controller-manager and scheduler', () => {
  test('controller-manager allocates node CIDRs from the pod network, external cloud provider, leader election', () => {
    expect(controllerManager).toEqual(
      expect.arrayContaining([
        '--cloud-provider=external',
        '--allocate-node-cidrs=true',
        '--cluster-cidr=10.2.0.0/16',
        '--service-cluster-ip-range=10.3.0.0/24',
        '--service-account-private-key-file=/etc/kubernetes/pki/sa.key',
        '--leader-elect=true',
      ]),
    );
  });

  test('kubelet serving certificates: the CA that signs them is the one the API server checks kubelets with and publishes to pods', () => {
    const flag = (args: string[], name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
    const signer = flag(controllerManager, 'cluster-signing-kubelet-serving-cert-file');
    expect(signer).toBe('/etc/kubernetes/pki/ca.crt');
    expect(flag(controllerManager, 'cluster-signing-kubelet-serving-key-file')).toBe('/etc/kubernetes/pki/ca.key');
    // The API server verifies kubelets against it (logs, exec) ...
    expect(flag(apiServer, 'kubelet-certificate-authority')).toBe(signer);
    // ... and so does metrics-server, through kube-root-ca.crt, which comes from --root-ca-file.
    expect(flag(controllerManager, 'root-ca-file')).toBe(signer);
    // The single-CA flags may not be combined with the per-signer ones (csrsigningcontroller.go Validate).
    expect(controllerManager.filter((a) => /^--cluster-signing-(cert|key)-file=/.test(a))).toEqual([]);
  });

  test('scheduler runs from its configuration file (leader election there: kube-scheduler.test.ts)', () => {
    expect(scheduler).toContain('--config=/etc/kubernetes/kube-scheduler.yaml');
  });

  test('control-plane images are the pinned release', () => {
    const images = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map(
      (n) => (load(fileText(config, `/etc/kubernetes/manifests/${n}.yaml`)) as PodManifest).spec.containers[0].image,
    );
    expect(images).toEqual(['registry.k8s.io/kube-apiserver:v1.35.1', 'registry.k8s.io/kube-controller-manager:v1.35.1', 'registry.k8s.io/kube-scheduler:v1.35.1']);
  });
});

describe('master node', () => {
  test('fetches the break-glass admin token only where it is accepted', () => {
    const withToken = masterConfig({ ...masterInput, breakGlassAdminToken: true });
    expect(unitText(withToken, 'fetch-secrets.service')).toMatch(/control-plane:[^ ]*,encryption-config\.yaml,admin-token /);
    expect(unitText(config, 'fetch-secrets.service')).not.toContain('admin-token');
    // the masters' own scripts use this master's admin, never the break-glass one
    expect(fileText(config, '/etc/kubernetes/auth/admin.kubeconfig')).toContain('tokenFile: /etc/kubernetes/auth/master-admin.token');
  });

  test('fetches exactly the control-plane and apiserver-etcd-client secrets', () => {
    expect(unitText(config, 'fetch-secrets.service')).toContain(
      'ExecStart=/opt/bin/fetch-secrets /etc/kubernetes/pki ' +
        'kubernetes-on-aws/kube-aws-test-1/control-plane:ca.crt,ca.key,apiserver.crt,apiserver.key,sa.key,sa.pub,front-proxy-ca.crt,front-proxy-client.crt,front-proxy-client.key,encryption-config.yaml ' +
        'kubernetes-on-aws/kube-aws-test-1/apiserver-etcd-client:etcd-ca.crt,apiserver-etcd-client.crt,apiserver-etcd-client.key\n',
    );
  });

  test('kubelet: external cloud provider, control-plane taint, private DNS node name', () => {
    const kubelet = unitText(config, 'kubelet.service');
    expect(kubelet).toContain('--cloud-provider=external');
    expect(kubelet).toContain('--hostname-override=${PRIVATE_DNS_NAME}');
    expect(kubelet).toContain('--node-labels=kubernetes-on-aws/role=master');
    const kubeletConfig = load(fileText(config, '/etc/kubernetes/kubelet.yaml')) as Record<string, unknown>;
    expect(kubeletConfig.registerWithTaints).toEqual([{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]);
  });

  test('runs the webhook server from the pinned Node image on 127.0.0.1:8443 with its bundle and config', () => {
    const webhook = unitText(config, 'kube-auth-webhook.service');
    expect(webhook).toMatch(/ExecStart=\/usr\/bin\/docker run .*--network=host .*docker\.io\/library\/node:22\.\d+\.\d+-alpine[\d.]* node \/opt\/kube-auth-webhook\/kube-auth-webhook\.js --config=\/etc\/kubernetes\/webhook\/config\.yaml --listen=127\.0\.0\.1:8443\n/);
    expect(webhook).toContain('Restart=always');
    const bundle = findFile(config, '/opt/kube-auth-webhook/kube-auth-webhook.js');
    expect(bundle.contents).toEqual({ source: masterInput.webhookBundle.source, verification: { hash: `sha512-${EXAMPLE_SHA512}` } });
    expect(fileText(config, '/etc/kubernetes/webhook/config.yaml')).toBe(masterInput.webhookServerConfigYaml);
  });

  test('labels its own Node control-plane after the kubelet starts, as the admin (the script runs against a fake in boot-scripts.test.ts)', () => {
    const unit = unitText(config, 'mark-control-plane.service');
    expect(unit).toMatch(/^Requires=control-plane-auth.service$/m);
    expect(unit).toMatch(/^After=control-plane-auth.service$/m);
    expect(unit).toMatch(/^After=kubelet.service$/m);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^WantedBy=multi-user.target$/m);
    expect(fileText(config, '/opt/bin/mark-control-plane')).toContain('--kubeconfig /etc/kubernetes/auth/admin.kubeconfig');
  });

  test('applies nothing to the cluster at boot: the add-ons, bootstrap RBAC included, come with the deploy', () => {
    expect(files(config).map((f) => f.path).filter((path) => path.includes('addons'))).toEqual([]);
    expect(units(config).map((u) => u.name)).not.toContain('kube-addons.service');
  });

  test("names itself the internal API endpoint in its hosts file (host-network pods read it), keeping localhost", () => {
    const hosts = fileText(config, '/etc/hosts').split('\n').filter((line) => line && !line.startsWith('#')).map((line) => line.split('\t'));
    expect(hosts).toEqual([['127.0.0.1', 'localhost'], ['::1', 'localhost'], ['127.0.0.1', `internal.${masterInput.cluster}.${masterInput.zone}`]]);
    // The API server listens there, and the certificate the stack issues names the endpoint.
    const issued = apiServerSans({ clusterName: masterInput.cluster, zoneName: masterInput.zone, serviceCidr: SERVICE_CIDR, clusterDomain: CLUSTER_DOMAIN });
    expect(issued.dnsNames).toContain(hosts[2][1]);
    expect(issued.ipAddresses).toContain('127.0.0.1');
  });

  test('a worker keeps the system hosts file: it reaches the endpoint through the load balancer', () => {
    expect(files(workerConfig(workerInput)).map((f) => f.path)).not.toContain('/etc/hosts');
  });

  test('signals its ASG only once the local API server is ready', () => {
    expect(fileText(config, '/opt/bin/node-health-check')).toContain('https://127.0.0.1:443/readyz');
  });

  test('the kubelet on masters uses the local API server with the cluster CA (no load balancer hairpin), signing in as the instance role', () => {
    const kubeconfig = load(fileText(config, '/etc/kubernetes/kubeconfig')) as { clusters: { cluster: Record<string, string> }[]; users: { user: Record<string, string> }[] };
    expect(kubeconfig.clusters[0].cluster).toEqual({ server: 'https://127.0.0.1:443', 'certificate-authority': '/etc/kubernetes/pki/ca.crt' });
    expect(kubeconfig.users[0].user).toEqual({ exec: INSTANCE_ROLE_EXEC });
  });

  test('refuses an empty etcd member list, naming the field', () => {
    expect(() => masterConfig({ ...masterInput, etcdMemberNames: [] })).toThrow(/master\.etcdMemberNames/);
  });

  test('holds no token or key, only where they are read from', () => {
    expect(allText(config)).not.toMatch(/BEGIN [A-Z ]*PRIVATE KEY/);
  });
});
