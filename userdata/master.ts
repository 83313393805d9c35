/**
 * A master: what runs on a master node, in one file.
 *
 * Boot order: node-identity -> fetch-secrets (control-plane, apiserver-etcd-client) ->
 * control-plane-auth (token file, component tokens, kubelet-client certificate) ->
 * kube-auth-webhook (127.0.0.1:8443) and kubelet, which runs the static pods kube-apiserver,
 * kube-controller-manager and kube-scheduler -> cfn-signal once https://127.0.0.1:443/readyz
 * answers and, in a cluster that has its pod network already, the node is Ready with it.
 * Everything else (the cluster's own RBAC, kube-proxy, flannel, the other add-ons) is delivered by the
 * master stack after the masters signal (manifests/addons). Daily, certificate-refresh.timer
 * re-fetches the secrets, re-issues this master's own certificates when due and restarts what
 * uses a changed file (certificate-refresh.ts).
 *
 * Each control-plane pod mounts only the host files it reads, one by one and read-only (the
 * API server's audit log directory is its one writable mount): ca.key and the admin token
 * stay on the host, for the boot scripts that need them.
 */
import { ADMISSION_CONFIGURATION, ENABLED_ADMISSION_PLUGINS } from './apiserver-admission';
import { authorizationConfiguration } from './apiserver-authorization';
import { AUDIT_LOG_DIR, AUDIT_LOG_MAX_AGE_DAYS, AUDIT_LOG_MAX_BACKUPS, AUDIT_LOG_MAX_SIZE_MB, AUDIT_LOG_PATH, AUDIT_POLICY } from './audit-policy';
import { directory, file, MODE_PRIVATE, MODE_PRIVATE_DIR, remoteFile, script } from './files';
import { FLANNEL_DAEMONSET } from './flannel';
import { healthSignalParts } from './health-signal';
import { IgnitionConfig, ignitionConfig, mergeParts, NodeParts } from './ignition';
import { KUBECTL_BINARY, KUBELET_UNIT } from './kubelet';
import { kubeconfigFile } from './kubeconfig';
import { kubernetesNodeParts } from './kubernetes-node';
import { KUBE_PROXY_DAEMONSET } from './kube-proxy';
import { kubeSchedulerConfiguration } from './kube-scheduler';
import { API_SERVER_PORT, LOCAL_API_SERVER, NODE_CIDR_MASK_SIZE, POD_IDENTITY_WEBHOOK_PORT, WEBHOOK_LISTEN_ADDRESS, WEBHOOK_PORT } from './network';
import { auth, bin, CONFIG_DIR, KUBERNETES_AUTH_DIR, KUBERNETES_DIR, KUBERNETES_PKI_DIR, NODE_ENV, pki, WEBHOOK_DIR } from './paths';
import { fetchSecretsParts, FETCH_SECRETS_UNIT } from './secrets';
import { flags, HOST_CA_MOUNTS, HostMount, readOnlyFiles, staticPodFile, StaticPodIdentity, yaml } from './static-pod';
import { defaultApiDnsName, internalApiDnsName, MasterNodeInput, resolveNetwork, ResolvedNetwork, validateMasterInput } from './types';
import { nodeBootstrapParts } from './node-bootstrap';
import { nodeReadyWithPodNetwork } from './pod-network-health';
import { command, unit } from './units';
import { IMAGES } from './versions';
import { ClusterSecretNames, ENCRYPTION_CONFIG_FILE } from './secret-names';
import { JWKS_PATH } from './service-account-issuer';
import { POD_IDENTITY_WEBHOOK_CERT, POD_IDENTITY_WEBHOOK_KEY, POD_IDENTITY_WEBHOOK_NAME, POD_IDENTITY_WEBHOOK_SERVING_ADDRESS, POD_IDENTITY_WEBHOOK_USER, podIdentityWebhookParts } from './pod-identity-webhook';
import { certificateRefreshParts, issueCertificateCommand, issueCertificateFile, probeCommand, ReadyProbe, RestartOnChange, SelfIssuedCertificate } from './certificate-refresh';
import { DEFAULT_AUTHENTICATE_URL } from '../webhook/kubeconfig';
import { HEALTHZ_PATH } from '../webhook/request-handler';


/** Files of `kubernetes-on-aws/<cluster>/control-plane` every master fetches. */
const CONTROL_PLANE_SECRET_FILES = [
  'ca.crt',
  'ca.key',
  'apiserver.crt',
  'apiserver.key',
  'sa.key',
  'sa.pub',
  'front-proxy-ca.crt',
  'front-proxy-client.crt',
  'front-proxy-client.key',
  // EncryptionConfiguration for Secrets at rest in etcd; its key is generated with the others.
  ENCRYPTION_CONFIG_FILE,
];
/** The break-glass admin token's file in that secret: fetched only where it is accepted. */
const ADMIN_TOKEN_FILE = 'admin-token';

/** What a master fetches of the control-plane secret. */
export function controlPlaneSecretFiles(breakGlassAdminToken: boolean): string[] {
  return [...CONTROL_PLANE_SECRET_FILES, ...(breakGlassAdminToken ? [ADMIN_TOKEN_FILE] : [])];
}

/** Files of `kubernetes-on-aws/<cluster>/apiserver-etcd-client`. */
export const APISERVER_ETCD_CLIENT_SECRET_FILES = ['etcd-ca.crt', 'apiserver-etcd-client.crt', 'apiserver-etcd-client.key'];


export const WEBHOOK_UNIT = 'kube-auth-webhook.service';
export const WEBHOOK_BUNDLE_PATH = '/opt/kube-auth-webhook/kube-auth-webhook.js';
export const WEBHOOK_CONFIG_PATH = `${WEBHOOK_DIR}/config.yaml`;
export const AUTHENTICATION_WEBHOOK_KUBECONFIG = `${WEBHOOK_DIR}/authentication-kubeconfig.yaml`;
export const AUTHORIZATION_WEBHOOK_KUBECONFIG = `${WEBHOOK_DIR}/authorization-kubeconfig.yaml`;

