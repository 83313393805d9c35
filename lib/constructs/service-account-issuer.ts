import * as path from 'node:path';
import { CustomResource, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct, IDependable } from 'constructs';
import { customResourceProvider } from './custom-resource-provider';
import { DISCOVERY_OBJECT_KEYS } from '../oidc/discovery';
import type { ServiceAccountIssuerProperties } from '../oidc/handler';

/** The audience pods ask their tokens for, and STS's client id (as EKS's pod identity webhook does). */
export const STS_AUDIENCE = 'sts.amazonaws.com';
/** Reading a secret and writing two small objects. */
export const ISSUER_HANDLER_TIMEOUT = Duration.minutes(1);

// Bucket names that work as a TLS host: no dots (S3's wildcard certificate covers one label).
const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
// Kubernetes: a namespace is a DNS-1123 label, a service account name a DNS-1123 subdomain
// (kubernetes/kubernetes pkg/apis/core/validation ValidateNamespaceName, ValidateServiceAccountName).
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * What the issuer needs of the cluster's control-plane secrets; `ClusterSecrets` of the
 * `control-plane` set is one.
 */
export interface ServiceAccountKeySource {
  /** The control-plane secret: a JSON bundle whose `sa.pub` verifies the cluster's service-account tokens. */
  readonly controlPlaneSecret: secretsmanager.ISecret;
  /** What fills the secret; the documents are published after it. */
  readonly resource: IDependable;
  /** Changes whenever the secrets are regenerated (a new sa.key): the documents are then republished. */
  readonly regenerate: number;
  /** Lets the publishing function read the secret. */
  grantControlPlaneRead(grantee: iam.IGrantable): iam.Grant;
}

/** Properties of {@link ServiceAccountIssuer}. */
export interface ServiceAccountIssuerProps {
  /**
   * The bucket that serves the discovery documents, known at synth: it names the issuer
   * (`https://<bucket>.s3.<region>.<suffix>`), which every token carries and every trusting
   * role names, so changing it invalidates both. Lowercase letters, digits and '-', no dots.
   */
  readonly bucketName: string;

  /** The cluster's control-plane secrets, whose `sa.pub` the documents publish. */
  readonly secrets: ServiceAccountKeySource;

  /**
   * What happens to the bucket and the OIDC provider when they leave the stack. The
   * documents are made again from sa.pub on every deploy, so nothing is lost by DESTROY, and
   * a retained bucket name would block re-creating the cluster.
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Options of {@link ServiceAccountIssuer.roleForServiceAccount}. */
export interface ServiceAccountRoleOptions {
  /** The service account's namespace. */
  readonly namespace: string;
  /** The service account's name. */
  readonly serviceAccountName: string;
  /**
   * The role's description.
   * @default `Kubernetes service account <namespace>/<name> (issuer <issuer>)`
   */
  readonly description?: string;
  /**
   * The role's name, when something outside the stack names it (a manifest's `AWS_ROLE_ARN`).
   * @default a name CloudFormation generates
   */
  readonly roleName?: string;
}

/**
 * The cluster's service-account issuer made public the way EKS and kops do it, so that AWS
 * STS trusts the cluster's service-account tokens (IAM roles for pods): the issuer's OpenID
 * discovery documents in a bucket that only serves those two objects, republished from the
 * control-plane secret's sa.pub by a custom resource, and an IAM OIDC provider for the issuer.
 * The API server must issue tokens as {@link issuerUrl} (first `--service-account-issuer`).
 */
export class ServiceAccountIssuer extends Construct {
  /** `https://<bucket>.s3.<region>.<suffix>`, a literal string: the API server's issuer. */
  public readonly issuerUrl: string;
  /** The bucket serving `<issuer>/.well-known/openid-configuration` and `<issuer>/openid/v1/jwks`. */
  public readonly bucket: s3.Bucket;
  /** The IAM OIDC provider of the issuer, with client id `sts.amazonaws.com`. */
  public readonly provider: iam.OidcProviderNative;
  /** The custom resource publishing the documents. */
  public readonly documents: CustomResource;
  private readonly issuerHost: string;

