/**
 * Typed inputs of the role templates, and their validation (errors name the field, the bad
 * value and what would be valid). Everything here is known at synth time; whatever is only
 * known on the node (instance id, member index, private DNS name) is read there at boot.
 */
import type { Taint } from './kubelet';
import { CLUSTER_DNS_IP, CLUSTER_DOMAIN, POD_CIDR, SERVICE_CIDR } from './network';

export type NodeRole = 'etcd' | 'master' | 'worker';

/** What every node of a cluster knows about the cluster. */
export interface ClusterIdentity {
  /** Cluster name, `<stack>-<version>`, e.g. `kube-aws-test-1`. */
  readonly cluster: string;
  /** Route53 hosted zone name without the trailing dot, e.g. `team.example.org`. */
  readonly zone: string;
  /** AWS region of the cluster, e.g. `eu-central-1`. */
  readonly region: string;
}

/** A Kubernetes node's cluster: its identity and the account, which names the cluster to IAM. */
export interface KubernetesClusterIdentity extends ClusterIdentity {
  /** AWS account id of the cluster (12 digits). */
  readonly account: string;
}

/**
 * The cluster group `aws:<account>:<region>:<cluster>`: every person's group in the cluster,
 * and the cluster id IAM tokens are signed for (unique across accounts and regions).
 */
export function clusterGroupOf(identity: KubernetesClusterIdentity): string {
  return `aws:${identity.account}:${identity.region}:${identity.cluster}`;
}

/** An S3 object that Ignition fetches itself, checked against its sha512. */
export interface S3Asset {
  /** `s3://<bucket>/<key>`. */
  readonly source: string;
  /** Hex sha512 of the object's bytes (128 hex characters). */
  readonly sha512: string;
}

export interface EtcdNodeInput extends ClusterIdentity {
  /** Name of the S3 bucket that receives the snapshots (versioned, with lifecycle rules). */
  readonly snapshotBucket: string;
  /** Number of members (odd, 1..7); the member index of a node comes from its tag at boot. */
  readonly memberCount: number;
}

/**
 * Cluster network; every field defaults to the constants of `network.ts`. The pod network is
 * always POD_CIDR: flannel's and kube-proxy's DaemonSets (manifests/addons) are one for all
 * nodes and take it from there, so a node of its own could only disagree with them.
 */
export interface ClusterNetwork {
  /** Service ClusterIP range. @default SERVICE_CIDR (10.3.0.0/24) */
  readonly serviceCidr?: string;
  /** ClusterIP of the DNS service. @default CLUSTER_DNS_IP (10.3.0.10) */
  readonly clusterDnsIp?: string;
  /** @default CLUSTER_DOMAIN (cluster.local) */
  readonly clusterDomain?: string;
}

export interface MasterNodeInput extends KubernetesClusterIdentity, ClusterNetwork {
  /** DNS name of the API (the load balancer's record), also the service-account issuer host. @default `<cluster>.<zone>` */
  readonly apiDnsName?: string;
  /** Every etcd member's DNS name, `etcd-<N>.etcd.<cluster>.<zone>`; the API server lists them all. */
  readonly etcdMemberNames: readonly string[];
  /**
   * Every DNS name and IP address the API server certificate must cover (lib/secrets/sans.ts):
   * a master refuses to start with a certificate that lacks one, and a release that adds a
   * name therefore replaces the masters, after the secrets handler re-issued the certificate.
   */
  readonly apiServerCertificateNames: readonly string[];
  /** Content of the webhook server's config file (rendered by the webhook's owner; no secret in it). */
  readonly webhookServerConfigYaml: string;
  /** Kubeconfig the API server uses to call the token webhook (http://127.0.0.1:8443/authenticate). */
  readonly authenticationWebhookKubeconfig: string;
  /** Kubeconfig the API server uses to call the authorization webhook (http://127.0.0.1:8443/authorize). */
  readonly authorizationWebhookKubeconfig: string;
  /** The bundled webhook server (one JavaScript file), an S3 asset. */
  readonly webhookBundle: S3Asset;
  /**
   * The issuer of the service-account tokens the API server signs, `https://<host>` where AWS
   * STS reads its discovery documents (lib/constructs/service-account-issuer.ts), so that pods
   * can assume IAM roles with their tokens.
   */
  readonly serviceAccountIssuer: string;
  /**
   * Whether the API server accepts the admin secret's static token (break-glass, in
   * `system:masters`); off, that token is not even fetched to the master.
   */
  readonly breakGlassAdminToken: boolean;
}

