import * as path from 'node:path';
import { CustomResource, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { customResourceProvider } from './custom-resource-provider';
import { CertificateRenewal } from './certificate-renewal';
import type { ClusterSecretsProperties } from '../secrets/handler';
import { ClusterSecretNames, SECRET_SETS, SecretSet } from '../../userdata/secret-names';
import { firstServiceIp } from '../secrets/service-ip';
import { BUNDLE_FILES } from '../secrets/bundle-files';
import { apiServerSans, sanList } from '../secrets/sans';
import { CLUSTER_DOMAIN, SERVICE_CIDR } from '../../userdata/network';

/** Three members survive the loss of one (one per AZ in a three-AZ region). */
export const DEFAULT_ETCD_MEMBER_COUNT = 3;
/** etcd advises against more than 7 members: every write waits for a majority. */
export const MAX_ETCD_MEMBER_COUNT = 7;
/** The nodes' service range (its first address is the API's ClusterIP) and DNS domain. */
export const DEFAULT_SERVICE_CIDR = SERVICE_CIDR;
export const DEFAULT_CLUSTER_DOMAIN = CLUSTER_DOMAIN;
/** The first generation of secrets; increase to rotate every secret of the set. */
export const DEFAULT_REGENERATE = 0;
/** Generous: RSA 2048 key generation takes seconds on a small Lambda, and writes are sequential. */
export const SECRETS_HANDLER_TIMEOUT = Duration.minutes(2);
/** More memory buys more CPU on Lambda, which key generation is bound by. */
export const SECRETS_HANDLER_MEMORY_MB = 512;

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DNS_NAME_MAX_LENGTH = 253;

/** Properties of {@link ClusterSecrets}. */
export interface ClusterSecretsProps {
  /**
   * Which secrets to create: `etcd` (etcd-ca, etcd-member-N, apiserver-etcd-client; in
   * the etcd stack) or `control-plane` (front-proxy-ca, control-plane, worker, admin; in the
   * master stack).
   */
  readonly set: SecretSet;

  /** The cluster's name, `<stack>-<version>` (a DNS label), e.g. `kube-aws-test-1`. */
  readonly clusterName: string;

  /** The Route 53 hosted zone the cluster's names live in, without trailing dot. */
  readonly zoneName: string;

  /**
   * Number of etcd members: one member secret each. Only used by the `etcd` set.
   * Growing it later adds member secrets signed by the existing etcd CA.
   * @default 3
   */
  readonly etcdMemberCount?: number;

  /**
   * The service ClusterIP range; the API server certificate names its first address.
   * Only used by the `control-plane` set.
   * @default '10.3.0.0/24'
   */
  readonly serviceCidr?: string;

  /**
   * The cluster DNS domain the API server certificate names (`kubernetes.default.svc.<domain>`).
   * Only used by the `control-plane` set.
   * @default 'cluster.local'
   */
  readonly clusterDomain?: string;

  /**
   * What happens to the secrets and their KMS key when they leave the stack. RETAIN keeps
   * a deleted cluster's CA recoverable; DESTROY suits throwaway test clusters.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Rotation switch: changing this number replaces every secret of the set (new CAs,
   * certificates, keys and tokens) on the next deploy. Nodes must then be replaced.
   * @default 0
   */
  readonly regenerate?: number;
}

/**
 * The secrets of one cluster's etcd or control-plane set: empty KMS-encrypted Secrets
 * Manager secrets, filled at deploy time by a custom resource that generates the CAs,
 * certificates, keys and tokens in Lambda. No secret value is in a template or asset.
 */
export class ClusterSecrets extends Construct {
  /** The set this construct holds. */
  public readonly set: SecretSet;
  /** The names of the cluster's secrets (all sets). */
  public readonly names: ClusterSecretNames;
  /** The customer-managed key encrypting the secrets (rotation on). */
  public readonly encryptionKey: kms.IKey;
  /** The custom resource filling the secrets; depend on it to read them at deploy time. */
  public readonly resource: CustomResource;
  /**
   * The names the API server certificate carries (sorted `DNS:`/`IP:` entries; empty for the
   * etcd set), as passed to the custom resource. When they change, the handler re-issues
   * apiserver.crt, but running masters read it only at boot: put these (or their hash) into
   * the master user data so that such a deploy also replaces the masters.
   */
  public readonly apiServerNames: readonly string[];
  /** The generation of the set's values: it changes when they are regenerated (new keys). */
  public readonly regenerate: number;
  /**
   * The daily renewal of the set's leaf certificates and one alarm per certificate on its
   * days left (`renewal.alarms`: add actions to be told).
   */
  public readonly renewal: CertificateRenewal;

  private readonly secrets = new Map<string, secretsmanager.Secret>();
  private readonly etcdMemberCount: number;

  constructor(scope: Construct, id: string, props: ClusterSecretsProps) {
    super(scope, id);
    const config = {
      set: props.set,
      clusterName: props.clusterName,
      zoneName: props.zoneName,
      etcdMemberCount: props.etcdMemberCount ?? DEFAULT_ETCD_MEMBER_COUNT,
      serviceCidr: props.serviceCidr ?? DEFAULT_SERVICE_CIDR,
      clusterDomain: props.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN,
      regenerate: props.regenerate ?? DEFAULT_REGENERATE,
    };
    validate(config);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.set = config.set;
    this.names = new ClusterSecretNames(config.clusterName);
    this.etcdMemberCount = config.etcdMemberCount;
    this.regenerate = config.regenerate;
    this.apiServerNames = config.set === 'control-plane' ? apiServerNames(config) : [];

    // Same removal policy as the secrets: a retained secret needs its key to stay readable.
    this.encryptionKey = new kms.Key(this, 'Key', {
      description: `Encrypts the ${config.set} secrets of Kubernetes cluster ${config.clusterName}`,
      enableKeyRotation: true,
      removalPolicy,
    });

    for (const name of this.names.ofSet(config.set, config.etcdMemberCount)) {
      const secret = new secretsmanager.Secret(this, constructIdOf(name, this.names), {
        secretName: name,
        description: `Kubernetes cluster ${config.clusterName}: filled at deploy time by ${this.node.path}`,
        encryptionKey: this.encryptionKey,
        removalPolicy,
      });
      // The Secret construct otherwise has CloudFormation generate a random password, and
      // the handler never overwrites a secret that has a value: create it empty instead.
      (secret.node.defaultChild as secretsmanager.CfnSecret).addPropertyDeletionOverride('GenerateSecretString');
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Leaf certificates are renewed daily by the secrets function (CertificateRenewal); CAs, keys and ' +
          'tokens are rotated by redeploying with a new `regenerate` value (then replacing the nodes), not by ' +
          'a Secrets Manager rotation Lambda: see lib/secrets/README.md.',
      });
      this.secrets.set(name, secret);
    }

    const { handler, provider } = customResourceProvider(this, {
      description: `Generates the ${config.set} secrets of Kubernetes cluster ${config.clusterName}`,
      entry: path.join(__dirname, '..', 'secrets', 'handler.ts'),
      timeout: SECRETS_HANDLER_TIMEOUT,
      memorySize: SECRETS_HANDLER_MEMORY_MB,
    });
    // UpdateSecretVersionStage: the renewal makes its value current only if nobody wrote since
    // it read (compare-and-swap, lib/secrets/handler.ts `putIfCurrent`).
    handler.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:UpdateSecretVersionStage',
        ],
        resources: this.secretArns([...this.secrets.values()]),
      }),
    );
    // Secrets Manager calls GenerateDataKey to encrypt a new value and Decrypt to read one.
    handler.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [this.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': this.secretsManagerEndpoint() } },
      }),
    );
    const properties: ClusterSecretsProperties = {
      Set: config.set,
      ClusterName: config.clusterName,
      ZoneName: config.zoneName,
      EtcdMemberCount: String(config.etcdMemberCount),
      ServiceCidr: config.serviceCidr,
      ClusterDomain: config.clusterDomain,
      Regenerate: String(config.regenerate),
      BundleFiles: BUNDLE_FILES[config.set].join(','),
      SecretNames: [...this.secrets.keys()].join(','),
      // Only the control plane holds the API server certificate; the etcd set's resource
      // must not run (and change nothing) when these names change.
      ...(config.set === 'control-plane' ? { ApiServerNames: this.apiServerNames.join(',') } : {}),
    };
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::ClusterSecrets',
      properties,
    });
    this.resource.node.addDependency(...this.secrets.values());

    // The same function renews the leaves daily; it needs no permission beyond the above.
    this.renewal = new CertificateRenewal(this, 'Renewal', { handler, properties, after: this.resource });
  }

  /** The etcd member secrets (`etcd` set), member 0 first. */
  public get etcdMemberSecrets(): secretsmanager.ISecret[] {
    return this.names.etcdMembers(this.etcdMemberCount).map((name) => this.secret(name));
  }

  /** The API server's etcd client secret (`etcd` set). */
  public get apiServerEtcdClientSecret(): secretsmanager.ISecret {
    return this.secret(this.names.apiServerEtcdClient);
  }

  /** The etcd CA secret (`etcd` set): read only by the secrets Lambda. */
  public get etcdCaSecret(): secretsmanager.ISecret {
    return this.secret(this.names.etcdCa);
  }

  /**
   * The front-proxy CA secret (`control-plane` set): read only by the secrets Lambda, which
   * renews the front-proxy client certificate from it. Never grant it to a node: its key
   * signs client certificates that the API server's aggregated APIs trust to name any user.
   */
  public get frontProxyCaSecret(): secretsmanager.ISecret {
    return this.secret(this.names.frontProxyCa);
  }

  /** The control-plane secret (`control-plane` set). */
  public get controlPlaneSecret(): secretsmanager.ISecret {
    return this.secret(this.names.controlPlane);
  }

  /** The worker secret (`control-plane` set). */
  public get workerSecret(): secretsmanager.ISecret {
    return this.secret(this.names.worker);
  }

  /** The admin secret (`control-plane` set). */
  public get adminSecret(): secretsmanager.ISecret {
    return this.secret(this.names.admin);
  }

  /**
   * Lets etcd member `member` read its certificates (its own member secret, which holds the
   * etcd CA certificate too) and no other member's: each member has a role of its own.
   */
  public grantEtcdMemberRead(grantee: iam.IGrantable, member: number): iam.Grant {
    if (!(Number.isInteger(member) && member >= 0 && member < this.etcdMemberCount)) {
      throw new Error(
        `grantEtcdMemberRead: member must be an integer from 0 to ${this.etcdMemberCount - 1}, got ${member}`,
      );
    }
    return this.grantRead(grantee, [this.secret(this.names.etcdMember(member))]);
  }

  /** Lets masters read the API server's etcd client certificate. */
  public grantApiServerEtcdClientRead(grantee: iam.IGrantable): iam.Grant {
    return this.grantRead(grantee, [this.apiServerEtcdClientSecret]);
  }

  /** Lets masters read the control-plane secret. */
  public grantControlPlaneRead(grantee: iam.IGrantable): iam.Grant {
    return this.grantRead(grantee, [this.controlPlaneSecret]);
  }

  /** Lets workers read the worker secret, and nothing else. */
  public grantWorkerRead(grantee: iam.IGrantable): iam.Grant {
    return this.grantRead(grantee, [this.workerSecret]);
  }

  /** Lets administrators (people, CI) read the admin secret, as get-api-token and kubeconfig do. */
  public grantAdminRead(grantee: iam.IGrantable): iam.Grant {
    return this.grantRead(grantee, [this.adminSecret]);
  }

  /**
   * GetSecretValue on exactly `secrets`, and kms:Decrypt only through Secrets Manager and
   * only for those secrets (Secrets Manager puts the secret ARN in the encryption context).
   */
  private grantRead(grantee: iam.IGrantable, secrets: secretsmanager.ISecret[]): iam.Grant {
    const arns = this.secretArns(secrets);
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: arns,
    }).combine(
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['kms:Decrypt'],
        resourceArns: [this.encryptionKey.keyArn],
        conditions: {
          StringEquals: {
            'kms:ViaService': this.secretsManagerEndpoint(),
            'kms:EncryptionContext:SecretARN': arns,
          },
        },
      }),
    );
  }

  private secret(name: string): secretsmanager.Secret {
    const secret = this.secrets.get(name);
    if (!secret) {
      const other = SECRET_SETS.find((set) => set !== this.set);
      throw new Error(
        `${this.node.path} holds the ${this.set} set of cluster ${this.names.clusterName}; ` +
          `${name} is not one of its secrets (it belongs to the ${other} set or beyond etcdMemberCount).`,
      );
    }
    return secret;
  }

  private secretArns(secrets: secretsmanager.ISecret[]): string[] {
    return secrets.map((secret) => secret.secretArn);
  }

  private secretsManagerEndpoint(): string {
    return `secretsmanager.${Stack.of(this).region}.amazonaws.com`;
  }
}

