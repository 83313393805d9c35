/** Which stack's secrets: etcd's (member and etcd-client certs) or the master's. */
export type SecretSet = 'etcd' | 'control-plane';

/** The valid values of {@link SecretSet}, for validation messages. */
export const SECRET_SETS: readonly SecretSet[] = ['etcd', 'control-plane'];

/**
 * The API server's EncryptionConfiguration (Secrets encrypted at rest in etcd): a file of
 * the `control-plane` secret only, never of `worker` or `admin`. kube-apiserver reads it
 * with `--encryption-provider-config`.
 */
export const ENCRYPTION_CONFIG_FILE = 'encryption-config.yaml';

/**
 * Names of the Secrets Manager secrets of one cluster.
 *
 * The names are a contract: the construct creates secrets under them, node user data
 * fetches them at boot and the CLIs read them. Keep every reader on this class.
 */
export class ClusterSecretNames {
  /** Every secret of the project lives under this prefix (handy for IAM and listing). */
  public static readonly PREFIX = 'kubernetes-on-aws';

  /** `kubernetes-on-aws/<cluster>/`: the folder of this cluster's secrets. */
  public readonly folder: string;

  constructor(public readonly clusterName: string) {
    this.folder = `${ClusterSecretNames.PREFIX}/${clusterName}/`;
  }

  /**
   * Member N's etcd server+peer certificate, key and the etcd CA certificate. A node passes
   * a placeholder such as `${ETCD_MEMBER}` that it expands at boot, when it knows its index.
   */
  public etcdMember(index: number | string): string {
    return `${this.folder}etcd-member-${index}`;
  }

  /** All member secrets of an etcd cluster of `count` members, member 0 first. */
  public etcdMembers(count: number): string[] {
    return Array.from({ length: count }, (_, index) => this.etcdMember(index));
  }

  /**
   * The etcd CA certificate and key. Read only by the secrets Lambda, so that members
   * added later get certificates from the same CA; no node role is granted it.
   */
  public get etcdCa(): string {
    return `${this.folder}etcd-ca`;
  }

  /** The API server's client certificate for etcd. */
  public get apiServerEtcdClient(): string {
    return `${this.folder}apiserver-etcd-client`;
  }

  /** Everything a master needs: cluster CA (with key), API server cert, SA keys, tokens. */
  public get controlPlane(): string {
    return `${this.folder}control-plane`;
  }

  /**
   * The front-proxy CA certificate and key. Read only by the secrets Lambda, so that the
   * front-proxy client certificate can be renewed from the same CA; no node role is granted
   * it (whoever holds it can assert any user to the API server's aggregated APIs).
   */
  public get frontProxyCa(): string {
    return `${this.folder}front-proxy-ca`;
  }

  /** What a worker needs: the cluster CA certificate. */
  public get worker(): string {
    return `${this.folder}worker`;
  }

  /** What a human needs: the cluster CA certificate and the admin token. */
  public get admin(): string {
    return `${this.folder}admin`;
  }

  /**
   * The secret names of a set, the ones holding its CAs first (the secrets Lambda writes
   * them first, so that a run interrupted halfway can be completed from those CAs).
   */
  public ofSet(set: SecretSet, etcdMemberCount: number): string[] {
    return set === 'etcd'
      ? [this.etcdCa, ...this.etcdMembers(etcdMemberCount), this.apiServerEtcdClient]
      : [this.frontProxyCa, this.controlPlane, this.worker, this.admin];
  }
}
