/**
 * An add-on's own AWS identity (IAM roles for service accounts): the name and ARN of its role,
 * literal so that manifests can carry them, and what a pod needs for the AWS SDKs to assume
 * that role with its service-account token, exactly as EKS's pod identity webhook injects it
 * (aws/amazon-eks-pod-identity-webhook v0.6.17 pkg/handler/handler.go: NewModifier,
 * addEnvToContainer, and the projected volume of getPodSpecPatch).
 *
 * The SDKs of the add-ons here (aws-sdk-go-v2 config: external-dns v0.22.0, cluster-autoscaler
 * 1.35.2 and aws-ebs-csi-driver v1.64.0 all call config.LoadDefaultConfig) take the web identity
 * before anything else but static keys: aws/aws-sdk-go-v2 config/resolve_credentials.go
 * resolveCredentialChain goes env keys, then `AWS_WEB_IDENTITY_TOKEN_FILE` (assumeWebIdentity
 * with `AWS_ROLE_ARN`), and reaches instance metadata (resolveEC2RoleCredentials) only as the
 * last case of resolveCredsFromProfile. On the pod network instance metadata does not answer
 * anyway (IMDSv2 hop limit 1), so the role is the only credential such a pod has.
 */
import { IContainer } from 'kubernetes-models/v1/Container';
import { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { IVolume } from 'kubernetes-models/v1/Volume';
import { AddonContext, AddonServiceAccount } from './addon';

/** IAM's limit on a role name (IAM User Guide, "IAM and AWS STS quotas": role name, 64 characters). */
export const IAM_ROLE_NAME_MAX_LENGTH = 64;

/**
 * The audience of the token and the client id of the cluster's IAM OIDC provider
 * (lib/constructs/service-account-issuer.ts STS_AUDIENCE, held equal by a test: manifests/
 * imports nothing from lib/). The webhook's default `--token-audience` (main.go).
 */
export const WEB_IDENTITY_AUDIENCE = 'sts.amazonaws.com';
/** The webhook's volume name (handler.go NewModifier volName). */
export const WEB_IDENTITY_VOLUME = 'aws-iam-token';
/** The webhook's mount path (handler.go NewModifier MountPath). */
export const WEB_IDENTITY_MOUNT_PATH = '/var/run/secrets/eks.amazonaws.com/serviceaccount';
/** The webhook's token file name (handler.go NewModifier tokenName). */
export const WEB_IDENTITY_TOKEN_PATH = 'token';
/** What `AWS_WEB_IDENTITY_TOKEN_FILE` names. */
export const WEB_IDENTITY_TOKEN_FILE = `${WEB_IDENTITY_MOUNT_PATH}/${WEB_IDENTITY_TOKEN_PATH}`;
/**
 * The token's lifetime: the webhook's DefaultTokenExpiration, 86400 s (pkg/constants.go; also
 * its maximum). The kubelet renews a projected token at 80% of its lifetime or after 24 h
 * (kubernetes pkg/kubelet/token/token_manager.go requiresRefresh), and the SDK re-reads the
 * file at each AssumeRoleWithWebIdentity.
 */
export const WEB_IDENTITY_TOKEN_SECONDS = 86400;

/**
 * `<cluster>-addon-<add-on>`: the name of an add-on's role. Unique in the account as the node
 * roles' `<cluster>-<role>-node` are (lib/node-identities.ts). Throws when it is longer than
 * IAM allows, naming what to shorten.
 */
export function addonRoleName(clusterName: string, addonName: string): string {
  const name = `${clusterName}-addon-${addonName}`;
  if (name.length > IAM_ROLE_NAME_MAX_LENGTH) {
    throw new Error(
      `the IAM role name '${name}' of add-on ${addonName} is ${name.length} characters, more than IAM's ${IAM_ROLE_NAME_MAX_LENGTH}: ` +
        `shorten the cluster name (stack and version) or the add-on's name`,
    );
  }
  return name;
}

/** `arn:<partition>:iam::<account>:role/<name>`: the ARN of an add-on's role (IAM role ARNs have no region). */
export function addonRoleArn(context: Pick<AddonContext, 'clusterName' | 'partition' | 'account'>, addonName: string): string {
  return `arn:${context.partition}:iam::${context.account}:role/${addonRoleName(context.clusterName, addonName)}`;
}

/** Which add-on's role a pod assumes, as whom, and in which of its containers. */
export interface AddonRoleUse {
  /** The cluster: its name, partition and account name the role; its region, STS's endpoint. */
  readonly context: Pick<AddonContext, 'clusterName' | 'partition' | 'account' | 'region'>;
  /** The add-on whose role it is (its {@link Addon.name}). */
  readonly addonName: string;
  /** The service account the role trusts (the add-on's `awsServiceAccount`): the pod must run as it. */
  readonly serviceAccount: AddonServiceAccount;
  /** The containers that call AWS: only they get the role and the token. */
  readonly containers: readonly string[];
}

/**
 * The environment the webhook gives a container (handler.go addEnvToContainer): STS in the
 * cluster's region rather than the global endpoint (`--sts-regional-endpoint`), the region
 * twice (both names, as the webhook sets them), the role and the token file.
 */
export function webIdentityEnv(use: Pick<AddonRoleUse, 'context' | 'addonName'>): IEnvVar[] {
  return [
    { name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' },
    { name: 'AWS_DEFAULT_REGION', value: use.context.region },
    { name: 'AWS_REGION', value: use.context.region },
    { name: 'AWS_ROLE_ARN', value: addonRoleArn(use.context, use.addonName) },
    { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: WEB_IDENTITY_TOKEN_FILE },
  ];
}

/** The webhook's projected volume: one token of the pod's service account for STS (handler.go getPodSpecPatch). */
export function webIdentityVolume(): IVolume {
  return {
    name: WEB_IDENTITY_VOLUME,
    projected: { sources: [{ serviceAccountToken: { audience: WEB_IDENTITY_AUDIENCE, expirationSeconds: WEB_IDENTITY_TOKEN_SECONDS, path: WEB_IDENTITY_TOKEN_PATH } }] },
  };
}

/**
 * `spec` with the add-on's role for the containers that call AWS: the webhook's environment
 * and a read-only mount of the token in each, the projected token volume in the pod. Throws,
 * naming what to fix, when the pod does not run as the service account the role trusts, when a
 * named container is missing, or when a container already sets one of the variables (the SDK
 * would read whichever comes last).
 */
export function withAddonRole(spec: IPodSpec, use: AddonRoleUse): IPodSpec {
  const where = `add-on ${use.addonName}`;
  if (spec.serviceAccountName !== use.serviceAccount.name) {
    throw new Error(`${where}: its role trusts service account ${use.serviceAccount.name}, but the pod runs as '${spec.serviceAccountName ?? 'default'}': set serviceAccountName`);
  }
  const missing = use.containers.filter((name) => !spec.containers.some((c) => c.name === name));
  if (missing.length > 0) throw new Error(`${where}: no container ${missing.join(', ')} in the pod to give the role to`);
  const env = webIdentityEnv(use);
  const withRole = (container: IContainer): IContainer => {
    if (!use.containers.includes(container.name)) return container;
    const clash = (container.env ?? []).filter((e) => env.some((own) => own.name === e.name)).map((e) => e.name);
    if (clash.length > 0) throw new Error(`${where}: container ${container.name} already sets ${clash.join(', ')}; leave them to withAddonRole`);
    return {
      ...container,
      env: [...(container.env ?? []), ...env],
      volumeMounts: [...(container.volumeMounts ?? []), { name: WEB_IDENTITY_VOLUME, mountPath: WEB_IDENTITY_MOUNT_PATH, readOnly: true }],
    };
  };
  return { ...spec, containers: spec.containers.map(withRole), volumes: [...(spec.volumes ?? []), webIdentityVolume()] };
}
