import * as path from 'path';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { version as esbuildVersion } from 'esbuild';
import { S3Asset } from '../../userdata';
import { BUNDLE_FILE_NAME, bundleWebhookServer } from '../../webhook/bundle';
import { cachedDirectory, hashOfSources } from '../build/content-cache';
import { DEFAULT_AUTHENTICATE_URL, DEFAULT_AUTHORIZE_URL, webhookKubeconfig } from '../../webhook/kubeconfig';
import { renderWebhookConfig } from '../../webhook/render-config';
import { AwsPartition, KubeletServingApproverConfig, NodeRoleMapping, RoleName } from '../../webhook/config';
import { VerifiedAsset } from './verified-asset';

export interface AuthWebhookDeliveryProps {
  /** `aws:<account>:<region>:<cluster>`: users without it are denied. */
  readonly clusterGroup: string;
  /** The OAuth2 token-info endpoint that checks users' tokens. */
  readonly tokenInfoUrl: string;
  /** Which groups grant which role. */
  readonly roleGroups: Readonly<Record<RoleName, readonly string[]>>;
  /**
   * How the approver of kubelet serving certificates, run in the webhook's process, reaches
   * the API server. @default no approver runs
   */
  readonly kubeletServingApprover?: KubeletServingApproverConfig;
  /** Identities from IAM: the node roles, and the IAM principals of each role. */
  readonly iam: {
    readonly clusterId: string;
    readonly partition: AwsPartition;
    readonly region: string;
    readonly nodeRoles: readonly NodeRoleMapping[];
    readonly roleArns: Readonly<Record<RoleName, readonly string[]>>;
  };
}

/**
 * What a master needs to run the authentication and authorization webhook: the server
 * bundled into one file (an S3 asset Ignition fetches and checks), its config file, and the
 * two kubeconfig-format files with which kube-apiserver calls it on loopback.
 */
export class AuthWebhookDelivery extends Construct {
  readonly bundle: S3Asset;
  readonly serverConfigYaml: string;
  readonly authenticationKubeconfig: string;
  readonly authorizationKubeconfig: string;
  private readonly asset: VerifiedAsset;

  constructor(scope: Construct, id: string, props: AuthWebhookDeliveryProps) {
    super(scope, id);
    // Validated here, at synth: a bad setting must not leave masters whose webhook won't start.
    this.serverConfigYaml = renderWebhookConfig({
      clusterGroup: props.clusterGroup,
      tokenInfo: { url: props.tokenInfoUrl },
      ...(props.kubeletServingApprover ? { kubeletServingApprover: props.kubeletServingApprover } : {}),
      roles: props.roleGroups,
      iam: {
        clusterId: props.iam.clusterId,
        partition: props.iam.partition,
        region: props.iam.region,
        nodeRoles: props.iam.nodeRoles,
        roles: props.iam.roleArns,
      },
    });
    // Bundled once per content: the bundle depends on the app's sources and the lock file only.
    const bundleDir = cachedDirectory('webhook', 'kube-auth-webhook', { esbuild: esbuildVersion, sources: hashOfSources() }, BUNDLE_FILE_NAME, (dir) => {
      bundleWebhookServer(dir);
    });
    const bundlePath = path.join(bundleDir, BUNDLE_FILE_NAME);
    this.asset = new VerifiedAsset(this, 'Bundle', { path: bundlePath });
    this.bundle = this.asset.ignitionSource;
    this.authenticationKubeconfig = webhookKubeconfig(DEFAULT_AUTHENTICATE_URL);
    this.authorizationKubeconfig = webhookKubeconfig(DEFAULT_AUTHORIZE_URL);
  }

  /** Lets the masters fetch the bundle. */
  grantRead(grantee: iam.IGrantable): void {
    this.asset.grantRead(grantee);
  }
}
