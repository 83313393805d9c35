/**
 * Where kube-proxy answers on each node. kube-proxy itself is a DaemonSet delivered at deploy
 * time (manifests/addons/kube-proxy.ts, whose KubeProxyConfiguration binds these); the nodes'
 * health check (pod-network-health.ts) reads them on loopback.
 */
import { KUBE_PROXY_HEALTHZ_PORT } from './network';

/** kube-proxy's DaemonSet in kube-system (a master's health check asks whether it exists yet). */
export const KUBE_PROXY_DAEMONSET = 'kube-proxy';

/** kube-proxy's Prometheus metrics, on loopback: the node health check reads them. */
export const KUBE_PROXY_METRICS_ADDRESS = '127.0.0.1:10249';
/**
 * kube-proxy's health server. Its default is 0.0.0.0:10256 (kubernetes/kube-proxy v0.35.1
 * config/v1alpha1/types.go healthzBindAddress); loopback is enough for the node health check.
 */
export const KUBE_PROXY_HEALTHZ_ADDRESS = `127.0.0.1:${KUBE_PROXY_HEALTHZ_PORT}`;
