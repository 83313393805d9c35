import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

// The custom resource behind LeftoverCheck (lib/constructs/leftover-check.ts): before a
// cluster's stack creates its fixed-name resources, find those that a destroyed cluster of
// the same name retained, and fail with what to delete. CloudFormation would otherwise stop
// half-way with "already exists" (secrets, bucket), after creating much else.

/** The resource properties LeftoverCheck passes. */
export interface LeftoverCheckProperties {
  readonly ClusterName: string;
  /** For the commands in the message. */
  readonly Account: string;
  readonly Region: string;
  /** The Secrets Manager secrets the stack creates. */
  readonly SecretNames: readonly string[];
  /** The bucket the stack creates, or '' for none. */
  readonly BucketName: string;
  /** `https://<bucket>.s3.<region>.<url suffix>/`, or '' for none. */
  readonly BucketUrl: string;
  /**
   * EC2 `--filters` finding the volumes the stack creates and retains (etcd data), or [].
   * Not checked (no EC2 client here): the message says how to find and delete them.
   */
  readonly VolumeFilters: readonly string[];
}

/** The part of the Provider framework's onEvent request this handler reads. */
export interface OnEventRequest {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly StackId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Record<string, unknown>;
}

/** The Provider framework's onEvent response. */
export interface OnEventResponse {
  readonly PhysicalResourceId: string;
}

/**
 * A HEAD request without credentials: S3 answers 404 only when no bucket has the name (in
 * any account), 403 when one exists that the caller may not read, 301 when it exists in
 * another region. No permission is needed, and none is granted.
 */
export type BucketProbe = (url: string) => Promise<number>;

/** What the handler talks to; tests pass mocked clients and a fake probe. */
export interface LeftoverCheckDependencies {
  readonly secretsManager: SecretsManagerClient;
  readonly cloudFormation: CloudFormationClient;
  readonly probeBucket: BucketProbe;
}

/** A retained secret; `deletedDate` when it is scheduled for deletion (its name is still taken). */
export interface LeftoverSecret {
  readonly name: string;
  readonly deletedDate?: Date;
}

/** A bucket of the name exists; `status` is S3's answer to the anonymous HEAD. */
export interface LeftoverBucket {
  readonly name: string;
  readonly status: number;
}

export interface Leftovers {
  readonly secrets: readonly LeftoverSecret[];
  readonly bucket?: LeftoverBucket;
}

/** Only a stack being created can collide with leftovers: in a living stack they are its own. */
const STACK_BEING_CREATED = 'CREATE_IN_PROGRESS';
const BUCKET_ABSENT = 404;

export const probeBucketAnonymously: BucketProbe = async (url) => {
  const response = await fetch(url, { method: 'HEAD', redirect: 'manual' });
  return response.status;
};

function parseProperties(properties: Record<string, unknown>): LeftoverCheckProperties {
  const text = (key: keyof LeftoverCheckProperties, optional = false): string => {
    const value = properties[key];
    if (typeof value !== 'string' || (!optional && value === '')) {
      throw new Error(`resource property ${key} is missing`);
    }
    return value;
  };
  const list = (key: 'SecretNames' | 'VolumeFilters'): string[] => {
    const value = properties[key];
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '')) {
      throw new Error(`resource property ${key} must be a list of strings`);
    }
    return value;
  };
  return {
    ClusterName: text('ClusterName'),
    Account: text('Account'),
    Region: text('Region'),
    SecretNames: list('SecretNames'),
    BucketName: text('BucketName', true),
    BucketUrl: text('BucketUrl', true),
    VolumeFilters: list('VolumeFilters'),
  };
}

async function findSecret(client: SecretsManagerClient, name: string): Promise<LeftoverSecret | undefined> {
  try {
    const secret = await client.send(new DescribeSecretCommand({ SecretId: name }));
    return { name, deletedDate: secret.DeletedDate };
  } catch (error) {
    // By name, not instanceof: holds even with two copies of the SDK in one process.
    if ((error as Error).name === 'ResourceNotFoundException') {
      return undefined;
    }
    throw new Error(`could not check whether secret ${name} is left over: ${(error as Error).name}: ${(error as Error).message}`);
  }
}

async function findBucket(probe: BucketProbe, name: string, url: string): Promise<LeftoverBucket | undefined> {
  let status: number;
  try {
    status = await probe(url);
  } catch (error) {
    throw new Error(`could not check whether bucket ${name} is left over (${url}): ${(error as Error).message}`);
  }
  if (status === BUCKET_ABSENT) {
    return undefined;
  }
  if (status >= 500) {
    throw new Error(`could not check whether bucket ${name} is left over: S3 answered HTTP ${status}; deploy again`);
  }
  return { name, status };
}

/** What of the stack's fixed names is taken. */
async function findLeftovers(deps: LeftoverCheckDependencies, properties: LeftoverCheckProperties): Promise<Leftovers> {
  const secrets: LeftoverSecret[] = [];
  for (const name of properties.SecretNames) {
    const secret = await findSecret(deps.secretsManager, name);
    if (secret) secrets.push(secret);
  }
  const bucket = properties.BucketName === '' ? undefined : await findBucket(deps.probeBucket, properties.BucketName, properties.BucketUrl);
  return { secrets, bucket };
}

/** The longest common folder of the names, so that the delete loop reads short. */
function folderOf(names: readonly string[]): string {
  const [first, ...rest] = names;
  let folder = first.slice(0, first.lastIndexOf('/') + 1);
  while (folder !== '' && !rest.every((name) => name.startsWith(folder))) {
    folder = folder.slice(0, folder.slice(0, -1).lastIndexOf('/') + 1);
  }
  return folder;
}