const APISERVER_DIR = `${KUBERNETES_DIR}/apiserver`;
export const AUTHENTICATION_CONFIG = `${APISERVER_DIR}/authentication.yaml`;
/** `--admission-control-config-file`: Pod Security admission's defaults and exemptions. */
export const ADMISSION_CONFIG = `${APISERVER_DIR}/admission.yaml`;
export const AUDIT_POLICY_FILE = `${APISERVER_DIR}/audit-policy.yaml`;
/** `--authorization-config`: the authorizers in order (apiserver-authorization.ts). */
export const AUTHORIZATION_CONFIG = `${APISERVER_DIR}/authorization.yaml`;
/** Fetched from the control-plane secret (0600): the key that encrypts Secrets in etcd. */
export const ENCRYPTION_CONFIG = pki(ENCRYPTION_CONFIG_FILE);
/** Static token file, written at boot: this master's admin and components (and the break-glass admin, when on). */
export const TOKEN_AUTH_FILE = auth('tokens.csv');
/** The names apiserver.crt must cover, one per line (control-plane-auth checks them at boot). */
const API_SERVER_NAMES_FILE = `${CONFIG_DIR}/apiserver-names`;
const CONTROLLER_MANAGER_KUBECONFIG = `${KUBERNETES_DIR}/controller-manager.kubeconfig`;
const SCHEDULER_KUBECONFIG = `${KUBERNETES_DIR}/scheduler.kubeconfig`;
export const SCHEDULER_CONFIG = `${KUBERNETES_DIR}/kube-scheduler.yaml`;
/** Client certificate the API server shows kubelets (logs, exec), minted at boot with ca.key. */
const KUBELET_CLIENT_NAME = 'apiserver-kubelet-client';
const KUBELET_CLIENT_CERT = auth(`${KUBELET_CLIENT_NAME}.crt`);
const KUBELET_CLIENT_KEY = auth(`${KUBELET_CLIENT_NAME}.key`);
/**
 * The CA that signs kubelets' serving certificates (signer kubernetes.io/kubelet-serving): the
 * cluster CA, which the API server (--kubelet-certificate-authority) and metrics-server (the
 * service-account ca.crt, published from --root-ca-file) already trust. The per-signer flags,
 * not --cluster-signing-cert-file, which may not be combined with them (kubernetes/kubernetes
 * v1.35 cmd/kube-controller-manager/app/options/csrsigningcontroller.go Validate).
 */
export const KUBELET_SERVING_SIGNER = { cert: pki('ca.crt'), key: pki('ca.key') } as const;
/** Its subject; RBAC binds it to system:kubelet-api-admin (kubelets authorize it by webhook). */
export const KUBELET_CLIENT_USER = 'kube-apiserver-kubelet-client';
/**
 * What a master signs itself with the cluster CA: at every boot (control-plane-auth), and again
 * by the daily certificate refresh once a third of their lifetime is left (certificate-refresh.ts).
 */
export const SELF_ISSUED_CERTIFICATES: readonly SelfIssuedCertificate[] = [
  // The API server's client certificate for kubelets (logs, exec).
  { name: KUBELET_CLIENT_NAME, commonName: KUBELET_CLIENT_USER, usage: 'clientAuth' },
  // The pod identity webhook's serving certificate, for the local API server only.
  { name: POD_IDENTITY_WEBHOOK_NAME, commonName: POD_IDENTITY_WEBHOOK_NAME, usage: 'serverAuth', subjectAltName: `IP:${POD_IDENTITY_WEBHOOK_SERVING_ADDRESS}` },
];
/**
 * That binding (manifests/bootstrap-rbac.ts): the first object the cluster-bootstrap add-on
 * delivers, so its absence tells the health check the cluster is new.
 */
export const KUBELET_CLIENT_BINDING = 'kubernetes-on-aws:apiserver-kubelet-client';
/**
 * The ClusterRole of the shared worker token that nodes used before each node signed in as
 * its instance role. A cluster that still has it has nodes that hold that token, which this
 * release's webhook no longer accepts: such a cluster cannot take this config in place.
 */
export const SHARED_NODE_TOKEN_ROLE = 'kubernetes-on-aws:node-agent';
/**
 * The approver of kubelet serving CSRs, which runs in the webhook process on every master
 * (webhook/kubelet-serving-approver.ts) with a token of this master's, from the static token
 * file; RBAC lets it approve that one signer's CSRs and nothing else (manifests/bootstrap-rbac.ts).
 */
export const KUBELET_SERVING_APPROVER_USER = 'kubernetes-on-aws:kubelet-serving-approver';
const KUBELET_SERVING_APPROVER = 'kubelet-serving-approver';
/** Its token, written at boot by control-plane-auth. */
const KUBELET_SERVING_APPROVER_TOKEN = auth(`${KUBELET_SERVING_APPROVER}.token`);
/**
 * What the webhook's config must give as `kubeletServingApprover` on masters: the local API
 * server, and the two files mounted (read-only, one by one) into the webhook's container.
 */
export const WEBHOOK_APPROVER_CONNECTION = {
  apiServer: LOCAL_API_SERVER,
  caFile: pki('ca.crt'),
  tokenFile: KUBELET_SERVING_APPROVER_TOKEN,
} as const;
/** The break-glass admin of the static token file (group system:masters), when it is on. */
export const BREAK_GLASS_ADMIN_USER = 'kubernetes-on-aws:admin';
/**
 * This master's own admin (group system:masters), for its boot scripts only: labelling its
 * Node, and its health check. A random token made at boot on the master, like its components'
 * (a master holds ca.key, so this adds nothing it could not make itself); never stored elsewhere.
 */
