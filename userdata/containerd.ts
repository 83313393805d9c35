/**
 * containerd, as Flatcar ships it (2.x), with our config: systemd cgroups (cgroup v2), the
 * pinned pause image, and CNI binaries in /opt/cni/bin (Flatcar's /usr is read-only).
 * Docker on Flatcar uses the same containerd, so `docker run` keeps working.
 */
import { file } from './files';
import { NodeParts } from './ignition';
import { CNI_BIN_DIR, CNI_CONF_DIR } from './paths';
import { dropins } from './units';
import { IMAGES } from './versions';

export const CONTAINERD_CONFIG = '/etc/containerd/config.toml';
export const CONTAINERD_SOCKET = '/run/containerd/containerd.sock';

type TomlValue = string | number | boolean | readonly string[];

/** A minimal TOML writer for flat tables (all containerd needs here). */
export function toml(top: Readonly<Record<string, TomlValue>>, tables: Readonly<Record<string, Readonly<Record<string, TomlValue>>>>): string {
  const value = (v: TomlValue): string =>
    Array.isArray(v) ? `[${v.map((x) => JSON.stringify(x)).join(', ')}]` : typeof v === 'string' ? JSON.stringify(v) : String(v);
  const lines = Object.entries(top).map(([k, v]) => `${k} = ${value(v)}`);
  for (const [name, entries] of Object.entries(tables)) {
    lines.push('', `[${name}]`, ...Object.entries(entries).map(([k, v]) => `  ${k} = ${value(v)}`));
  }
  return `${lines.join('\n')}\n`;
}

/** containerd 2.x config (version 3 schema, CRI plugin split into images and runtime). */
export function containerdConfigToml(): string {
  return toml(
    { version: 3, root: '/var/lib/containerd', state: '/run/containerd' },
    {
      grpc: { address: CONTAINERD_SOCKET },
      "plugins.'io.containerd.cri.v1.images'.pinned_images": { sandbox: IMAGES.pause },
      "plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc": { runtime_type: 'io.containerd.runc.v2' },
      // The kubelet's cgroupDriver is systemd too: both must agree (cgroup v2).
      "plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options": { SystemdCgroup: true },
      "plugins.'io.containerd.cri.v1.runtime'.cni": { bin_dirs: [CNI_BIN_DIR], conf_dir: CNI_CONF_DIR },
    },
  );
}

export function containerdParts(): NodeParts {
  return {
    directories: [],
    files: [file(CONTAINERD_CONFIG, containerdConfigToml())],
    units: [
      // Flatcar's documented way to use a custom config: replace ExecStart in a drop-in.
      dropins(
        'containerd.service',
        {
          '10-kubernetes-on-aws.conf': {
            Service: { ExecStart: ['', `/usr/bin/containerd --config ${CONTAINERD_CONFIG}`] },
          },
        },
        { enabled: true },
      ),
    ],
  };
}
