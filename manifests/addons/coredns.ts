/**
 * CoreDNS, the cluster's DNS: the `kube-dns` Service at CLUSTER_DNS_IP that every kubelet
 * hands its pods (userdata/kubelet.ts clusterDNS), answering for CLUSTER_DOMAIN and forwarding
 * the rest to the VPC resolver.
 *
 * Source: kubeadm's CoreDNS add-on, kubernetes/kubernetes
 * cmd/kubeadm/app/phases/addons/dns/manifests.go (as stored at commit
 * 008b3652959ca58af8be3fb5b6ecfe9ae7638282; we could not read it at a v1.35 tag): names,
 * labels, Corefile, ports, probes and container security context are kubeadm's. Ours on top:
 * a PodDisruptionBudget, a non-root pod security context, and RBAC cut to what the
 * kubernetes plugin of the pinned release watches.
 */
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { IPolicyRule } from 'kubernetes-models/rbac.authorization.k8s.io/v1/PolicyRule';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { CLUSTER_DNS_IP, CLUSTER_DOMAIN } from '../../userdata/network';
import { MANAGED_BY_LABELS } from '../managed-by';
import { Addon, AddonObject, NODE_COMPONENTS } from './addon';
import { LINUX_NODE_SELECTOR, NODE_TAINTS, tolerationsFor } from './placement';

/**
 * The CoreDNS release kubeadm 1.35 installs: kubernetes/kubernetes PR #133968 "Update coredns
 * to v1.13.1" (area/kubeadm, merged in the 1.35 cycle) set cmd/kubeadm/app/constants/constants.go
 * CoreDNSVersion. We could not read constants.go at a v1.35 tag (the source store holds no
 * such copy); `kubeadm config images list` outputs for v1.35.0, v1.35.1 and v1.35.4 in public
 * repositories agree on v1.13.1.
 */
export const COREDNS_VERSION = 'v1.13.1';

/** By tag: no promoter manifest with this release's digest was readable here. */
export const COREDNS_IMAGE = `registry.k8s.io/coredns/coredns:${COREDNS_VERSION}`;

/** kubeadm's names: `kube-dns` is the Service (and pod label) every tool looks for. */
const NAMESPACE = 'kube-system';
const NAME = 'coredns';
export const COREDNS_SERVICE_NAME = 'kube-dns';
const POD_LABELS = { 'k8s-app': 'kube-dns' };

/** CoreDNS's health (liveness, lameduck) and ready ports: the health and ready plugins' defaults. */
const HEALTH_PORT = 8080;
const READY_PORT = 8181;
/** The prometheus plugin's port, as kubeadm's Corefile and Service name it. */
export const METRICS_PORT = 9153;

/**
 * The distroless "nonroot" user the image runs as (coredns/coredns v1.13.1 Dockerfile: base
 * gcr.io/distroless/static-debian12:nonroot, USER nonroot:nonroot). Said as a number because
 * the kubelet refuses runAsNonRoot for a user given by name.
 */
const NONROOT_UID = 65532;

/**
 * kubeadm's Corefile for this domain. `forward . /etc/resolv.conf`: with dnsPolicy Default the
 * pod's resolv.conf is the kubelet's resolvConf, systemd-resolved's list of the VPC's servers
 * (userdata/kubelet.ts HOST_RESOLV_CONF), not the 127.0.0.53 stub, so `loop` stays quiet.
 */
export function corefile(clusterDomain: string): string {
  return `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes ${clusterDomain} in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :${METRICS_PORT}
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30 {
       disable success ${clusterDomain}
       disable denial ${clusterDomain}
    }
    loop
    reload
    loadbalance
}
`;
}

/**
 * What the kubernetes plugin of v1.13.1 lists and watches (plugin/kubernetes/controller.go
 * newdnsController): services, EndpointSlices and namespaces. Narrower than kubeadm's role:
 * no `endpoints` (the plugin reads EndpointSlices only) and no `pods` (it starts its pod
 * informer only for `pods verified` or autopath, kubernetes.go and autopath.go
 * initPodCache; our Corefile says `pods insecure`). `nodes get` is for federation only, unused.
 */
export const COREDNS_RULES: readonly IPolicyRule[] = [
  { apiGroups: [''], resources: ['services', 'namespaces'], verbs: ['list', 'watch'] },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
];

/** Each taint it tolerates, with why: the README's bootstrap table and the pod spec both come from here. */
const TOLERATED_TAINTS: Readonly<Record<string, string>> = {
  [NODE_TAINTS.controlPlane]:
    'The master stack deploys before any worker exists: on the masters, DNS is up (and waited for) in that stack, so ' +
    'add-ons delivered there may resolve names; kubeadm tolerates the same taint.',
};

