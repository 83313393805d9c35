/**
 * What each pod on a master can read from the host: only the files it uses. The master's
 * PKI directory also holds the cluster CA key (signs any identity, system:masters included),
 * the admin token (system:masters) and the shared worker token; a pod that mounts the
 * directory hands all three to anyone who can exec into it or read its files.
 */
import { load } from 'js-yaml';
import { HOST_CA_MOUNTS } from '../../userdata/static-pod';
import { masterConfig } from '../../userdata/master';
import { files, fileText } from './config-files';
import { masterInput } from './fixtures';
import { hostMounts, PodManifest, staticPods } from './static-pod-manifests';

const config = masterConfig(masterInput);
const pods = staticPods(config);
const CONTROL_PLANE = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'pod-identity-webhook'];
const HOST_CA_PATHS = HOST_CA_MOUNTS.map((m) => m.path);
const AUDIT_LOG_DIR = '/var/log/kubernetes/audit';

const pki = (name: string) => `/etc/kubernetes/pki/${name}`;
const CA_KEY = pki('ca.key');
const ADMIN_TOKEN = pki('admin-token');

/** True when a mount of `mountPath` exposes `file` (the file itself or a directory above it). */
const exposes = (mountPath: string, file: string) => file === mountPath || file.startsWith(`${mountPath.replace(/\/$/, '')}/`);
const podsExposing = (file: string) => pods.filter((p) => hostMounts(p).some((m) => exposes(m.path, file))).map((p) => p.metadata.name);
const pod = (name: string): PodManifest => pods.find((p) => p.metadata.name === name)!;

/** Absolute paths a control-plane pod names: in its flags, and in the config files it mounts (kubeconfigs, configs). */
function namedPaths(p: PodManifest): Set<string> {
  const found = new Set<string>();
  const collect = (value: unknown): void => {
    if (typeof value === 'string' && value.startsWith('/')) found.add(value);
    else if (Array.isArray(value)) value.forEach(collect);
    else if (value && typeof value === 'object') Object.values(value).forEach(collect);
  };
  for (const arg of p.spec.containers.flatMap((c) => c.command)) {
    const value = arg.replace(/^--[^=]+=/, '');
    collect(value);
  }
  const inline = new Set(files(config).map((f) => f.path));
  for (const m of hostMounts(p)) {
    // Fetched secrets are not in the config; every inline file is YAML or a token list.
    if (inline.has(m.path) && /\.(yaml|kubeconfig)$/.test(m.path)) collect(load(fileText(config, m.path)));
  }
  return found;
}

