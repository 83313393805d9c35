import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { ClusterSecretsInput } from './inputs';
import { ClusterSecretNames, SECRET_SETS, SecretSet } from '../../userdata/secret-names';
import { planSecretValues } from './secret-set';
import { NotRenewed, applyRenewal, certificateDaysLeft, planRenewal } from './renewal';
import { RENEWAL_EVENT_KEY, RenewalEvent, certificateMetricLine } from './certificate-metric';

// The function behind ClusterSecrets (lib/constructs/cluster-secrets.ts), for two callers:
// the custom_resources.Provider framework (the custom resource: fill the set at deploy time)
// and a daily EventBridge schedule (renew leaf certificates). Both publish how long every
// certificate has left (certificate-metric.ts). Secret values never leave this function:
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
   * The set's secret names (`ClusterSecretNames.ofSet`), comma-separated. Not read here: a
   * release that adds a secret (as `front-proxy-ca`, whose files are names the list above
   * already has) changes it, so CloudFormation calls this handler, which fills the new secret
   * and upgrades the bundles that depend on it.
   */
  readonly SecretNames: string;
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

/** What a renewal did: secret and certificate names only. */
export interface RenewalResult {
  /** Secrets written (a renewed leaf and its key in each). */
  readonly written: readonly string[];
  /**
   * Renewed secrets not written because another writer changed them since the renewal read
   * them (before its write, or before its version became current): the next run decides again.
   */
  readonly skipped: readonly string[];
  /** Due certificates this path does not renew, and why. */
  readonly notRenewed: readonly NotRenewed[];
}

/** The clock: tests move it forward. */
export type Clock = () => Date;

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

/** Writes one EMF line per certificate of the set that `values` holds: the metric, no value of a secret. */
function publishDaysLeft(set: SecretSet, input: ClusterSecretsInput, values: ReadonlyMap<string, string>, now: Date): void {
  for (const { certificate, daysLeft } of certificateDaysLeft(set, input, values, now)) {
    console.log(certificateMetricLine(input.clusterName, certificate, daysLeft, now));
  }
}

/** The onEvent handler, with its Secrets Manager client and clock injected (tests pass a mocked one). */
export function createOnEventHandler(
  client: SecretsManagerClient,
  clock: Clock = () => new Date(),
): (event: OnEventRequest) => Promise<OnEventResponse> {
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
    const existing = await readExisting(client, names);
    const writes = await planSecretValues({
      set: properties.set,
      input: properties.input,
      existing,
      regenerate,
    });
    const values = new Map(existing);
    for (const write of writes) {
      await client.send(new PutSecretValueCommand({ SecretId: write.name, SecretString: write.value }));
      values.set(write.name, write.value);
    }
    // File names and reasons only: the values are keys and tokens.
    const changes = writes.flatMap((write) =>
      (write.changes ?? []).map((change) => ({ secret: write.name, files: change.files, reason: change.reason })),
    );
    console.log(JSON.stringify({ set: properties.set, regenerate, written: writes.map((write) => write.name), changes }));
    publishDaysLeft(properties.set, properties.input, values, clock());
    return {
      // Kept on every update, so CloudFormation never replaces (and deletes) the resource.
      PhysicalResourceId:
        event.RequestType === 'Update'
          ? event.PhysicalResourceId
          : `${secretNames.folder}${properties.set}`,
    };
  };
}

/**
 * The staging label of a renewed value until it becomes AWSCURRENT. One label for every run:
 * PutSecretValue moves a label that another version holds (API reference, PutSecretValue,
 * VersionStages), so a value left behind by a refused or interrupted run just loses it to the
 * next one and is deprecated, and nothing piles up.
 */
export const RENEWAL_VERSION_STAGE = 'KubernetesOnAwsRenewal';

/** The version of `name` that holds AWSCURRENT now. */
async function currentVersionId(client: SecretsManagerClient, name: string): Promise<string | undefined> {
  const description = await client.send(new DescribeSecretCommand({ SecretId: name }));
  const stages = Object.entries(description.VersionIdsToStages ?? {});
  return stages.find(([, labels]) => labels.includes('AWSCURRENT'))?.[0];
}

/**
 * Writes `value` as the new AWSCURRENT version of `name` only if AWSCURRENT is still on
 * `readVersionId`, the version the value was computed from: a compare-and-swap. The value is
 * put under {@link RENEWAL_VERSION_STAGE} (not current), then AWSCURRENT is moved to it from
 * `readVersionId`, which Secrets Manager refuses when the label is on another version ("If the
 * label is attached and you either do not specify this parameter, or the version ID does not
 * match, then the operation fails": API reference, UpdateSecretVersionStage,
 * RemoveFromVersionId; the same text in @aws-sdk/client-secrets-manager 3.1164.0,
 * dist-types/models/models_0.d.ts). Moving AWSCURRENT also moves AWSPREVIOUS to the version
 * it left, as PutSecretValue does. A run that stops between the two calls leaves only a
 * version nobody reads as current.
 *
 * Returns false when another writer came first. Which exception the refusal raises is not
 * documented, so a failed move is judged by where AWSCURRENT is afterwards: still on the version
 * read means the move failed for another reason (rethrown); on ours, an SDK retry of a move
 * that had succeeded.
 */