/**
 * The names the API server certificate must carry, sorted (sans.ts), for the custom
 * resource's `ApiServerNames`: a release adding a name (as `internal.<cluster>.<zone>`)
 * changes it, so CloudFormation calls the handler and existing clusters get a certificate
 * re-issued from their CA in the master stack's update (masters still need replacing).
 */
export function apiServerNames(props: Parameters<typeof apiServerSans>[0]): string[] {
  return sanList(apiServerSans(props));
}

/** `kubernetes-on-aws/c/etcd-member-0` -> `EtcdMember0`: readable logical IDs. */
function constructIdOf(name: string, names: ClusterSecretNames): string {
  return name
    .slice(names.folder.length)
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

interface ResolvedProps {
  readonly set: string;
  readonly clusterName: string;
  readonly zoneName: string;
  readonly etcdMemberCount: number;
  readonly serviceCidr: string;
  readonly clusterDomain: string;
  readonly regenerate: number;
}

function isDnsName(value: string): boolean {
  return value.length <= DNS_NAME_MAX_LENGTH && value.split('.').every((label) => DNS_LABEL.test(label));
}

/** Errors name the prop, the bad value and what would be valid. */
function validate(props: ResolvedProps): asserts props is ResolvedProps & { set: SecretSet } {
  const fail = (message: string): never => {
    throw new Error(`ClusterSecrets: ${message}`);
  };
  if (!(SECRET_SETS as readonly string[]).includes(props.set)) {
    fail(`set must be one of ${SECRET_SETS.map((set) => `'${set}'`).join(', ')}; got '${props.set}'`);
  }
  // Names end up in secret names, DNS names and certificates: they must be known at synth.
  for (const key of ['clusterName', 'zoneName', 'serviceCidr', 'clusterDomain'] as const) {
    if (Token.isUnresolved(props[key])) {
      fail(`${key} must be a literal string known at synth time, not a token; got ${props[key]}`);
    }
  }
  if (!DNS_LABEL.test(props.clusterName)) {
    fail(
      `clusterName must be a DNS label (lowercase letters, digits and '-', at most 63 characters, ` +
        `no leading or trailing '-'), e.g. 'kube-aws-test-1'; got '${props.clusterName}'`,
    );
  }
  if (!isDnsName(props.zoneName)) {
    fail(`zoneName must be a lowercase DNS name without trailing dot, e.g. 'team.example.org'; got '${props.zoneName}'`);
  }
  if (!isDnsName(props.clusterDomain)) {
    fail(`clusterDomain must be a lowercase DNS name, e.g. 'cluster.local'; got '${props.clusterDomain}'`);
  }
  const count = props.etcdMemberCount;
  if (!Number.isInteger(count) || count < 1 || count > MAX_ETCD_MEMBER_COUNT || count % 2 === 0) {
    fail(`etcdMemberCount must be an odd integer from 1 to ${MAX_ETCD_MEMBER_COUNT} (etcd needs a majority); got ${count}`);
  }
  try {
    firstServiceIp(props.serviceCidr);
  } catch (error) {
    fail((error as Error).message);
  }
  if (!Number.isInteger(props.regenerate) || props.regenerate < 0) {
    fail(`regenerate must be a non-negative integer (increase it to rotate); got ${props.regenerate}`);
  }
}

