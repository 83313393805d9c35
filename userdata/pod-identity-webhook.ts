/**
 * IAM roles for pods: amazon-eks-pod-identity-webhook on every master, as EKS runs it (on the
 * control plane, out of the cluster's pod network). The API server calls the one on its own
 * master at https://127.0.0.1:9443/mutate for every pod created (the MutatingWebhookConfiguration
 * is the pod-identity-webhook add-on's, manifests/addons/pod-identity-webhook.ts); for a pod
 * whose service account is annotated `eks.amazonaws.com/role-arn`, the webhook adds a projected
 * service-account token for STS and the variables the AWS SDKs read (AWS_ROLE_ARN,
 * AWS_WEB_IDENTITY_TOKEN_FILE, the region). The role's trust policy decides who may assume it:
 * the webhook only saves a pod author from writing those lines, and grants nothing itself.
 *
 * Its serving certificate: signed at boot by control-plane-auth with the cluster CA (which
 * every master holds), for IP 127.0.0.1 only, a year, renewed at every boot; the add-on
 * applier puts that CA in the configuration's caBundle. Its client: a token of this master's
 * in the static token file, whose user RBAC lets read service accounts and nothing else.
 *
 * Flags: aws/amazon-eks-pod-identity-webhook v0.6.17 main.go.
 */
import { script } from './files';
import { NodeParts } from './ignition';
import { kubeconfigFile } from './kubeconfig';
import { KUBELET_UNIT } from './kubelet';
import { LOCAL_API_SERVER, POD_IDENTITY_WEBHOOK_METRICS_PORT, POD_IDENTITY_WEBHOOK_PORT } from './network';
import { auth, bin, KUBERNETES_DIR, pki } from './paths';
import { flags, readOnlyFiles, staticPodFile, StaticPodIdentity } from './static-pod';
import { ClusterIdentity } from './types';
import { unit } from './units';
import { IMAGES } from './versions';

/** Its user in the static token file (RBAC: the pod-identity-webhook add-on). */
export const POD_IDENTITY_WEBHOOK_USER = 'kubernetes-on-aws:pod-identity-webhook';
/** The name of its token and certificate files in the auth directory, written by control-plane-auth. */
export const POD_IDENTITY_WEBHOOK_NAME = 'pod-identity-webhook';
export const POD_IDENTITY_WEBHOOK_TOKEN = auth(`${POD_IDENTITY_WEBHOOK_NAME}.token`);
/** The one name its serving certificate has: the API server dials 127.0.0.1. */
export const POD_IDENTITY_WEBHOOK_SERVING_ADDRESS = '127.0.0.1';
export const POD_IDENTITY_WEBHOOK_CERT = auth(`${POD_IDENTITY_WEBHOOK_NAME}.crt`);
export const POD_IDENTITY_WEBHOOK_KEY = auth(`${POD_IDENTITY_WEBHOOK_NAME}.key`);
/** Where the API server sends AdmissionReviews (main.go: the handler is on `/mutate`). */
export const POD_IDENTITY_WEBHOOK_URL = `https://${POD_IDENTITY_WEBHOOK_SERVING_ADDRESS}:${POD_IDENTITY_WEBHOOK_PORT}/mutate`;
/**
 * The service-account annotations it reads (`--annotation-prefix`, main.go default): `<prefix>/role-arn`
 * and the others of pkg/annotations.go.
 */
export const POD_IDENTITY_ANNOTATION_PREFIX = 'eks.amazonaws.com';
/**
 * The audience of the tokens it mounts (`--token-audience`, main.go default): the client id of
 * the cluster's IAM OIDC provider, which role trust policies check as `<issuer>:aud`.
 */
export const POD_IDENTITY_TOKEN_AUDIENCE = 'sts.amazonaws.com';

export const POD_IDENTITY_WEBHOOK_POD: StaticPodIdentity = { name: 'pod-identity-webhook', labels: { component: 'pod-identity-webhook', tier: 'control-plane' } };
const KUBECONFIG = `${KUBERNETES_DIR}/pod-identity-webhook.kubeconfig`;

const FIREWALL_UNIT = 'pod-identity-webhook-firewall.service';
export const POD_IDENTITY_WEBHOOK_FIREWALL_SCRIPT = bin('pod-identity-webhook-firewall');

/**
 * Drops the webhook's ports on every interface but loopback, IPv4 and IPv6. The security groups
 * already keep other hosts out, but a pod anywhere in the cluster reaches this master's own
 * addresses on the pod network (its cni0 and flannel.1 addresses, through VXLAN, which no
 * security group sees), and /mutate answers anyone: it would tell a pod the role of any service
 * account. A DROP in INPUT holds whichever iptables backend kube-proxy uses (each backend's
 * base chain sees every packet). Idempotent: `-C` before `-I`. IPv6 only where the kernel has
 * it (booted with ipv6.disable=1, nothing listens on IPv6 and ip6tables fails). Flatcar ships
 * iptables and ip6tables, nft backend (flatcar/scripts stable-4593.2.5
 * coreos-overlay/coreos-base/coreos/coreos-0.0.1.ebuild RDEPEND net-firewall/iptables;
 * profiles/coreos/base/package.use `net-firewall/iptables nftables`). Tested for real in
 * network namespaces: test/integration/pod-identity-webhook-firewall.test.ts.
 */
