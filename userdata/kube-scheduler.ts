/**
 * kube-scheduler's configuration file (`--config`), replacing its deprecated flags.
 *
 * Upstream: kubernetes/kube-scheduler v0.35.1 config/v1/types.go (KubeSchedulerConfiguration,
 * group kubescheduler.config.k8s.io/v1), with clientConnection, leaderElection and the
 * inlined debugging fields from kubernetes/component-base v0.35.1 config/v1alpha1/types.go.
 * kubernetes/kubernetes cmd/kube-scheduler/app/options/options.go (ApplyTo): with `--config`,
 * the deprecated flags (`--kubeconfig`, `--profiling`, ...) are ignored, so every setting they
 * carried must be in the file; pkg/scheduler/apis/config/v1/defaults.go turns profiling ON
 * when `enableProfiling` is left out.
 */

export interface KubeSchedulerConfigOptions {
  /** The kubeconfig the scheduler talks to the API server with. */
  readonly kubeconfig: string;
}

export function kubeSchedulerConfiguration(options: KubeSchedulerConfigOptions): Record<string, unknown> {
  return {
    apiVersion: 'kubescheduler.config.k8s.io/v1',
    kind: 'KubeSchedulerConfiguration',
    clientConnection: { kubeconfig: options.kubeconfig },
    // One active scheduler among the masters; the lease is kube-system/kube-scheduler (defaults).
    leaderElection: { leaderElect: true },
    // No /debug/pprof on the scheduler's port (the default is on).
    enableProfiling: false,
  };
}