export const MASTER_ADMIN_USER = 'kubernetes-on-aws:master';
const MASTER_ADMIN = 'master-admin';

/**
 * This master's own users of the static token file: each has a random token of this master
 * alone, `auth/<name>.token`, made at boot by control-plane-auth and kept across reboots.
 */
const MASTER_TOKEN_USERS: readonly { readonly name: string; readonly user: string; readonly group?: string }[] = [
  { name: MASTER_ADMIN, user: MASTER_ADMIN_USER, group: 'system:masters' },
  { name: 'kube-controller-manager', user: 'system:kube-controller-manager' },
  { name: 'kube-scheduler', user: 'system:kube-scheduler' },
  { name: KUBELET_SERVING_APPROVER, user: KUBELET_SERVING_APPROVER_USER },
  { name: POD_IDENTITY_WEBHOOK_NAME, user: POD_IDENTITY_WEBHOOK_USER },
];

/**
 * The label that makes a node a master for scheduling (the add-ons' MASTER_NODE_SELECTOR),
 * kubeadm's. No kubelet can set it on itself: the kubelet refuses `--node-labels` in the
 * kubernetes.io namespace outside its allowed list, and NodeRestriction refuses a node's own
 * Node create or update carrying it (k8s.io/kubelet v0.35.1 pkg/apis/well_known_labels.go
 * IsKubeletLabel: only kubelet.kubernetes.io and node.kubernetes.io and a fixed list). So
 * the master sets it on its own Node at boot as its own admin, and a worker, or a
 * stolen node credential, cannot pose as a master to draw the masters' pods.
 */
export const CONTROL_PLANE_LABEL = 'node-role.kubernetes.io/control-plane';
/** The labels a master's boot applies to its Node (mark-control-plane), beside the kubelet's own. */
export const MASTER_BOOT_LABELS: Readonly<Record<string, string>> = { [CONTROL_PLANE_LABEL]: '' };
const MARK_CONTROL_PLANE_UNIT = 'mark-control-plane.service';
const MARK_CONTROL_PLANE_SCRIPT = bin('mark-control-plane');

const CONTROL_PLANE_AUTH_UNIT = 'control-plane-auth.service';
const CONTROL_PLANE_AUTH_SCRIPT = bin('control-plane-auth');
const ADMIN_KUBECONFIG = auth('admin.kubeconfig');

/**
 * Labels this master's Node once its kubelet has registered it: up to 30 minutes of tries,
 * then the unit fails and systemd tries again.
 */
const markControlPlaneScript = `#!/bin/bash
# mark-control-plane: label this master's Node ${Object.keys(MASTER_BOOT_LABELS).join(', ')} as this master's admin.
set -euo pipefail
. ${NODE_ENV}
attempts=180
for attempt in $(seq 1 "$attempts"); do
  if ${KUBECTL_BINARY} --kubeconfig ${ADMIN_KUBECONFIG} --request-timeout=10s label node "$PRIVATE_DNS_NAME" \\
      ${Object.entries(MASTER_BOOT_LABELS).map(([key, value]) => `${key}=${value}`).join(' ')} --overwrite; then
    exit 0
  fi
  echo "mark-control-plane: node $PRIVATE_DNS_NAME not labelled yet (attempt $attempt/$attempts); its kubelet has not registered it yet" >&2
  sleep 10
done
exit 1
`;

/**
 * Writes, at boot and only on this master, the credentials that must never be in a config:
 * the static token file (random tokens for this master's own admin, controller-manager,
 * scheduler and approver, kept across reboots; with breakGlassAdminToken, the admin-token of
 * the fetched secret as the break-glass admin in system:masters) and the certificates it
 * signs itself with ca.key (SELF_ISSUED_CERTIFICATES, issued anew at every boot).
 */
const controlPlaneAuthScript = (breakGlassAdminToken: boolean) => `#!/bin/bash
# control-plane-auth: token file and kubelet-client certificate for this master's control plane.
set -euo pipefail
umask 077
pki=${KUBERNETES_PKI_DIR}
auth=${KUBERNETES_AUTH_DIR}
install -d -m 0700 "$auth"

# The API server certificate must cover every name its clients dial. One issued before a
# release added a name (internal.<cluster>.<zone>) would fail them: the master stack's secrets
# handler re-issues it in that release's deploy, before new masters start; refuse until then.
while read -r name; do
  [ -n "$name" ] || continue
  if [[ $name =~ ^[0-9.]+$ ]]; then how=-checkip; else how=-checkhost; fi
  if ! openssl x509 -in "$pki/apiserver.crt" -noout "$how" "$name" | grep -q ' does match certificate$'; then
    echo "control-plane-auth: $pki/apiserver.crt does not cover $name; the control-plane secret predates this master's config: deploy the master stack again (its secrets handler re-issues the certificate)" >&2
    exit 1
  fi
done <${API_SERVER_NAMES_FILE}

${breakGlassAdminToken ? `admin=$(cat "$pki/${ADMIN_TOKEN_FILE}")
if ! [[ "$admin" =~ ^[A-Za-z0-9._~-]{32,}$ ]]; then
  echo "control-plane-auth: $pki/${ADMIN_TOKEN_FILE} must be one line of at least 32 token characters" >&2
  exit 1
