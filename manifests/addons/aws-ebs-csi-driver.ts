/**
 * The Amazon EBS CSI driver: PersistentVolumes on EBS, out of tree (Kubernetes 1.35 has no
 * in-tree EBS plugin left). Source: kubernetes-sigs/aws-ebs-csi-driver v1.64.0; the manifests
 * are those of its kustomize base, deploy/kubernetes/base/*.yaml, at tag
 * helm-chart-aws-ebs-csi-driver-2.64.0 (commit 9767d85), the release commit that pins the
 * v1.64.0 image (at tag v1.64.0 itself the base still names v1.63.1). The driver supports
 * every Kubernetes release the Kubernetes project supports (README.md, "Compatibility"),
 * 1.35 among them.
 *
 * Differences from upstream, each for this cluster:
 * - The controller runs on the masters, on the pod network, with the add-on's own IAM role
 *   (aws-identity.ts): only masters' kubelets get tokens of its service account (Node
 *   authorizer), and no pod network pod reaches instance metadata (IMDS hop limit 1).
 * - The node plugin stays on the pod network and reads its instance's metadata from its
 *   Node object (`--metadata-sources=kubernetes`), which the cloud controller manager fills.
 * - No snapshotter: the VolumeSnapshot CRDs are not installed, so neither are the sidecar and
 *   the snapshot IAM actions.
 * - No RBAC for kubelets: what they need for CSI volumes (the VolumeAttachment they wait on,
 *   a claim's status for online expansion) the Node authorizer gives each node for its own
 *   pods' volumes (kubernetes/kubernetes v1.35 plugin/pkg/auth/authorizer/node/
 *   node_authorizer.go: vaResource -> authorizeGet, pvcResource status -> authorizeStatusUpdate).
 */
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { IPolicyRule } from 'kubernetes-models/rbac.authorization.k8s.io/v1/PolicyRule';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { CSIDriver } from 'kubernetes-models/storage.k8s.io/v1/CSIDriver';
import { StorageClass } from 'kubernetes-models/storage.k8s.io/v1/StorageClass';
import { IContainer } from 'kubernetes-models/v1/Container';
import { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { MANAGED_BY_LABELS } from '../managed-by';
import { Addon, AddonContext, AddonObject, AddonServiceAccount, clusterTagKey, IamStatement, NODE_COMPONENTS } from './addon';
import { withAddonRole } from './aws-identity';
import { podNetworkNodeResolver, LINUX_NODE_SELECTOR, NODE_TAINTS, onMasters, tolerationsFor } from './placement';

/** The driver's release. */
export const EBS_CSI_DRIVER_VERSION = 'v1.64.0';
/** The name the driver registers under; the CSIDriver object and StorageClasses use it. */
export const EBS_CSI_DRIVER_NAME = 'ebs.csi.aws.com';
/** The default StorageClass this add-on creates. */
export const EBS_DEFAULT_STORAGE_CLASS = 'gp3';

/**
 * Images as deploy/kubernetes/base/{controller,node}.yaml pin them at the release commit
 * (the chart's values.yaml names the same sidecar tags). The sidecars are the kubernetes-csi
 * ones rebuilt by AWS (`-eksbuild.N`), as upstream ships them.
 */
export const EBS_CSI_IMAGES = {
  driver: `public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:${EBS_CSI_DRIVER_VERSION}`,
  provisioner: 'public.ecr.aws/csi-components/csi-provisioner:v6.3.0-eksbuild.4',
  attacher: 'public.ecr.aws/csi-components/csi-attacher:v4.12.0-eksbuild.5',
  resizer: 'public.ecr.aws/csi-components/csi-resizer:v2.2.1-eksbuild.3',
  livenessProbe: 'public.ecr.aws/csi-components/livenessprobe:v2.19.0-eksbuild.5',
  nodeDriverRegistrar: 'public.ecr.aws/csi-components/csi-node-driver-registrar:v2.17.0-eksbuild.5',
} as const;

const NAMESPACE = 'kube-system';
const CONTROLLER = 'ebs-csi-controller';
const NODE = 'ebs-csi-node';
const CONTROLLER_SA = 'ebs-csi-controller-sa';
const NODE_SA = 'ebs-csi-node-sa';
/** The controller's service account, which the add-on's IAM role trusts; the node plugin never calls AWS. */
const AWS_SERVICE_ACCOUNT: AddonServiceAccount = { namespace: NAMESPACE, name: CONTROLLER_SA };

/** Each taint it tolerates, with why: the README's bootstrap table and both pod specs come from here. */
const TOLERATED_TAINTS: Readonly<Record<string, string>> = {
  [NODE_TAINTS.controlPlane]:
    "the controller runs on masters (only their kubelets get tokens for its EC2 role); volumes mount on masters too, and on tainted worker pools: the node plugin tolerates each pool's taints as well",
};

/**
 * Upstream's two: on the pod network two controllers share no port, even on a one-master
 * cluster; the sidecars elect a leader, so one acts at a time.
 */
export const CONTROLLER_REPLICAS = 2;
/** livenessprobe's default `--health-port` (kubernetes-csi/livenessprobe). */
export const CONTROLLER_HEALTH_PORT = 9808;

/** The socket between the controller's plugin and its sidecars (an emptyDir). */
const CONTROLLER_SOCKET_DIR = '/var/lib/csi/sockets/pluginproxy/';
const KUBELET_DIR = '/var/lib/kubelet';
const NODE_PLUGIN_DIR = `${KUBELET_DIR}/plugins/${EBS_CSI_DRIVER_NAME}/`;

const labels = (app: string) => ({ app, 'app.kubernetes.io/name': 'aws-ebs-csi-driver' });
const meta = (name: string, namespaced = true) => ({
  name,
  ...(namespaced ? { namespace: NAMESPACE } : {}),
  labels: { ...MANAGED_BY_LABELS, 'app.kubernetes.io/name': 'aws-ebs-csi-driver' },
});
const rule = (apiGroup: string, resources: string[], verbs: string[]): IPolicyRule => ({ apiGroups: [apiGroup], resources, verbs });

/** Upstream's sidecar hardening (controller.yaml): read-only root, no escalation, RuntimeDefault seccomp. */
const SIDECAR_SECURITY: ISecurityContext = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, seccompProfile: { type: 'RuntimeDefault' } };
/** Upstream's requests and limits for every controller container (controller.yaml). */
const SIDECAR_RESOURCES = { requests: { cpu: '10m', memory: '40Mi' }, limits: { memory: '256Mi' } };
const PROBE_RESOURCES = { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '32Mi' } };

