/**
 * IAM roles for pods: the MutatingWebhookConfiguration (this add-on) and the webhook it calls
 * on every master (userdata/pod-identity-webhook.ts) must agree on where, how and with which
 * certificate; the webhook's flags must be ones its release defines and must inject what the
 * cluster's OIDC provider and role trust policies expect. What the webhook may read, and that
 * only the local API server reaches it, are tested beside (cluster-bootstrap, the firewall's
 * netns test, the master stack's security groups).
 */
import { load } from 'js-yaml';
import { CLUSTER_CA_BUNDLE } from '../../../manifests/addons/addon';
import { WEB_IDENTITY_AUDIENCE, WEB_IDENTITY_MOUNT_PATH } from '../../../manifests/addons/aws-identity';
import { NAMESPACES_NOT_SENT, POD_IDENTITY_WEBHOOK_TIMEOUT_SECONDS, podIdentityWebhook, SKIP_POD_IDENTITY_LABEL } from '../../../manifests/addons/pod-identity-webhook';
import { POD_SECURITY_EXEMPT_NAMESPACES } from '../../../userdata/apiserver-admission';
import { masterConfig } from '../../../userdata/master';
import { LOCAL_API_SERVER } from '../../../userdata/network';
import { IMAGES, POD_IDENTITY_WEBHOOK_VERSION } from '../../../userdata/versions';
import { fileText, unitText } from '../../userdata/config-files';
import { masterInput, REGION } from '../../userdata/fixtures';
import { staticPod, hostMounts } from '../../userdata/static-pod-manifests';
import { CONTEXT, only, rendered } from './addon-fixtures';

/**
 * Every flag aws/amazon-eks-pod-identity-webhook v0.6.17 main.go defines (its `flag.*` calls),
 * recorded from that tag; klog's flags are left out: none is used.
 */
const UPSTREAM_FLAGS = [
  'port', 'metrics-port', 'kubeconfig', 'kube-api', 'tls-key', 'tls-cert', 'tls-cipher-suites', 'tls-min-version', 'in-cluster',
  'service-name', 'namespace', 'tls-secret', 'annotation-prefix', 'token-audience', 'token-mount-path', 'token-expiration',
  'aws-default-region', 'sts-regional-endpoint', 'watch-config-map', 'compose-role-arn', 'watch-container-credentials-config',
  'container-credentials-audience', 'container-credentials-token-mount-path', 'container-credentials-token-volume-name',
  'container-credentials-token-path', 'container-credentials-full-uri', 'version', 'enable-debugging-handlers',
  'service-account-lookup-grace-period', 'resync-period',
];

const master = masterConfig(masterInput);
const pod = staticPod(master, 'pod-identity-webhook');
const [container] = pod.spec.containers;
const flag = (name: string): string | undefined => container.command.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
const configuration = only(rendered(podIdentityWebhook), 'MutatingWebhookConfiguration');
const [webhook] = configuration.webhooks;

describe('pod-identity-webhook: its contract', () => {
  test('always on, calls no AWS API itself, replaces kube2iam, and is the release the masters run', () => {
    expect(podIdentityWebhook.optional).toBe(false);
    expect(podIdentityWebhook.permissions(CONTEXT)).toEqual([]);
    expect(podIdentityWebhook.replaces).toBe('kube2iam');
    expect(IMAGES.podIdentityWebhook).toBe(`public.ecr.aws/eks/amazon-eks-pod-identity-webhook:${podIdentityWebhook.version}`);
    expect(podIdentityWebhook.version).toBe(POD_IDENTITY_WEBHOOK_VERSION);
  });

  test('one object: the webhook configuration', () => {
    expect(rendered(podIdentityWebhook).map((o) => o.kind)).toEqual(['MutatingWebhookConfiguration']);
    expect(configuration.webhooks).toHaveLength(1);
  });
});