fi
` : ''}new_token() { head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '='; }
for component in ${MASTER_TOKEN_USERS.map((t) => t.name).join(' ')}; do
  [ -s "$auth/$component.token" ] || new_token >"$auth/$component.token"
done
tmp=$(mktemp "$auth/.tokens.XXXXXX")
{
${breakGlassAdminToken ? `  printf '%s,${BREAK_GLASS_ADMIN_USER},${BREAK_GLASS_ADMIN_USER},"system:masters"\\n' "$admin"
` : ''}${MASTER_TOKEN_USERS.map((t) => `  printf '%s,${t.user},${t.user}${t.group ? `,"${t.group}"` : ''}\\n' "$(cat "$auth/${t.name}.token")"
`).join('')}} >"$tmp"
chmod 0600 "$tmp"
mv -f "$tmp" ${TOKEN_AUTH_FILE}

# This master's own certificates, issued anew at every boot (nothing uses them yet).
${SELF_ISSUED_CERTIFICATES.map((c) => `${issueCertificateCommand(c, { ifDue: false })}\n`).join('')}echo "control-plane-auth: wrote ${TOKEN_AUTH_FILE}, the kubelet-client and the pod identity webhook's certificates"
`;

/**
 * This master's API server is ready: anonymous /readyz (AUTHENTICATION_CONFIGURATION), its
 * certificate verified by the cluster CA for 127.0.0.1. The health check asks it, and the
 * certificate refresh after restarting the API server.
 */
const LOCAL_API_SERVER_READY: ReadyProbe = { url: `${LOCAL_API_SERVER}/readyz`, caFile: pki('ca.crt') };

/**
 * The master's health check: the local API server is ready (anonymous /readyz) and, once the
 * cluster has had its add-ons delivered, the node is Ready with its pod network. A new cluster
 * gets kube-proxy and flannel from the master stack after every master has signalled
 * (manifests/addons), so until the cluster-bootstrap add-on's first object exists the API
 * server is all a master can show, and the delivery then waits for the node agents on every
 * master. Once it exists, a master (one replacing another) must show its pod network. Two
 * kinds of older cluster cannot take this config in place, and fail the check so that
 * CloudFormation rolls the update back: one whose nodes still share a token (their kubelets
 * would be refused once the masters changed), and one from before kube-proxy and flannel were
 * DaemonSets. Asked as this master's admin (a node may not read RBAC); an API error fails
 * the check, never skips it.
 */
function healthCheck(network: ResolvedNetwork): string {
  const kubectl = `${KUBECTL_BINARY} --kubeconfig ${ADMIN_KUBECONFIG} --request-timeout=10s get --ignore-not-found -o name`;
  return `#!/bin/bash
# node-health-check (master): local API server ready; once add-ons were delivered, node Ready with its pod network.
set -euo pipefail
if ! ${probeCommand(LOCAL_API_SERVER_READY)}; then
  echo "node-health-check: the local API server is not ready" >&2
  exit 1
fi
shared_token=$(${kubectl} clusterroles ${SHARED_NODE_TOKEN_ROLE})
if [ -n "$shared_token" ]; then
  echo "node-health-check: ClusterRole ${SHARED_NODE_TOKEN_ROLE} exists: this cluster's nodes share one token, which this release no longer accepts; deploy a new cluster version (README, Update)" >&2
  exit 1
fi
delivered=$(${kubectl} clusterrolebindings ${KUBELET_CLIENT_BINDING})
if [ -z "$delivered" ]; then
  echo "node-health-check: the API server is ready; kube-proxy and flannel are not delivered yet (a new cluster): the master stack waits for them after this signal" >&2
  exit 0
fi
node_agents=$(${kubectl} daemonsets --namespace kube-system ${KUBE_PROXY_DAEMONSET} ${FLANNEL_DAEMONSET})
if [ -z "$node_agents" ]; then
  echo "node-health-check: add-ons were delivered but kube-proxy's and flannel's DaemonSets do not exist: a cluster from before they were add-ons (static pods) cannot take this config in place; deploy a new cluster version (README, Update)" >&2
  exit 1
fi
${nodeReadyWithPodNetwork(network)}`;
}

/**
 * Anonymous requests only for the health endpoints (the load balancer's health check and
 * kubelet probes carry no credentials); everything else needs a token. Structured
 * AuthenticationConfiguration (anonymous.conditions) replaces --anonymous-auth.
 * v1beta1: served since 1.30, so the file does not pin us to the newest minor.
 */
export const AUTHENTICATION_CONFIGURATION = {
  apiVersion: 'apiserver.config.k8s.io/v1beta1',
  kind: 'AuthenticationConfiguration',
  anonymous: { enabled: true, conditions: [{ path: '/livez' }, { path: '/readyz' }, { path: '/healthz' }] },
};