/** A controller sidecar talking to the plugin through the shared socket, args as upstream's controller.yaml. */
function controllerSidecar(name: string, image: string, args: string[], env: { name: string; value: string }[] = []): IContainer {
  return {
    name,
    image,
    args: ['--csi-address=$(ADDRESS)', ...args],
    env: [{ name: 'ADDRESS', value: `${CONTROLLER_SOCKET_DIR}csi.sock` }, ...env],
    volumeMounts: [{ name: 'socket-dir', mountPath: CONTROLLER_SOCKET_DIR }],
    resources: SIDECAR_RESOURCES,
    securityContext: SIDECAR_SECURITY,
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}

function controllerDeployment(context: AddonContext): Deployment {
  return new Deployment({
    metadata: meta(CONTROLLER),
    spec: {
      replicas: CONTROLLER_REPLICAS,
      // Upstream's strategy (controller.yaml).
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      selector: { matchLabels: labels(CONTROLLER) },
      template: {
        metadata: { labels: labels(CONTROLLER) },
        // The plugin calls EC2 with the add-on's role; the sidecars talk to it and the API only.
        spec: withAddonRole({
          // On the masters' pod network, resolving EC2's endpoint with the node's resolver
          // (placement.ts podNetworkNodeResolver).
          ...onMasters(TOLERATED_TAINTS),
          ...podNetworkNodeResolver(),
          // Upstream's spread of the two controllers over nodes, where there are several.
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { app: CONTROLLER } }, topologyKey: 'kubernetes.io/hostname' } },
              ],
            },
          },
          serviceAccountName: CONTROLLER_SA,
          priorityClassName: 'system-cluster-critical',
          securityContext: { fsGroup: 1000, runAsGroup: 1000, runAsNonRoot: true, runAsUser: 1000 },
          containers: [
            {
              name: 'ebs-plugin',
              image: EBS_CSI_IMAGES.driver,
              args: [
                'controller',
                '--endpoint=$(CSI_ENDPOINT)',
                '--batching=true',
                // Tags every volume it creates kubernetes.io/cluster/<id>=owned (and Name,
                // KubernetesCluster, ebs.csi.aws.com/cluster-name): pkg/driver/controller.go
                // CreateVolume, docs/tagging.md. The IAM policy below only lets it create
                // volumes that carry this tag and touch volumes that do.
                `--k8s-tag-cluster-id=${context.clusterName}`,
                '--logging-format=text',
                '--v=2',
              ],
              env: [
                { name: 'CSI_ENDPOINT', value: `unix://${CONTROLLER_SOCKET_DIR}csi.sock` },
                { name: 'CSI_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                // withAddonRole adds AWS_REGION: with it, the controller needs no instance
                // metadata (cmd/main.go).
              ],
              volumeMounts: [{ name: 'socket-dir', mountPath: CONTROLLER_SOCKET_DIR }],
              ports: [{ name: 'healthz', containerPort: CONTROLLER_HEALTH_PORT, protocol: 'TCP' }],
              livenessProbe: { httpGet: { path: '/healthz', port: 'healthz' }, initialDelaySeconds: 10, timeoutSeconds: 60, periodSeconds: 10, failureThreshold: 10 },
              readinessProbe: { httpGet: { path: '/healthz', port: 'healthz' }, initialDelaySeconds: 10, timeoutSeconds: 60, periodSeconds: 10, failureThreshold: 5 },
              resources: SIDECAR_RESOURCES,
              securityContext: SIDECAR_SECURITY,
              terminationMessagePolicy: 'FallbackToLogsOnError',
            },
            controllerSidecar(
              'csi-provisioner',
              EBS_CSI_IMAGES.provisioner,
              ['--timeout=60s', '--v=2', '--feature-gates=Topology=true', '--extra-create-metadata', '--leader-election=true', '--default-fstype=ext4', '--kube-api-qps=20', '--kube-api-burst=100', '--worker-threads=100', '--retry-interval-max=30m'],
              [{ name: 'ENABLE_VAC_FALLBACK', value: 'true' }],
            ),
            controllerSidecar('csi-attacher', EBS_CSI_IMAGES.attacher, [
              '--timeout=6m', '--v=2', '--leader-election=true', '--kube-api-qps=20', '--kube-api-burst=100', '--worker-threads=100', '--retry-interval-max=5m', '--feature-gates=MutableCSINodeAllocatableCount=true',
            ]),
            controllerSidecar(
              'csi-resizer',
              EBS_CSI_IMAGES.resizer,
              ['--timeout=60s', '--extra-modify-metadata', '--v=2', '--handle-volume-inuse-error=false', '--leader-election=true', '--kube-api-qps=20', '--kube-api-burst=100', '--workers=100', '--retry-interval-max=30m'],
              [{ name: 'ENABLE_VAC_FALLBACK', value: 'true' }],
            ),
            {
              name: 'liveness-probe',
              image: EBS_CSI_IMAGES.livenessProbe,
              args: ['--csi-address=/csi/csi.sock', '--probe-timeout=60s'],
              volumeMounts: [{ name: 'socket-dir', mountPath: '/csi' }],
              resources: PROBE_RESOURCES,
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true },
              terminationMessagePolicy: 'FallbackToLogsOnError',
            },
          ],
          volumes: [{ name: 'socket-dir', emptyDir: {} }],
        }, { context, addonName: awsEbsCsiDriver.name, serviceAccount: AWS_SERVICE_ACCOUNT, containers: ['ebs-plugin'] }),
      },
    },
  });
}

