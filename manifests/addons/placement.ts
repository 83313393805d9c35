/**
 * Where add-on pods may land: the label and taints this cluster's nodes register with, and the
 * pod-spec pieces the add-ons share to reach (or tolerate) them. One place, so a change to how
 * masters register (userdata/master.ts) is a change here, not in every add-on.
 */
import { IDeploymentSpec } from 'kubernetes-models/apps/v1/DeploymentSpec';
import { IContainer } from 'kubernetes-models/v1/Container';
import { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import { IPodSecurityContext } from 'kubernetes-models/v1/PodSecurityContext';
import { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { IToleration } from 'kubernetes-models/v1/Toleration';
import { MASTER_BOOT_LABELS } from '../../userdata/master';
import { API_SERVER_PORT } from '../../userdata/network';
import { internalApiDnsName } from '../../userdata/types';
import { AddonContext } from './addon';

/**
 * The masters: kubeadm's control-plane label, which each master puts on its own Node at boot
 * as the admin (userdata/master.ts CONTROL_PLANE_LABEL). Never a label a kubelet sets on
 * itself (such as `kubernetes-on-aws/role`): any node could claim that one, and draw the
 * masters' pods, with their service accounts, onto itself.
 */
export const MASTER_NODE_SELECTOR: Readonly<Record<string, string>> = { ...MASTER_BOOT_LABELS };

/** Every node of this cluster runs Linux; the well-known label upstream manifests select on. */
export const LINUX_NODE_SELECTOR: Readonly<Record<string, string>> = { 'kubernetes.io/os': 'linux' };

/** The taints of this cluster's nodes that add-ons may tolerate (keys; every one is NoSchedule). */
export const NODE_TAINTS = {
  /** What the masters register with (userdata/master.ts registerWithTaints). */
  controlPlane: 'node-role.kubernetes.io/control-plane',
  /**
   * Every node until a cloud controller initializes it (k8s.io/cloud-provider v0.35.0 api/well_known_taints.go
   * TaintExternalCloudProvider; the kubelet adds it with `--cloud-provider=external`).
   */
  uninitialized: 'node.cloudprovider.kubernetes.io/uninitialized',
  /** The node lifecycle controller's taint while the node's Ready condition is not True (TaintNodesByCondition). */
  notReady: 'node.kubernetes.io/not-ready',
} as const;

/**
 * The key {@link Addon.toleratedTaints} uses for "every taint": a toleration with operator
 * Exists and no key matches every taint of every effect (core/v1 Toleration), and has no key
 * of its own to show.
 */
export const EVERY_TAINT = '*';

/**
 * The tolerations of an add-on's pods, from its `toleratedTaints`, so the pods tolerate exactly
 * what the README's table says. Each key whatever its value (the uninitialized taint's value is
 * "true", the others have none), NoSchedule as every taint of {@link NODE_TAINTS};
 * {@link EVERY_TAINT} as the key-less toleration of every taint and effect.
 */
export function tolerationsFor(toleratedTaints: Readonly<Record<string, string>>): IToleration[] {
  return Object.keys(toleratedTaints).map((key) => (key === EVERY_TAINT ? { operator: 'Exists' } : { key, operator: 'Exists', effect: 'NoSchedule' }));
}

/** A pod on the masters only: their label selected, the taints the add-on declares tolerated. */
export function onMasters(toleratedTaints: Readonly<Record<string, string>>): Pick<IPodSpec, 'nodeSelector' | 'tolerations'> {
  return { nodeSelector: { ...LINUX_NODE_SELECTOR, ...MASTER_NODE_SELECTOR }, tolerations: tolerationsFor(toleratedTaints) };
}

/**
 * A pod that calls AWS with the masters' role: on the masters, on the host network (instance
 * metadata answers host-network pods only: IMDS hop limit 1), with the node's resolver (AWS
 * endpoints only; the API is reached by Service IP).
 */
export function hostNetworkOnMasters(toleratedTaints: Readonly<Record<string, string>>): Pick<IPodSpec, 'nodeSelector' | 'tolerations' | 'hostNetwork' | 'dnsPolicy'> {
  return { ...onMasters(toleratedTaints), hostNetwork: true, dnsPolicy: 'Default' };
}

/**
 * A node agent's pod: on every Linux node, on the host network (it works on the node itself,
 * not in the pod network), with the node's resolver (the cluster DNS cannot answer before the
 * node agents run), system-node-critical (it must outlast ordinary pods under pressure, as the
 * node's own components do), tolerating what the add-on declares.
 */
export function hostNetworkOnEveryNode(toleratedTaints: Readonly<Record<string, string>>): Pick<IPodSpec, 'nodeSelector' | 'tolerations' | 'hostNetwork' | 'dnsPolicy' | 'priorityClassName'> {
  return {
    nodeSelector: { ...LINUX_NODE_SELECTOR },
    tolerations: tolerationsFor(toleratedTaints),
    hostNetwork: true,
    dnsPolicy: 'Default',
    priorityClassName: 'system-node-critical',
  };
}

/** A node agent's rollout: one node at a time is without it. */
export const ONE_NODE_AT_A_TIME = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } } as const;

