/**
 * Which resolver each process of a rendered node config uses, and which names it dials,
 * derived from the config alone by the rules of the components that decide them: the kubelet
 * for pods, Docker for `docker run` containers, Flatcar for host processes. Nothing here is a
 * table of answers; a process this model does not know fails loudly instead of passing.
 */
import { load } from 'js-yaml';
import { decodeDataUrl } from '../../userdata/files';
import { IgnitionConfig } from '../../userdata/ignition';
import { files, units } from './config-files';

/** Where a process sends its DNS queries. */
export type Resolver =
  /** The cluster DNS Service (CoreDNS), reachable only once the API server and CoreDNS run. */
  | { readonly kind: 'cluster'; readonly servers: readonly string[] }
  /** The node's upstream servers (the VPC resolver), listed in `file`. */
  | { readonly kind: 'node'; readonly file: string }
  /** kubelet resolvConf "": 127.0.0.1, where nothing answers DNS on a Flatcar node. */
  | { readonly kind: 'loopback' }
  /** dnsPolicy None without dnsConfig: no server at all. */
  | { readonly kind: 'none' };

export interface Process {
  /** `<kind> <name>`, e.g. `static pod kube-apiserver/kube-apiserver`, `unit kubelet.service`. */
  readonly name: string;
  readonly resolver: Resolver;
  /** Every host name or IP literal the process connects to or looks up, as far as its config says. */
  readonly dials: readonly string[];
}

/**
 * Flatcar's /etc/resolv.conf is a link to systemd-resolved's list of upstream servers, not to
 * the 127.0.0.53 stub (flatcar/scripts stable-4459.2.4 sdk_container/src/third_party/
 * coreos-overlay/sys-apps/systemd/systemd-257.7-r1.ebuild: the tmpfiles rule is rewritten to
 * /run/systemd/resolve/resolv.conf). Host processes read it through glibc or Go's resolver.
 */
export const FLATCAR_ETC_RESOLV_CONF = { path: '/etc/resolv.conf', target: '/run/systemd/resolve/resolv.conf' };
/** The kubelet's default resolvConf (kubernetes/kubelet v0.35.1 config/v1beta1/types.go resolvConf). */
const KUBELET_DEFAULT_RESOLV_CONF = '/etc/resolv.conf';

/**
 * The resolver the kubelet gives a pod: kubernetes/kubernetes pkg/kubelet/network/dns/dns.go
 * getPodDNSType and GetPodDNS. An unset dnsPolicy is ClusterFirst: the API's default
 * (kubernetes/api v0.35.1 core/v1/types.go PodSpec.DNSPolicy; pkg/apis/core/v1/defaults.go
 * SetDefaults_PodSpec), applied to static pods too, which the kubelet decodes through the same
 * defaulting decoder (pkg/kubelet/config/common.go tryDecodeSinglePod). containerd writes the
 * servers it is handed into the sandbox's resolv.conf, host network or not (containerd v2.0.7
 * internal/cri/server/podsandbox/sandbox_run_linux.go setupSandboxFiles).
 */
export function podResolver(pod: any, kubelet: { clusterDNS?: readonly string[]; resolvConf?: string }): Resolver {
  const policy: string = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  const hostNetwork = pod.spec?.hostNetwork === true;
  let type: 'cluster' | 'host' | 'none';
  if (policy === 'None') type = 'none';
  else if (policy === 'ClusterFirstWithHostNet') type = 'cluster';
  else if (policy === 'ClusterFirst') type = hostNetwork ? 'host' : 'cluster';
  else if (policy === 'Default') type = 'host';
  else throw new Error(`pod ${pod.metadata?.name}: dnsPolicy '${policy}' is not a valid policy`);
  if (type === 'none') return { kind: 'none' };
  // ClusterFirst* without a clusterDNS falls back to the host's settings.
  if (type === 'cluster' && (kubelet.clusterDNS ?? []).length > 0) return { kind: 'cluster', servers: kubelet.clusterDNS! };
  const resolvConf = kubelet.resolvConf ?? KUBELET_DEFAULT_RESOLV_CONF;
  return resolvConf === '' ? { kind: 'loopback' } : { kind: 'node', file: resolvConf };
}