describe('mounts of the pods on a master', () => {
  test('each control-plane pod mounts exactly the host files it reads', () => {
    const table = Object.fromEntries(
      CONTROL_PLANE.map((name) => [
        name,
        hostMounts(pod(name))
          .map((m) => `${m.path}${m.readOnly ? '' : ' (rw)'}`)
          .sort(),
      ]),
    );
    expect(table).toEqual({
      'kube-apiserver': [
        '/etc/kubernetes/apiserver/admission.yaml',
        '/etc/kubernetes/apiserver/audit-policy.yaml',
        '/etc/kubernetes/apiserver/authentication.yaml',
        '/etc/kubernetes/apiserver/authorization.yaml',
        '/etc/kubernetes/auth/apiserver-kubelet-client.crt',
        '/etc/kubernetes/auth/apiserver-kubelet-client.key',
        '/etc/kubernetes/auth/tokens.csv',
        '/etc/kubernetes/pki/apiserver-etcd-client.crt',
        '/etc/kubernetes/pki/apiserver-etcd-client.key',
        '/etc/kubernetes/pki/apiserver.crt',
        '/etc/kubernetes/pki/apiserver.key',
        '/etc/kubernetes/pki/ca.crt',
        '/etc/kubernetes/pki/encryption-config.yaml',
        '/etc/kubernetes/pki/etcd-ca.crt',
        '/etc/kubernetes/pki/front-proxy-ca.crt',
        '/etc/kubernetes/pki/front-proxy-client.crt',
        '/etc/kubernetes/pki/front-proxy-client.key',
        '/etc/kubernetes/pki/sa.key',
        '/etc/kubernetes/pki/sa.pub',
        '/etc/kubernetes/webhook/authentication-kubeconfig.yaml',
        '/etc/kubernetes/webhook/authorization-kubeconfig.yaml',
        '/etc/ssl/certs',
        '/usr/share/ca-certificates',
        '/var/log/kubernetes/audit (rw)',
      ],
      'kube-controller-manager': [
        '/etc/kubernetes/auth/kube-controller-manager.token',
        '/etc/kubernetes/controller-manager.kubeconfig',
        '/etc/kubernetes/pki/ca.crt',
        '/etc/kubernetes/pki/ca.key',
        '/etc/kubernetes/pki/sa.key',
        '/etc/ssl/certs',
        '/usr/share/ca-certificates',
      ],
      'kube-scheduler': [
        '/etc/kubernetes/auth/kube-scheduler.token',
        '/etc/kubernetes/kube-scheduler.yaml',
        '/etc/kubernetes/pki/ca.crt',
        '/etc/kubernetes/scheduler.kubeconfig',
      ],
      // Its serving certificate and key, not the CA's key (control-plane-auth signs them).
      'pod-identity-webhook': [
        '/etc/kubernetes/auth/pod-identity-webhook.crt',
        '/etc/kubernetes/auth/pod-identity-webhook.key',
        '/etc/kubernetes/auth/pod-identity-webhook.token',
        '/etc/kubernetes/pki/ca.crt',
        '/etc/kubernetes/pod-identity-webhook.kubeconfig',
      ],
    });
  });

  test('no pod can read the admin token, and only the controller-manager the CA key (it signs kubelet serving certificates), not even through a directory mount', () => {
    expect(pods.length).toBe(CONTROL_PLANE.length);
    expect(podsExposing(CA_KEY)).toEqual(['kube-controller-manager']);
    expect(podsExposing(ADMIN_TOKEN)).toEqual([]);
  });

  test('nothing is mounted that the pod does not name; everything it names is mounted', () => {
    for (const name of CONTROL_PLANE) {
      const p = pod(name);
      const named = namedPaths(p);
      const mounted = hostMounts(p).map((m) => m.path);
      const unused = mounted.filter((path) => !named.has(path) && !HOST_CA_PATHS.includes(path) && !(path === AUDIT_LOG_DIR && [...named].some((n) => exposes(path, n))));
      const unmounted = [...named].filter((path) => path.startsWith('/etc/') && !mounted.some((m) => exposes(m, path)));
      expect({ name, unused, unmounted }).toEqual({ name, unused: [], unmounted: [] });
    }
  });

  test('every control-plane mount is read-only except the audit log directory', () => {
    const writable = CONTROL_PLANE.flatMap((name) => hostMounts(pod(name)).filter((m) => !m.readOnly).map((m) => `${name}: ${m.path}`));
    expect(writable).toEqual([`kube-apiserver: ${AUDIT_LOG_DIR}`]);
  });

  test('the controller-manager signs kubelet serving certificates only: the one signer it has files for, the CA key it mounts', () => {
    // kubernetes/kubernetes cmd/kube-controller-manager/app/certificates.go: a signer without
    // files is not started, so the client signers (kube-apiserver-client, kubelet client) stay off.
    const signing = pod('kube-controller-manager').spec.containers[0].command.filter((f) => f.startsWith('--cluster-signing'));
    expect(signing).toEqual([
      '--cluster-signing-kubelet-serving-cert-file=/etc/kubernetes/pki/ca.crt',
      '--cluster-signing-kubelet-serving-key-file=/etc/kubernetes/pki/ca.key',
      // a week: a node's certificate must not long outlive the node whose address it names
      '--cluster-signing-duration=168h',
    ]);
  });
});
