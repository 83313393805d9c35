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
import { AddonRoleUse, withAddonRole } from './aws-identity';

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
  /** Its own role: the containers that call AWS get it (aws-identity.ts withAddonRole). */
  readonly awsRole: AddonRoleUse;
}

/**
 * The Deployment spec of one add-on that writes to AWS with its own role: exactly one replica
 * (two would race on the same ASGs or records), replaced with Recreate so that the old writer
 * is gone before the new one starts, system-cluster-critical.
 *
 * On the masters, so that only a master's kubelet ever holds a token of its service account:
 * the Node authorizer lets a kubelet request tokens only for the service accounts of pods
 * bound to its node (kubernetes v1.35 plugin/pkg/auth/authorizer/node/node_authorizer.go
 * authorizeCreateToken), so a worker cannot act as the role. On the pod network: no host
 * port to share, and no route to instance metadata (IMDSv2 hop limit 1), so the masters' role
 * is out of its reach. With the node's resolver ({@link podNetworkNodeResolver}).
 */
export function singleWriterOnMasters(writer: SingleWriterOnMasters): IDeploymentSpec {
  return {
    replicas: 1,
    strategy: { type: 'Recreate' },
    selector: { matchLabels: { app: writer.app } },
    template: {
      metadata: { labels: { app: writer.app } },
      spec: withAddonRole(
        {
          ...onMasters(writer.toleratedTaints),
          ...podNetworkNodeResolver(),
          priorityClassName: 'system-cluster-critical',
          serviceAccountName: writer.app,
          securityContext: writer.securityContext,
          containers: writer.containers,
        },
        writer.awsRole,
      ),
    },
  };
}

/**
 * The DNS of a pod on the pod network that resolves AWS endpoints only (it reaches the API by
 * Service IP): the node's resolver, the VPC's (the kubelet hands such a pod its resolvConf,
 * userdata/kubelet.ts HOST_RESOLV_CONF; kubernetes pkg/kubelet/network/dns/dns.go
 * getPodDNSType: DNSDefault), reached through flannel's masquerade (`--ip-masq`), so it does
 * not wait for the cluster DNS.
 */
export function podNetworkNodeResolver(): Pick<IPodSpec, 'hostNetwork' | 'dnsPolicy'> {
  return { hostNetwork: false, dnsPolicy: 'Default' };
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
