/**
 * Static pod manifests as data: the kubelet runs every manifest in STATIC_POD_DIR without an
 * API server, which is how the control plane, kube-proxy and flannel start on a fresh node.
 */
import { dump } from 'js-yaml';
import { file } from './files';
import { IgnitionFile } from './ignition';
import { STATIC_POD_DIR } from './paths';

/** A host path mounted into a static pod's containers at the same path. */
export interface HostMount {
  /** Volume name (DNS label). */
  readonly name: string;
  readonly path: string;
  /** Kubernetes hostPath type: the kubelet checks it before starting the pod. */
  readonly type: 'Directory' | 'DirectoryOrCreate' | 'File' | 'FileOrCreate';
  readonly readOnly: boolean;
}

/**
 * The host's CA bundle: Flatcar's /etc/ssl/certs links into /usr/share/ca-certificates, so
 * both are mounted (as kubeadm does) for clients that check the public API certificate.
 */
export const HOST_CA_MOUNTS: readonly HostMount[] = [
  { name: 'ssl-certs', path: '/etc/ssl/certs', type: 'Directory', readOnly: true },
  { name: 'ca-certificates', path: '/usr/share/ca-certificates', type: 'Directory', readOnly: true },
];

/**
 * Read-only mounts of single host files, each named for its file ('apiserver.crt' ->
 * 'apiserver-crt'). Files, not their directories: pki/ also holds ca.key and the admin token,
 * auth/ the other components' tokens.
 */
export function readOnlyFiles(...paths: string[]): HostMount[] {
  const mounts = paths.map((path): HostMount => ({ name: path.slice(path.lastIndexOf('/') + 1).replace(/[^a-z0-9-]/g, '-'), path, type: 'File', readOnly: true }));
  const names = mounts.map((m) => m.name);
  const clash = names.find((name, i) => names.indexOf(name) !== i);
  if (clash) throw new Error(`two mounted files are both named '${clash}': rename one of ${paths.join(', ')}`);
  return mounts;
}

export interface StaticContainer {
  readonly name: string;
  readonly image: string;
  readonly command: readonly string[];
  /** Environment, including downward-API fields (spec.nodeName works in static pods). */
  readonly env?: readonly Record<string, unknown>[];
  readonly securityContext?: Record<string, unknown>;
  readonly resources?: Record<string, unknown>;
  readonly livenessProbe?: Record<string, unknown>;
  readonly readinessProbe?: Record<string, unknown>;
  readonly startupProbe?: Record<string, unknown>;
  /** Names of the pod's host mounts this container sees. */
  readonly mounts: readonly string[];
}

export interface StaticPodSpec {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly mounts: readonly HostMount[];
  readonly initContainers?: readonly StaticContainer[];
  readonly containers: readonly StaticContainer[];
}

/** A static pod's name and labels, which its mirror pods carry. */
export type StaticPodIdentity = Pick<StaticPodSpec, 'name' | 'labels'>;

function container(spec: StaticPodSpec, c: StaticContainer): Record<string, unknown> {
  const mounts = c.mounts.map((name) => {
    const mount = spec.mounts.find((m) => m.name === name);
    if (!mount) throw new Error(`static pod ${spec.name}: container ${c.name} mounts unknown volume '${name}'`);
    return { name, mountPath: mount.path, readOnly: mount.readOnly };
  });
  return {
    name: c.name,
    image: c.image,
    imagePullPolicy: 'IfNotPresent',
    command: c.command,
    ...(c.env ? { env: c.env } : {}),
    ...(c.securityContext ? { securityContext: c.securityContext } : {}),
    ...(c.resources ? { resources: c.resources } : {}),
    ...(c.startupProbe ? { startupProbe: c.startupProbe } : {}),
    ...(c.livenessProbe ? { livenessProbe: c.livenessProbe } : {}),
    ...(c.readinessProbe ? { readinessProbe: c.readinessProbe } : {}),
    volumeMounts: mounts,
  };
}

/**
 * The manifest object of a host-network, node-critical static pod in kube-system.
 *
 * No dnsPolicy, as kubeadm writes its control-plane pods: it defaults to ClusterFirst
 * (kubernetes/api v0.35.1 core/v1/types.go PodSpec.DNSPolicy), which the kubelet turns into
 * the node's resolver for a host-network pod (kubernetes/kubernetes pkg/kubelet/network/dns/
 * dns.go getPodDNSType: ClusterFirst + hostNetwork falls through to podDNSHost, the servers of
 * the kubelet's resolvConf). ClusterFirstWithHostNet would send these pods to the cluster DNS,
 * which cannot answer before the API server they are part of runs.
 */
export function staticPod(spec: StaticPodSpec): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: spec.name, namespace: 'kube-system', labels: spec.labels },
    spec: {
      hostNetwork: true,
      priorityClassName: 'system-node-critical',
      // Static pods run on their node whatever its taints; tolerating all keeps the mirror pods honest.
      tolerations: [{ operator: 'Exists' }],
      ...(spec.initContainers ? { initContainers: spec.initContainers.map((c) => container(spec, c)) } : {}),
      containers: spec.containers.map((c) => container(spec, c)),
      volumes: spec.mounts.map((m) => ({ name: m.name, hostPath: { path: m.path, type: m.type } })),
    },
  };
}

/** YAML as the kubelet reads it; no line folding so flags stay greppable. */
export function yaml(document: unknown): string {
  return dump(document, { lineWidth: -1, noRefs: true });
}

/** The manifest file of a static pod. */
export function staticPodFile(spec: StaticPodSpec): IgnitionFile {
  return file(`${STATIC_POD_DIR}/${spec.name}.yaml`, yaml(staticPod(spec)), { mode: 0o600 });
}

/** `--flag=value` arguments from a record, in the record's order (readable in the golden files). */
/** Command-line flags from a mapping; a list gives the flag once per element, in order. */
export function flags(values: Readonly<Record<string, string | number | boolean | readonly string[]>>): string[] {
  return Object.entries(values).flatMap(([key, value]) => (typeof value === 'object' ? value : [value]).map((one) => `--${key}=${one}`));
}
