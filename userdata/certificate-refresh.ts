/**
 * certificate-refresh.timer: daily, each etcd member and master re-fetches its secrets (the
 * same fetch-secrets and arguments as at boot, plus REFRESH_FLAG: secrets.ts, which replaces
 * only the files whose content changed, a certificate only with its matching key, and here
 * only renewed leaf certificates: a rotated secret is left for the operator's node replacement
 * and logged), re-issues the certificates it issues itself once a third of their lifetime is
 * left (masters: issue-certificate), then restarts only the components whose files changed
 * and that would not see the new files.
 *
 * What reloads by itself (read at the pinned versions):
 * - etcd reads its serving and peer certificate from the files on every TLS handshake
 *   (etcd-io/etcd v3.5.27 client/pkg/transport/listener.go TLSInfo.baseConfig: GetCertificate
 *   and GetClientCertificate call tlsutil.NewCert(CertFile, KeyFile) each time), so a renewed
 *   member.crt/member.key needs no restart. Its trusted CA is read once (ServerConfig
 *   ClientCAs, ClientConfig RootCAs): a changed ca.crt restarts etcd.
 * - kube-apiserver reloads --tls-cert-file and --proxy-client-cert-file from disk (fsnotify and
 *   a check every minute; a pair that does not match is skipped until it does: kubernetes/apiserver
 *   v0.35.1 pkg/server/options/serving.go ApplyTo -> pkg/server/dynamiccertificates/
 *   dynamic_serving_content.go; kubernetes/kube-aggregator v0.35.1 pkg/apiserver/apiserver.go
 *   "aggregator-proxy-cert"), and its etcd client reads --etcd-certfile on every new connection
 *   (kubernetes/apiserver v0.35.1 pkg/storage/storagebackend/factory/etcd3.go: transport.TLSInfo
 *   .ClientConfig of go.etcd.io/etcd/client/pkg v3.6.5, GetClientCertificate). The kubelet client
 *   certificate is not reloaded: kubernetes/kubernetes pkg/kubelet/client/kubelet_client.go
 *   builds its transport once with transport.TLSConfigFor, without ReloadTLSFiles (read from a
 *   stored copy, commit 010528e3; the v1.35.1 tag itself could not be fetched).
 * - amazon-eks-pod-identity-webhook v0.6.17 main.go (out of cluster) serves through
 *   controller-runtime's certwatcher, which reloads --tls-cert/--tls-key.
 *
 * But every static pod (and the docker-run auth webhook) mounts its files one by one, and a
 * single-file bind mount keeps the inode it was made with: a file renamed over the host path
 * is never seen inside the container (mount(2) bind semantics; the reason master.ts gives for
 * --encryption-provider-config). So on masters a component is restarted whenever one of its
 * mounted files changed, whatever it reloads; a new container mounts the new files.
 *
 * How: a static pod's container is stopped (crictl stop --timeout: the CRI's stop signal, then
 * a kill after the pods' default 30 s grace), found by its name and the namespace label the
 * kubelet puts on every container (io.kubernetes.pod.namespace, pkg/kubelet/kuberuntime/labels.go).
 * The kubelet starts a new container in place of an exited one under restartPolicy Always, the
 * default (kubernetes/kubernetes pkg/kubelet/container/helpers.go ShouldContainerBeRestarted,
 * called by kuberuntime_manager.go computePodActions; both read from stored copies, not at the
 * v1.35.1 tag, which could not be fetched). Touching the manifest would do nothing: the kubelet
 * replaces a static pod only when its content changes. crictl is in Flatcar's base image
 * (flatcar/scripts coreos-base/coreos/coreos-0.0.1.ebuild RDEPEND app-containers/cri-tools, read
 * at a stored commit, not at the stable tag). A systemd unit is `systemctl try-restart`ed.
 *
 * Masters stand behind load balancers: each restarts its API server at its own random time of
 * the day, so one is down for its restart while the others serve. Two masters may still draw
 * times within a restart of each other (nothing coordinates them), and requests in flight on
 * the one restarting (watches, exec) are cut and must be retried by their clients.
 *
 * Restarts run one at a time, in the order given; after one with a ready probe the refresh
 * waits until the restarted component answers it (READY_TIMEOUT_SECONDS at most) before the
 * next. On masters the API server goes first: every other component talks to it or is called
 * by it. One that does not come back fails the unit with an error line (`<3>`: priority err, as
 * secrets.ts ROTATED_MESSAGE explains for `<4>`), so a file set that breaks a component shows
 * as a failed unit on each master that takes it, not silently. The remaining restarts still happen: their files are already in place, and a
 * component not restarted now would not be restarted by tomorrow's refresh either (its files
 * will not change again), so it would keep the old inodes until its certificate expires;
 * everything restarted after a broken API server is of no use until it is back anyway. Nothing
 * rolls the files back or stops the other masters' refreshes: the failed unit is the signal.
 */
