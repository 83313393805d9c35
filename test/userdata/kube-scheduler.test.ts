/**
 * kube-scheduler runs from a KubeSchedulerConfiguration file, not from deprecated flags.
 *
 * Upstream: kubernetes/kubernetes cmd/kube-scheduler/app/options/options.go (ApplyTo: with
 * --config, the "deprecated" flag set -- kubeconfig, profiling, contention-profiling,
 * kube-api-* -- is ignored, leader-election flags still override the file; the
 * authentication/authorization flag sets are separate and not deprecated) and
 * pkg/scheduler/apis/config/v1/defaults.go (enableProfiling defaults to true, leaderElect
 * to true, the lease to kube-system/kube-scheduler), as stored in the index; field names from
 * kubernetes/kube-scheduler and kubernetes/component-base at v0.35.1 (see upstream-schemas.ts).
 */
import { load } from 'js-yaml';
import { SCHEDULER_CONFIG, masterConfig } from '../../userdata/master';
import { fileText } from './config-files';
import { masterInput } from './fixtures';
import { hostMounts, staticPod } from './static-pod-manifests';
import { KUBE_SCHEDULER_CONFIGURATION_V1, schemaErrors } from './upstream-schemas';

const config = masterConfig(masterInput);
const scheduler = staticPod(config, 'kube-scheduler');
const command = scheduler.spec.containers[0].command;
const flag = (name: string) => command.find((f) => f === `--${name}` || f.startsWith(`--${name}=`))?.replace(/^[^=]*=?/, '');

/** Flags of the scheduler's "deprecated" set, ignored once --config is given. */
const DEPRECATED_FLAGS = ['kubeconfig', 'profiling', 'contention-profiling', 'kube-api-content-type', 'kube-api-qps', 'kube-api-burst', 'lock-object-namespace', 'lock-object-name'];

interface SchedulerConfiguration {
  clientConnection: { kubeconfig: string };
  leaderElection: { leaderElect: boolean };
  enableProfiling?: boolean;
}

describe('kube-scheduler', () => {
  const file = flag('config');
  const schedulerConfig = file ? (load(fileText(config, file)) as SchedulerConfiguration) : undefined;

  test('reads its configuration file, mounted read-only, schema-valid for kube-scheduler v0.35.1', () => {
    expect(file).toBe(SCHEDULER_CONFIG);
    expect(hostMounts(scheduler)).toContainEqual({ path: SCHEDULER_CONFIG, readOnly: true });
    expect(schemaErrors(schedulerConfig, KUBE_SCHEDULER_CONFIGURATION_V1)).toEqual([]);
  });

  test('no deprecated flag (they would be silently ignored beside --config)', () => {
    expect(command.filter((f) => DEPRECATED_FLAGS.some((d) => f === `--${d}` || f.startsWith(`--${d}=`)))).toEqual([]);
  });

  test('connects with its own kubeconfig, which the pod can read, and elects a leader', () => {
    const kubeconfig = schedulerConfig?.clientConnection.kubeconfig;
    expect(kubeconfig).toBe('/etc/kubernetes/scheduler.kubeconfig');
    expect(hostMounts(scheduler)).toContainEqual({ path: kubeconfig, readOnly: true });
    expect((load(fileText(config, kubeconfig!)) as { users: { name: string }[] }).users[0].name).toBe('system:kube-scheduler');
    expect(schedulerConfig?.leaderElection.leaderElect).toBe(true);
  });

  test('profiling is off in the file (the default with a config file is on)', () => {
    expect(schedulerConfig?.enableProfiling).toBe(false);
  });

  test('keeps delegated authentication/authorization (for /metrics) and listens on localhost only', () => {
    expect(flag('authentication-kubeconfig')).toBe('/etc/kubernetes/scheduler.kubeconfig');
    expect(flag('authorization-kubeconfig')).toBe('/etc/kubernetes/scheduler.kubeconfig');
    expect(flag('bind-address')).toBe('127.0.0.1');
  });

  test('the schema check refuses the kubeconfig at the top level, where the flag used to be', () => {
    expect(schemaErrors({ ...schedulerConfig, kubeconfig: '/etc/kubernetes/scheduler.kubeconfig' }, KUBE_SCHEDULER_CONFIGURATION_V1)).toEqual([expect.stringMatching(/\$\.kubeconfig: unknown field/)]);
  });
});