function nodeDaemonSet(context: AddonContext): DaemonSet {
  return new DaemonSet({
    metadata: meta(NODE),
    spec: {
      selector: { matchLabels: labels(NODE) },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } },
      template: {
        metadata: { labels: labels(NODE) },
        spec: {
          nodeSelector: { ...LINUX_NODE_SELECTOR },
          // Every node, masters and tainted worker pools included: a volume may be mounted
          // wherever a pod lands. Upstream tolerates every taint; here the masters' and the
          // pools' (the DaemonSet controller adds the not-ready/unreachable/pressure ones
          // itself). Not the uninitialized taint: the plugin's metadata are the labels the
          // cloud controller sets.
          tolerations: [
            ...tolerationsFor(TOLERATED_TAINTS),
            ...context.workerPoolTaints.map((taint) => ({ key: taint.key, operator: 'Equal' as const, value: taint.value ?? '', effect: taint.effect })),
          ],
          // The pod network: privileged for mounts, but no route to instance metadata.
          hostNetwork: false,
          serviceAccountName: NODE_SA,
          priorityClassName: 'system-node-critical',
          terminationGracePeriodSeconds: 30,
          securityContext: { fsGroup: 0, runAsGroup: 0, runAsNonRoot: false, runAsUser: 0 },
          containers: [
            {
              name: 'ebs-plugin',
              image: EBS_CSI_IMAGES.driver,
              args: [
                'node',
                '--endpoint=$(CSI_ENDPOINT)',
                `--csi-mount-point-prefix=${KUBELET_DIR}/plugins/kubernetes.io/csi/${EBS_CSI_DRIVER_NAME}/`,
                // Instance id, type, region and zone from this node's Node object (providerID
                // and the labels the cloud controller sets), never IMDS, which a pod can't
                // reach here: pkg/cloud/metadata/metadata.go (SourceK8s), docs/install.md
                // "Kubernetes Metadata". Without it the driver tries IMDS first and waits.
                '--metadata-sources=kubernetes',
                '--logging-format=text',
                '--v=2',
              ],
              env: [
                { name: 'CSI_ENDPOINT', value: 'unix:/csi/csi.sock' },
                // The Node object to read (pkg/cloud/metadata/k8s.go).
                { name: 'CSI_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
              ],
              volumeMounts: [
                { name: 'kubelet-dir', mountPath: KUBELET_DIR, mountPropagation: 'Bidirectional' },
                { name: 'plugin-dir', mountPath: '/csi' },
                { name: 'device-dir', mountPath: '/dev' },
              ],
              ports: [{ name: 'healthz', containerPort: 9808, protocol: 'TCP' }],
              livenessProbe: { httpGet: { path: '/healthz', port: 'healthz' }, initialDelaySeconds: 10, timeoutSeconds: 3, periodSeconds: 10, failureThreshold: 5 },
              readinessProbe: { httpGet: { path: '/healthz', port: 'healthz' }, timeoutSeconds: 3, periodSeconds: 5, failureThreshold: 3 },
              resources: SIDECAR_RESOURCES,
              // Formats and mounts block devices: privileged, hence kube-system.
              securityContext: { privileged: true, readOnlyRootFilesystem: true },
              lifecycle: { preStop: { exec: { command: ['/bin/aws-ebs-csi-driver', 'pre-stop-hook'] } } },
              terminationMessagePolicy: 'FallbackToLogsOnError',
            },
            {
              name: 'node-driver-registrar',
              image: EBS_CSI_IMAGES.nodeDriverRegistrar,
              args: ['--csi-address=$(ADDRESS)', '--kubelet-registration-path=$(DRIVER_REG_SOCK_PATH)', '--http-endpoint=0.0.0.0:9809', '--v=2'],
              env: [
                { name: 'ADDRESS', value: '/csi/csi.sock' },
                { name: 'DRIVER_REG_SOCK_PATH', value: `${NODE_PLUGIN_DIR}csi.sock` },
              ],
              ports: [{ name: 'healthz-ndr', containerPort: 9809 }],
              livenessProbe: { httpGet: { path: '/healthz', port: 'healthz-ndr' }, initialDelaySeconds: 30, periodSeconds: 90, timeoutSeconds: 15 },
              volumeMounts: [
                { name: 'plugin-dir', mountPath: '/csi' },
                { name: 'registration-dir', mountPath: '/registration' },
                { name: 'probe-dir', mountPath: NODE_PLUGIN_DIR },
              ],
              resources: PROBE_RESOURCES,
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true },
              terminationMessagePolicy: 'FallbackToLogsOnError',
            },
            {
              name: 'liveness-probe',
              image: EBS_CSI_IMAGES.livenessProbe,
              args: ['--csi-address=/csi/csi.sock'],
              volumeMounts: [{ name: 'plugin-dir', mountPath: '/csi' }],
              resources: PROBE_RESOURCES,
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true },
              terminationMessagePolicy: 'FallbackToLogsOnError',
            },
          ],
          volumes: [
            { name: 'kubelet-dir', hostPath: { path: KUBELET_DIR, type: 'Directory' } },
            { name: 'plugin-dir', hostPath: { path: NODE_PLUGIN_DIR, type: 'DirectoryOrCreate' } },
            { name: 'registration-dir', hostPath: { path: `${KUBELET_DIR}/plugins_registry/`, type: 'Directory' } },
            { name: 'device-dir', hostPath: { path: '/dev', type: 'Directory' } },
            { name: 'probe-dir', emptyDir: {} },
          ],
        },
      },
    },
  });
}