export interface WorkerNodeInput extends KubernetesClusterIdentity, ClusterNetwork {
  /**
   * Where the worker's kubelet, kube-proxy and flannel reach the API: the internal endpoint,
   * which passes TLS through, so they check the API server's own certificate with the
   * cluster CA (ca.crt of the worker secret), and no worker needs NAT, the public endpoint
   * or `apiAllowedCidrs`.
   * @default `https://internal.<cluster>.<zone>` (internalApiDnsName)
   */
  readonly apiServerUrl?: string;
  /**
   * The worker pool the node belongs to: the kubelet registers with the label
   * `node.kubernetes.io/pool=<name>` and the pool's own labels and taints (validated by
   * lib/worker-pools.ts: labels NodeRestriction lets a kubelet set).
   * @default - the pool `default`, no labels or taints of its own
   */
  readonly pool?: WorkerPoolInput;
}

export interface WorkerPoolInput {
  /** A DNS label. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
}

export interface ResolvedNetwork {
  readonly podCidr: string;
  readonly serviceCidr: string;
  readonly clusterDnsIp: string;
  readonly clusterDomain: string;
}

/** Fills the network defaults and validates them. */
export function resolveNetwork(input: ClusterNetwork, where: string): ResolvedNetwork {
  const network = {
    podCidr: POD_CIDR,
    serviceCidr: input.serviceCidr ?? SERVICE_CIDR,
    clusterDnsIp: input.clusterDnsIp ?? CLUSTER_DNS_IP,
    clusterDomain: input.clusterDomain ?? CLUSTER_DOMAIN,
  };
  check(`${where}.serviceCidr`, network.serviceCidr, CIDR, 'an IPv4 CIDR like 10.3.0.0/24');
  check(`${where}.clusterDnsIp`, network.clusterDnsIp, IPV4, 'an IPv4 address inside serviceCidr, like 10.3.0.10');
  check(`${where}.clusterDomain`, network.clusterDomain, DNS_NAME, 'a DNS domain like cluster.local');
  return network;
}

const DNS_LABEL = '[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?';
const DNS_NAME = new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`);
const CLUSTER_NAME = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IPV4 = /^(\d{1,3}\.){3}\d{1,3}$/;
const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;
/** `https://<DNS name>[:port]`, nothing after it: a kubeconfig's `server`. */
const HTTPS_URL = new RegExp(`^https://${DNS_LABEL}(\\.${DNS_LABEL})*(:\\d{1,5})?$`);

function check(field: string, value: string, pattern: RegExp, valid: string): void {
  if (!pattern.test(value)) {
    throw new Error(`${field}: got '${value}', expected ${valid}`);
  }
}

export function validateIdentity(input: ClusterIdentity, where: string): void {
  check(`${where}.cluster`, input.cluster, CLUSTER_NAME, "a DNS label of at most 40 characters, e.g. 'kube-aws-test-1'");
  check(`${where}.zone`, input.zone, DNS_NAME, "a hosted zone name without trailing dot, e.g. 'team.example.org'");
  check(`${where}.region`, input.region, REGION, "an AWS region, e.g. 'eu-central-1'");
}

function validateKubernetesIdentity(input: KubernetesClusterIdentity, where: string): void {
  validateIdentity(input, where);
  check(`${where}.account`, input.account, /^\d{12}$/, "an AWS account id of 12 digits, e.g. '123456789012'");
}

export function validateS3Asset(asset: S3Asset, field: string): void {
  check(`${field}.source`, asset.source, /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/\S+$/, "'s3://<bucket>/<key>'");
  check(`${field}.sha512`, asset.sha512, /^[0-9a-f]{128}$/, '128 lowercase hex characters (sha512)');
}

export function validateEtcdInput(input: EtcdNodeInput): void {
  validateIdentity(input, 'etcd');
  check('etcd.snapshotBucket', input.snapshotBucket, BUCKET, 'an S3 bucket name');
  if (!Number.isInteger(input.memberCount) || input.memberCount < 1 || input.memberCount > 7 || input.memberCount % 2 === 0) {
    throw new Error(`etcd.memberCount: must be odd, between 1 and 7, got ${input.memberCount}`);
  }
}

export function validateMasterInput(input: MasterNodeInput): void {
  validateKubernetesIdentity(input, 'master');
  if (input.apiDnsName !== undefined) check('master.apiDnsName', input.apiDnsName, DNS_NAME, 'a DNS name');
  if (input.etcdMemberNames.length === 0) {
    throw new Error('master.etcdMemberNames: must list at least one etcd member DNS name');
  }
  input.etcdMemberNames.forEach((name, i) => check(`master.etcdMemberNames[${i}]`, name, DNS_NAME, 'a DNS name'));
  if (input.apiServerCertificateNames.length === 0) throw new Error('master.apiServerCertificateNames: must list the names of the API server certificate');
  input.apiServerCertificateNames.forEach((name, i) =>
    check(`master.apiServerCertificateNames[${i}]`, name, /^([0-9]{1,3}(\.[0-9]{1,3}){3}|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)$/, 'a DNS name or an IPv4 address'),
  );
  for (const field of ['webhookServerConfigYaml', 'authenticationWebhookKubeconfig', 'authorizationWebhookKubeconfig'] as const) {
    if (input[field].trim() === '') {
      throw new Error(`master.${field}: must not be empty`);
    }
  }
  validateS3Asset(input.webhookBundle, 'master.webhookBundle');
  check('master.serviceAccountIssuer', input.serviceAccountIssuer, HTTPS_URL, "an https:// URL without a path, e.g. 'https://kube-aws-test-1-oidc-123456789012-eu-central-1.s3.eu-central-1.amazonaws.com'");
}

export function validateWorkerInput(input: WorkerNodeInput): void {
  validateKubernetesIdentity(input, 'worker');
  if (input.pool !== undefined) {
    check('worker.pool.name', input.pool.name, /^[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?$/, "a DNS label of at most 20 characters, e.g. 'spot'");
  }
  if (input.apiServerUrl !== undefined) {
    check('worker.apiServerUrl', input.apiServerUrl, HTTPS_URL, "an https URL of a DNS name, e.g. 'https://internal.kube-aws-test-1.team.example.org'");
  }
}

/** `<cluster>.<zone>`: the API's DNS name unless given. */
export function defaultApiDnsName(input: ClusterIdentity & { readonly apiDnsName?: string }): string {
  return input.apiDnsName ?? `${input.cluster}.${input.zone}`;
}

/**
 * `internal.<cluster>.<zone>`: the internal API endpoint's name (its alias record and a name
 * in the API server certificate). Under the cluster's name, beside `etcd.<cluster>.<zone>`,
 * so one hosted zone holds every cluster's names without clashes.
 */
export function internalApiDnsName(input: Pick<ClusterIdentity, 'cluster' | 'zone'>): string {
  return `internal.${input.cluster}.${input.zone}`;
}

/** The etcd DNS discovery domain, `etcd.<cluster>.<zone>` (SRV records live under it). */
export function etcdDomain(input: Pick<ClusterIdentity, 'cluster' | 'zone'>): string {
  return `etcd.${input.cluster}.${input.zone}`;
}

/** Member N's name, `etcd-N.<domain>`: its A record, its advertised URLs, its certificate. */
export function etcdMemberName(domain: string, index: number): string {
  return `etcd-${index}.${domain}`;
}
