/**
 * fetch-secrets.service: the only way secrets reach a node. Each secret's SecretString is a
 * JSON object whose keys are file names; every key is written as a file, mode 0600, into the
 * role's PKI directory. The config names the secrets and the files each must hold; no value
 * is ever in a config, an asset or user data.
 */
import { directory, MODE_PRIVATE_DIR, script } from './files';
import { NodeParts } from './ignition';
import { AFTER_IDENTITY, AWS, AWS_UNIT_DEPENDENCIES } from './node-bootstrap';
import { bin, CLUSTER_ENV, NODE_ENV } from './paths';
import { command, unit } from './units';

export const FETCH_SECRETS_SCRIPT = bin('fetch-secrets');
export const FETCH_SECRETS_UNIT = 'fetch-secrets.service';

const fetchSecretsScript = `#!/bin/bash
# fetch-secrets DIR SECRET_ID:KEY,KEY... ...
# Writes every key of each secret's JSON SecretString as DIR/<key> (mode 0600) and fails
# unless the listed keys are all there. Never prints a value: no tracing, only key counts.
set -euo pipefail
umask 077
dir=$1
shift
install -d -m 0700 "$dir"
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
    tmp=$(mktemp "$dir/.$key.XXXXXX")
    jq -j --arg k "$key" '.[$k]' <<<"$json" >"$tmp"
    chmod 0600 "$tmp"
    mv -f "$tmp" "$dir/$key"
  done
  for key in \${required//,/ }; do
    if [ ! -s "$dir/$key" ]; then
      echo "fetch-secrets: $id has no key '$key' (needed by this role)" >&2
      exit 1
    fi
  done
  echo "fetch-secrets: wrote $(wc -w <<<"$keys") files of $id into $dir"
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

export function fetchSecretsParts(options: FetchSecretsOptions): NodeParts {
  const args = [options.dir, ...options.secrets.map((s) => `${s.id}:${s.files.join(',')}`)];
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
          EnvironmentFile: [CLUSTER_ENV, NODE_ENV],
          ExecStart: command(FETCH_SECRETS_SCRIPT, args),
        },
        Install: { WantedBy: 'multi-user.target' },
      }),
    ],
  };
}