/** Upstream's ClusterRoles (deploy/kubernetes/base/clusterrole-*.yaml), by name, without the snapshotter's. */
export const EBS_CSI_CLUSTER_ROLES: Readonly<Record<string, { readonly serviceAccount: string; readonly rules: readonly IPolicyRule[] }>> = {
  'ebs-external-attacher-role': {
    serviceAccount: CONTROLLER_SA,
    rules: [
      rule('', ['persistentvolumes'], ['get', 'list', 'watch', 'patch']),
      rule('storage.k8s.io', ['csinodes'], ['get', 'list', 'watch']),
      rule('storage.k8s.io', ['volumeattachments'], ['get', 'list', 'watch', 'patch']),
      rule('storage.k8s.io', ['volumeattachments/status'], ['patch']),
    ],
  },
  'ebs-external-provisioner-role': {
    serviceAccount: CONTROLLER_SA,
    rules: [
      rule('', ['persistentvolumes'], ['get', 'list', 'watch', 'create', 'patch', 'delete']),
      rule('', ['persistentvolumeclaims'], ['get', 'list', 'watch', 'update']),
      rule('storage.k8s.io', ['storageclasses'], ['get', 'list', 'watch']),
      rule('', ['events'], ['list', 'watch', 'create', 'update', 'patch']),
      rule('snapshot.storage.k8s.io', ['volumesnapshots'], ['get', 'list', 'watch', 'update']),
      rule('snapshot.storage.k8s.io', ['volumesnapshotcontents'], ['get', 'list']),
      rule('storage.k8s.io', ['csinodes'], ['get', 'list', 'watch']),
      rule('', ['nodes'], ['get', 'list', 'watch']),
      rule('storage.k8s.io', ['volumeattachments'], ['get', 'list', 'watch']),
      rule('storage.k8s.io', ['volumeattributesclasses'], ['get']),
    ],
  },
  'ebs-external-resizer-role': {
    serviceAccount: CONTROLLER_SA,
    rules: [
      rule('', ['persistentvolumes'], ['get', 'list', 'watch', 'patch']),
      rule('', ['persistentvolumeclaims'], ['get', 'list', 'watch']),
      rule('', ['pods'], ['get', 'list', 'watch']),
      rule('', ['persistentvolumeclaims/status'], ['patch']),
      rule('', ['events'], ['list', 'watch', 'create', 'update', 'patch']),
      rule('storage.k8s.io', ['volumeattributesclasses'], ['get', 'list', 'watch']),
    ],
  },
  'ebs-csi-node-role': {
    serviceAccount: NODE_SA,
    rules: [
      rule('storage.k8s.io', ['volumeattachments'], ['get', 'list', 'watch']),
      rule('', ['nodes'], ['get']),
      rule('', ['nodes'], ['patch', 'list', 'watch']),
      rule('storage.k8s.io', ['csinodes'], ['get']),
    ],
  },
};