  constructor(scope: Construct, id: string, props: ServiceAccountIssuerProps) {
    super(scope, id);
    this.issuerHost = issuerHostOf(Stack.of(this), props.bucketName);
    this.issuerUrl = `https://${this.issuerHost}`;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;

    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: props.bucketName,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Public through the bucket policy below and nothing else: ACLs stay blocked.
      blockPublicAccess: new s3.BlockPublicAccess({
        blockPublicAcls: true,
        ignorePublicAcls: true,
        blockPublicPolicy: false,
        restrictPublicBuckets: false,
      }),
      // SSE-S3: anonymous readers cannot decrypt SSE-KMS objects (no kms:Decrypt for them).
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy,
    });
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AnyoneReadsTheDiscoveryDocuments',
        principals: [new iam.StarPrincipal()],
        actions: ['s3:GetObject'],
        resources: DISCOVERY_OBJECT_KEYS.map((key) => this.bucket.arnForObjects(key)),
      }),
    );
    Validations.of(this.bucket).acknowledge(
      {
        id: 'AwsSolutions-S1',
        reason: 'The bucket serves two public documents of public keys, written only by this stack; access logs would record anonymous reads of public data.',
      },
      {
        id: 'AwsSolutions-S2',
        reason: 'AWS STS fetches the OpenID discovery documents anonymously: the bucket policy makes exactly those two objects public (GetObject only, no listing); ACLs stay blocked.',
      },
    );

    const { handler, provider } = customResourceProvider(this, {
      description: `Publishes the service-account issuer documents of ${this.issuerUrl}`,
      entry: path.join(__dirname, '..', 'oidc', 'handler.ts'),
      timeout: ISSUER_HANDLER_TIMEOUT,
    });
    handler.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:DeleteObject'],
        resources: DISCOVERY_OBJECT_KEYS.map((key) => this.bucket.arnForObjects(key)),
      }),
    );
    props.secrets.grantControlPlaneRead(handler);
    const properties: ServiceAccountIssuerProperties = {
      IssuerUrl: this.issuerUrl,
      BucketName: this.bucket.bucketName,
      SecretId: props.secrets.controlPlaneSecret.secretArn,
      SecretGeneration: String(props.secrets.regenerate),
    };
    this.documents = new CustomResource(this, 'Documents', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::ServiceAccountIssuerDocuments',
      properties,
    });
    this.documents.node.addDependency(props.secrets.resource);

    this.provider = new iam.OidcProviderNative(this, 'OidcProvider', {
      url: this.issuerUrl,
      clientIds: [STS_AUDIENCE],
      removalPolicy,
    });
    // Deleted before the bucket: a bucket name set free must no longer be trusted.
    this.provider.node.addDependency(this.bucket);
  }

  /**
   * A role that only the tokens of one service account, issued for STS, may assume
   * (AssumeRoleWithWebIdentity): `sub` is `system:serviceaccount:<namespace>:<name>`, the
   * username Kubernetes gives a service account (k8s.io/apiserver
   * pkg/authentication/serviceaccount MakeUsername), and `aud` is `sts.amazonaws.com`.
   */
  public roleForServiceAccount(id: string, options: ServiceAccountRoleOptions): iam.Role {
    const { namespace, serviceAccountName } = options;
    if (!DNS_LABEL.test(namespace)) {
      throw new Error(`roleForServiceAccount(${id}): namespace must be a Kubernetes namespace name (a DNS-1123 label), got '${namespace}'`);
    }
    if (!(serviceAccountName.length <= 253 && DNS_SUBDOMAIN.test(serviceAccountName))) {
      throw new Error(
        `roleForServiceAccount(${id}): serviceAccountName must be a Kubernetes service account name (a DNS-1123 subdomain), got '${serviceAccountName}'`,
      );
    }
    return new iam.Role(this, id, {
      roleName: options.roleName,
      description: options.description ?? `Kubernetes service account ${namespace}/${serviceAccountName} (issuer ${this.issuerUrl})`,
      assumedBy: new iam.WebIdentityPrincipal(this.provider.oidcProviderArn, {
        StringEquals: {
          [`${this.issuerHost}:sub`]: `system:serviceaccount:${namespace}:${serviceAccountName}`,
          [`${this.issuerHost}:aud`]: STS_AUDIENCE,
        },
      }),
    });
  }
}

/**
 * `<bucket>.s3.<region>.<suffix>` as a literal: the condition keys of trust policies and the
 * API server flag need it at synth, so the bucket name and the stack's region must be known.
 */
function issuerHostOf(stack: Stack, bucketName: string): string {
  if (Token.isUnresolved(bucketName) || !BUCKET_NAME.test(bucketName)) {
    throw new Error(
      `ServiceAccountIssuer: bucketName must be a literal S3 bucket name of 3 to 63 lowercase letters, digits and '-' ` +
        `(no dots: it is the issuer's TLS host), e.g. 'kube-aws-test-1-oidc-123456789012-eu-central-1'; got '${bucketName}'`,
    );
  }
  const suffix = Token.isUnresolved(stack.region) ? undefined : RegionInfo.get(stack.region).domainSuffix;
  if (suffix === undefined) {
    throw new Error(
      `ServiceAccountIssuer: the stack's region must be a known AWS region at synth (give the stack an env with a region); got '${stack.region}'`,
    );
  }
  return `${bucketName}.s3.${stack.region}.${suffix}`;
}