function apiServerFlags(input: MasterNodeInput, network: ResolvedNetwork): string[] {
  // The issuer of the releases before tokens were trusted by STS: its tokens stay valid
  // (every --service-account-issuer is accepted; the first signs new ones), and it stays the
  // API's audience, which defaults to the first issuer otherwise (kubernetes/kubernetes v1.35
  // pkg/kubeapiserver/options/authentication.go, --api-audiences and --service-account-issuer).
  const apiIssuer = `https://${defaultApiDnsName(input)}`;
  return flags({
    'secure-port': API_SERVER_PORT,
    'bind-address': '0.0.0.0',
    'tls-cert-file': pki('apiserver.crt'),
    'tls-private-key-file': pki('apiserver.key'),
    // etcd: an explicit list (the API server does not do SRV), TLS both ways.
    'etcd-servers': input.etcdMemberNames.map((name) => `https://${name}:2379`).join(','),
    'etcd-cafile': pki('etcd-ca.crt'),
    'etcd-certfile': pki('apiserver-etcd-client.crt'),
    'etcd-keyfile': pki('apiserver-etcd-client.key'),
    // A client certificate of this CA logs in (CN = user, O = groups; Kubernetes docs,
    // "Authenticating: X509 client certificates"). None arrive through the
    // public load balancer (it terminates TLS), but the internal endpoint passes TLS through
    // (lib/constructs/internal-api-endpoint.ts), so from inside the VPC they reach the API
    // server. Only masters and the secrets Lambda hold ca.key to sign one; the one a master
    // signs (apiserver-kubelet-client, no groups) stays on it, and nodes and people use tokens.
    // The API server also publishes this CA to aggregated API servers
    // (extension-apiserver-authentication).
    'client-ca-file': pki('ca.crt'),
    'authentication-config': AUTHENTICATION_CONFIG,
    'authentication-token-webhook-config-file': AUTHENTICATION_WEBHOOK_KUBECONFIG,
    'authentication-token-webhook-version': 'v1',
    // Break-glass admin (system:masters) and this master's components; written at boot.
    'token-auth-file': TOKEN_AUTH_FILE,
    // Node, then the webhook for people (fails closed, its denial final), then RBAC:
    // apiserver-authorization.ts.
    'authorization-config': AUTHORIZATION_CONFIG,
    'kubelet-client-certificate': KUBELET_CLIENT_CERT,
    'kubelet-client-key': KUBELET_CLIENT_KEY,
    // Kubelets serve certificates the cluster CA signed for their own node (KUBELET_SERVING_SIGNER):
    // logs, exec and port-forward reach the right kubelet or fail.
    'kubelet-certificate-authority': KUBELET_SERVING_SIGNER.cert,
    'kubelet-preferred-address-types': 'InternalIP,InternalDNS,Hostname',
    'service-account-issuer': [input.serviceAccountIssuer, apiIssuer],
    'api-audiences': apiIssuer,
    // The API server's own discovery document points at the published key set, as STS reads it
    // (without this flag it names the API server's address: pkg/serviceaccount/openidmetadata.go).
    'service-account-jwks-uri': `${input.serviceAccountIssuer}${JWKS_PATH}`,
    'service-account-key-file': pki('sa.pub'),
    'service-account-signing-key-file': pki('sa.key'),
    'service-cluster-ip-range': network.serviceCidr,
    // Aggregation layer (metrics-server): front-proxy CA and client certificate. No
    // --requestheader-allowed-names: the front-proxy CA signs only the front-proxy client.
    'requestheader-client-ca-file': pki('front-proxy-ca.crt'),
    'requestheader-username-headers': 'X-Remote-User',
    'requestheader-group-headers': 'X-Remote-Group',
    'requestheader-extra-headers-prefix': 'X-Remote-Extra-',
    'proxy-client-cert-file': pki('front-proxy-client.crt'),
    'proxy-client-key-file': pki('front-proxy-client.key'),
    'enable-aggregator-routing': true,
    // PodSecurity is on by default; this file makes it enforce baseline (apiserver-admission.ts).
    'admission-control-config-file': ADMISSION_CONFIG,
    'enable-admission-plugins': ENABLED_ADMISSION_PLUGINS.join(','),
    // kube-proxy's DaemonSet (kube-system, exempt from Pod Security) runs privileged: it is
    // refused without this. Pod Security keeps privileged pods out of every other namespace.
    'allow-privileged': true,
    // Secrets are encrypted in etcd (and so in its snapshots). No automatic reload: the file is
    // bind-mounted by inode, so a reload would never see a change; a new file (fetch-secrets,
    // at boot and daily) reaches the API server when the certificate refresh restarts it
    // (certificate-refresh.ts), or when the master is replaced.
    'encryption-provider-config': ENCRYPTION_CONFIG,
    'audit-policy-file': AUDIT_POLICY_FILE,
    'audit-log-path': AUDIT_LOG_PATH,
    'audit-log-format': 'json',
    'audit-log-maxsize': AUDIT_LOG_MAX_SIZE_MB,
    'audit-log-maxbackup': AUDIT_LOG_MAX_BACKUPS,
    'audit-log-maxage': AUDIT_LOG_MAX_AGE_DAYS,
    'audit-log-compress': true,
    profiling: false,
  });
}

function controllerManagerFlags(input: MasterNodeInput, network: ResolvedNetwork): string[] {
  return flags({
    kubeconfig: CONTROLLER_MANAGER_KUBECONFIG,
    'authentication-kubeconfig': CONTROLLER_MANAGER_KUBECONFIG,
    'authorization-kubeconfig': CONTROLLER_MANAGER_KUBECONFIG,
    'bind-address': '127.0.0.1',
    'leader-elect': true,
    'cloud-provider': 'external',
    'cluster-name': input.cluster,
    // flannel reads each node's podCIDR: the controller-manager hands them out.
    'allocate-node-cidrs': true,
    'cluster-cidr': network.podCidr,
    'node-cidr-mask-size': NODE_CIDR_MASK_SIZE,
    'service-cluster-ip-range': network.serviceCidr,
    'configure-cloud-routes': false,
    'service-account-private-key-file': pki('sa.key'),
    'root-ca-file': pki('ca.crt'),
    // Signs the kubelets' serving certificates once the approver has approved a CSR (the
    // controller-manager approves none of that signer itself).
    'cluster-signing-kubelet-serving-cert-file': KUBELET_SERVING_SIGNER.cert,
    'cluster-signing-kubelet-serving-key-file': KUBELET_SERVING_SIGNER.key,
    // A week, not the default year (SetDefaults_CSRSigningControllerConfiguration): EC2 reuses
    // private addresses and names, so a certificate of a node long gone must not outlive it
    // for long. The kubelet renews at 70-90% of the lifetime (client-go util/certificate
    // certificate_manager.go nextRotationDeadline), through the approver again.
    'cluster-signing-duration': '168h',
    'use-service-account-credentials': true,
    profiling: false,
  });
}

/**
 * Client, leader election and profiling are in the config file (kube-scheduler.ts). The
 * delegated authentication/authorization kubeconfigs stay flags (not deprecated, and not part
 * of KubeSchedulerConfiguration): without them the scheduler cannot check who scrapes /metrics.
 */