async function putIfCurrent(client: SecretsManagerClient, name: string, value: string, readVersionId: string | undefined): Promise<boolean> {
  const put = await client.send(
    new PutSecretValueCommand({ SecretId: name, SecretString: value, VersionStages: [RENEWAL_VERSION_STAGE] }),
  );
  try {
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: name,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: put.VersionId,
        RemoveFromVersionId: readVersionId,
      }),
    );
    return true;
  } catch (error) {
    const current = await currentVersionId(client, name);
    if (current === put.VersionId) return true;
    if (current === readVersionId) throw error;
    return false;
  }
}

/**
 * The renewal handler: re-issues the set's due leaf certificates from their CAs (renewal.ts)
 * and writes each renewed secret, then publishes every certificate's days left. It never
 * creates, regenerates or deletes anything: `Regenerate` in the event is not read.
 */
export function createRenewalHandler(
  client: SecretsManagerClient,
  clock: Clock = () => new Date(),
): (event: RenewalEvent) => Promise<RenewalResult> {
  return async (event) => {
    const { set, input } = parseProperties(event[RENEWAL_EVENT_KEY] as unknown as Record<string, unknown>);
    const now = clock();
    const stored = await readExisting(client, new ClusterSecretNames(input.clusterName).ofSet(set, input.etcdMemberCount));
    const plan = await planRenewal({ set, input, stored, now });
    const values = new Map(stored);
    const written: string[] = [];
    const skipped: string[] = [];
    for (const renewal of plan.renewals) {
      // Read again just before writing, and write only the renewed files over what is there
      // now; the write lands only if nobody wrote since this read (README, "A deploy and a renewal").
      const read = await client.send(new GetSecretValueCommand({ SecretId: renewal.name }));
      if (read.SecretString !== undefined) values.set(renewal.name, read.SecretString);
      const value = applyRenewal(renewal, read.SecretString);
      if (value === undefined || !(await putIfCurrent(client, renewal.name, value, read.VersionId))) {
        skipped.push(renewal.name);
        continue;
      }
      values.set(renewal.name, value);
      written.push(renewal.name);
    }
    const changes = plan.renewals
      .filter((renewal) => written.includes(renewal.name))
      .flatMap((renewal) => renewal.changes.map((change) => ({ secret: renewal.name, files: change.files, reason: change.reason })));
    console.log(JSON.stringify({ set, renewal: true, written, changes, skipped, notRenewed: plan.notRenewed }));
    publishDaysLeft(set, input, values, now);
    return { written, skipped, notRenewed: plan.notRenewed };
  };
}

const REQUEST_TYPES: readonly string[] = ['Create', 'Update', 'Delete'];

/**
 * Which caller sent `event`. A renewal event is recognized only by {@link RENEWAL_EVENT_KEY}
 * alone, and a Provider request only by a known RequestType, so neither can pass for the
 * other: the schedule's fixed input can never reach the Delete or Update (regenerate) path.
 * Anything else (an EventBridge event without that input, an unknown request) is refused
 * before any AWS call.
 */
export function classifyEvent(event: unknown): { kind: 'provider'; event: OnEventRequest } | { kind: 'renewal'; event: RenewalEvent } {
  const record = typeof event === 'object' && event !== null && !Array.isArray(event) ? (event as Record<string, unknown>) : undefined;
  const keys = Object.keys(record ?? {});
  if (record !== undefined && keys.length === 1 && keys[0] === RENEWAL_EVENT_KEY) {
    return { kind: 'renewal', event: record as unknown as RenewalEvent };
  }
  if (record !== undefined && !keys.includes(RENEWAL_EVENT_KEY) && REQUEST_TYPES.includes(String(record.RequestType))) {
    return { kind: 'provider', event: record as unknown as OnEventRequest };
  }
  throw new Error(
    `The secrets function answers a CloudFormation custom resource request (RequestType ${REQUEST_TYPES.join(', ')}) ` +
      `or a renewal event ({"${RENEWAL_EVENT_KEY}": {...}} and nothing else); this event is neither (its keys: ${keys.join(', ') || 'none'}).`,
  );
}

/** Both handlers behind one entry point, each event sent to the one it is for. */
export function createHandler(
  client: SecretsManagerClient,
  clock: Clock = () => new Date(),
): (event: unknown) => Promise<OnEventResponse | RenewalResult> {
  const onEvent = createOnEventHandler(client, clock);
  const renew = createRenewalHandler(client, clock);
  return async (event) => {
    const classified = classifyEvent(event);
    return classified.kind === 'renewal' ? renew(classified.event) : onEvent(classified.event);
  };
}

/** The Lambda entry point (`index.handler` of the bundle: lib/constructs/lambda-bundle.ts). */
export const handler = createHandler(new SecretsManagerClient({}));
