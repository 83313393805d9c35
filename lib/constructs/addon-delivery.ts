import { createHash } from 'node:crypto';
import { CustomResource } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { Addon, AddonContext, CLUSTER_CA_BUNDLE } from '../../manifests/addons/addon';

/** The custom resource type of a delivered add-on, as `cdk diff` shows it. */
export const ADDON_RESOURCE_TYPE = 'Custom::Addon';

/** Properties of {@link AddonDelivery}. */
export interface AddonDeliveryProps {
  /** The add-on: its name, version and objects. */
  readonly addon: Addon;
  /** The cluster values its objects are made from. */
  readonly context: AddonContext;
  /** The `serviceToken` of the add-on applier (lib/constructs/addon-applier.ts). */
  readonly serviceToken: string;
  /**
   * The generation of the control-plane secrets (`controlPlaneSecretsGeneration`): each one
   * is a new cluster CA. An add-on whose objects name that CA (CLUSTER_CA_BUNDLE, which the
   * applier fills in) carries it as a property, so that a new CA re-applies the add-on;
   * the others do not, and a new generation leaves them alone.
   */
  readonly clusterCaGeneration: number;
}

/** The properties the applier's handler receives (lib/addons/handler.ts reads them). */
export interface AddonResourceProperties {
  readonly Name: string;
  readonly Version: string;
  /** sha256 of `Objects`: a change of content shows in `cdk diff` even at the same version. */
  readonly ContentHash: string;
  /** The objects, as a JSON array. */
  readonly Objects: string;
  /** The cluster CA's generation, for add-ons whose objects name the CA only. */
  readonly ClusterCaGeneration?: string;
}

/**
 * One add-on delivered to the cluster at deploy time: a custom resource whose properties
 * carry its name, version, content hash and objects. A change to them re-applies it (and
 * prunes what it dropped); a failure fails the deploy with the API server's message, and
 * CloudFormation's rollback re-applies the previous properties. Nothing on the nodes
 * changes, so no node rolls.
 */
export class AddonDelivery extends Construct {
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: AddonDeliveryProps) {
    super(scope, id);
    const { addon } = props;
    const objects = addon.objects(props.context);
    if (objects.length === 0) throw new Error(`add-on ${addon.name}: it has no objects; turn it off instead`);
    for (const object of objects) {
      try {
        object.validate();
      } catch (error) {
        const name = `${object.kind} ${object.metadata?.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata?.name}`;
        throw new Error(`add-on ${addon.name}: ${name} does not match its Kubernetes schema: ${(error as Error).message}`);
      }
    }
    const json = JSON.stringify(objects.map((object) => object.toJSON()));
    const properties: AddonResourceProperties = {
      Name: addon.name,
      Version: addon.version,
      ContentHash: createHash('sha256').update(json).digest('hex'),
      Objects: json,
      ...(json.includes(CLUSTER_CA_BUNDLE) ? { ClusterCaGeneration: String(props.clusterCaGeneration) } : {}),
    };
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: props.serviceToken,
      resourceType: ADDON_RESOURCE_TYPE,
      properties: { ...properties },
    });
  }
}