function schedulerFlags(): string[] {
  return flags({
    config: SCHEDULER_CONFIG,
    'authentication-kubeconfig': SCHEDULER_KUBECONFIG,
    'authorization-kubeconfig': SCHEDULER_KUBECONFIG,
    'bind-address': '127.0.0.1',
  });
}

/** The controller-manager's and the scheduler's secure ports (their defaults), bound to 127.0.0.1. */
const CONTROLLER_MANAGER_PORT = 10257;
const SCHEDULER_PORT = 10259;

function httpsProbe(path: string, port: number, failureThreshold: number): Record<string, unknown> {
  return { httpGet: { host: '127.0.0.1', path, port, scheme: 'HTTPS' }, periodSeconds: 10, timeoutSeconds: 15, failureThreshold };
}

/** Read-only mounts of single host files for a `docker run`, as readOnlyFiles for a static pod. */
function readOnlyVolumes(...paths: string[]): string[] {
  return paths.map((path) => `--volume=${path}:${path}:ro`);
}

// The control plane's static pods: name and labels, which their mirror pods carry too.
export const KUBE_APISERVER_POD: StaticPodIdentity = { name: 'kube-apiserver', labels: { component: 'kube-apiserver', tier: 'control-plane' } };
export const KUBE_CONTROLLER_MANAGER_POD: StaticPodIdentity = { name: 'kube-controller-manager', labels: { component: 'kube-controller-manager', tier: 'control-plane' } };
export const KUBE_SCHEDULER_POD: StaticPodIdentity = { name: 'kube-scheduler', labels: { component: 'kube-scheduler', tier: 'control-plane' } };

/** The audit log directory: the API server's only writable mount (it creates and rotates the files). */
const AUDIT_LOG_MOUNT: HostMount = { name: 'audit-log', path: AUDIT_LOG_DIR, type: 'Directory', readOnly: false };

/** The API server's host files, one by one (Files), its audit log directory and the host CAs. */
const API_SERVER_MOUNTS: readonly HostMount[] = [
  ...readOnlyFiles(
    pki('apiserver.crt'),
    pki('apiserver.key'),
    pki('etcd-ca.crt'),
    pki('apiserver-etcd-client.crt'),
    pki('apiserver-etcd-client.key'),
    pki('ca.crt'),
    pki('sa.pub'),
    pki('sa.key'),
    pki('front-proxy-ca.crt'),
    pki('front-proxy-client.crt'),
    pki('front-proxy-client.key'),
    ENCRYPTION_CONFIG,
    TOKEN_AUTH_FILE,
    KUBELET_CLIENT_CERT,
    KUBELET_CLIENT_KEY,
    AUTHENTICATION_WEBHOOK_KUBECONFIG,
    AUTHORIZATION_WEBHOOK_KUBECONFIG,
    AUTHENTICATION_CONFIG,
    AUTHORIZATION_CONFIG,
    ADMISSION_CONFIG,
    AUDIT_POLICY_FILE,
  ),
  AUDIT_LOG_MOUNT,
  ...HOST_CA_MOUNTS,
];
/** A component reads its kubeconfig, the token file and the CA that kubeconfig names. */
const componentFiles = (kubeconfig: string, token: string): string[] => [kubeconfig, token, pki('ca.crt')];
/** ca.key: the controller-manager signs kubelet serving certificates (KUBELET_SERVING_SIGNER). */
const CONTROLLER_MANAGER_MOUNTS: readonly HostMount[] = [
  ...readOnlyFiles(...componentFiles(CONTROLLER_MANAGER_KUBECONFIG, auth('kube-controller-manager.token')), pki('sa.key'), KUBELET_SERVING_SIGNER.key),
  ...HOST_CA_MOUNTS,
];
const SCHEDULER_MOUNTS: readonly HostMount[] = readOnlyFiles(SCHEDULER_CONFIG, ...componentFiles(SCHEDULER_KUBECONFIG, auth('kube-scheduler.token')));

/** The single files a container mounts: it sees a replaced one only once restarted (certificate-refresh.ts). */
const mountedFiles = (mounts: readonly HostMount[]): string[] => mounts.filter((m) => m.type === 'File').map((m) => m.path);

/**
 * What the daily certificate refresh restarts when a file it changed is one of theirs: every
 * component that mounts files one by one, whether or not it reloads them (it would reload the
 * old inode). Container names are the static pods' (and kube-auth-webhook's unit). In this
 * order, each waited for on its local health endpoint: the API server first, since every other
 * component is its client or called by it.
 * The controller-manager and the scheduler serve /healthz to anonymous callers with a
 * self-signed certificate made at start (k8s.io/apiserver v0.35.1 pkg/server/options:
 * authentication.go NewDelegatingAuthenticationOptions Anonymous enabled, authorization.go
 * NewDelegatingAuthorizationOptions AlwaysAllowPaths /healthz /readyz /livez; the kubelet's
 * liveness probes above rely on the same): not verified, as the kubelet does not.
 */
const CERTIFICATE_REFRESH_RESTARTS: readonly RestartOnChange[] = [
  { restart: { container: 'kube-apiserver' }, files: mountedFiles(API_SERVER_MOUNTS), ready: LOCAL_API_SERVER_READY },
  {
    restart: { container: 'kube-controller-manager' },
    files: mountedFiles(CONTROLLER_MANAGER_MOUNTS),
    ready: { url: `https://127.0.0.1:${CONTROLLER_MANAGER_PORT}/healthz` },
  },
  { restart: { container: 'kube-scheduler' }, files: mountedFiles(SCHEDULER_MOUNTS), ready: { url: `https://127.0.0.1:${SCHEDULER_PORT}/healthz` } },
  // Its mounts are built in pod-identity-webhook.ts (podIdentityWebhookParts): these are the
  // ones the refresh can change. /healthz on its TLS port (aws/amazon-eks-pod-identity-webhook
  // v0.6.17 main.go), verified as the API server verifies it: the new certificate, by the cluster CA.
  {
    restart: { container: 'pod-identity-webhook' },
    files: [POD_IDENTITY_WEBHOOK_CERT, POD_IDENTITY_WEBHOOK_KEY, pki('ca.crt')],
    ready: { url: `https://${POD_IDENTITY_WEBHOOK_SERVING_ADDRESS}:${POD_IDENTITY_WEBHOOK_PORT}/healthz`, caFile: pki('ca.crt') },
  },
  // Where the API server calls it (webhook/kubeconfig.ts), its /healthz (webhook/request-handler.ts).
  {
    restart: { unit: WEBHOOK_UNIT },
    files: [WEBHOOK_APPROVER_CONNECTION.tokenFile, WEBHOOK_APPROVER_CONNECTION.caFile],
    ready: { url: `${new URL(DEFAULT_AUTHENTICATE_URL).origin}${HEALTHZ_PATH}` },
  },
];