import { script } from './files';
import { IgnitionFile, NodeParts } from './ignition';
import { CONTAINERD_SOCKET } from './containerd';
import { AFTER_IDENTITY, AWS_UNIT_DEPENDENCIES } from './node-bootstrap';
import { auth, bin, KUBERNETES_AUTH_DIR, KUBERNETES_PKI_DIR } from './paths';
import { FETCH_SECRETS_ENVIRONMENT, FETCH_SECRETS_SCRIPT, FETCH_SECRETS_UNIT, fetchSecretsArgs, FetchSecretsOptions, REFRESH_FLAG } from './secrets';
import { command, unit } from './units';

export const CERTIFICATE_REFRESH_SCRIPT = bin('certificate-refresh');
export const CERTIFICATE_REFRESH_UNIT = 'certificate-refresh.service';
export const CERTIFICATE_REFRESH_TIMER = 'certificate-refresh.timer';
export const ISSUE_CERTIFICATE_SCRIPT = bin('issue-certificate');

/**
 * Daily, at a random time within the first RANDOMIZED_DELAY of the day, different on each
 * node and each day: masters restart their API servers one at a time, unless two draw times
 * within a restart of each other. Persistent: a node that was off at the time runs it at boot.
 */
export const REFRESH_CALENDAR = 'daily';
export const RANDOMIZED_DELAY = '6h';
/** Seconds crictl waits after SIGTERM before SIGKILL: a pod's default terminationGracePeriodSeconds. */
export const STOP_TIMEOUT_SECONDS = 30;
/**
 * How long a restarted component has to answer its ready probe: longer than the kubelet lets
 * the API server start (its startup probe: 24 failures 10 s apart, master.ts). Set in the
 * unit's Environment (a drop-in may change it). systemd does not cut the waits short: a
 * oneshot service has no start timeout unless it sets one (systemd.service(5) TimeoutStartSec=).
 */
export const READY_TIMEOUT_SECONDS = 300;
/** Pause between two ready probes. */
export const READY_INTERVAL_SECONDS = 5;
/** Lifetime of a self-issued certificate; renewed once less than a third of it is left. */
export const SELF_ISSUED_DAYS = 365;

/** A certificate a master signs itself with the cluster CA: `<auth>/<name>.crt` and `.key`. */
export interface SelfIssuedCertificate {
  /** File name stem in the auth directory. */
  readonly name: string;
  /** Subject common name (the user, for a client certificate). */
  readonly commonName: string;
  /** extendedKeyUsage. */
  readonly usage: 'clientAuth' | 'serverAuth';
  /** subjectAltName, e.g. `IP:127.0.0.1`. @default none */
  readonly subjectAltName?: string;
}

/** The certificate and key files of a self-issued certificate. */
export function selfIssuedFiles(certificate: SelfIssuedCertificate): string[] {
  return [auth(`${certificate.name}.crt`), auth(`${certificate.name}.key`)];
}

/** What to restart: a kube-system static pod's container (by name), or a systemd unit. */
export type Restart = { readonly container: string } | { readonly unit: string };

/** A local HTTP(S) endpoint that answers 2xx once a component serves. */
export interface ReadyProbe {
  /** Its URL on this node, e.g. `https://127.0.0.1:443/readyz`. */
  readonly url: string;
  /**
   * The CA file that verifies an https endpoint's certificate (and that it names the URL's host).
   * @default none: the certificate is not verified (a component serving a self-signed
   * certificate made at start; the kubelet's probes do not verify either). No credential is sent.
   */
  readonly caFile?: string;
}

