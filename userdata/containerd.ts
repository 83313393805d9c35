/**
 * containerd, as Flatcar ships it (2.x), with our config: systemd cgroups (cgroup v2), the
 * pinned pause image, and the CNI config directory flannel's config is written to.
 * Docker on Flatcar uses the same containerd, so `docker run` keeps working.
 *
 * The config must load in both containerd lines Flatcar stable ships: 2.0.7 (stable
 * 4459.2.4: the amd64-stable ebuild) and 2.1.5 (stable 4593.2.5 accepts containerd-2.1*),
 * per flatcar/scripts sdk_container/src/third_party/{portage-stable/app-containers/containerd,
 * coreos-overlay/profiles/coreos/base/package.accept_keywords} at those tags.
 */
import { file } from './files';
import { NodeParts } from './ignition';
import { CNI_CONF_DIR } from './paths';
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
      // No bin dir key: `bin_dirs` exists only from 2.1 (2.0 knows `bin_dir`), and both
      // default to CNI_BIN_DIR, /opt/cni/bin (containerd internal/cri/config/config_unix.go
      // DefaultRuntimeConfig at v2.0.7 and v2.1.5). conf_dir is the same in both versions.
      "plugins.'io.containerd.cri.v1.runtime'.cni": { conf_dir: CNI_CONF_DIR },
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
