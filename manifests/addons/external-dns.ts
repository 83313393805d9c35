/**
 * external-dns: Route 53 records in the cluster's hosted zone for Services and Ingresses
 * that ask for a name (the successor of 2016's Mate). Source: kubernetes-sigs/external-dns
 * tag v0.22.0 (commit 994f908); objects from kustomize/*.yaml, which the default branch
 * (commit 2bf1bf8) points at image tag v0.22.0 only once that image is pullable
 * (docs/release.md, "How to release a new image", step 5). Flags from
 * pkg/apis/externaldns/types.go at the tag.
 */
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { IPolicyRule } from 'kubernetes-models/rbac.authorization.k8s.io/v1/PolicyRule';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { MANAGED_BY_LABELS } from '../managed-by';
import { Addon, AddonContext, AddonServiceAccount, IamStatement, NODE_COMPONENTS } from './addon';
import { NODE_TAINTS, singleWriterOnMasters } from './placement';

/** The release. */
export const EXTERNAL_DNS_VERSION = 'v0.22.0';
/** The image of the release, as kustomize/kustomization.yaml names it. */
export const EXTERNAL_DNS_IMAGE = `registry.k8s.io/external-dns/external-dns:${EXTERNAL_DNS_VERSION}`;
/** `--metrics-address` default `:7979` (types.go): metrics and /healthz. */
export const EXTERNAL_DNS_PORT = 7979;

const NAMESPACE = 'kube-system';
const NAME = 'external-dns';
/** Its pods' service account, which its own IAM role trusts. */
const SERVICE_ACCOUNT: AddonServiceAccount = { namespace: NAMESPACE, name: NAME };
/** Each taint it tolerates, with why: the README's bootstrap table and the pod spec both come from here. */
const TOLERATED_TAINTS: Readonly<Record<string, string>> = {
  [NODE_TAINTS.controlPlane]: "runs on masters: only their kubelets get tokens for its role, which writes the cluster's hosted zone",
};

const metadata = (namespaced: boolean) => ({
  name: NAME,
  ...(namespaced ? { namespace: NAMESPACE } : {}),
  labels: { ...MANAGED_BY_LABELS, 'app.kubernetes.io/name': NAME },
});

/** The flags, each with why. */
export function externalDnsArgs(context: AddonContext): string[] {
  return [
    '--source=service',
    '--source=ingress',
    '--provider=aws',
    // Only the cluster's zone, by name and by id (two zones may share a name, public and
    // private): the IAM policy allows writes to that zone only, so anything else would fail.
    // Only names under the cluster's own subdomain: the zone is shared with other clusters
    // (their API names) and teams; IAM enforces the same (externalDnsPermissions).
    `--domain-filter=${clusterDomain(context)}`,
    `--zone-id-filter=${context.hostedZoneId}`,
    // Ownership in TXT records beside each record it writes, marked with this cluster's name:
    // it never changes a record another cluster or a person wrote.
    '--registry=txt',
    `--txt-owner-id=${context.clusterName}`,
    // Create and update, never delete. `sync` would delete only records it owns, but a
    // deletion is the one change that breaks a name that works: a Service deleted and
    // re-created under another cluster (a new <stack>-<version>, another owner id) during a
    // migration, or a source that lists nothing for a while (RBAC or API trouble), would take
    // names down. The price: records of deleted Services stay until deleted by hand (the
    // README's operations section should say so). Upstream's kustomize deployment uses it too.
    '--policy=upsert-only',
    '--log-format=text',
  ];
}

function deployment(context: AddonContext): Deployment {
  return new Deployment({
    metadata: metadata(true),
    // One writer per owner id; Recreate, as upstream's kustomize deployment. On the pod
    // network of the masters (placement.ts singleWriterOnMasters says why).
    spec: singleWriterOnMasters({
      app: NAME,
      toleratedTaints: TOLERATED_TAINTS,
      // Route 53 is global; the SDK still wants a region (withAddonRole sets AWS_REGION).
      awsRole: { context, addonName: externalDns.name, serviceAccount: SERVICE_ACCOUNT, containers: [NAME] },
      // The chart's podSecurityContext and securityContext (charts/external-dns/values.yaml).
      securityContext: { runAsNonRoot: true, fsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: NAME,
          image: EXTERNAL_DNS_IMAGE,
          args: externalDnsArgs(context),
          ports: [{ name: 'http', containerPort: EXTERNAL_DNS_PORT, protocol: 'TCP' }],
          livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 2 },
          readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
          // Upstream sets none; a watch of Services and Ingresses and one zone's records.
          resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } },
          securityContext: {
            privileged: false,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            runAsUser: 65532,
            runAsGroup: 65532,
            capabilities: { drop: ['ALL'] },
          },
        },
      ],
    }),
  });
}

