/**
 * A node's scripts, run for real as rendered, in a temporary directory: the node's paths
 * (/opt/bin, /etc/kubernetes-on-aws, /var/lib/kubernetes-on-aws, the PKI directories,
 * /run/flannel) are mapped into it, and the AWS CLI and IMDS are fakes answering from files
 * under $FAKE. Needs bash and jq (both in Flatcar and in this machine's image).
 */
import { spawn, spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { IgnitionConfig } from '../../userdata/ignition';
import { fileText } from './config-files';

/** The fake AWS CLI: answers from files under $FAKE, logs every call. */
const FAKE_AWS = `#!/bin/bash
echo "$*" >>"$FAKE/aws.log"
case "$1 $2" in
  "secretsmanager get-secret-value")
    id=$4
    f="$FAKE/secrets/\${id//\\//_}.json"
    [ -f "$f" ] && cat "$f" && exit 0
    echo "ResourceNotFoundException" >&2; exit 254 ;;
  "ec2 describe-tags") cat "$FAKE/tags.json" ;;
  "cloudformation signal-resource") echo "$*" >>"$FAKE/signals" ;;
  *) echo "fake aws: unexpected $*" >&2; exit 2 ;;
esac
`;

const FAKE_IMDS = `#!/bin/bash
case "$1" in
  instance-id) echo -n i-0123456789abcdef0 ;;
  placement/availability-zone) echo -n eu-central-1a ;;
  placement/region) echo -n eu-central-1 ;;
  local-hostname) echo -n ip-10-0-1-23.eu-central-1.compute.internal ;;
  local-ipv4) echo -n 10.0.1.23 ;;
  *) exit 22 ;;
esac
`;

/**
 * curl as a ready probe calls it (the URL its last word): logs `probe URL` to $FAKE/events.log
 * and its arguments to $FAKE/curl.log, then answers like a refused connection (exit 7) while
 * $FAKE/endpoints/<URL> (FakeNode.endpoint) holds a count above 0, counting it down, or `never`;
 * otherwise it succeeds.
 */
export const FAKE_CURL = `#!/bin/bash
url=\${*: -1}
echo "probe $url" >>"$FAKE/events.log"
echo "curl $*" >>"$FAKE/curl.log"
f="$FAKE/endpoints/\${url//[^A-Za-z0-9]/_}"
[ -f "$f" ] || exit 0
left=$(cat "$f")
if [ "$left" = never ] || [ "$left" -gt 0 ]; then
  [ "$left" = never ] || echo $((left - 1)) >"$f"
  echo "curl: (7) Failed to connect to $url" >&2
  exit 7
fi
`;

export class FakeNode {
  readonly root = mkdtempSync(join(tmpdir(), 'boot-scripts-'));

  constructor(private readonly config: IgnitionConfig) {
    for (const d of ['bin', 'etc', 'state', 'fake/secrets']) mkdirSync(join(this.root, d), { recursive: true });
    this.write('bin/aws', FAKE_AWS, 0o755);
    this.write('bin/imds', FAKE_IMDS, 0o755);
    this.write('etc/cluster.env', this.mapPaths(fileText(config, '/etc/kubernetes-on-aws/cluster.env')));
  }

  mapPaths(text: string): string {
    return text
      .replaceAll('/opt/bin/', `${this.root}/bin/`)
      .replaceAll('/etc/kubernetes-on-aws/', `${this.root}/etc/`)
      .replaceAll('/var/lib/kubernetes-on-aws/', `${this.root}/state/`)
      .replaceAll('/etc/kubernetes/pki', `${this.root}/pki`)
      .replaceAll('/etc/kubernetes/auth', `${this.root}/auth`)
      .replaceAll('/etc/etcd/pki', `${this.root}/etcd-pki`)
      .replaceAll('/run/flannel/', `${this.root}/run/flannel/`);
  }

  write(path: string, text: string, mode = 0o644): void {
    writeFileSync(join(this.root, path), text, { mode });
  }

  read(path: string): string {
    return readFileSync(join(this.root, path), 'utf8');
  }

  /**
   * Writes /opt/bin/<name> as rendered, paths mapped, then each `replace` key (which must occur:
   * a test never runs a script its replacement missed) by its value; returns its path.
   */
  install(name: string, replace: Record<string, string> = {}): string {
    let text = this.mapPaths(fileText(this.config, `/opt/bin/${name}`));
    for (const [from, to] of Object.entries(replace)) {
      if (!text.includes(from)) throw new Error(`${name} does not contain '${from}'`);
      text = text.replaceAll(from, to);
    }
    this.write(`bin/${name}`, text, 0o755);
    return join(this.root, 'bin', name);
  }

  private env(env: Record<string, string>): NodeJS.ProcessEnv {
    return { ...process.env, FAKE: join(this.root, 'fake'), ...env };
  }

  /** Runs /opt/bin/<name> as rendered (paths mapped). */
  run(name: string, args: string[] = [], env: Record<string, string> = {}) {
    return spawnSync(this.install(name), args, { encoding: 'utf8', env: this.env(env), timeout: 20000 });
  }

  /** Like run, without blocking the event loop (for fakes served by this process). */
  runAsync(name: string, replace: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const child = spawn(this.install(name, replace), [], { env: this.env({}), timeout: 20000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
  }

  /** How FAKE_CURL answers `url`: refused `refusals` times, then ready; or never ready. Unset: ready at once. */
  endpoint(url: string, refusals: number | 'never'): void {
    mkdirSync(join(this.root, 'fake/endpoints'), { recursive: true });
    this.write(`fake/endpoints/${url.replace(/[^A-Za-z0-9]/g, '_')}`, String(refusals));
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