function rbac(): AddonObject[] {
  const clusterRoles = Object.entries(EBS_CSI_CLUSTER_ROLES).flatMap(([name, { serviceAccount, rules }]) => [
    new ClusterRole({ metadata: meta(name, false), rules: rules.map((r) => ({ ...r })) }),
    new ClusterRoleBinding({
      metadata: meta(name.replace(/-role$/, '-binding'), false),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace: NAMESPACE }],
    }),
  ]);
  return [
    new ServiceAccount({ metadata: meta(CONTROLLER_SA), automountServiceAccountToken: true }),
    new ServiceAccount({ metadata: meta(NODE_SA), automountServiceAccountToken: true }),
    ...clusterRoles,
    // The sidecars' leader election (role-leases.yaml).
    new Role({ metadata: meta('ebs-csi-leases-role'), rules: [rule('coordination.k8s.io', ['leases'], ['get', 'watch', 'list', 'delete', 'update', 'create'])] }),
    new RoleBinding({
      metadata: meta('ebs-csi-leases-rolebinding'),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'ebs-csi-leases-role' },
      subjects: [{ kind: 'ServiceAccount', name: CONTROLLER_SA, namespace: NAMESPACE }],
    }),
  ];
}

/** The node roles a CSI volume may attach to (lib/constructs/node-tags.ts NODE_TAGS.role): never etcd members. */
export const EBS_ATTACH_NODE_ROLES = ['master', 'worker'];

