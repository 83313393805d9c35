/** What the cluster's certificates and secrets are generated from. */
export interface ClusterSecretsInput {
  /** `<stack>-<version>`, e.g. `kube-aws-test-1`. */
  readonly clusterName: string;
  /** Route 53 hosted zone, without trailing dot, e.g. `team.example.org`. */
  readonly zoneName: string;
  /** Number of etcd members (one etcd-member-N secret each). */
  readonly etcdMemberCount: number;
  /** Service ClusterIP range; its first address is the `kubernetes` service. */
  readonly serviceCidr: string;
  /** Cluster DNS domain, e.g. `cluster.local`. */
  readonly clusterDomain: string;
}
