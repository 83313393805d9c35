/**
 * What the cluster cleanup (handler.ts) and its construct (lib/constructs/cluster-cleanup.ts)
 * share: the resource properties and the tags that mark what Kubernetes made for the cluster
 * (the cluster tag itself: manifests/addons/addon.ts clusterTagKey, as cloud-provider-aws
 * v1.35.2 pkg/providers/v1/tags.go TagNameKubernetesClusterPrefix). Apart from the handler so
 * that synthesizing loads no AWS SDK client.
 */

/** The resource properties ClusterCleanup passes. */
export interface ClusterCleanupProperties {
  readonly ClusterName: string;
  /** The cluster's hosted zone: external-dns' `--zone-id-filter`. */
  readonly HostedZoneId: string;
  /** `<cluster>.<zone>`, lowercase, no trailing dot: external-dns' `--domain-filter`. */
  readonly ClusterDomain: string;
}

/** The value for what the cluster owns (tags.go ResourceLifecycleOwned); `shared` resources are never ours. */
export const OWNED = 'owned';
/** On every load balancer and target group the controller creates (v1.35.2 pkg/providers/v1/aws.go TagNameKubernetesService). */
export const SERVICE_NAME_TAG = 'kubernetes.io/service-name';
/** The EBS CSI driver's second tag (manifests/addons/aws-ebs-csi-driver.ts ebsCsiPermissions: "both tags"). */
export const CSI_CLUSTER_NAME_TAG = 'ebs.csi.aws.com/cluster-name';