/**
 * The statements of its own role: upstream's docs/example-iam-policy.json cut to what this
 * deployment calls (no snapshots, no CopyVolumes clones), every write scoped to this cluster
 * instead of upstream's `ebs.csi.aws.com/cluster=true` or `CSIVolumeName=*` (tags any
 * cluster's driver sets).
 *
 * A volume is the driver's when it carries both tags `--k8s-tag-cluster-id` makes it set
 * (pkg/driver/controller.go CreateVolume; docs/tagging.md): `kubernetes.io/cluster/<cluster>=owned`
 * and `ebs.csi.aws.com/cluster-name=<cluster>`. The cluster tag alone would not do: the etcd
 * members' data volumes carry it too (lib/constructs/etcd-member-identities.ts), and this role
 * must not detach, modify or delete them. Volumes go only to masters and workers.
 *
 * Encryption with the default aws/ebs key needs no KMS statement (that key's policy admits
 * EBS callers of the account); a customer-managed key would.
 */
export function ebsCsiPermissions(context: AddonContext): IamStatement[] {
  const clusterTag = clusterTagKey(context.clusterName);
  const driverTags = (prefix: 'aws:RequestTag' | 'aws:ResourceTag') => ({
    [`${prefix}/${clusterTag}`]: 'owned',
    [`${prefix}/ebs.csi.aws.com/cluster-name`]: context.clusterName,
  });
  // ARNs in this cluster's partition, region and account.
  const volumes = `arn:${context.partition}:ec2:${context.region}:${context.account}:volume/*`;
  const instances = `arn:${context.partition}:ec2:${context.region}:${context.account}:instance/*`;
  return [
    {
      Sid: 'EbsCsiDescribe',
      Effect: 'Allow',
      // Describe calls have no resource-level permissions.
      Action: [
        'ec2:DescribeAvailabilityZones',
        'ec2:DescribeInstances',
        'ec2:DescribeInstanceTypes',
        'ec2:DescribeSnapshots',
        'ec2:DescribeTags',
        'ec2:DescribeVolumes',
        'ec2:DescribeVolumesModifications',
        'ec2:DescribeVolumeStatus',
      ],
      Resource: ['*'],
    },
    {
      Sid: 'EbsCsiCreateOwnedVolumes',
      Effect: 'Allow',
      // CreateVolume sends the tags in its TagSpecifications (pkg/cloud/cloud.go CreateDisk),
      // so the request tags are there to check.
      Action: ['ec2:CreateVolume'],
      Resource: [volumes],
      Condition: { StringEquals: driverTags('aws:RequestTag') },
    },
    {
      Sid: 'EbsCsiTagOnCreate',
      Effect: 'Allow',
      Action: ['ec2:CreateTags'],
      Resource: [volumes],
      Condition: { StringEquals: { 'ec2:CreateAction': 'CreateVolume' } },
    },
    {
      Sid: 'EbsCsiManageOwnedVolumes',
      Effect: 'Allow',
      Action: ['ec2:ModifyVolume', 'ec2:DeleteVolume', 'ec2:AttachVolume', 'ec2:DetachVolume'],
      Resource: [volumes],
      Condition: { StringEquals: driverTags('aws:ResourceTag') },
    },
    {
      Sid: 'EbsCsiRetagOwnedVolumes',
      Effect: 'Allow',
      // User tags change through VolumeAttributesClass (pkg/cloud/cloud.go); the ownership
      // tags and the nodes' tags stay as they are.
      Action: ['ec2:CreateTags', 'ec2:DeleteTags'],
      Resource: [volumes],
      Condition: {
        StringEquals: driverTags('aws:ResourceTag'),
        'ForAllValues:StringNotLike': { 'aws:TagKeys': ['kubernetes.io/*', 'ebs.csi.aws.com/*', 'kubernetes-on-aws:*'] },
        // DeleteTags without keys deletes every tag, ownership ones included.
        Null: { 'aws:TagKeys': 'false' },
      },
    },
    {
      Sid: 'EbsCsiAttachToClusterNodes',
      Effect: 'Allow',
      // The instance half of attach and detach: the cluster's masters and workers, tagged at
      // launch by lib/constructs/node-group.ts.
      Action: ['ec2:AttachVolume', 'ec2:DetachVolume'],
      Resource: [instances],
      Condition: { StringEquals: { [`aws:ResourceTag/${clusterTag}`]: 'owned', 'aws:ResourceTag/kubernetes-on-aws:role': EBS_ATTACH_NODE_ROLES } },
    },
  ];
}