/** The probe as the words of a curl command: succeeds only on a 2xx answer within 5 s, prints nothing. */
export function probeCommand(probe: ReadyProbe): string {
  const tls = probe.url.startsWith('https://') ? (probe.caFile ? ['--cacert', probe.caFile] : ['--insecure']) : [];
  const words = ['curl', '-fsS', '--max-time', '5', '--output', '/dev/null', ...tls, probe.url];
  for (const word of words) {
    if (!/^[A-Za-z0-9:/._-]+$/.test(word)) throw new Error(`ready probe ${probe.url}: '${word}' must be [A-Za-z0-9:/._-] only (it is a shell word)`);
  }
  return words.join(' ');
}

/** A component that must be restarted to use its files once one of them changed. */
export interface RestartOnChange {
  /** Files it reads without reloading them (or through single-file bind mounts). */
  readonly files: readonly string[];
  readonly restart: Restart;
  /**
   * Answers once the restarted component serves: the refresh waits for it (READY_TIMEOUT_SECONDS
   * at most) before the next restart, and fails the unit if it never does.
   * @default none: the next restart follows at once
   */
  readonly ready?: ReadyProbe;
}

export interface CertificateRefreshProps {
  /** The node's secrets, as its fetch-secrets unit fetches them (the same arguments). */
  readonly secrets: Pick<FetchSecretsOptions, 'dir' | 'secrets'>;
  /** Certificates this node issues itself, re-issued when due. @default none */
  readonly selfIssued?: readonly SelfIssuedCertificate[];
  /**
   * Components to restart when a file they read changed, one after the other in this order
   * (each with a ready probe waited for). Only files the refresh can change count (those in
   * the secrets' directory and the self-issued ones); a component none of whose files is one
   * of them is an error.
   */
  readonly restarts: readonly RestartOnChange[];
  /** The boot units the refresh must not overlap (it runs after them). */
  readonly after: readonly string[];
}

/**
 * issue-certificate [--if-due] NAME CN USAGE [SAN]: signs `<auth>/NAME.crt` (and a new P-256
 * key) with the cluster CA for SELF_ISSUED_DAYS. At boot (control-plane-auth) always; with
 * --if-due (the daily refresh) only when the current one is missing, not from this CA, not
 * the key's, or has less than a third of its lifetime left. Key and certificate are renamed
 * into place one right after the other, the key first, as fetch-secrets does (secrets.ts: for
 * the microseconds between the renames a reader of both files sees a mismatched pair, which
 * Go's tls.X509KeyPair refuses); what uses them is restarted after both (the refresh).
 */
