/**
 * The out-of-tree AWS cloud controller manager (kubernetes/cloud-provider-aws): it initializes
 * new nodes (provider ID, addresses, zone labels, then removes the uninitialized taint the
 * kubelets' `--cloud-provider=external` puts on them), deletes the Nodes of terminated
 * instances, and runs the load balancers of `type: LoadBalancer` Services.
 *
 * Source: kubernetes/cloud-provider-aws v1.35.2 (commit 1c494fbc3edacf55e2a1e06df21858c03ff9c457,
 * the newest v1.35.x tag; it builds against k8s.io/cloud-provider v0.35.0, go.mod), manifests
 * examples/existing-cluster/base/*.yaml and charts/aws-cloud-controller-manager/, compared with
 * kOps v1.36.2 upup/models/cloudup/resources/addons/aws-cloud-controller.addons.k8s.io/k8s-1.18.yaml.template.
 */
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { IPolicyRule } from 'kubernetes-models/rbac.authorization.k8s.io/v1/PolicyRule';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { API_SERVER_PORT } from '../../userdata/network';
import { MANAGED_BY_LABELS } from '../managed-by';
import { Addon, AddonContext, AddonObject, NODE_COMPONENTS } from './addon';
import { MASTER_NODE_SELECTOR, NODE_TAINTS, tolerationsFor } from './placement';

/** The release, cited in the file's header. */
export const CLOUD_CONTROLLER_MANAGER_VERSION = 'v1.35.2';

/**
 * Tag and digest as the image promoter publishes them: kubernetes/k8s.io
 * registry.k8s.io/images/k8s-staging-provider-aws/images.yaml (commit
 * 0137eda2cba1d3894c93aa4bd4363eacc2ed7287), `cloud-controller-manager` v1.35.2. The digest
 * makes the tag immutable for us.
 */
export const CLOUD_CONTROLLER_MANAGER_IMAGE =
  `registry.k8s.io/provider-aws/cloud-controller-manager:${CLOUD_CONTROLLER_MANAGER_VERSION}` +
  '@sha256:5a5d4e5942ad078a184c12bf5435f8226ccb157ee15e9e1f87c183a4bf4b8f1a';

/** Upstream's names (examples/existing-cluster/base), so its docs and kOps' read the same. */
const NAMESPACE = 'kube-system';
const NAME = 'aws-cloud-controller-manager';
const SERVICE_ACCOUNT = 'cloud-controller-manager';
const CLUSTER_ROLE = 'system:cloud-controller-manager';
const POD_LABELS = { 'k8s-app': NAME };

/**
 * The identities the controllers act as with `--use-service-account-credentials=true`: one
 * token per controller (k8s.io/cloud-provider v0.35.0 app/controllermanager.go
 * DefaultInitFuncConstructors ClientName: the cloud-node and cloud-node-lifecycle controllers
 * share node-controller). The API server's bootstrap policy binds each
 * `system:controller:<name>` role to them.
 */
export const CONTROLLER_SERVICE_ACCOUNTS = ['node-controller', 'service-controller', 'route-controller'] as const;

/**
 * The secure port (k8s.io/cloud-provider v0.35.0 ports.go CloudControllerManagerPort): /healthz
 * there needs no credentials (k8s.io/apiserver DelegatingAuthorizationOptions AlwaysAllowPaths),
 * as the controller-manager's 10257 probed the same way in userdata/master.ts.
 */
export const CLOUD_CONTROLLER_MANAGER_PORT = 10258;

/**
 * Its flags. Leader election is on and its lease is in kube-system by default (cloud-provider
 * v0.35.0 options/options.go: ResourceNamespace "kube-system", ResourceName
 * "cloud-controller-manager"); said here so a reader need not look it up. Every master runs a
 * copy, one leads.
 */
