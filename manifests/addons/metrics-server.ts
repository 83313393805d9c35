/**
 * metrics-server: the resource metrics API (`metrics.k8s.io`) that `kubectl top` and the
 * HorizontalPodAutoscaler read; the successor of the 2016 system's heapster.
 *
 * Source: kubernetes-sigs/metrics-server v0.9.0 (tag commit
 * 2a7c4b2c7d46552ff47f4aeaa3a735c582587ecd), manifests/base/{apiservice,rbac,service,
 * deployment}.yaml with manifests/components/release/kustomization.yaml: the release's
 * `components.yaml` is built from exactly these (manifests/overlays/release), so every object,
 * flag and value below is that file's unless a comment says otherwise. README.md at the tag,
 * "Compatibility Matrix": 0.9.x supports Kubernetes 1.34+ (ours: v1.35.1).
 *
 * Where it runs, and why on the masters: it scrapes every kubelet on 10250, and the security
 * groups let only masters reach a kubelet's 10250 (lib/stacks/master-stack.ts and
 * worker-stack.ts, "kubelet API from masters"). A pod's traffic to a node address leaves with
 * its node's address (flanneld --ip-masq, userdata/flannel.ts), so from a worker it would be
 * refused by every other node. The API server reaches it by pod IP (kube-apiserver
 * --enable-aggregator-routing, userdata/master.ts), through the masters' pod network.
 *
 * Kubelet serving certificates: each kubelet asks for its serving certificate through a CSR
 * (serverTLSBootstrap in userdata/kubelet.ts), which the masters' approver approves only for
 * the names and addresses of the EC2 instance behind that node (webhook/kubelet-serving-approver.ts),
 * and kube-controller-manager signs with the cluster CA. metrics-server checks them against
 * that CA (KUBELET_SERVING_CA below), so a host that answers on a node's address without that
 * node's certificate gets no service-account token from it.
 */
import { APIService } from 'kubernetes-models/apiregistration.k8s.io/v1/APIService';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { MANAGED_BY_LABELS } from '../managed-by';
import { Addon, NODE_COMPONENTS } from './addon';
import { NODE_TAINTS, onMasters } from './placement';

/** The release pinned (kubernetes-sigs/metrics-server tag v0.9.0). */
export const METRICS_SERVER_VERSION = 'v0.9.0';
/** manifests/components/release/kustomization.yaml at v0.9.0: newName and newTag. */
export const METRICS_SERVER_IMAGE = `registry.k8s.io/metrics-server/metrics-server:${METRICS_SERVER_VERSION}`;
export const METRICS_SERVER_NAMESPACE = 'kube-system';
export const METRICS_SERVER_NAME = 'metrics-server';
/** The aggregated API it serves: `<version>.<group>`, as upstream's apiservice.yaml. */
export const METRICS_API_SERVICE = 'v1beta1.metrics.k8s.io';

/** Each taint it tolerates, with why: the README's bootstrap table and the pod spec both come from here. */
const TOLERATED_TAINTS: Readonly<Record<string, string>> = {
  [NODE_TAINTS.controlPlane]: 'runs on the masters: only they may reach every kubelet on 10250 (security groups)',
};

/**
 * The CA metrics-server checks kubelets' serving certificates with: the service-account volume's
 * ca.crt, which is the kube-root-ca.crt ConfigMap that kube-controller-manager publishes in
 * every namespace from its --root-ca-file (kubernetes/kubernetes v1.35
 * pkg/controller/certificates/rootcacertpublisher). On the masters that file is the cluster CA
 * that also signs kubernetes.io/kubelet-serving CSRs (userdata/master.ts, a test holds the two
 * together). Exclusive with --kubelet-insecure-tls (metrics-server v0.9.0
 * cmd/metrics-server/app/options/kubelet_client.go, Validate).
 */
export const KUBELET_SERVING_CA = '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt';

/** Upstream's selector and common label (manifests/base/kustomization.yaml commonLabels). */
const SELECTOR = { 'k8s-app': METRICS_SERVER_NAME };
const labels = { ...MANAGED_BY_LABELS, ...SELECTOR };
const SERVICE_ACCOUNT_SUBJECT = [{ kind: 'ServiceAccount', name: METRICS_SERVER_NAME, namespace: METRICS_SERVER_NAMESPACE }];
/** The container's secure port (deployment.yaml: --secure-port=10250, port name https). */
const SECURE_PORT = 10250;

/** metrics-server's arguments: upstream's, verifying kubelets against the cluster CA. */
export function metricsServerArgs(): string[] {
  return [
    // A from-scratch image with a read-only root: the self-signed serving certificate goes to /tmp.
    '--cert-dir=/tmp',
    `--secure-port=${SECURE_PORT}`,
    // The node's private address first; nodes always have one (aws-cloud-controller-manager).
    '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname',
    // The kubelet's port as it reports it in Node status (10250, userdata/network.ts KUBELET_PORT).
    '--kubelet-use-node-status-port',
    '--metric-resolution=15s',
    `--kubelet-certificate-authority=${KUBELET_SERVING_CA}`,
  ];
}