const issueCertificateScript = `#!/bin/bash
# issue-certificate [--if-due] NAME CN USAGE [SAN]: ${KUBERNETES_AUTH_DIR}/NAME.crt and NAME.key, signed
# with the cluster CA for ${SELF_ISSUED_DAYS} days; with --if-due only once less than a third of the current one's lifetime is left.
set -euo pipefail
umask 077
pki=${KUBERNETES_PKI_DIR}
auth=${KUBERNETES_AUTH_DIR}
if_due=false
if [ "$1" = --if-due ]; then if_due=true; shift; fi
name=$1 cn=$2 usage=$3 san=\${4:-}
crt=$auth/$name.crt
key=$auth/$name.key
# current: the certificate exists, this CA signed it, it is still valid, it is its key's, and
# more than a third of its lifetime is left.
current() {
  [ -s "$crt" ] && [ -s "$key" ] || return 1
  openssl verify -no-CApath -no-CAstore -CAfile "$pki/ca.crt" "$crt" >/dev/null 2>&1 || return 1
  [ "$(openssl x509 -noout -pubkey -in "$crt" | sha256sum)" = "$(openssl pkey -pubout -in "$key" 2>/dev/null | sha256sum)" ] || return 1
  local start end now
  start=$(date -d "$(openssl x509 -noout -startdate -in "$crt" | cut -d= -f2)" +%s)
  end=$(date -d "$(openssl x509 -noout -enddate -in "$crt" | cut -d= -f2)" +%s)
  now=$(date +%s)
  [ $((3 * (end - now))) -gt $((end - start)) ]
}
if $if_due && current; then
  echo "issue-certificate: $crt has more than a third of its lifetime left; kept"
  exit 0
fi
install -d -m 0700 "$auth"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \\
  -subj "/CN=$cn" -keyout "$auth/$name.key.new" -out "$auth/$name.csr" 2>/dev/null
{
  printf 'keyUsage=critical,digitalSignature\\nextendedKeyUsage=%s\\n' "$usage"
  if [ -n "$san" ]; then printf 'subjectAltName=%s\\n' "$san"; fi
} >"$auth/$name.ext"
openssl x509 -req -in "$auth/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \\
  -set_serial "0x$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n')" -days ${SELF_ISSUED_DAYS} -sha256 \\
  -extfile "$auth/$name.ext" -out "$auth/$name.crt.new" 2>/dev/null
# Key first, then its certificate (fetch-secrets' order); a reader between the two sees a
# mismatched pair and fails, for microseconds.
mv -f "$auth/$name.key.new" "$key"
mv -f "$auth/$name.crt.new" "$crt"
rm -f "$auth/$name.csr" "$auth/$name.ext"
echo "issue-certificate: issued $crt (CN $cn), $(openssl x509 -noout -enddate -in "$crt")"
`;

/** The issue-certificate script (masters). */
export function issueCertificateFile(): IgnitionFile {
  return script(ISSUE_CERTIFICATE_SCRIPT, issueCertificateScript);
}

/** One issue-certificate command line for a shell script. */
export function issueCertificateCommand(certificate: SelfIssuedCertificate, options: { readonly ifDue: boolean }): string {
  const args = [certificate.name, certificate.commonName, certificate.usage, ...(certificate.subjectAltName ? [certificate.subjectAltName] : [])];
  for (const arg of args) {
    if (!/^[A-Za-z0-9:.,_-]+$/.test(arg)) throw new Error(`self-issued certificate ${certificate.name}: '${arg}' must be [A-Za-z0-9:.,_-] only (it is a shell word)`);
  }
  return [ISSUE_CERTIFICATE_SCRIPT, ...(options.ifDue ? ['--if-due'] : []), ...args].join(' ');
}

function restartCommand(restart: Restart): string {
  return 'container' in restart ? `restart_container ${restart.container}` : `systemctl try-restart ${restart.unit}`;
}

function restartName(restart: Restart): string {
  return 'container' in restart ? restart.container : restart.unit;
}