export function podIdentityWebhookFirewallScript(): string {
  const ports = [POD_IDENTITY_WEBHOOK_PORT, POD_IDENTITY_WEBHOOK_METRICS_PORT].join(',');
  return `#!/bin/bash
# pod-identity-webhook-firewall: the pod identity webhook's ports (${ports}) answer on loopback only.
set -euo pipefail
ports=${ports}
rule=(INPUT -p tcp -m multiport --dports "$ports" ! -i lo -m comment --comment "kubernetes-on-aws: pod-identity-webhook is for the local API server only" -j DROP)
commands=(iptables)
if [ -e /proc/net/if_inet6 ]; then commands+=(ip6tables); fi
for iptables in "\${commands[@]}"; do
  if ! "$iptables" -w -C "\${rule[@]}" 2>/dev/null; then
    "$iptables" -w -I "\${rule[@]}"
  fi
done
echo "pod-identity-webhook-firewall: tcp $ports dropped on every interface but lo"
`;
}

function webhookFlags(identity: Pick<ClusterIdentity, 'region'>): string[] {
  return flags({
    // Out of cluster: a kubeconfig and certificate files, no CSR of its own (main.go `--in-cluster`, default true).
    'in-cluster': false,
    kubeconfig: KUBECONFIG,
    'tls-cert': POD_IDENTITY_WEBHOOK_CERT,
    'tls-key': POD_IDENTITY_WEBHOOK_KEY,
    'tls-min-version': '1.2',
    port: POD_IDENTITY_WEBHOOK_PORT,
    'metrics-port': POD_IDENTITY_WEBHOOK_METRICS_PORT,
    'annotation-prefix': POD_IDENTITY_ANNOTATION_PREFIX,
    'token-audience': POD_IDENTITY_TOKEN_AUDIENCE,
    // The cluster's region in every mutated container, and STS's regional endpoint: the
    // cluster's OIDC provider is global (IAM), so any region's STS accepts its tokens.
    'aws-default-region': identity.region,
    'sts-regional-endpoint': true,
    // A pod created right after its service account may reach the webhook before the account
    // does (an informer cache); it waits this long for it, then goes unmutated. The README's
    // documented default, which main.go's flag (0) does not set.
    'service-account-lookup-grace-period': '100ms',
  });
}

/** What a master runs for IAM roles for pods: the static pod, its kubeconfig, its firewall. */
export function podIdentityWebhookParts(identity: Pick<ClusterIdentity, 'cluster' | 'region'>): NodeParts {
  const mounts = readOnlyFiles(KUBECONFIG, POD_IDENTITY_WEBHOOK_TOKEN, pki('ca.crt'), POD_IDENTITY_WEBHOOK_CERT, POD_IDENTITY_WEBHOOK_KEY);
  return {
    directories: [],
    files: [
      kubeconfigFile(KUBECONFIG, {
        cluster: identity.cluster,
        server: LOCAL_API_SERVER,
        certificateAuthority: pki('ca.crt'),
        user: POD_IDENTITY_WEBHOOK_USER,
        credential: { tokenFile: POD_IDENTITY_WEBHOOK_TOKEN },
      }),
      script(POD_IDENTITY_WEBHOOK_FIREWALL_SCRIPT, podIdentityWebhookFirewallScript()),
      staticPodFile({
        ...POD_IDENTITY_WEBHOOK_POD,
        mounts,
        containers: [
          {
            name: 'pod-identity-webhook',
            image: IMAGES.podIdentityWebhook,
            // The image's entrypoint is go-runner with /webhook as its argument (Dockerfile); the binary itself.
            command: ['/webhook', ...webhookFlags(identity)],
            // Root, said so rather than left to the image (go-runner's USER): the five files it
            // reads are root's, mode 0600. Without capabilities root reads only what it owns.
            securityContext: { runAsUser: 0, runAsGroup: 0, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
            resources: { requests: { cpu: '10m', memory: '32Mi' } },
            // main.go serves /healthz on the TLS port; the kubelet does not check a probe's certificate.
            livenessProbe: { httpGet: { host: '127.0.0.1', path: '/healthz', port: POD_IDENTITY_WEBHOOK_PORT, scheme: 'HTTPS' }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
            mounts: mounts.map((m) => m.name),
          },
        ],
      }),
    ],
    units: [
      unit(FIREWALL_UNIT, {
        Unit: {
          Description: 'Keep the pod identity webhook for the local API server: drop its ports on every interface but loopback',
          // Nothing listens on the ports before the kubelet starts the static pod; without the
          // rules the kubelet does not start (the master then fails its health check). After
          // Flatcar's rule-restoring units, should someone turn them on: they replace the rules.
          After: ['iptables-restore.service', 'ip6tables-restore.service'],
          Before: KUBELET_UNIT,
        },
        Service: { Type: 'oneshot', RemainAfterExit: true, ExecStart: POD_IDENTITY_WEBHOOK_FIREWALL_SCRIPT },
        Install: { WantedBy: 'multi-user.target', RequiredBy: KUBELET_UNIT },
      }),
    ],
  };
}