/**
 * What the person at the terminal reads in the stack's events: each leftover, what it
 * holds, and the commands that delete it. Short enough for CloudFormation's 4 KB limit on
 * a custom resource's response, with every secret of a 7-member etcd set and the bucket.
 */
export function leftoverMessage(properties: LeftoverCheckProperties, leftovers: Leftovers): string {
  const region = properties.Region;
  const lines = [
    `Cluster ${properties.ClusterName} existed before here and left resources with the names this stack creates ` +
      '(CloudFormation would stop half-way: "already exists"). None was created. Delete these leftovers and deploy ' +
      'again, or deploy under another `version`.',
  ];
  if (leftovers.secrets.length > 0) {
    const folder = folderOf(leftovers.secrets.map((s) => s.name));
    const short = leftovers.secrets.map((s) => s.name.slice(folder.length));
    const scheduled = new Map<string, string[]>();
    leftovers.secrets.forEach((s, i) => {
      const day = s.deletedDate?.toISOString().slice(0, 10);
      if (day) scheduled.set(day, [...(scheduled.get(day) ?? []), short[i]]);
    });
    const schedule = [...scheduled].map(([day, list]) => `${list.length === short.length ? 'all' : list.join(', ')} on ${day}`);
    lines.push(
      `Secrets Manager secrets in ${folder}: ${short.join(', ')}` +
        (schedule.length > 0 ? ` (scheduled for deletion: ${schedule.join('; ')})` : ''),
      "  They hold the old cluster's CAs, keys and tokens: copy what you still need, then delete them (one scheduled " +
        'for deletion keeps its name until then; `aws secretsmanager restore-secret --secret-id <name>` brings it back):',
      `  for s in ${short.join(' ')}; do ` +
        `aws secretsmanager delete-secret --region ${region} --force-delete-without-recovery --secret-id "${folder}$s"; done`,
    );
  }
  if (leftovers.bucket) {
    const bucket = leftovers.bucket.name;
    lines.push(
      `S3 bucket ${bucket} exists (S3 answered HTTP ${leftovers.bucket.status}). If this account owns it ` +
        `(\`aws s3api head-bucket --bucket ${bucket} --expected-bucket-owner ${properties.Account}\` succeeds), ` +
        "it holds the old cluster's etcd snapshots: deleting it DELETES EVERY SNAPSHOT, so copy out the ones you need. " +
        'It is versioned: `aws s3 rb --force` leaves the old versions and fails. Empty every version, then delete it:',
      `  b=${bucket}; while v=$(aws s3api list-object-versions --region ${region} --bucket "$b" --no-paginate --output json ` +
        "--query '{Objects: [Versions, DeleteMarkers][][].{Key: Key, VersionId: VersionId}, Quiet: `true`}') " +
        `&& grep -q '"Key"' <<<"$v"; do aws s3api delete-objects --region ${region} --bucket "$b" --delete "$v"; done; ` +
        `aws s3api delete-bucket --region ${region} --bucket "$b"`,
      '  If head-bucket fails with 403, another account holds the name: only another `version` helps.',
    );
  }
  if (properties.VolumeFilters.length > 0) {
    lines.push(
      "Not checked here: the old cluster's retained etcd data volumes. New members stop at boot if they find them " +
        '(same tags). Delete them, after saving any data you need:',
      `  for v in $(aws ec2 describe-volumes --region ${region} --filters ${properties.VolumeFilters.join(' ')} ` +
        `--query 'Volumes[].VolumeId' --output text); do aws ec2 delete-volume --region ${region} --volume-id "$v"; done`,
    );
  }
  lines.push('Deletions take a minute to free the names. README: "Re-creating a cluster of the same name".');
  return lines.join('\n');
}

/** The onEvent handler, with its clients injected (tests pass mocked ones). */
export function createOnEventHandler(deps: LeftoverCheckDependencies): (event: OnEventRequest) => Promise<OnEventResponse> {
  return async (event) => {
    const properties = parseProperties(event.ResourceProperties);
    const physicalResourceId = event.PhysicalResourceId ?? `leftover-check/${properties.ClusterName}`;
    if (event.RequestType !== 'Create') {
      return { PhysicalResourceId: physicalResourceId }; // a living stack's resources are its own
    }
    const stack = await deps.cloudFormation.send(new DescribeStacksCommand({ StackName: event.StackId }));
    const status = stack.Stacks?.[0]?.StackStatus;
    if (status !== STACK_BEING_CREATED) {
      // The check was added to a stack that exists (an update): what it finds is the stack's own.
      console.log(JSON.stringify({ check: 'skipped', stackStatus: status }));
      return { PhysicalResourceId: physicalResourceId };
    }
    const leftovers = await findLeftovers(deps, properties);
    console.log(
      JSON.stringify({ check: 'done', secrets: leftovers.secrets.map((s) => s.name), bucket: leftovers.bucket?.name ?? null }),
    );
    if (leftovers.secrets.length > 0 || leftovers.bucket) {
      throw new Error(leftoverMessage(properties, leftovers));
    }
    return { PhysicalResourceId: physicalResourceId };
  };
}

/** The Lambda entry point (`index.handler` of the bundle: lib/constructs/lambda-bundle.ts). */
export const handler = createOnEventHandler({
  secretsManager: new SecretsManagerClient({}),
  cloudFormation: new CloudFormationClient({}),
  probeBucket: probeBucketAnonymously,
});