function refreshScript(props: CertificateRefreshProps): string {
  const selfIssued = props.selfIssued ?? [];
  const refreshed = (path: string) => path.startsWith(`${props.secrets.dir}/`) || selfIssued.some((c) => selfIssuedFiles(c).includes(path));
  const restarts = props.restarts.map((r) => {
    const files = r.files.filter(refreshed);
    if (files.length === 0) {
      throw new Error(`certificate refresh: restart of ${restartName(r.restart)} lists no file the refresh changes (${r.files.join(', ')}); drop it or name its files under ${props.secrets.dir}`);
    }
    return { ...r, files };
  });
  const watched = [...new Set(restarts.flatMap((r) => r.files))];
  const containers = restarts.some((r) => 'container' in r.restart);
  const probes = restarts.some((r) => r.ready);
  return `#!/bin/bash
# certificate-refresh FETCH-SECRETS-ARGS...: re-fetches this node's renewed certificates (fetch-secrets ${REFRESH_FLAG}),${selfIssued.length ? ' re-issues its own certificates when due,' : ''}
# then restarts only what uses a file that changed. A failed step does not skip the restarts
# of files already replaced; the unit fails afterwards.
set -euo pipefail
${watched.length === 0 ? '' : `digest() { sha256sum "$1" 2>/dev/null | cut -d' ' -f1; }
watched=(${watched.join(' ')})
declare -A before
for file in "\${watched[@]}"; do before[$file]=$(digest "$file"); done
# changed FILE...: one of the files differs from what it was when the refresh began.
changed() {
  local file
  for file in "$@"; do [ "$(digest "$file")" = "\${before[$file]}" ] || return 0; done
  return 1
}
`}${containers ? `# restart_container NAME: stops the running kube-system container NAME; the kubelet starts a new one, which mounts the new files.
restart_container() {
  local ids
  ids=$(crictl --runtime-endpoint unix://${CONTAINERD_SOCKET} ps --quiet --state running --name "^$1\\$" --label io.kubernetes.pod.namespace=kube-system) || return 1
  if [ -z "$ids" ]; then
    echo "certificate-refresh: $1 is not running; the kubelet starts it with the new files"
    return 0
  fi
  # shellcheck disable=SC2086 # one container id per word
  crictl --runtime-endpoint unix://${CONTAINERD_SOCKET} stop --timeout ${STOP_TIMEOUT_SECONDS} $ids >/dev/null
}
` : ''}${probes ? `# wait_ready NAME PROBE...: runs PROBE until it succeeds (NAME serves again) or READY_TIMEOUT_SECONDS pass.
wait_ready() {
  local name=$1 deadline
  shift
  deadline=$(($(date +%s) + READY_TIMEOUT_SECONDS))
  until "$@"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "<3>certificate-refresh: $name did not answer ready within \${READY_TIMEOUT_SECONDS}s of its restart with the new files ($*); its files are in place, see its log" >&2
      return 1
    fi
    sleep "$READY_INTERVAL_SECONDS"
  done
  echo "certificate-refresh: $name is ready"
}
` : ''}failed=0
${FETCH_SECRETS_SCRIPT} ${REFRESH_FLAG} "$@" || failed=1
${selfIssued.map((c) => `${issueCertificateCommand(c, { ifDue: true })} || failed=1\n`).join('')}${restarts
    .map(
      (r) => `if changed ${r.files.join(' ')}; then
  echo "certificate-refresh: restarting ${restartName(r.restart)}: its files changed"
${
  r.ready
    ? `  if ${restartCommand(r.restart)}; then
    wait_ready ${restartName(r.restart)} ${probeCommand(r.ready)} || failed=1
  else
    failed=1
  fi`
    : `  ${restartCommand(r.restart)} || failed=1`
}
fi
`,
    )
    .join('')}exit $failed
`;
}

/** The refresh script, its service and its daily timer. */
export function certificateRefreshParts(props: CertificateRefreshProps): NodeParts {
  return {
    directories: [],
    files: [script(CERTIFICATE_REFRESH_SCRIPT, refreshScript(props))],
    units: [
      unit(CERTIFICATE_REFRESH_UNIT, {
        Unit: {
          Description: "Re-fetch this node's certificates, re-issue its own when due, restart what uses changed files",
          Wants: AWS_UNIT_DEPENDENCIES.Wants,
          Requires: [AWS_UNIT_DEPENDENCIES.Requires, ...AFTER_IDENTITY],
          After: [...AWS_UNIT_DEPENDENCIES.After, ...AFTER_IDENTITY, FETCH_SECRETS_UNIT, ...props.after],
        },
        Service: {
          Type: 'oneshot',
          // The same environment and arguments as fetch-secrets.service (secret ids use ${ETCD_MEMBER}).
          EnvironmentFile: FETCH_SECRETS_ENVIRONMENT,
          ...(props.restarts.some((r) => r.ready) ? { Environment: [`READY_TIMEOUT_SECONDS=${READY_TIMEOUT_SECONDS}`, `READY_INTERVAL_SECONDS=${READY_INTERVAL_SECONDS}`] } : {}),
          ExecStart: command(CERTIFICATE_REFRESH_SCRIPT, fetchSecretsArgs(props.secrets)),
        },
      }),
      unit(CERTIFICATE_REFRESH_TIMER, {
        Unit: { Description: 'Refresh certificates daily, at a random time per node' },
        Timer: { OnCalendar: REFRESH_CALENDAR, RandomizedDelaySec: RANDOMIZED_DELAY, Persistent: true, Unit: CERTIFICATE_REFRESH_UNIT },
        Install: { WantedBy: 'timers.target' },
      }),
    ],
  };
}