function objects(): AddonObject[] {
  const metadata = (name: string) => ({ name, namespace: NAMESPACE, labels: { ...MANAGED_BY_LABELS, ...POD_LABELS } });
  const clusterRole = 'system:coredns';
  return [
    new ServiceAccount({ metadata: metadata(NAME) }),
    new ClusterRole({ metadata: { name: clusterRole, labels: { ...MANAGED_BY_LABELS } }, rules: COREDNS_RULES.map((rule) => ({ ...rule })) }),
    new ClusterRoleBinding({
      metadata: { name: clusterRole, labels: { ...MANAGED_BY_LABELS } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
      subjects: [{ kind: 'ServiceAccount', name: NAME, namespace: NAMESPACE }],
    }),
    new ConfigMap({ metadata: metadata(NAME), data: { Corefile: corefile(CLUSTER_DOMAIN) } }),
    new Deployment({
      metadata: metadata(NAME),
      spec: {
        replicas: 2,
        // One pod at a time, so one always answers (kubeadm's strategy).
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
        selector: { matchLabels: POD_LABELS },
        template: {
          metadata: { labels: POD_LABELS },
          spec: {
            priorityClassName: 'system-cluster-critical',
            serviceAccountName: NAME,
            affinity: {
              podAntiAffinity: {
                // Preferred, not required: a cluster of one master and no workers yet must still
                // run both replicas, or the master stack would wait for a DNS that never gets ready.
                preferredDuringSchedulingIgnoredDuringExecution: [
                  {
                    weight: 100,
                    podAffinityTerm: { labelSelector: { matchLabels: POD_LABELS }, topologyKey: 'kubernetes.io/hostname' },
                  },
                ],
              },
            },
            tolerations: tolerationsFor(TOLERATED_TAINTS),
            nodeSelector: { ...LINUX_NODE_SELECTOR },
            // The node's resolver, for forward (see corefile()); ClusterFirst would be itself.
            dnsPolicy: 'Default',
            securityContext: {
              runAsNonRoot: true,
              runAsUser: NONROOT_UID,
              runAsGroup: NONROOT_UID,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [
              {
                name: NAME,
                image: COREDNS_IMAGE,
                args: ['-conf', '/etc/coredns/Corefile'],
                // kubeadm's figures.
                resources: { requests: { cpu: '100m', memory: '70Mi' }, limits: { memory: '170Mi' } },
                volumeMounts: [{ name: 'config-volume', mountPath: '/etc/coredns', readOnly: true }],
                ports: [
                  { containerPort: 53, name: 'dns', protocol: 'UDP' },
                  { containerPort: 53, name: 'dns-tcp', protocol: 'TCP' },
                  { containerPort: METRICS_PORT, name: 'metrics', protocol: 'TCP' },
                  { containerPort: HEALTH_PORT, name: 'liveness-probe', protocol: 'TCP' },
                  { containerPort: READY_PORT, name: 'readiness-probe', protocol: 'TCP' },
                ],
                livenessProbe: {
                  httpGet: { path: '/health', port: 'liveness-probe', scheme: 'HTTP' },
                  initialDelaySeconds: 60,
                  timeoutSeconds: 5,
                  successThreshold: 1,
                  failureThreshold: 5,
                },
                readinessProbe: { httpGet: { path: '/ready', port: 'readiness-probe', scheme: 'HTTP' } },
                // Port 53 as a non-root user: the binary carries cap_net_bind_service (Dockerfile
                // setcap), and the runtime grants NET_BIND_SERVICE to the process before exec,
                // which no_new_privs (allowPrivilegeEscalation false) lets the file capability keep.
                securityContext: {
                  allowPrivilegeEscalation: false,
                  capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
                  readOnlyRootFilesystem: true,
                },
              },
            ],
            volumes: [{ name: 'config-volume', configMap: { name: NAME, items: [{ key: 'Corefile', path: 'Corefile' }] } }],
          },
        },
      },
    }),
    // A drain or a node upgrade takes one replica at a time.
    new PodDisruptionBudget({ metadata: metadata(NAME), spec: { maxUnavailable: 1, selector: { matchLabels: POD_LABELS } } }),
    new Service({
      metadata: {
        ...metadata(COREDNS_SERVICE_NAME),
        labels: { ...MANAGED_BY_LABELS, ...POD_LABELS, 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
        annotations: { 'prometheus.io/port': String(METRICS_PORT), 'prometheus.io/scrape': 'true' },
      },
      spec: {
        clusterIP: CLUSTER_DNS_IP,
        selector: POD_LABELS,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
          { name: 'metrics', port: METRICS_PORT, protocol: 'TCP', targetPort: METRICS_PORT },
        ],
      },
    }),
  ];
}

/**
 * The CoreDNS add-on. Its pods use the pod network and reach the API server through the
 * `kubernetes` Service address (kube-proxy), and start only on initialized nodes. It may run on
 * the masters, so the master stack delivers it and waits for it.
 */
export const coreDns: Addon = {
  name: 'coredns',
  version: COREDNS_VERSION,
  description: `Cluster DNS: the kube-dns Service at ${CLUSTER_DNS_IP} for ${CLUSTER_DOMAIN}, forwarding to the VPC resolver.`,
  // kube-dns was the cluster DNS add-on of that era; not checked against the 2016 manifests.
  replaces: 'the cluster DNS add-on of the 2016 system (kube-dns), at the same Service address',
  optional: false,
  // The contract has no "anywhere, masters included" placement: 'masters' is what gets it
  // delivered and waited for by the master stack (bootstrap-chain.ts); its pods may also run on
  // workers once they join.
  placement: 'masters',
  needs: [NODE_COMPONENTS.podNetwork, NODE_COMPONENTS.kubeProxy, NODE_COMPONENTS.nodeInitialized],
  provides: ['cluster-dns'],
  toleratedTaints: TOLERATED_TAINTS,
  /** It never calls AWS. */
  permissions: () => [],
  objects,
};