function deployment(): Deployment {
  return new Deployment({
    metadata: { name: METRICS_SERVER_NAME, namespace: METRICS_SERVER_NAMESPACE, labels },
    spec: {
      // components.yaml runs one replica (the high-availability overlay two, with a PDB);
      // maxUnavailable 0 keeps the API served during a rollout.
      replicas: 1,
      selector: { matchLabels: SELECTOR },
      strategy: { rollingUpdate: { maxUnavailable: 0 } },
      template: {
        metadata: { labels: SELECTOR },
        spec: {
          serviceAccountName: METRICS_SERVER_NAME,
          // HPAs scale on its metrics: it must not be preempted by ordinary workloads.
          priorityClassName: 'system-cluster-critical',
          // Pod network, not host network: it calls no AWS API, and the API server dials its pod IP.
          ...onMasters(TOLERATED_TAINTS),
          // Restricted-compatible (kube-system is exempt from Pod Security, this would pass anyway).
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          volumes: [{ name: 'tmp-dir', emptyDir: {} }],
          containers: [{
            name: METRICS_SERVER_NAME,
            image: METRICS_SERVER_IMAGE,
            imagePullPolicy: 'IfNotPresent',
            args: metricsServerArgs(),
            resources: { requests: { cpu: '100m', memory: '200Mi' } },
            ports: [{ name: 'https', containerPort: SECURE_PORT, protocol: 'TCP' }],
            readinessProbe: {
              httpGet: { path: '/readyz', port: 'https', scheme: 'HTTPS' },
              periodSeconds: 10,
              failureThreshold: 3,
              initialDelaySeconds: 20,
            },
            livenessProbe: {
              httpGet: { path: '/livez', port: 'https', scheme: 'HTTPS' },
              periodSeconds: 10,
              failureThreshold: 3,
            },
            securityContext: {
              readOnlyRootFilesystem: true,
              runAsNonRoot: true,
              runAsUser: 1000,
              allowPrivilegeEscalation: false,
              seccompProfile: { type: 'RuntimeDefault' },
              capabilities: { drop: ['ALL'] },
            },
            volumeMounts: [{ name: 'tmp-dir', mountPath: '/tmp' }],
          }],
        },
      },
    },
  });
}

function rbac() {
  return [
    // Lets view/edit/admin (and so the webhook's roles built on them) read pod and node metrics.
    new ClusterRole({
      metadata: {
        name: 'system:aggregated-metrics-reader',
        labels: {
          ...labels,
          'rbac.authorization.k8s.io/aggregate-to-view': 'true',
          'rbac.authorization.k8s.io/aggregate-to-edit': 'true',
          'rbac.authorization.k8s.io/aggregate-to-admin': 'true',
        },
      },
      rules: [{ apiGroups: ['metrics.k8s.io'], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] }],
    }),
    // Reads the front-proxy CA and allowed names the API server publishes in kube-system, to
    // trust the aggregator's forwarded requests.
    new RoleBinding({
      metadata: { name: 'metrics-server-auth-reader', namespace: METRICS_SERVER_NAMESPACE, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'extension-apiserver-authentication-reader' },
      subjects: SERVICE_ACCOUNT_SUBJECT,
    }),
    // TokenReviews and SubjectAccessReviews for callers that reach it directly.
    new ClusterRoleBinding({
      metadata: { name: 'metrics-server:system:auth-delegator', labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
      subjects: SERVICE_ACCOUNT_SUBJECT,
    }),
    // What it scrapes: the kubelets' resource metrics, and the nodes and pods they belong to.
    new ClusterRole({
      metadata: { name: 'system:metrics-server', labels },
      rules: [
        { apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
      ],
    }),
    new ClusterRoleBinding({
      metadata: { name: 'system:metrics-server', labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:metrics-server' },
      subjects: SERVICE_ACCOUNT_SUBJECT,
    }),
  ];
}

/** metrics-server as an add-on: the objects of upstream's components.yaml, on the masters. */
export const metricsServer: Addon = {
  name: METRICS_SERVER_NAME,
  version: METRICS_SERVER_VERSION,
  description: 'Resource metrics API (metrics.k8s.io) for kubectl top and HorizontalPodAutoscalers',
  replaces: 'heapster (and its addon-resizer)',
  // Optional: nothing of the cluster's own start-up reads it; only `kubectl top` and
  // HorizontalPodAutoscalers do, and a cluster without them may turn it off.
  optional: true,
  placement: 'masters',
  needs: [
    // Scheduled once the cloud controller lifts the uninitialized taint.
    NODE_COMPONENTS.nodeInitialized,
    // The API server calls it at its pod IP (aggregator routing), over the pod network.
    NODE_COMPONENTS.podNetwork,
    // It reaches the API at 10.3.0.1 (in-cluster config), which kube-proxy programs.
    NODE_COMPONENTS.kubeProxy,
  ],
  provides: [],
  toleratedTaints: TOLERATED_TAINTS,
  permissions: () => [],
  objects: () => [
    new ServiceAccount({ metadata: { name: METRICS_SERVER_NAME, namespace: METRICS_SERVER_NAMESPACE, labels } }),
    ...rbac(),
    new Service({
      metadata: { name: METRICS_SERVER_NAME, namespace: METRICS_SERVER_NAMESPACE, labels },
      spec: {
        selector: SELECTOR,
        ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 'https', appProtocol: 'https' }],
      },
    }),
    deployment(),
    new APIService({
      metadata: { name: METRICS_API_SERVICE, labels },
      spec: {
        service: { name: METRICS_SERVER_NAME, namespace: METRICS_SERVER_NAMESPACE, port: 443 },
        group: 'metrics.k8s.io',
        version: 'v1beta1',
        // As upstream: metrics-server serves a certificate it makes itself at start (--cert-dir),
        // so there is no CA to pin without a certificate issuer. The API server authenticates
        // to it with the front-proxy client certificate, which cannot be replayed; an impostor
        // at its pod IP would see metric queries and user names, no credential.
        insecureSkipTLSVerify: true,
        groupPriorityMinimum: 100,
        versionPriority: 100,
      },
    }),
  ],
};