/**
 * Flags whose value is a domain the process looks SRV records up in: etcd's --discovery-srv
 * (etcd-io/etcd v3.5.27 server/embed/config.go GetDNSClusterNames: `_etcd-server-ssl._tcp` and
 * `_etcd-server._tcp` under it).
 */
const SRV_DISCOVERY_FLAGS: Readonly<Record<string, (domain: string) => string[]>> = {
  'discovery-srv': (domain) => [`_etcd-server-ssl._tcp.${domain}`, `_etcd-server._tcp.${domain}`],
};

/** Network URLs (s3:// and unix:// name no DNS host). */
const URL_IN_TEXT = /\bhttps?:\/\/[^\s"'`)]+/g;
/** An image reference with a registry host (what containerd and dockerd dial to pull it). */
const IMAGE_REFERENCE = /^([a-z0-9-]+(\.[a-z0-9-]+)+)(:[0-9]+)?\/[a-z0-9._/-]+(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$/;

class ConfigReader {
  private readonly text = new Map<string, string>();
  /** Variables the config defines in env files (cluster.env, etcd.env...); node.env exists only at boot. */
  private readonly vars = new Map<string, string>();

  constructor(config: IgnitionConfig) {
    for (const f of files(config)) {
      if (f.contents.source.startsWith('data:')) this.text.set(f.path, decodeDataUrl(f.contents.source));
    }
    for (const [path, text] of this.text) {
      if (!path.endsWith('.env')) continue;
      for (const line of text.split('\n')) {
        const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
        if (m) this.vars.set(m[1], m[2]);
      }
    }
  }

  file(path: string): string | undefined {
    return this.text.get(path);
  }

  get region(): string {
    const region = this.vars.get('REGION');
    if (!region) throw new Error('no REGION in the config\'s env files');
    return region;
  }

  /** `$VAR` / `${VAR}` replaced by the config's value, or (known only at boot) by its name as a DNS label. */
  expand(text: string): string {
    return text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, name: string) => this.vars.get(name) ?? name.toLowerCase().replace(/_/g, '-'));
  }

  isScript(path: string): boolean {
    return this.text.get(path)?.startsWith('#!') ?? false;
  }

  /** Hosts of the URLs in a text. */
  urlHosts(text: string): string[] {
    return (this.expand(text).match(URL_IN_TEXT) ?? []).map((u) => new URL(u).hostname.replace(/^\[|\]$/g, '')).filter((h) => h !== '');
  }

  /**
   * Names dialed because of a value: a URL's host; for a path of a (non-script) file of the
   * config, everything its strings name, recursively (kubeconfigs name their server, the
   * kube-proxy config its kubeconfig, the webhook config its token-info URL).
   */
  namesIn(value: string, seen: Set<string> = new Set()): string[] {
    const names = this.urlHosts(value);
    const path = this.expand(value);
    const text = this.text.get(path);
    if (text === undefined || seen.has(path) || this.isScript(path)) return names;
    seen.add(path);
    let document: unknown;
    try {
      document = load(text);
    } catch {
      return [...names, ...this.urlHosts(text)];
    }
    const strings: string[] = [];
    const walk = (node: unknown): void => {
      if (typeof node === 'string') strings.push(node);
      else if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') Object.values(node).forEach(walk);
    };
    walk(document);
    return [...names, ...strings.flatMap((s) => this.namesIn(s, seen))];
  }

  /** Names dialed because of command-line arguments (`--flag=value`, `--flag value`, positional). */
  namesInArgs(args: readonly string[]): string[] {
    const names: string[] = [];
    args.forEach((arg, i) => {
      const flag = /^--?([a-z0-9-]+)(=(.*))?$/.exec(arg);
      const name = flag?.[1];
      const value = flag ? (flag[2] !== undefined ? flag[3] : undefined) : arg;
      if (name && SRV_DISCOVERY_FLAGS[name]) {
        names.push(...SRV_DISCOVERY_FLAGS[name](this.expand(value ?? args[i + 1])));
      }
      if (value !== undefined) for (const piece of value.split(',')) names.push(...this.namesIn(piece));
    });
    return names;
  }
}