export function cloudControllerManagerArgs(context: Pick<AddonContext, 'clusterName'>): string[] {
  return [
    '--v=2',
    '--cloud-provider=aws',
    // One token per controller, as kube-controller-manager runs (userdata/master.ts
    // controllerManagerFlags: use-service-account-credentials), upstream's base example.
    '--use-service-account-credentials=true',
    // flannel vxlan carries pod traffic; no VPC routes to program (as kube-controller-manager).
    '--configure-cloud-routes=false',
    // The name kube-controller-manager has too; the NLB security groups' names hash it
    // (cloud-provider-aws v1.35.2 pkg/providers/v1/aws.go GetSecurityGroupNameForNLB). The
    // ownership tag `kubernetes.io/cluster/<cluster>` comes from the master's own instance
    // tags (aws.go newAWSCloud2 -> tagging.initFromTags), which carry the same name.
    `--cluster-name=${context.clusterName}`,
    '--leader-elect=true',
    '--leader-elect-resource-namespace=kube-system',
    // Host network: without this the secure port listens on every address of the master.
    '--bind-address=127.0.0.1',
  ];
}

/**
 * The ClusterRole: upstream's base example (examples/existing-cluster/base/cluster-role.yaml at
 * v1.35.2), with two changes, each from upstream:
 * - serviceaccounts create and get only, and tokens only for the controllers' own accounts
 *   (the narrowing kOps v1.36.2 ships and upstream's superset-role overlay names): the client
 *   builder gets or creates each account, then asks for its token.
 * - tokenreviews and subjectaccessreviews create, from the chart (charts/aws-cloud-controller-manager/values.yaml
 *   clusterRoleRules): the secure port checks its callers through the API server.
 */