function controlPlaneParts(input: MasterNodeInput, network: ResolvedNetwork): NodeParts {
  const localKubeconfig = (path: string, user: string, token: string) =>
    kubeconfigFile(path, { cluster: input.cluster, server: LOCAL_API_SERVER, certificateAuthority: pki('ca.crt'), user, credential: { tokenFile: token } });

  return {
    directories: [
      directory(APISERVER_DIR),
      directory(WEBHOOK_DIR),
      directory(KUBERNETES_AUTH_DIR, MODE_PRIVATE_DIR),
      directory('/opt/kube-auth-webhook'),
      // Who did what in the cluster is for root on the master only.
      directory(AUDIT_LOG_DIR, MODE_PRIVATE_DIR),
    ],
    files: [
      file(AUTHENTICATION_CONFIG, yaml(AUTHENTICATION_CONFIGURATION)),
      file(AUTHORIZATION_CONFIG, yaml(authorizationConfiguration({ webhookKubeconfig: AUTHORIZATION_WEBHOOK_KUBECONFIG }))),
      file(ADMISSION_CONFIG, yaml(ADMISSION_CONFIGURATION)),
      file(AUDIT_POLICY_FILE, yaml(AUDIT_POLICY)),
      file(SCHEDULER_CONFIG, yaml(kubeSchedulerConfiguration({ kubeconfig: SCHEDULER_KUBECONFIG }))),
      file(WEBHOOK_CONFIG_PATH, input.webhookServerConfigYaml, { mode: MODE_PRIVATE }),
      file(AUTHENTICATION_WEBHOOK_KUBECONFIG, input.authenticationWebhookKubeconfig, { mode: MODE_PRIVATE }),
      file(AUTHORIZATION_WEBHOOK_KUBECONFIG, input.authorizationWebhookKubeconfig, { mode: MODE_PRIVATE }),
      // Ignition fetches the bundle from S3 with the instance role and checks its sha512.
      remoteFile(WEBHOOK_BUNDLE_PATH, input.webhookBundle.source, `sha512-${input.webhookBundle.sha512}`),
      localKubeconfig(CONTROLLER_MANAGER_KUBECONFIG, 'system:kube-controller-manager', auth('kube-controller-manager.token')),
      localKubeconfig(SCHEDULER_KUBECONFIG, 'system:kube-scheduler', auth('kube-scheduler.token')),
      file(API_SERVER_NAMES_FILE, `${input.apiServerCertificateNames.join('\n')}\n`),
      file('/etc/hosts', masterHostsFile(input)),
      script(CONTROL_PLANE_AUTH_SCRIPT, controlPlaneAuthScript(input.breakGlassAdminToken)),
      issueCertificateFile(),
      script(MARK_CONTROL_PLANE_SCRIPT, markControlPlaneScript),
      localKubeconfig(ADMIN_KUBECONFIG, MASTER_ADMIN_USER, auth(`${MASTER_ADMIN}.token`)),
      staticPodFile({
        ...KUBE_APISERVER_POD,
        mounts: API_SERVER_MOUNTS,
        containers: [
          {
            name: 'kube-apiserver',
            image: IMAGES.kubeApiServer,
            command: ['kube-apiserver', ...apiServerFlags(input, network)],
            resources: { requests: { cpu: '250m' } },
            startupProbe: httpsProbe('/livez', API_SERVER_PORT, 24),
            livenessProbe: httpsProbe('/livez', API_SERVER_PORT, 8),
            readinessProbe: { ...httpsProbe('/readyz', API_SERVER_PORT, 3), periodSeconds: 1 },
            mounts: API_SERVER_MOUNTS.map((m) => m.name),
          },
        ],
      }),
      staticPodFile({
        ...KUBE_CONTROLLER_MANAGER_POD,
        mounts: CONTROLLER_MANAGER_MOUNTS,
        containers: [
          {
            name: 'kube-controller-manager',
            image: IMAGES.kubeControllerManager,
            command: ['kube-controller-manager', ...controllerManagerFlags(input, network)],
            resources: { requests: { cpu: '200m' } },
            livenessProbe: httpsProbe('/healthz', CONTROLLER_MANAGER_PORT, 8),
            mounts: CONTROLLER_MANAGER_MOUNTS.map((m) => m.name),
          },
        ],
      }),
      staticPodFile({
        ...KUBE_SCHEDULER_POD,
        mounts: SCHEDULER_MOUNTS,
        containers: [
          {
            name: 'kube-scheduler',
            image: IMAGES.kubeScheduler,
            command: ['kube-scheduler', ...schedulerFlags()],
            resources: { requests: { cpu: '100m' } },
            livenessProbe: httpsProbe('/healthz', SCHEDULER_PORT, 8),
            mounts: SCHEDULER_MOUNTS.map((m) => m.name),
          },
        ],
      }),
    ],
    units: [
      unit(CONTROL_PLANE_AUTH_UNIT, {
        Unit: {
          Description: 'Write the API server token file and kubelet-client certificate from the fetched secrets',
          Requires: FETCH_SECRETS_UNIT,
          After: FETCH_SECRETS_UNIT,
          Before: KUBELET_UNIT,
        },
        Service: { Type: 'oneshot', RemainAfterExit: true, ExecStart: CONTROL_PLANE_AUTH_SCRIPT },
        Install: { WantedBy: 'multi-user.target' },
      }),
      unit(MARK_CONTROL_PLANE_UNIT, {
        Unit: {
          Description: `Label this master's Node ${CONTROL_PLANE_LABEL} (no kubelet may set it on itself)`,
          Requires: CONTROL_PLANE_AUTH_UNIT,
          After: [CONTROL_PLANE_AUTH_UNIT, KUBELET_UNIT],
        },
        Service: { Type: 'oneshot', RemainAfterExit: true, ExecStart: MARK_CONTROL_PLANE_SCRIPT, Restart: 'on-failure', RestartSec: 30 },
        Install: { WantedBy: 'multi-user.target' },
      }),
      unit(WEBHOOK_UNIT, {
        Unit: {
          Description: `Authentication and authorization webhook (${WEBHOOK_LISTEN_ADDRESS}:${WEBHOOK_PORT}) for the API server`,
          // control-plane-auth writes the approver's token.
          Requires: ['docker.service', FETCH_SECRETS_UNIT, CONTROL_PLANE_AUTH_UNIT],
          After: ['docker.service', FETCH_SECRETS_UNIT, CONTROL_PLANE_AUTH_UNIT, 'network-online.target'],
          Wants: 'network-online.target',
          Before: KUBELET_UNIT,
        },
        Service: {
          ExecStartPre: command('-/usr/bin/docker', ['rm', '-f', 'kube-auth-webhook']),
          ExecStart: command('/usr/bin/docker', [
            'run',
            '--rm',
            '--name=kube-auth-webhook',
            '--network=host',
            '--read-only',
            '--cap-drop=ALL',
            '--security-opt=no-new-privileges',
            `--volume=/opt/kube-auth-webhook:/opt/kube-auth-webhook:ro`,
            `--volume=${WEBHOOK_DIR}:${WEBHOOK_DIR}:ro`,
            ...readOnlyVolumes(WEBHOOK_APPROVER_CONNECTION.tokenFile, WEBHOOK_APPROVER_CONNECTION.caFile),
            IMAGES.node,
            'node',
            WEBHOOK_BUNDLE_PATH,
            `--config=${WEBHOOK_CONFIG_PATH}`,
            `--listen=${WEBHOOK_LISTEN_ADDRESS}:${WEBHOOK_PORT}`,
          ]),
          ExecStop: command('/usr/bin/docker', ['stop', 'kube-auth-webhook']),
          Restart: 'always',
          RestartSec: 5,
        },
        Install: { WantedBy: 'multi-user.target' },
      }),
    ],
  };
}