/** Upstream's ClusterRole (kustomize/external-dns-clusterrole.yaml): what the service and ingress sources read. */
export const EXTERNAL_DNS_RULES: readonly IPolicyRule[] = [
  { apiGroups: [''], resources: ['pods', 'services'], verbs: ['get', 'watch', 'list'] },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'watch', 'list'] },
  { apiGroups: ['extensions'], resources: ['ingresses'], verbs: ['get', 'watch', 'list'] },
  { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: ['get', 'watch', 'list'] },
  { apiGroups: [''], resources: ['nodes'], verbs: ['watch', 'list'] },
];

/** The hosted zone's ARN (Route 53 ARNs have no region or account). */
export function hostedZoneArn(context: Pick<AddonContext, 'partition' | 'hostedZoneId'>): string {
  return `arn:${context.partition}:route53:::hostedzone/${context.hostedZoneId}`;
}

/**
 * The statements of its own role: docs/tutorials/aws.md's policy with `hostedzone/*` narrowed to
 * the cluster's zone, as its "Further improvements" advises. ListHostedZones has no
 * resource-level permissions (external-dns lists zones, then filters them).
 */
export function externalDnsPermissions(context: AddonContext): IamStatement[] {
  const zone = hostedZoneArn(context);
  const domain = clusterDomain(context);
  return [
    { Sid: 'ExternalDnsListZones', Effect: 'Allow', Action: ['route53:ListHostedZones'], Resource: ['*'] },
    { Sid: 'ExternalDnsReadZone', Effect: 'Allow', Action: ['route53:ListResourceRecordSets', 'route53:ListTagsForResources'], Resource: [zone] },
    // Every name of a change batch under the cluster's subdomain (Route 53's condition key
    // route53:ChangeResourceRecordSetsNormalizedRecordNames: lowercase, no trailing dot), so
    // its role cannot rewrite another cluster's or a team's records in a shared zone.
    {
      Sid: 'ExternalDnsWriteClusterNames',
      Effect: 'Allow',
      Action: ['route53:ChangeResourceRecordSets'],
      Resource: [zone],
      Condition: { 'ForAllValues:StringLike': { [RECORD_NAMES]: [`*.${domain}`] } },
    },
    // ... except the names this project itself keeps there: the internal API endpoint and etcd's.
    {
      Sid: 'ExternalDnsNeverClusterRecords',
      Effect: 'Deny',
      Action: ['route53:ChangeResourceRecordSets'],
      Resource: [zone],
      Condition: { 'ForAnyValue:StringLike': { [RECORD_NAMES]: clusterOwnRecordNames(domain) } },
    },
  ];
}

/**
 * The names under the cluster's domain that this project keeps itself (the internal API
 * endpoint, etcd's records), as Route 53 condition patterns: never external-dns' to change,
 * nor the cluster cleanup's to delete (lib/constructs/cluster-cleanup.ts).
 */
export function clusterOwnRecordNames(domain: string): string[] {
  return [`internal.${domain}`, `etcd.${domain}`, `*.etcd.${domain}`];
}

/** The Route 53 condition key naming every record of a change batch. */
const RECORD_NAMES = 'route53:ChangeResourceRecordSetsNormalizedRecordNames';

/** `<cluster>.<zone>`, lowercase: the only subdomain whose records external-dns writes. */
function clusterDomain(context: AddonContext): string {
  return `${context.clusterName}.${context.hostedZoneName.replace(/\.$/, '')}`.toLowerCase();
}

/** The add-on: one replica on the masters, writing to the cluster's hosted zone only, with its own role. */
export const externalDns: Addon = {
  name: 'external-dns',
  version: EXTERNAL_DNS_VERSION,
  description: "Route 53 records for Services and Ingresses, only under `<cluster>.<zone>` in the cluster's hosted zone",
  replaces: 'Mate',
  optional: true,
  placement: 'masters',
  // On the masters' pod network, reaching the API by Service IP; the masters' uninitialized
  // taint is not tolerated.
  needs: [NODE_COMPONENTS.apiServer, NODE_COMPONENTS.podNetwork, NODE_COMPONENTS.kubeProxy, NODE_COMPONENTS.nodeInitialized],
  provides: [],
  toleratedTaints: TOLERATED_TAINTS,
  awsServiceAccount: SERVICE_ACCOUNT,
  permissions: externalDnsPermissions,
  objects: (context) => [
    new ServiceAccount({ metadata: metadata(true) }),
    new ClusterRole({ metadata: metadata(false), rules: EXTERNAL_DNS_RULES.map((r) => ({ ...r })) }),
    new ClusterRoleBinding({
      metadata: metadata(false),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NAME },
      subjects: [{ kind: 'ServiceAccount', name: NAME, namespace: NAMESPACE }],
    }),
    deployment(context),
  ],
};