/** Splits a command line the way systemd and our scripts write them (no quoting inside arguments). */
function words(line: string): string[] {
  return line.split(/\s+/).filter((w) => w !== '').map((w) => w.replace(/^["']|["']$/g, ''));
}

/** The registry host of an image reference, if it names one. */
function registryOf(image: string): string | undefined {
  return IMAGE_REFERENCE.exec(image)?.[1];
}

/**
 * Every process of a node: each unit's commands (host binaries, scripts and the scripts they
 * call, `docker run` containers), the static pods the kubelet runs, the credential providers it
 * execs, and the image pulls of containerd and dockerd.
 */
export function processes(config: IgnitionConfig): Process[] {
  const reader = new ConfigReader(config);
  const out: Process[] = [];
  const hostResolver: Resolver = { kind: 'node', file: FLATCAR_ETC_RESOLV_CONF.path };
  const images = new Set<string>();
  const scriptsSeen = new Set<string>();

  /** `docker run [options] IMAGE [command...]`: Docker gives a host-network container a copy of the host's resolv.conf. */
  const dockerRun = (owner: string, argv: readonly string[]): void => {
    const options: string[] = [];
    let i = 0;
    while (i < argv.length && argv[i].startsWith('-')) {
      options.push(argv[i]);
      // `--opt value` forms used by our scripts (the image follows them).
      if (!argv[i].includes('=') && ['-e', '--env', '--network', '--name', '-v', '--volume'].includes(argv[i])) options.push(argv[++i]);
      i++;
    }
    const image = argv[i];
    const hostNetwork = options.some((o, j) => o === '--network=host' || o === '--net=host' || (o === '--network' && options[j + 1] === 'host'));
    if (!hostNetwork) {
      // Moby libnetwork sandbox_dns_unix.go updateDNS: only host networking keeps the host's file as is.
      throw new Error(`${owner}: docker run without --network=host; this model covers host-network containers only`);
    }
    images.add(reader.expand(image));
    out.push({ name: `container ${image} (from ${owner})`, resolver: hostResolver, dials: reader.namesInArgs(argv.slice(i + 1)) });
  };

  /** A script: a host process; the scripts it calls and the containers it runs are processes too. */
  const script = (path: string): void => {
    if (scriptsSeen.has(path)) return;
    scriptsSeen.add(path);
    const text = reader.file(path)!;
    const body = text.replace(/\\\n/g, ' ');
    const dials = [...reader.urlHosts(body)];
    for (const line of body.split('\n')) {
      // Scripts it calls, wherever they stand (`x=$(/opt/bin/aws ec2 ...)`, `if /opt/bin/check; then`).
      for (const m of line.matchAll(/(?:^|[\s=(`'"])(\/[A-Za-z0-9._/-]+)(?:\s+([a-z0-9-]+))?/g)) {
        const [, called, firstArg] = m;
        if (!reader.isScript(called) || called === path) continue;
        script(called);
        // A script that runs the AWS CLI image is the AWS CLI: `<it> <service> ...` dials the
        // service's regional endpoint, <service>.<region>.amazonaws.com.
        if (/\/aws-cli:/.test(reader.file(called)!) && firstArg) dials.push(`${firstArg}.${reader.region}.amazonaws.com`);
      }
      const w = words(line);
      w.forEach((word, i) => {
        if (/^--[a-z-]+=/.test(word)) {
          dials.push(...reader.namesInArgs([word]));
        } else if (/^--[a-z-]+$/.test(w[i - 1] ?? '') && reader.file(word) !== undefined) {
          // A file given to a flag (`--kubeconfig FILE`); data files (`-f manifests.yaml`) name nothing dialed.
          dials.push(...reader.namesIn(word));
        }
      });
      const docker = /\bdocker run (.*)$/.exec(line);
      if (docker) dockerRun(`script ${path}`, words(docker[1]));
    }
    out.push({ name: `script ${path}`, resolver: hostResolver, dials });
  };

  let kubeletConfig: any;
  let kubeletArgs: string[] = [];
  for (const u of units(config)) {
    const texts = [u.contents ?? '', ...(u.dropins ?? []).map((d) => d.contents)];
    for (const line of texts.join('\n').split('\n')) {
      const exec = /^Exec(Start|StartPre|StartPost|Stop|Reload)=[-@+!:]*(.*)$/.exec(line);
      if (!exec || exec[2] === '') continue;
      const [executable, ...args] = words(exec[2]);
      if (executable === '/usr/bin/docker') {
        if (args[0] === 'run') dockerRun(`unit ${u.name}`, args.slice(1));
        continue;
      }
      if (reader.isScript(executable)) {
        script(executable);
        continue;
      }
      out.push({ name: `unit ${u.name}: ${executable}`, resolver: hostResolver, dials: reader.namesInArgs(args) });
      // The kubelet: the process whose --config is a KubeletConfiguration.
      for (const arg of args) {
        const path = /^--config=(.*)$/.exec(arg)?.[1];
        const document = path && reader.file(path) ? (load(reader.file(path)!) as any) : undefined;
        if (document?.kind === 'KubeletConfiguration') {
          kubeletConfig = document;
          kubeletArgs = args;
        }
      }
    }
  }

  if (kubeletConfig) {
    const dir: string = kubeletConfig.staticPodPath;
    for (const f of files(config).filter((x) => x.path.startsWith(`${dir}/`))) {
      const pod = load(decodeDataUrl(f.contents.source)) as any;
      for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
        images.add(c.image);
        out.push({ name: `static pod ${pod.metadata.name}/${c.name}`, resolver: podResolver(pod, kubeletConfig), dials: reader.namesInArgs([...(c.command ?? []), ...(c.args ?? [])]) });
      }
    }
    // Credential providers: executables the kubelet runs on the host, with its environment.
    const flag = (name: string) => kubeletArgs.map((a) => new RegExp(`^--${name}=(.*)$`).exec(a)?.[1]).find((v) => v !== undefined);
    const providerConfig = flag('image-credential-provider-config');
    if (providerConfig) {
      for (const provider of (load(reader.file(providerConfig)!) as any).providers) {
        // The ECR provider takes the instance role's credentials from IMDS and asks the ECR API of
        // the image's region (cloud-provider-aws v1.31.7 cmd/ecr-credential-provider/main.go
        // defaultECRProvider): api.ecr.<region>.amazonaws.com, the cluster's region here.
        const dials = provider.name === 'ecr-credential-provider' ? [`api.ecr.${reader.region}.amazonaws.com`, '169.254.169.254'] : [];
        out.push({ name: `credential provider ${flag('image-credential-provider-bin-dir')}/${provider.name}`, resolver: hostResolver, dials });
      }
    }
  }

  // Ignition, at first boot: every remote file it fetches (https hosts; s3:// through the regional S3 endpoint).
  const sources = files(config).map((f) => f.contents.source).filter((src) => !src.startsWith('data:'));
  if (sources.length > 0) {
    const dials = sources.map((src) => (src.startsWith('s3://') ? `s3.${reader.region}.amazonaws.com` : new URL(src).hostname));
    out.push({ name: 'ignition (first-boot downloads)', resolver: hostResolver, dials });
  }

  // containerd's own config names the pause image it pulls.
  for (const [path, text] of files(config).map((f) => [f.path, reader.file(f.path)] as const)) {
    if (!path.startsWith('/etc/containerd/') || text === undefined) continue;
    for (const quoted of text.match(/"[^"]+"/g) ?? []) if (registryOf(quoted.slice(1, -1))) images.add(quoted.slice(1, -1));
  }
  if (images.size > 0) {
    out.push({ name: 'image pulls (containerd, dockerd)', resolver: hostResolver, dials: [...images].map((i) => registryOf(i) ?? `unqualified image ${i}`) });
  }
  return out.map((p) => ({ ...p, dials: [...new Set(p.dials)].sort() }));
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipv4ToInt(ip) / size) === Math.floor(ipv4ToInt(base) / size);
}

const isIpv4 = (name: string): boolean => /^(\d{1,3}\.){3}\d{1,3}$/.test(name);

/**
 * Why a name needs the cluster DNS (or a Service), or undefined when the node's resolver (the
 * VPC resolver) answers it: a name under the cluster domain exists only in CoreDNS, a Service
 * IP only once kube-proxy programmed it from the API.
 */
export function needsClusterDns(name: string, network: { clusterDomain: string; serviceCidr: string }): string | undefined {
  if (isIpv4(name)) return inCidr(name, network.serviceCidr) ? `${name} is a Service IP (${network.serviceCidr})` : undefined;
  const domain = network.clusterDomain;
  if (name === domain || name.endsWith(`.${domain}`)) return `${name} is under the cluster domain ${domain}`;
  if (!name.includes('.') && name !== 'localhost') return `${name} is a bare name, completed only by the cluster DNS search path`;
  return undefined;
}
