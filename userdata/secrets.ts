/**
 * fetch-secrets.service: the only way secrets reach a node. Each secret's SecretString is a
 * JSON object whose keys are file names; every key is written as a file, mode 0600, into the
 * role's PKI directory, at boot and (etcd members and masters) daily again by
 * certificate-refresh.ts, which takes renewed leaf certificates only (REFRESH_FLAG). The config
 * names the secrets and the files each must hold; no value is ever in a config, an asset or
 * user data.
 */
import { directory, MODE_PRIVATE_DIR, script } from './files';
import { NodeParts } from './ignition';
import { AFTER_IDENTITY, AWS, AWS_UNIT_DEPENDENCIES } from './node-bootstrap';
import { bin, CLUSTER_ENV, NODE_ENV } from './paths';
import { command, unit } from './units';

export const FETCH_SECRETS_SCRIPT = bin('fetch-secrets');
export const FETCH_SECRETS_UNIT = 'fetch-secrets.service';

/**
 * fetch-secrets' first argument for the daily refresh (certificate-refresh.ts): of each secret
 * it takes renewed leaf certificates only. Without it (the boot unit) every file is taken.
 */
export const REFRESH_FLAG = '--refresh';

/**
 * Each leaf certificate of a secret (lib/secrets/bundles.ts) and the CA file of the same secret
 * that signs it: the file the node trusts for that CA. The renewal (lib/secrets/renewal.ts)
 * re-issues a leaf and its key from this CA and changes no other file; a rotation replaces the
 * CA too. A test holds this table to lib/secrets/certificate-metric.ts setCertificates. A
 * leaf not listed here is never taken by the refresh, only at boot.
 */
export const LEAF_CA_FILES: Readonly<Record<string, string>> = {
  'member.crt': 'ca.crt',
  'apiserver-etcd-client.crt': 'etcd-ca.crt',
  'apiserver.crt': 'ca.crt',
  'front-proxy-client.crt': 'front-proxy-ca.crt',
};

/**
 * The message of a refresh that found more than a renewal in a secret (names only, no value).
 * `<4>` is sd-daemon's SD_WARNING: journald stores the line at priority warning (journalctl
 * -p warning, `systemctl status`) and strips the prefix (systemd.exec(5) SyslogLevelPrefix=,
 * default true; systemd/systemd src/journal/journald-stream.c stdout_stream_log calls
 * syslog_parse_priority when level_prefix is set: read from a stored copy, not at Flatcar's
 * systemd tag). The unit still succeeds: a rotation waits for the operator, it is not a fault.
 */
export const ROTATED_MESSAGE = 'the secret was rotated: replace this node to apply it (lib/secrets/README.md, Rotation)';

/**
 * Runs at boot (fetch-secrets.service) and again daily (certificate-refresh.ts), so it changes
 * only what changed: a file whose content is the same keeps its inode and mtime, and a changed
 * certificate (X.crt) is put in place only with a key (X.key) it matches, else nothing of that
 * secret is.
 *
 * Not atomically: each file is renamed into place on its own, the keys first, so between two
 * renames (microseconds) a reader can see a new key beside its old certificate. etcd, which
 * reads both files on every TLS handshake (etcd-io/etcd v3.5.27 client/pkg/tlsutil/tlsutil.go
 * NewCert: the certificate file, then the key file, then tls.X509KeyPair), fails a handshake
 * that falls in it, since tls.X509KeyPair refuses a key that does not match its certificate
 * (golang/go src/crypto/tls/tls.go, read from a stored copy, not at etcd's Go version); the
 * client retries. kube-apiserver skips a mismatched pair and keeps serving the one it has
 * (certificate-refresh.ts). Either order has such a moment; keys first because a new
 * certificate then never appears before its key, and if the run stops between the two (a
 * crash), the next refresh sees a renewed certificate whose key is already there and takes it,
 * where the other order would leave a changed key alone, which the refresh refuses as a
 * rotation until the node boots.
 *
 * With REFRESH_FLAG a secret changes only when its change is a renewal: every changed file is
 * a leaf certificate of LEAF_CA_FILES (with or without its key) that the node's own copy of
 * its CA file verifies (as it was at boot: a refresh never takes a CA). Anything else (a CA,
 * a key alone, a token, sa.key, encryption-config.yaml, an unknown or added file, a leaf of
 * another CA) is a rotation, which running nodes must not take one by one at random times
 * (lib/secrets/README.md, Rotation): nothing of that secret changes, ROTATED_MESSAGE names the
 * changed files, and the boot of a replacement node takes it.
 * `openssl verify` also trusts the system's default CA directory and store unless told not
 * to (openssl/openssl apps/lib/apps.c setup_verify: the default hash dir is added unless
 * noCApath, the default store unless noCAstore; OpenSSL 3.x, read from a stored copy), so it
 * is given -no-CApath -no-CAstore: only the node's CA file counts.
 */