/**
 * The node's hosts file, naming this master's own API server as the internal API endpoint.
 * kube-proxy and flannel reach the API through that name on every node (manifests/addons),
 * but a master must not go through the internal load balancer: it preserves the client
 * address, and drops a connection that comes back to the instance it came from. Host-network
 * pods get the node's hosts file (kubernetes/kubernetes pkg/kubelet/kubelet_pods.go
 * ensureHostsFile: nodeHostsFileContent for hostNetwork pods), and the API server's
 * certificate names the endpoint, so they land on 127.0.0.1:443 here. The whole file is
 * written, localhost lines included.
 */
export function masterHostsFile(input: MasterNodeInput): string {
  return [
    '# kubernetes-on-aws: this master is its own internal API endpoint (userdata/master.ts masterHostsFile).',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost',
    `127.0.0.1\t${internalApiDnsName(input)}`,
    '',
  ].join('\n');
}

/** The full Ignition config of a master (an S3 asset; the user data is the stub). */
export function masterConfig(input: MasterNodeInput): IgnitionConfig {
  validateMasterInput(input);
  const network = resolveNetwork(input, 'master');
  const secrets = {
    dir: KUBERNETES_PKI_DIR,
    secrets: [
      { id: new ClusterSecretNames(input.cluster).controlPlane, files: controlPlaneSecretFiles(input.breakGlassAdminToken) },
      { id: new ClusterSecretNames(input.cluster).apiServerEtcdClient, files: APISERVER_ETCD_CLIENT_SECRET_FILES },
    ],
  };
  return ignitionConfig(
    mergeParts(
      nodeBootstrapParts(input, 'master'),
      fetchSecretsParts({ ...secrets, before: [CONTROL_PLANE_AUTH_UNIT, WEBHOOK_UNIT, KUBELET_UNIT] }),
      certificateRefreshParts({ secrets, selfIssued: SELF_ISSUED_CERTIFICATES, restarts: CERTIFICATE_REFRESH_RESTARTS, after: [CONTROL_PLANE_AUTH_UNIT, KUBELET_UNIT] }),
      kubernetesNodeParts({
        identity: input,
        // Masters talk to their own API server: a load balancer cannot hairpin a target to itself.
        apiServer: LOCAL_API_SERVER,
        certificateAuthority: pki('ca.crt'),
        network,
        healthzBindAddress: '127.0.0.1',
        registerWithTaints: [{ key: CONTROL_PLANE_LABEL, effect: 'NoSchedule' }],
        nodeLabels: { 'kubernetes-on-aws/role': 'master' },
        after: [CONTROL_PLANE_AUTH_UNIT, WEBHOOK_UNIT],
      }),
      controlPlaneParts(input, network),
      podIdentityWebhookParts(input),
      healthSignalParts({ healthCheck: healthCheck(network), after: [KUBELET_UNIT] }),
    ),
  );
}