/** What differs between the single AWS writers on the masters (cluster-autoscaler, external-dns). */
export interface SingleWriterOnMasters {
  /** The `app` label, ServiceAccount name and selector. */
  readonly app: string;
  readonly toleratedTaints: Readonly<Record<string, string>>;
  readonly securityContext: IPodSecurityContext;
  readonly containers: IContainer[];
}

/**
 * The Deployment spec of one add-on that writes to AWS with the masters' role: exactly one
 * replica (two would race on the same ASGs or records), replaced with Recreate because the
 * new pod needs the old one's host port, on the masters' host network (instance metadata
 * answers host-network pods only), system-cluster-critical.
 */
export function singleWriterOnMasters(writer: SingleWriterOnMasters): IDeploymentSpec {
  return {
    replicas: 1,
    strategy: { type: 'Recreate' },
    selector: { matchLabels: { app: writer.app } },
    template: {
      metadata: { labels: { app: writer.app } },
      spec: {
        ...hostNetworkOnMasters(writer.toleratedTaints),
        priorityClassName: 'system-cluster-critical',
        serviceAccountName: writer.app,
        securityContext: writer.securityContext,
        containers: writer.containers,
      },
    },
  };
}

/**
 * Where an in-cluster client on the nodes finds the API: the internal API endpoint's name
 * (`internal.<cluster>.<zone>`) and API_SERVER_PORT, not the `kubernetes` Service address
 * 10.3.0.1, which only works once kube-proxy has programmed it (and flannel would then wait
 * for kube-proxy). client-go's rest.InClusterConfig (k8s.io/client-go rest/config.go) builds
 * `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT` with the projected token and
 * its ca.crt; the kubelet adds its own service variables only where the container does not
 * define the name (kubernetes/kubernetes pkg/kubelet/kubelet_pods.go makeEnvironmentVariables:
 * "Append remaining service env vars" skips keys already set), so these win.
 *
 * The API server's certificate names this endpoint and is signed by the cluster CA, which is
 * the ca.crt of the projected service-account volume. On workers the name resolves through the
 * VPC's resolver (host network, dnsPolicy Default) to the internal load balancer; on masters
 * the master's /etc/hosts maps it to 127.0.0.1 (its user data), and a host-network pod
 * gets the node's /etc/hosts (pkg/kubelet/kubelet_pods.go ensureHostsFile: useHostNetwork
 * reads the node's file), so a master's agents reach its own API server.
 */
export function apiServerEnv(context: Pick<AddonContext, 'clusterName' | 'hostedZoneName'>): IEnvVar[] {
  return [
    { name: 'KUBERNETES_SERVICE_HOST', value: internalApiDnsName({ cluster: context.clusterName, zone: context.hostedZoneName }) },
    { name: 'KUBERNETES_SERVICE_PORT', value: String(API_SERVER_PORT) },
  ];
}