const fetchSecretsScript = `#!/bin/bash
# fetch-secrets [${REFRESH_FLAG}] DIR SECRET_ID:KEY,KEY... ...
# Writes every key of each secret's JSON SecretString as DIR/<key> (mode 0600) and fails
# unless the listed keys are all there. Files whose content is unchanged are left alone; the
# changed ones of a secret are renamed into place one after the other, keys (*.key) first,
# once every certificate X.crt of it matches its key X.key: for the microseconds between two
# renames a TLS handshake that reads the pair fails, and its client retries.
# With ${REFRESH_FLAG} (the daily refresh) only a renewal is taken: changed leaf certificates
# (and their keys) that their unchanged CA file verifies; any other change of a secret is a
# rotation, left for a node replacement, and logged as a warning.
# Never prints a value: no tracing, only file names and counts.
set -euo pipefail
umask 077
refresh=false
if [ "\${1:-}" = ${REFRESH_FLAG} ]; then
  refresh=true
  shift
fi
dir=$1
shift
# leaf_ca[X.crt]: the CA file of the same secret that signs the leaf certificate X.crt.
declare -A leaf_ca=(${Object.entries(LEAF_CA_FILES).map(([leaf, ca]) => `[${leaf}]=${ca}`).join(' ')})
install -d -m 0700 "$dir"
# Staged in DIR itself, so that a rename into place is atomic; no key starts with '.'.
staging=$(mktemp -d "$dir/.fetch-secrets.XXXXXX")
trap 'rm -rf "$staging"' EXIT
# public_key x509|pkey FILE: a digest of the public key of a certificate or a private key.
public_key() {
  if [ "$1" = x509 ]; then openssl x509 -noout -pubkey -in "$2"; else openssl pkey -pubout -in "$2"; fi 2>/dev/null |
    openssl pkey -pubin -outform DER 2>/dev/null | sha256sum
}
# next KEY: the file KEY will be once this secret is in place (the staged one if it changed).
next() { if [ -e "$staging/$1" ]; then echo "$staging/$1"; else echo "$dir/$1"; fi; }
# rotated CHANGED...: prints why, and succeeds, unless every changed file is a leaf certificate
# of leaf_ca (or the key of a changed one) that this node's CA file for it verifies. That file
# is the one the node trusts: a refresh never changes it (a CA is not a leaf).
rotated() {
  local key ca
  for key in "$@"; do
    case "$key" in
      *.crt) ca=\${leaf_ca[$key]:-} ;;
      *.key)
        [ -e "$staging/\${key%.key}.crt" ] && continue
        echo "$key changed without its certificate"
        return 0
        ;;
      *) ca='' ;;
    esac
    if [ -z "$ca" ]; then
      echo "$key is not a leaf certificate or its key"
    elif ! openssl verify -no-CApath -no-CAstore -CAfile "$dir/$ca" "$staging/$key" >/dev/null 2>&1; then
      echo "$key is not signed by this node's $ca"
    else
      continue
    fi
    return 0
  done
  return 1
}
for spec in "$@"; do
  id=\${spec%%:*}
  required=\${spec#*:}
  json=''
  for attempt in $(seq 1 30); do
    if json=$(${AWS} secretsmanager get-secret-value --secret-id "$id" \\
          --query SecretString --output text); then
      break
    fi
    echo "fetch-secrets: $id not readable yet (attempt $attempt/30)" >&2
    json=''
    sleep 10
  done
  if [ -z "$json" ]; then
    echo "fetch-secrets: could not read $id; check the instance role and the secret's KMS key policy" >&2
    exit 1
  fi
  keys=$(jq -r 'if type == "object" then keys[] else error("SecretString is not a JSON object") end' <<<"$json")
  for key in $keys; do
    case "$key" in
      .* | *[!A-Za-z0-9._-]*)
        echo "fetch-secrets: $id: refusing file name '$key'" >&2
        exit 1
        ;;
    esac
  done
  for key in \${required//,/ }; do
    if ! jq -e --arg k "$key" '.[$k] | type == "string" and length > 0' <<<"$json" >/dev/null; then
      echo "fetch-secrets: $id has no key '$key' (needed by this role)" >&2
      exit 1
    fi
  done
  changed=()
  for key in $keys; do
    jq -j --arg k "$key" '.[$k]' <<<"$json" >"$staging/$key"
    if cmp -s "$staging/$key" "$dir/$key"; then
      rm -f "$staging/$key"
    else
      changed+=("$key")
    fi
  done
  for key in $keys; do
    case "$key" in *.crt) ;; *) continue ;; esac
    pair=\${key%.crt}.key
    grep -qxF "$pair" <<<"$keys" || continue
    [ -e "$staging/$key" ] || [ -e "$staging/$pair" ] || continue
    if ! crt=$(public_key x509 "$(next "$key")") || ! private=$(public_key pkey "$(next "$pair")") || [ "$crt" != "$private" ]; then
      echo "fetch-secrets: $id: $key and $pair do not match (or do not parse); kept every file of $id as it was" >&2
      exit 1
    fi
  done
  if $refresh && why=$(rotated "\${changed[@]}"); then
    # Staging holds one secret's changes at a time: rotated reads it for the next secret.
    for key in "\${changed[@]}"; do rm -f "$staging/$key"; done
    echo "<4>fetch-secrets: $id: kept every file as it was, \${#changed[@]} changed: \${changed[*]} ($why): ${ROTATED_MESSAGE}" >&2
    continue
  fi
  # Keys first: a certificate is in place only once its key is.
  for key in "\${changed[@]}"; do
    case "$key" in *.key) ;; *) continue ;; esac
    chmod 0600 "$staging/$key"
    mv -f "$staging/$key" "$dir/$key"
  done
  for key in "\${changed[@]}"; do
    [ -e "$staging/$key" ] || continue
    chmod 0600 "$staging/$key"
    mv -f "$staging/$key" "$dir/$key"
  done
  echo "fetch-secrets: $id: $(wc -w <<<"$keys") files in $dir, \${#changed[@]} changed\${changed[*]:+: \${changed[*]}}"
done
`;