describe('the API server calls the webhook of its own master', () => {
  test('at https://127.0.0.1:<the port the webhook listens on>/mutate', () => {
    expect(webhook.clientConfig).toEqual({ url: `https://127.0.0.1:${flag('port')}/mutate`, caBundle: CLUSTER_CA_BUNDLE });
    expect(webhook.clientConfig.service).toBeUndefined();
  });

  test('a URL the API server accepts (kubernetes/apiserver v0.35.1 pkg/util/webhook/validation.go ValidateWebhookURL)', () => {
    const url = new URL(webhook.clientConfig.url);
    expect(url.protocol).toBe('https:');
    expect(url.host).not.toBe('');
    expect([url.username, url.password, url.search, url.hash]).toEqual(['', '', '', '']);
  });

  test('trusting the cluster CA (filled in by the applier), which signs the certificate the webhook serves', () => {
    expect(webhook.clientConfig.caBundle).toBe(CLUSTER_CA_BUNDLE);
    const boot = fileText(master, '/opt/bin/control-plane-auth');
    expect(boot).toMatch(new RegExp(`/opt/bin/issue-certificate pod-identity-webhook pod-identity-webhook serverAuth IP:${new URL(webhook.clientConfig.url).hostname.replace(/\./g, '\\.')}\\n`));
    expect(fileText(master, '/opt/bin/issue-certificate')).toContain('-CA "$pki/ca.crt" -CAkey "$pki/ca.key"');
    expect([flag('tls-cert'), flag('tls-key')]).toEqual(['/etc/kubernetes/auth/pod-identity-webhook.crt', '/etc/kubernetes/auth/pod-identity-webhook.key']);
  });

  test('only for pods being created; a pod labelled to skip it is not sent', () => {
    expect(webhook.rules).toEqual([{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }]);
    expect(webhook.objectSelector).toEqual({ matchExpressions: [{ key: SKIP_POD_IDENTITY_LABEL, operator: 'DoesNotExist' }] });
    expect(SKIP_POD_IDENTITY_LABEL).toBe('eks.amazonaws.com/skip-pod-identity-webhook');
  });

  test('never for a kube-system pod: Pod Security does not check that namespace, so a patch there could make a pod privileged', () => {
    expect(webhook.namespaceSelector).toEqual({ matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] }] });
    // Every namespace Pod Security exempts is one the webhook never sees; the add-ons there that
    // call AWS carry the variables themselves (aws-identity.ts withAddonRole).
    expect(NAMESPACES_NOT_SENT).toEqual([...POD_SECURITY_EXEMPT_NAMESPACES]);
  });

  test('in the AdmissionReview version its handler decodes (v1beta1, pkg/handler/handler.go Handle), with no side effects', () => {
    expect(webhook.admissionReviewVersions).toEqual(['v1beta1']);
    expect(webhook.sideEffects).toBe('None');
  });

  test('a webhook that is down or slow lets pods be created (without the role: nothing else is granted) within 3 seconds', () => {
    expect(webhook.failurePolicy).toBe('Ignore');
    expect(webhook.timeoutSeconds).toBe(POD_IDENTITY_WEBHOOK_TIMEOUT_SECONDS);
    expect(POD_IDENTITY_WEBHOOK_TIMEOUT_SECONDS).toBeLessThanOrEqual(3);
  });
});

describe('the webhook on every master', () => {
  test('every flag is one its release defines, each given once', () => {
    const names = container.command.slice(1).map((arg) => /^--([a-z-]+)=/.exec(arg)?.[1]);
    expect(names.filter((name) => name === undefined || !UPSTREAM_FLAGS.includes(name))).toEqual([]);
    expect(new Set(names).size).toBe(names.length);
    expect(container.command[0]).toBe('/webhook');
    expect(container.image).toBe(IMAGES.podIdentityWebhook);
  });

  test('out of cluster: certificate files, not a CSR and a Secret of its own (in-cluster is the default)', () => {
    expect(flag('in-cluster')).toBe('false');
    expect(flag('namespace')).toBeUndefined();
  });

  test('injects tokens for the audience the OIDC provider and the role trust policies accept, in the cluster\'s region, for regional STS', () => {
    expect(flag('token-audience')).toBe(WEB_IDENTITY_AUDIENCE);
    expect(flag('annotation-prefix')).toBe('eks.amazonaws.com');
    expect(flag('token-mount-path')).toBeUndefined(); // upstream's default, which aws-identity.ts gives the add-ons' own pods
    expect(WEB_IDENTITY_MOUNT_PATH).toBe('/var/run/secrets/eks.amazonaws.com/serviceaccount');
    expect(flag('aws-default-region')).toBe(REGION);
    expect(flag('sts-regional-endpoint')).toBe('true');
  });

  test('no debugging handlers, no role composed from instance metadata, TLS 1.2 at least', () => {
    expect(flag('enable-debugging-handlers')).toBeUndefined();
    expect(flag('compose-role-arn')).toBeUndefined();
    expect(flag('tls-min-version')).toBe('1.2');
  });

  test('reaches the local API server as its own user with a token of this master, checking the cluster CA', () => {
    const kubeconfig = load(fileText(master, flag('kubeconfig')!)) as {
      clusters: { cluster: { server: string; 'certificate-authority': string } }[];
      users: { name: string; user: Record<string, string> }[];
    };
    expect(kubeconfig.clusters[0].cluster).toEqual({ server: LOCAL_API_SERVER, 'certificate-authority': '/etc/kubernetes/pki/ca.crt' });
    expect(kubeconfig.users).toEqual([{ name: 'kubernetes-on-aws:pod-identity-webhook', user: { tokenFile: '/etc/kubernetes/auth/pod-identity-webhook.token' } }]);
  });

  test('mounts its five files read-only and nothing else: no CA key, no other token', () => {
    expect(hostMounts(pod)).toEqual(
      ['/etc/kubernetes/pod-identity-webhook.kubeconfig', '/etc/kubernetes/auth/pod-identity-webhook.token', '/etc/kubernetes/pki/ca.crt', '/etc/kubernetes/auth/pod-identity-webhook.crt', '/etc/kubernetes/auth/pod-identity-webhook.key'].map(
        (path) => ({ path, readOnly: true }),
      ),
    );
    expect(container.securityContext).toMatchObject({ runAsUser: 0, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  });

  test('its firewall is in place before the kubelet starts it, and the kubelet does not start without it', () => {
    const unit = unitText(master, 'pod-identity-webhook-firewall.service');
    expect(unit).toMatch(/^Before=kubelet\.service$/m);
    expect(unit).toMatch(/^After=iptables-restore\.service\nAfter=ip6tables-restore\.service$/m);
    expect(unit).toMatch(/^RequiredBy=kubelet\.service$/m);
    expect(fileText(master, '/opt/bin/pod-identity-webhook-firewall')).toContain(`ports=${flag('port')},${flag('metrics-port')}\n`);
  });
});
