import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { ClusterSecrets } from './cluster-secrets';
import { customResourceProvider } from './custom-resource-provider';

/**
 * One add-on's apply, prune and rollout wait must fit in one Lambda run (15 minutes at
 * most); the rollout wait of lib/addons/applier.ts is bounded below it.
 */
export const ADDON_APPLIER_TIMEOUT = Duration.minutes(14);

/** Properties of {@link AddonApplier}. */
export interface AddonApplierProps {
  /** The cluster's VPC: the applier runs there to reach the internal API endpoint. */
  readonly vpc: ec2.IVpc;
  /** Subnets with a route to Secrets Manager (the node subnets). */
  readonly subnets: readonly ec2.ISubnet[];
  /** `https://<internal API name>`: the API server as seen from inside the VPC. */
  readonly apiUrl: string;
  /**
   * The cluster's control-plane secrets: the applier reads the worker secret (the cluster CA
   * certificate, with which it checks the API server) and nothing else.
   */
  readonly secrets: ClusterSecrets;
  /** The cluster group, which the applier's IAM token is signed for. */
  readonly clusterId: string;
  /**
   * The name of the applier's execution role: the auth webhook maps that role to an
   * Administrator of the cluster, by its ARN (lib/node-identities.ts addonApplierRoleArn).
   */
  readonly roleName: string;
}

/**
 * The Lambda function (behind the Provider framework) that delivers add-ons to the cluster
 * at deploy time: each {@link AddonDelivery} is a custom resource it serves. It runs in the
 * VPC and reaches the API server through the internal endpoint, signed in as its own IAM
 * role, which the cluster's auth webhook makes an Administrator: no stored credential.
 */
export class AddonApplier extends Construct implements ec2.IConnectable {
  /** Let it reach the internal API endpoint: `endpoint.connections.allowFrom(applier, ...)`. */
  public readonly connections: ec2.Connections;
  /** The `serviceToken` of the add-on custom resources. */
  public readonly serviceToken: string;

  constructor(scope: Construct, id: string, props: AddonApplierProps) {
    super(scope, id);
    if (!/^https:\/\//.test(props.apiUrl) && !props.apiUrl.startsWith('${Token')) {
      throw new Error(`AddonApplier: apiUrl must be an https:// URL, got '${props.apiUrl}'`);
    }
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Add-on applier: to the internal API endpoint and the AWS APIs',
      allowAllOutbound: true,
    });
    const { handler, provider } = customResourceProvider(this, {
      description: 'Applies one add-on to the cluster (server-side apply), prunes what it dropped, waits for its rollout',
      entry: path.join(__dirname, '..', 'addons', 'handler.ts'),
      timeout: ADDON_APPLIER_TIMEOUT,
      memorySize: 256,
      vpc: props.vpc,
      vpcSubnets: { subnets: [...props.subnets] },
      securityGroups: [securityGroup],
      environment: { API_URL: props.apiUrl, CA_SECRET_ID: props.secrets.names.worker, CLUSTER_ID: props.clusterId },
      roleName: props.roleName,
    });
    props.secrets.grantWorkerRead(handler);
    this.connections = new ec2.Connections({ securityGroups: [securityGroup] });
    this.serviceToken = provider.serviceToken;
  }
}
