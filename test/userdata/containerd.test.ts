/**
 * containerd's config: every key we write is one that the containerd versions Flatcar stable
 * ships actually read. containerd ignores unknown keys with at most a log line, so a typo or a
 * key from another version silently does nothing; this test is the only guard.
 */
import { containerdConfigToml } from '../../userdata/containerd';
import { CNI_BIN_DIR, CNI_CONF_DIR } from '../../userdata/paths';
import { IMAGES } from '../../userdata/versions';

/**
 * The toml tags (field names, for the runc options) of containerd's config structs, read with
 * `git show <tag>:<file>` in containerd/containerd:
 * - server:  cmd/containerd/server/config/config.go `Config`
 * - grpc:    cmd/containerd/server/config/config.go `GRPCConfig`
 * - images:  internal/cri/config/config.go `ImageConfig` (plugin io.containerd.cri.v1.images)
 * - runtime: internal/cri/config/config.go `RuntimeConfig` (plugin io.containerd.cri.v1.runtime)
 * - containerd, runtimeEntry, cni: internal/cri/config/config.go `ContainerdConfig`, `Runtime`, `CniConfig`
 * - runcOptions: api/types/runc/options/oci.pb.go `Options` (decoded by go-toml v2 from the
 *   runtime's `options` table, internal/cri/config/config.go GenerateRuntimeOptions)
 * The CRI plugins' table names are their type and ID: `io.containerd.cri.v1` (plugins/types.go
 * CRIServicePlugin) + `images` / `runtime` (plugins/cri/images/plugin.go, plugins/cri/runtime/plugin.go).
 * v2.0.7: Flatcar stable 4459.2.4; v2.1.5: Flatcar stable 4593.2.5 (see userdata/containerd.ts).
 */
const CONTAINERD_KEYS = {
  'v2.0.7': {
    server: ['version', 'root', 'state', 'temp', 'plugin_dir', 'grpc', 'ttrpc', 'debug', 'metrics', 'disabled_plugins', 'required_plugins', 'plugins', 'oom_score', 'cgroup', 'proxy_plugins', 'timeouts', 'imports', 'stream_processors'],
    grpc: ['address', 'tcp_address', 'tcp_tls_ca', 'tcp_tls_cert', 'tcp_tls_key', 'uid', 'gid', 'max_recv_message_size', 'max_send_message_size'],
    images: ['snapshotter', 'disable_snapshot_annotations', 'discard_unpacked_layers', 'sandbox_image', 'pinned_images', 'runtime_platforms', 'registry', 'image_decryption', 'max_concurrent_downloads', 'image_pull_progress_timeout', 'image_pull_with_sync_fs', 'stats_collect_period'],
    runtime: ['containerd', 'cni', 'enable_selinux', 'selinux_category_range', 'max_container_log_line_size', 'disable_apparmor', 'restrict_oom_score_adj', 'disable_proc_mount', 'unset_seccomp_profile', 'tolerate_missing_hugetlb_controller', 'disable_hugetlb_controller', 'device_ownership_from_security_context', 'ignore_image_defined_volumes', 'netns_mounts_under_state_dir', 'enable_unprivileged_ports', 'enable_unprivileged_icmp', 'enable_cdi', 'cdi_spec_dirs', 'drain_exec_sync_io_timeout', 'ignore_deprecation_warnings'],
    containerd: ['default_runtime_name', 'runtimes', 'ignore_blockio_not_enabled_errors', 'ignore_rdt_not_enabled_errors'],
    runtimeEntry: ['runtime_type', 'runtime_path', 'pod_annotations', 'container_annotations', 'options', 'privileged_without_host_devices', 'privileged_without_host_devices_all_devices_allowed', 'base_runtime_spec', 'cni_conf_dir', 'cni_max_conf_num', 'snapshotter', 'sandboxer', 'io_type'],
    cni: ['bin_dir', 'conf_dir', 'max_conf_num', 'setup_serially', 'conf_template', 'ip_pref', 'use_internal_loopback'],
    runcOptions: ['NoPivotRoot', 'NoNewKeyring', 'ShimCgroup', 'IoUid', 'IoGid', 'BinaryName', 'Root', 'SystemdCgroup', 'CriuImagePath', 'CriuWorkPath', 'TaskApiAddress', 'TaskApiVersion'],
  },
  'v2.1.5': {
    server: ['version', 'root', 'state', 'temp', 'grpc', 'ttrpc', 'debug', 'metrics', 'disabled_plugins', 'required_plugins', 'plugins', 'oom_score', 'cgroup', 'proxy_plugins', 'timeouts', 'imports', 'stream_processors'],
    grpc: ['address', 'tcp_address', 'tcp_tls_ca', 'tcp_tls_cert', 'tcp_tls_key', 'uid', 'gid', 'max_recv_message_size', 'max_send_message_size'],
    images: ['snapshotter', 'disable_snapshot_annotations', 'discard_unpacked_layers', 'sandbox_image', 'pinned_images', 'runtime_platforms', 'registry', 'image_decryption', 'max_concurrent_downloads', 'concurrent_layer_fetch_buffer', 'image_pull_progress_timeout', 'image_pull_with_sync_fs', 'stats_collect_period', 'use_local_image_pull'],
    runtime: ['containerd', 'cni', 'enable_selinux', 'selinux_category_range', 'max_container_log_line_size', 'disable_apparmor', 'restrict_oom_score_adj', 'disable_proc_mount', 'unset_seccomp_profile', 'tolerate_missing_hugetlb_controller', 'disable_hugetlb_controller', 'device_ownership_from_security_context', 'ignore_image_defined_volumes', 'netns_mounts_under_state_dir', 'enable_unprivileged_ports', 'enable_unprivileged_icmp', 'enable_cdi', 'cdi_spec_dirs', 'drain_exec_sync_io_timeout', 'ignore_deprecation_warnings'],
    containerd: ['default_runtime_name', 'runtimes', 'ignore_blockio_not_enabled_errors', 'ignore_rdt_not_enabled_errors'],
    runtimeEntry: ['runtime_type', 'runtime_path', 'pod_annotations', 'container_annotations', 'options', 'privileged_without_host_devices', 'privileged_without_host_devices_all_devices_allowed', 'cgroup_writable', 'base_runtime_spec', 'cni_conf_dir', 'cni_max_conf_num', 'snapshotter', 'sandboxer', 'io_type'],
    cni: ['bin_dir', 'bin_dirs', 'conf_dir', 'max_conf_num', 'setup_serially', 'conf_template', 'ip_pref', 'use_internal_loopback'],
    runcOptions: ['NoPivotRoot', 'NoNewKeyring', 'ShimCgroup', 'IoUid', 'IoGid', 'BinaryName', 'Root', 'SystemdCgroup', 'CriuImagePath', 'CriuWorkPath', 'TaskApiAddress', 'TaskApiVersion'],
  },
};