/** The add-on: controller on the masters, node plugin on every node, default gp3 StorageClass. */
export const awsEbsCsiDriver: Addon = {
  name: 'aws-ebs-csi-driver',
  version: EBS_CSI_DRIVER_VERSION,
  description: 'PersistentVolumes on EBS (default StorageClass gp3, encrypted)',
  replaces: 'the in-tree kubernetes.io/aws-ebs volume plugin',
  optional: false,
  // The node plugin's; the controller runs on the masters only.
  placement: 'every-node',
  // Node plugin on the pod network reaches the API by Service IP; its metadata come from the
  // labels the cloud controller sets (node-initialized), as do the masters' for the controller.
  needs: [NODE_COMPONENTS.apiServer, NODE_COMPONENTS.podNetwork, NODE_COMPONENTS.kubeProxy, NODE_COMPONENTS.nodeInitialized],
  provides: [],
  toleratedTaints: TOLERATED_TAINTS,
  awsServiceAccount: AWS_SERVICE_ACCOUNT,
  permissions: ebsCsiPermissions,
  objects: (context) => [
    ...rbac(),
    controllerDeployment(context),
    nodeDaemonSet(context),
    new CSIDriver({
      metadata: meta(EBS_CSI_DRIVER_NAME, false),
      spec: { attachRequired: true, podInfoOnMount: false, nodeAllocatableUpdatePeriodSeconds: 10, fsGroupPolicy: 'File' },
    }),
    new StorageClass({
      metadata: { ...meta(EBS_DEFAULT_STORAGE_CLASS, false), annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: EBS_CSI_DRIVER_NAME,
      // docs/parameters.md: type, encrypted (aws/ebs key unless kmsKeyId), fstype.
      parameters: { type: 'gp3', encrypted: 'true', 'csi.storage.k8s.io/fstype': 'ext4' },
      // The volume is made in the zone of the node the pod lands on (EBS is zonal).
      volumeBindingMode: 'WaitForFirstConsumer',
      allowVolumeExpansion: true,
      reclaimPolicy: 'Delete',
    }),
  ],
};