export interface SecretToFetch {
  /** Secret name; may use `${ETCD_MEMBER}` and other node.env variables (systemd expands them). */
  readonly id: string;
  /** File names (JSON keys) the role needs from it; the unit fails if one is missing. */
  readonly files: readonly string[];
}

export interface FetchSecretsOptions {
  /** Directory the files go to (created 0700). */
  readonly dir: string;
  readonly secrets: readonly SecretToFetch[];
  /** Units that need the files: fetch-secrets is ordered before them (they also Require= it). */
  readonly before: readonly string[];
}

/** fetch-secrets' arguments: the boot unit's, and certificate-refresh's (the same secrets and files). */
export function fetchSecretsArgs(options: Pick<FetchSecretsOptions, 'dir' | 'secrets'>): string[] {
  return [options.dir, ...options.secrets.map((s) => `${s.id}:${s.files.join(',')}`)];
}

/** The environment files fetch-secrets' arguments are expanded from (`${ETCD_MEMBER}`). */
export const FETCH_SECRETS_ENVIRONMENT = [CLUSTER_ENV, NODE_ENV];

export function fetchSecretsParts(options: FetchSecretsOptions): NodeParts {
  const args = fetchSecretsArgs(options);
  return {
    directories: [directory(options.dir, MODE_PRIVATE_DIR)],
    files: [script(FETCH_SECRETS_SCRIPT, fetchSecretsScript)],
    units: [
      unit(FETCH_SECRETS_UNIT, {
        Unit: {
          Description: "Fetch this role's secrets from Secrets Manager into files (mode 0600)",
          Wants: AWS_UNIT_DEPENDENCIES.Wants,
          Requires: [AWS_UNIT_DEPENDENCIES.Requires, ...AFTER_IDENTITY],
          After: [...AWS_UNIT_DEPENDENCIES.After, ...AFTER_IDENTITY],
          Before: options.before.join(' '),
        },
        Service: {
          Type: 'oneshot',
          RemainAfterExit: true,
          EnvironmentFile: FETCH_SECRETS_ENVIRONMENT,
          ExecStart: command(FETCH_SECRETS_SCRIPT, args),
        },
        Install: { WantedBy: 'multi-user.target' },
      }),
    ],
  };
}