export const CLOUD_CONTROLLER_MANAGER_RULES: readonly IPolicyRule[] = [
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch', 'update'] },
  { apiGroups: [''], resources: ['nodes'], verbs: ['*'] },
  { apiGroups: [''], resources: ['nodes/status'], verbs: ['patch'] },
  { apiGroups: [''], resources: ['services'], verbs: ['list', 'patch', 'update', 'watch'] },
  { apiGroups: [''], resources: ['services/status'], verbs: ['list', 'patch', 'update', 'watch'] },
  { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['create', 'get'] },
  { apiGroups: [''], resources: ['persistentvolumes'], verbs: ['get', 'list', 'update', 'watch'] },
  { apiGroups: [''], resources: ['endpoints'], verbs: ['create', 'get', 'list', 'watch', 'update'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create', 'get', 'list', 'watch', 'update'] },
  { apiGroups: [''], resources: ['serviceaccounts/token'], resourceNames: [...CONTROLLER_SERVICE_ACCOUNTS], verbs: ['create'] },
  { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
  { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
];

/** Each taint it tolerates, with why: the README's bootstrap table and the pod spec both come from here. */
const TOLERATED_TAINTS: Readonly<Record<string, string>> = {
  [NODE_TAINTS.controlPlane]: 'It runs on the masters only: they hold the IAM permissions it needs.',
  [NODE_TAINTS.uninitialized]:
    'It is what removes this taint, from every node, its own master included: nothing else would ever initialize the first master.',
  [NODE_TAINTS.notReady]:
    'A master is NotReady until flannel writes its CNI config; the controller uses the host network and needs no pod ' +
    'network, so it need not wait. (A DaemonSet gets only the NoExecute toleration of this taint on its own: kubernetes ' +
    'pkg/controller/daemon/util/daemonset_util.go AddOrUpdateDaemonPodTolerations.)',
};

function objects(context: AddonContext): AddonObject[] {
  const metadata = (name: string) => ({ name, namespace: NAMESPACE, labels: { ...MANAGED_BY_LABELS } });
  const clusterMetadata = (name: string) => ({ name, labels: { ...MANAGED_BY_LABELS } });
  const subjects = [{ kind: 'ServiceAccount', name: SERVICE_ACCOUNT, namespace: NAMESPACE }];
  return [
    new ServiceAccount({ metadata: metadata(SERVICE_ACCOUNT) }),
    new ClusterRole({ metadata: clusterMetadata(CLUSTER_ROLE), rules: CLOUD_CONTROLLER_MANAGER_RULES.map((rule) => ({ ...rule })) }),
    new ClusterRoleBinding({
      metadata: clusterMetadata(CLUSTER_ROLE),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: CLUSTER_ROLE },
      subjects,
    }),
    // Reads the client-CA ConfigMap its secure port authenticates callers with
    // (examples/existing-cluster/base/apiserver-authentication-reader-role-binding.yaml).
    new RoleBinding({
      metadata: metadata('cloud-controller-manager:apiserver-authentication-reader'),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'extension-apiserver-authentication-reader' },
      subjects,
    }),
    new DaemonSet({
      metadata: { ...metadata(NAME), labels: { ...MANAGED_BY_LABELS, ...POD_LABELS } },
      spec: {
        selector: { matchLabels: POD_LABELS },
        updateStrategy: { type: 'RollingUpdate' },
        template: {
          metadata: { labels: POD_LABELS },
          spec: {
            nodeSelector: { ...MASTER_NODE_SELECTOR },
            tolerations: tolerationsFor(TOLERATED_TAINTS),
            // Instance metadata answers host-network pods only (hop limit 1): the controller
            // finds its region, VPC and instance there, and the masters' role credentials.
            hostNetwork: true,
            // Cluster DNS needs initialized nodes, so it cannot depend on cluster DNS: the
            // node's resolver reaches the AWS endpoints (the chart's dnsPolicy Default).
            dnsPolicy: 'Default',
            // Node-critical, as the chart (templates/daemonset.yaml): no pod may become
            // schedulable without it, CoreDNS's cluster-critical pods included, so nothing they
            // preempt for may preempt it.
            priorityClassName: 'system-node-critical',
            serviceAccountName: SERVICE_ACCOUNT,
            // Its image runs as root by default (Dockerfile: go-runner base, no USER). It needs
            // no privilege: port 10258 is unprivileged and its serving certificate is made in
            // memory (cloud-provider v0.35.0 options/options.go: CertDirectory ""). 65532: the
            // distroless "nonroot" user, any unprivileged uid would do.
            securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: NAME,
                image: CLOUD_CONTROLLER_MANAGER_IMAGE,
                args: cloudControllerManagerArgs(context),
                env: [
                  // The master's own API server, as kOps sets it: in-cluster config would dial the
                  // `kubernetes` Service address, which needs kube-proxy. The API server's
                  // certificate names 127.0.0.1 (lib/secrets/sans.ts).
                  { name: 'KUBERNETES_SERVICE_HOST', value: '127.0.0.1' },
                  { name: 'KUBERNETES_SERVICE_PORT', value: String(API_SERVER_PORT) },
                ],
                // cpu: upstream's request (chart values.yaml, base example). memory: our estimate
                // for a controller that watches nodes and services; upstream gives no figure.
                resources: { requests: { cpu: '200m', memory: '100Mi' } },
                livenessProbe: {
                  httpGet: { host: '127.0.0.1', path: '/healthz', port: CLOUD_CONTROLLER_MANAGER_PORT, scheme: 'HTTPS' },
                  initialDelaySeconds: 15,
                  periodSeconds: 10,
                  timeoutSeconds: 15,
                  failureThreshold: 8,
                },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ['ALL'] },
                },
              },
            ],
          },
        },
      },
    }),
  ];
}

/**
 * The AWS cloud controller manager add-on: a DaemonSet on the masters. It needs only the API
 * server (it dials the master's own, on the host network), so it is the first add-on up and
 * what makes every node, masters included, schedulable.
 */
export const cloudControllerManager: Addon = {
  name: 'aws-cloud-controller-manager',
  version: CLOUD_CONTROLLER_MANAGER_VERSION,
  description: 'Initializes nodes from EC2 (addresses, zone, removes the uninitialized taint) and runs Service load balancers.',
  replaces: "kube-controller-manager's in-tree AWS cloud provider (removed from Kubernetes)",
  optional: false,
  placement: 'masters',
  // Host network: the masters' nodes registered is all it needs (no pod network, no Service IP).
  needs: [NODE_COMPONENTS.apiServer, NODE_COMPONENTS.clusterBootstrapped],
  provides: [NODE_COMPONENTS.nodeInitialized],
  toleratedTaints: TOLERATED_TAINTS,
  /**
   * None of its own: the masters' role already carries what the controller calls
   * (lib/constructs/cloud-controller-policy.ts grantCloudController, scoped to the cluster's tag
   * and VPC), and the controller uses the masters' instance credentials through the host network.
   */
  permissions: () => [],
  objects,
};