type Keys = (typeof CONTAINERD_KEYS)['v2.0.7'];
const IMAGES_PLUGIN = "plugins.'io.containerd.cri.v1.images'";
const RUNTIME_PLUGIN = "plugins.'io.containerd.cri.v1.runtime'";

/** The keys a table may hold, by its path; `undefined` for a map (any key), an error for an unknown table. */
function allowedKeys(table: string, keys: Keys): readonly string[] | undefined {
  if (table === '') return keys.server;
  if (table === 'grpc') return keys.grpc;
  if (table === IMAGES_PLUGIN) return keys.images;
  if (table === `${IMAGES_PLUGIN}.pinned_images`) return undefined;
  if (table === RUNTIME_PLUGIN) return keys.runtime;
  if (table === `${RUNTIME_PLUGIN}.containerd`) return keys.containerd;
  if (table === `${RUNTIME_PLUGIN}.cni`) return keys.cni;
  if (/^plugins\.'io\.containerd\.cri\.v1\.runtime'\.containerd\.runtimes\.[a-z0-9_-]+$/.test(table)) return keys.runtimeEntry;
  if (/^plugins\.'io\.containerd\.cri\.v1\.runtime'\.containerd\.runtimes\.runc\.options$/.test(table)) return keys.runcOptions;
  throw new Error(`table [${table}] is no table of containerd's config that this test knows`);
}

/** Our TOML as (table, key, raw value) triples: the writer emits only flat tables of `key = value`. */
function entries(text: string): { table: string; key: string; value: string }[] {
  const out: { table: string; key: string; value: string }[] = [];
  let table = '';
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (line === '') continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      table = header[1];
      continue;
    }
    const kv = /^([A-Za-z0-9_]+) = (.+)$/.exec(line);
    if (!kv) throw new Error(`unexpected TOML line: ${line}`);
    out.push({ table, key: kv[1], value: kv[2] });
  }
  return out;
}

describe('containerd config', () => {
  const written = entries(containerdConfigToml());

  test.each(Object.keys(CONTAINERD_KEYS))('every key we write is read by containerd %s', (version) => {
    const keys = CONTAINERD_KEYS[version as keyof typeof CONTAINERD_KEYS];
    const unknown = written.filter(({ table, key }) => {
      const allowed = allowedKeys(table, keys);
      return allowed !== undefined && !allowed.includes(key);
    });
    expect(unknown).toEqual([]);
  });

  test('the CNI binaries are where containerd looks by default; the conf dir is flannel\'s', () => {
    // Both versions default the bin dir(s) to /opt/cni/bin (internal/cri/config/config_unix.go
    // DefaultRuntimeConfig), so no bin dir key is written.
    expect(CNI_BIN_DIR).toBe('/opt/cni/bin');
    expect(written.filter((e) => e.table === `${RUNTIME_PLUGIN}.cni`)).toEqual([{ table: `${RUNTIME_PLUGIN}.cni`, key: 'conf_dir', value: JSON.stringify(CNI_CONF_DIR) }]);
  });

  test('the pause image is pinned under the key the CRI reads ("sandbox", internal/cri/server/podsandbox/sandbox_run.go)', () => {
    expect(written).toContainEqual({ table: `${IMAGES_PLUGIN}.pinned_images`, key: 'sandbox', value: JSON.stringify(IMAGES.pause) });
  });

  test('the key check catches a key of the other version (the guard is not a no-op)', () => {
    expect(allowedKeys(`${RUNTIME_PLUGIN}.cni`, CONTAINERD_KEYS['v2.0.7'])).not.toContain('bin_dirs');
    expect(() => allowedKeys('plugins.cri', CONTAINERD_KEYS['v2.0.7'])).toThrow(/no table of containerd's config/);
  });
});
