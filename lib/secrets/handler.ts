import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { ClusterSecretsInput } from './inputs';
import { ClusterSecretNames, SECRET_SETS, SecretSet } from '../../userdata/secret-names';
import { planSecretValues } from './secret-set';

// The custom resource behind ClusterSecrets (lib/constructs/cluster-secrets.ts), run by
// the custom_resources.Provider framework. Secret values never leave this function:
// they are not logged and not returned as resource attributes.

/** The resource properties ClusterSecrets passes (CloudFormation turns numbers into strings). */
export interface ClusterSecretsProperties {
  readonly Set: string;
  readonly ClusterName: string;
  readonly ZoneName: string;
  readonly EtcdMemberCount: string;
  readonly ServiceCidr: string;
  readonly ClusterDomain: string;
  /** Changing this value replaces every secret of the set (rotation). */
  readonly Regenerate: string;
  /**
   * The set's bundle files (BUNDLE_FILES), comma-separated. Not read here: a release that
   * adds a file changes it, so CloudFormation calls this handler, which adds the file to
   * the existing bundles.
   */
  readonly BundleFiles: string;
  /**
   * Control-plane set only: the API server certificate's names (sans.ts `sanList`),
   * comma-separated. Not read here (the handler derives the names itself): a release or
   * input that changes them changes this, so CloudFormation calls the handler, which
   * re-issues apiserver.crt from the existing CA (control-plane-upgrades.ts).
   */
  readonly ApiServerNames?: string;
}

/** The part of the Provider framework's onEvent request this handler reads. */
export type OnEventRequest =
  | { readonly RequestType: 'Create'; readonly ResourceProperties: Record<string, unknown> }
  | {
      readonly RequestType: 'Update';
      readonly PhysicalResourceId: string;
      readonly ResourceProperties: Record<string, unknown>;
      readonly OldResourceProperties: Record<string, unknown>;
    }
  | { readonly RequestType: 'Delete'; readonly PhysicalResourceId: string; readonly ResourceProperties: Record<string, unknown> };

/** The Provider framework's onEvent response. */
export interface OnEventResponse {
  readonly PhysicalResourceId: string;
}

/** Certificate inputs per set: a change to one of them makes existing certificates wrong. */
const CERTIFICATE_INPUTS: Record<SecretSet, readonly (keyof ClusterSecretsInput)[]> = {
  etcd: ['zoneName'],
  'control-plane': ['zoneName', 'serviceCidr', 'clusterDomain'],
};

interface ParsedProperties {
  readonly set: SecretSet;
  readonly input: ClusterSecretsInput;
  readonly regenerate: string;
}

function parseProperties(properties: Record<string, unknown>): ParsedProperties {
  const read = (key: keyof ClusterSecretsProperties): string => {
    const value = properties[key];
    if (value === undefined || value === null || String(value) === '') {
      throw new Error(`resource property ${key} is missing`);
    }
    return String(value);
  };
  const set = read('Set');
  if (!(SECRET_SETS as readonly string[]).includes(set)) {
    throw new Error(`resource property Set must be one of ${SECRET_SETS.join(', ')}; got "${set}"`);
  }
  const etcdMemberCount = Number(read('EtcdMemberCount'));
  if (!Number.isInteger(etcdMemberCount) || etcdMemberCount < 1) {
    throw new Error(`resource property EtcdMemberCount must be a positive integer; got "${read('EtcdMemberCount')}"`);
  }
  return {
    set: set as SecretSet,
    input: {
      clusterName: read('ClusterName'),
      zoneName: read('ZoneName'),
      etcdMemberCount,
      serviceCidr: read('ServiceCidr'),
      clusterDomain: read('ClusterDomain'),
    },
    regenerate: read('Regenerate'),
  };
}

/**
 * Existing certificates name the old zone, service IP or cluster domain: keeping them
 * silently would break TLS later, so refuse and say how to reissue.
 */
function assertCertificateInputsUnchanged(before: ParsedProperties, after: ParsedProperties): void {
  if (before.input.clusterName !== after.input.clusterName) {
    return; // new names, new (empty) secrets: nothing existing to contradict
  }
  for (const key of CERTIFICATE_INPUTS[after.set]) {
    if (before.input[key] !== after.input[key]) {
      throw new Error(
        `${key} changed from "${before.input[key]}" to "${after.input[key]}", but the existing ` +
          `${after.set} certificates name the old value. To reissue them, also increase the ` +
          `ClusterSecrets "regenerate" prop (now ${after.regenerate}); see lib/secrets/README.md.`,
      );
    }
  }
}

async function readExisting(client: SecretsManagerClient, names: string[]): Promise<Map<string, string>> {
  const existing = new Map<string, string>();
  for (const name of names) {
    const description = await client.send(new DescribeSecretCommand({ SecretId: name }));
    const hasCurrent = Object.values(description.VersionIdsToStages ?? {}).some((stages) => stages.includes('AWSCURRENT'));
    if (hasCurrent) {
      const value = await client.send(new GetSecretValueCommand({ SecretId: name }));
      if (value.SecretString !== undefined) {
        existing.set(name, value.SecretString);
      }
    }
  }
  return existing;
}

/** The onEvent handler, with its Secrets Manager client injected (tests pass a mocked one). */
export function createOnEventHandler(client: SecretsManagerClient): (event: OnEventRequest) => Promise<OnEventResponse> {
  return async (event) => {
    if (event.RequestType === 'Delete') {
      // The secrets are CloudFormation resources with their own removal policy.
      return { PhysicalResourceId: event.PhysicalResourceId };
    }
    const properties = parseProperties(event.ResourceProperties);
    let regenerate = false;
    if (event.RequestType === 'Update') {
      const before = parseProperties(event.OldResourceProperties);
      regenerate = before.regenerate !== properties.regenerate;
      if (!regenerate) {
        assertCertificateInputsUnchanged(before, properties);
      }
    }
    const secretNames = new ClusterSecretNames(properties.input.clusterName);
    const names = secretNames.ofSet(properties.set, properties.input.etcdMemberCount);
    const writes = await planSecretValues({
      set: properties.set,
      input: properties.input,
      existing: await readExisting(client, names),
      regenerate,
    });
    for (const write of writes) {
      await client.send(new PutSecretValueCommand({ SecretId: write.name, SecretString: write.value }));
    }
    // File names and reasons only: the values are keys and tokens.
    const changes = writes.flatMap((write) =>
      (write.changes ?? []).map((change) => ({ secret: write.name, files: change.files, reason: change.reason })),
    );
    console.log(JSON.stringify({ set: properties.set, regenerate, written: writes.map((write) => write.name), changes }));
    return {
      // Kept on every update, so CloudFormation never replaces (and deletes) the resource.
      PhysicalResourceId:
        event.RequestType === 'Update'
          ? event.PhysicalResourceId
          : `${secretNames.folder}${properties.set}`,
    };
  };
}

/** The Lambda entry point (`index.handler` of the bundle: lib/constructs/lambda-bundle.ts). */
export const handler = createOnEventHandler(new SecretsManagerClient({}));
