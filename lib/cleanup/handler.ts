import {
  DeleteSecurityGroupCommand,
  DeleteVolumeCommand,
  EC2Client,
  paginateDescribeSecurityGroups,
  paginateDescribeVolumes,
  SecurityGroup,
  Tag as Ec2Tag,
  Volume,
} from '@aws-sdk/client-ec2';
import {
  DeleteLoadBalancerCommand as DeleteClassicLoadBalancerCommand,
  DescribeTagsCommand as DescribeClassicTagsCommand,
  ElasticLoadBalancingClient,
  paginateDescribeLoadBalancers as paginateDescribeClassicLoadBalancers,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DescribeTagsCommand,
  ElasticLoadBalancingV2Client,
  paginateDescribeLoadBalancers,
  paginateDescribeTargetGroups,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  ChangeResourceRecordSetsCommand,
  ListResourceRecordSetsCommand,
  ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { clusterTagKey } from '../../manifests/addons/addon';
import { ClusterCleanupProperties, CSI_CLUSTER_NAME_TAG, OWNED, SERVICE_NAME_TAG } from './contract';
// The Provider framework's event and answer, as the leftover check reads them.
import type { OnEventRequest, OnEventResponse } from '../leftovers/handler';

// The custom resource behind ClusterCleanup (lib/constructs/cluster-cleanup.ts): on Delete,
// after the masters are gone (nothing recreates what it deletes), remove what Kubernetes made
// in AWS for this cluster. CloudFormation knows none of it: it would leak, and a security
// group or load balancer left in the VPC can stop the deletion of what CloudFormation owns.



/** What the handler talks to and how it waits; tests pass mocked clients and a fake clock. */
export interface ClusterCleanupDependencies {
  readonly elb: ElasticLoadBalancingClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly ec2: EC2Client;
  readonly route53: Route53Client;
  /** The status of the stack the resource is in (CloudFormation DescribeStacks). */
  readonly stackStatus: (stackId: string) => Promise<string | undefined>;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** How long the sweeps may go on before the Delete fails with what is left. */
  readonly budgetMs: number;
  /** The pause between sweeps: deletions (ELB network interfaces above all) take a while to settle. */
  readonly retryDelayMs: number;
}

/** Something found this sweep: being deleted, or not deletable yet (`reason`). */
export interface Leftover {
  readonly kind: string;
  readonly id: string;
  readonly reason?: string;
}

/** CloudFormation's own tag: a group with it belongs to a stack, never to the controller. */
const CLOUDFORMATION_STACK_TAG = 'aws:cloudformation:stack-id';

/** Errors no retry mends: stop and say so rather than wait out the budget. */
const PERMANENT_ERRORS = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'OperationNotPermitted']);
/** ELB's DescribeTags takes at most 20 names or ARNs. */
const TAGS_PER_CALL = 20;

type TagList = readonly { Key?: string; Value?: string }[] | undefined;

function tagValue(tags: TagList, key: string): string | undefined {
  return tags?.find((tag) => tag.Key === key)?.Value;
}

function describeError(error: unknown): string {
  return `${(error as Error).name}: ${(error as Error).message}`;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

/** Runs a deletion; a failure is what is left, with why. */
async function tryDelete(kind: string, id: string, remove: () => Promise<unknown>): Promise<Leftover> {
  try {
    await remove();
    return { kind, id };
  } catch (error) {
    return { kind, id, reason: describeError(error) };
  }
}

/** Every item of every page an AWS SDK paginator yields. */
async function collect<Page, Item>(pages: AsyncIterable<Page>, items: (page: Page) => readonly Item[] | undefined): Promise<Item[]> {
  const all: Item[] = [];
  for await (const page of pages) all.push(...(items(page) ?? []));
  return all;
}

// ---- load balancers and target groups (cloud-controller-manager) ----

/** A load balancer or target group the controller made for this cluster: owned, and a Service's. */
function isControllerOwned(tags: TagList, cluster: string): boolean {
  return tagValue(tags, clusterTagKey(cluster)) === OWNED && tagValue(tags, SERVICE_NAME_TAG) !== undefined;
}

async function ownedClassicLoadBalancers(elb: ElasticLoadBalancingClient, cluster: string): Promise<string[]> {
  const names = (await collect(paginateDescribeClassicLoadBalancers({ client: elb }, {}), (page) => page.LoadBalancerDescriptions)).map((lb) => lb.LoadBalancerName!);
  const owned: string[] = [];
  for (const batch of chunks(names, TAGS_PER_CALL)) {
    const tags = await elb.send(new DescribeClassicTagsCommand({ LoadBalancerNames: batch }));
    for (const description of tags.TagDescriptions ?? []) {
      if (isControllerOwned(description.Tags, cluster)) owned.push(description.LoadBalancerName!);
    }
  }
  return owned;
}

async function ownedV2Arns(elbv2: ElasticLoadBalancingV2Client, arns: readonly string[], cluster: string): Promise<string[]> {
  const owned: string[] = [];
  for (const batch of chunks(arns, TAGS_PER_CALL)) {
    const tags = await elbv2.send(new DescribeTagsCommand({ ResourceArns: batch }));
    for (const description of tags.TagDescriptions ?? []) {
      if (isControllerOwned(description.Tags, cluster)) owned.push(description.ResourceArn!);
    }
  }
  return owned;
}

async function ownedV2LoadBalancers(elbv2: ElasticLoadBalancingV2Client, cluster: string): Promise<string[]> {
  const loadBalancers = await collect(paginateDescribeLoadBalancers({ client: elbv2 }, {}), (page) => page.LoadBalancers);
  return ownedV2Arns(elbv2, loadBalancers.map((lb) => lb.LoadBalancerArn!), cluster);
}

async function ownedTargetGroups(elbv2: ElasticLoadBalancingV2Client, cluster: string): Promise<string[]> {
  const groups = await collect(paginateDescribeTargetGroups({ client: elbv2 }, {}), (page) => page.TargetGroups);
  return ownedV2Arns(elbv2, groups.map((group) => group.TargetGroupArn!), cluster);
}

/** Lists with `list`, deletes each with `remove`; a failed listing is itself left over. */
async function sweepKind(
  kind: string,
  list: () => Promise<readonly string[]>,
  remove: (id: string) => Promise<unknown>,
): Promise<Leftover[]> {
  let ids: readonly string[];
  try {
    ids = await list();
  } catch (error) {
    return [{ kind: `listing of ${kind}s`, id: '-', reason: describeError(error) }];
  }
  const leftovers: Leftover[] = [];
  for (const id of ids) leftovers.push(await tryDelete(kind, id, () => remove(id)));
  return leftovers;
}

// ---- security groups (cloud-controller-manager) ----

/**
 * The controller's groups: created tagged owned (v1.35.2 pkg/providers/v1/aws.go
 * ensureSecurityGroup, `k8s-elb-<lb>` for a classic ELB and NLB groups in managed mode).
 * CloudFormation's groups carry its stack tag and are never the controller's.
 */
function isControllerSecurityGroup(group: SecurityGroup, cluster: string): boolean {
  return tagValue(group.Tags, clusterTagKey(cluster)) === OWNED && tagValue(group.Tags, CLOUDFORMATION_STACK_TAG) === undefined;
}

async function ownedSecurityGroups(ec2: EC2Client, cluster: string): Promise<string[]> {
  const pages = paginateDescribeSecurityGroups({ client: ec2 }, { Filters: [{ Name: `tag:${clusterTagKey(cluster)}`, Values: [OWNED] }] });
  return (await collect(pages, (page) => page.SecurityGroups)).filter((group) => isControllerSecurityGroup(group, cluster)).map((group) => group.GroupId!);
}

// ---- EBS volumes (EBS CSI driver) ----

/** Both tags `--k8s-tag-cluster-id` makes the driver set; the cluster tag alone also marks etcd's retained volumes. */
function isDriverVolume(tags: readonly Ec2Tag[] | undefined, cluster: string): boolean {
  return tagValue(tags, clusterTagKey(cluster)) === OWNED && tagValue(tags, CSI_CLUSTER_NAME_TAG) === cluster;
}

async function driverVolumes(ec2: EC2Client, cluster: string): Promise<Volume[]> {
  const pages = paginateDescribeVolumes(
    { client: ec2 },
    {
      Filters: [
        { Name: `tag:${clusterTagKey(cluster)}`, Values: [OWNED] },
        { Name: `tag:${CSI_CLUSTER_NAME_TAG}`, Values: [cluster] },
      ],
    },
  );
  return (await collect(pages, (page) => page.Volumes)).filter((volume) => isDriverVolume(volume.Tags, cluster));
}

/** Only detached volumes are deleted; an attached one is left, and waited for. */
async function sweepVolumes(ec2: EC2Client, cluster: string): Promise<Leftover[]> {
  let volumes: Volume[];
  try {
    volumes = await driverVolumes(ec2, cluster);
  } catch (error) {
    return [{ kind: 'listing of EBS volumes', id: '-', reason: describeError(error) }];
  }
  const leftovers: Leftover[] = [];
  for (const volume of volumes) {
    const id = volume.VolumeId!;
    if (volume.State !== 'available') {
      const instances = (volume.Attachments ?? []).map((a) => a.InstanceId).join(', ');
      leftovers.push({ kind: 'EBS volume', id, reason: `${volume.State}${instances ? ` (attached to ${instances})` : ''}, not deleted` });
      continue;
    }
    leftovers.push(await tryDelete('EBS volume', id, () => ec2.send(new DeleteVolumeCommand({ VolumeId: id }))));
  }
  return leftovers;
}

// ---- Route 53 records (external-dns, TXT registry) ----

/**
 * The record types whose lowercase name prefixes a TXT registry record's name: `a-www.<domain>`
 * guards the A record `www.<domain>` (external-dns v0.22.0 registry/mapper/mapper.go
 * supportedRecords, ToTXTName, extractRecordTypeDefaultPosition; no --txt-prefix or --txt-suffix).
 */
const REGISTRY_RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'NS', 'MX', 'PTR', 'SRV', 'NAPTR', 'TXT', 'DNAME'];

/**
 * The owner in a TXT registry value `"heritage=external-dns,external-dns/owner=<id>,..."`, or
 * undefined when it is not external-dns' (v0.22.0 endpoint/labels.go NewLabelsFromStringPlain).
 */
export function registryOwner(value: string): string | undefined {
  let heritage = false;
  let owner: string | undefined;
  for (const token of value.replace(/^"+|"+$/g, '').split(',')) {
    const separator = token.indexOf('=');
    if (separator < 0) continue;
    const [key, val] = [token.slice(0, separator), token.slice(separator + 1)];
    if (key === 'heritage') {
      if (val !== 'external-dns') return undefined;
      heritage = true;
    } else if (key === 'external-dns/owner') {
      owner = val;
    }
  }
  return heritage ? owner : undefined;
}

/** The record a registry TXT name guards: its name and type ('' for the old format, any type but AAAA). */
export function guardedRecordOf(txtName: string): { name: string; type: string } {
  const name = txtName.toLowerCase();
  const first = name.split('-')[0];
  const type = REGISTRY_RECORD_TYPES.find((t) => t.toLowerCase() === first);
  return type ? { name: name.slice(first.length + 1), type } : { name, type: '' };
}

const keyOf = (name: string, type: string, setIdentifier: string | undefined) => `${name.toLowerCase()}|${type}|${setIdentifier ?? ''}`;

/** A TXT registry record, with its owner. */
interface RegistryRecord {
  readonly record: ResourceRecordSet;
  readonly owner: string;
}

function registryRecord(record: ResourceRecordSet): RegistryRecord | undefined {
  if (record.Type !== 'TXT') return undefined;
  const value = record.ResourceRecords?.[0]?.Value;
  const owner = value === undefined ? undefined : registryOwner(value);
  return owner === undefined ? undefined : { record, owner };
}

/**
 * Which registry record decides a record's owner, in external-dns' order (v0.22.0
 * registry/txt/registry.go Records): the one of its type; for an A alias, the legacy
 * `cname-` one; then, but not for AAAA, the old format at its own name.
 */
function decidingKey(record: ResourceRecordSet, registry: Map<string, RegistryRecord>): string | undefined {
  const name = record.Name!;
  const candidates = [keyOf(name, record.Type!, record.SetIdentifier)];
  if (record.Type === 'A' && record.AliasTarget) candidates.push(keyOf(name, 'CNAME', record.SetIdentifier));
  if (record.Type !== 'AAAA') candidates.push(keyOf(name, '', record.SetIdentifier));
  return candidates.find((key) => registry.has(key));
}

/** Change batches of whole units (a registry record and what it guards), within Route 53's per-request limits. */
function changeBatches(units: readonly ResourceRecordSet[][]): ResourceRecordSet[][] {
  const MAX_RECORDS = 1000;
  const MAX_VALUE_CHARS = 32000;
  const size = (r: ResourceRecordSet) => ({
    records: Math.max(1, r.ResourceRecords?.length ?? 0),
    chars: (r.ResourceRecords ?? []).reduce((sum, rr) => sum + (rr.Value?.length ?? 0), 0),
  });
  const batches: ResourceRecordSet[][] = [];
  let current: ResourceRecordSet[] = [];
  let records = 0;
  let chars = 0;
  for (const unit of units) {
    const unitSize = unit.map(size).reduce((a, b) => ({ records: a.records + b.records, chars: a.chars + b.chars }), { records: 0, chars: 0 });
    if (current.length > 0 && (records + unitSize.records > MAX_RECORDS || chars + unitSize.chars > MAX_VALUE_CHARS)) {
      batches.push(current);
      [current, records, chars] = [[], 0, 0];
    }
    current.push(...unit);
    records += unitSize.records;
    chars += unitSize.chars;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

async function listRecordSets(route53: Route53Client, zoneId: string): Promise<ResourceRecordSet[]> {
  const records: ResourceRecordSet[] = [];
  let next: { StartRecordName?: string; StartRecordType?: ResourceRecordSet['Type']; StartRecordIdentifier?: string } = {};
  for (;;) {
    const page = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, ...next }));
    records.push(...(page.ResourceRecordSets ?? []));
    if (!page.IsTruncated) return records;
    next = { StartRecordName: page.NextRecordName, StartRecordType: page.NextRecordType, StartRecordIdentifier: page.NextRecordIdentifier };
  }
}

/** The units to delete: each registry record of `owner` under `domain`, with the records it decides the owner of. */
export function ownedRecordUnits(records: readonly ResourceRecordSet[], owner: string, domain: string): ResourceRecordSet[][] {
  const suffix = `.${domain.toLowerCase()}.`;
  const inDomain = records.filter((r) => r.Name!.toLowerCase().endsWith(suffix));
  const registry = new Map<string, RegistryRecord>();
  for (const record of inDomain) {
    const entry = registryRecord(record);
    if (!entry) continue;
    const guarded = guardedRecordOf(record.Name!);
    registry.set(keyOf(guarded.name, guarded.type, record.SetIdentifier), entry);
  }
  const units = new Map<string, ResourceRecordSet[]>();
  for (const [key, entry] of registry) {
    if (entry.owner === owner) units.set(key, [entry.record]);
  }
  for (const record of inDomain) {
    if (registryRecord(record)) continue; // registry records are owned, not guarded
    const key = decidingKey(record, registry);
    if (key !== undefined) units.get(key)?.push(record);
  }
  return [...units.values()];
}

async function sweepRecords(route53: Route53Client, properties: ClusterCleanupProperties): Promise<Leftover[]> {
  let units: ResourceRecordSet[][];
  try {
    units = ownedRecordUnits(await listRecordSets(route53, properties.HostedZoneId), properties.ClusterName, properties.ClusterDomain);
  } catch (error) {
    return [{ kind: 'listing of Route 53 records', id: '-', reason: describeError(error) }];
  }
  const leftovers: Leftover[] = [];
  for (const batch of changeBatches(units)) {
    const ids = batch.map((r) => `${r.Name} ${r.Type}${r.SetIdentifier ? ` (${r.SetIdentifier})` : ''}`);
    try {
      await route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: properties.HostedZoneId,
          ChangeBatch: {
            Comment: `cluster ${properties.ClusterName} deleted: records external-dns owned`,
            Changes: batch.map((record) => ({ Action: 'DELETE', ResourceRecordSet: record })),
          },
        }),
      );
      leftovers.push(...ids.map((id) => ({ kind: 'Route 53 record', id })));
    } catch (error) {
      leftovers.push(...ids.map((id) => ({ kind: 'Route 53 record', id, reason: describeError(error) })));
    }
  }
  return leftovers;
}

// ---- the sweep and its retries ----

/**
 * One pass over everything, in the order deletions can succeed: load balancers free their
 * target groups and (once their network interfaces are gone) their security groups. What it
 * returns was found this pass: an empty pass is a clean cluster.
 */
export async function sweep(deps: ClusterCleanupDependencies, properties: ClusterCleanupProperties): Promise<Leftover[]> {
  const cluster = properties.ClusterName;
  const { elb, elbv2, ec2 } = deps;
  return [
    ...(await sweepKind('load balancer (v2)', () => ownedV2LoadBalancers(elbv2, cluster), (arn) =>
      elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: arn })))),
    ...(await sweepKind('classic load balancer', () => ownedClassicLoadBalancers(elb, cluster), (name) =>
      elb.send(new DeleteClassicLoadBalancerCommand({ LoadBalancerName: name })))),
    ...(await sweepKind('target group', () => ownedTargetGroups(elbv2, cluster), (arn) =>
      elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn })))),
    ...(await sweepKind('security group', () => ownedSecurityGroups(ec2, cluster), (id) =>
      ec2.send(new DeleteSecurityGroupCommand({ GroupId: id })))),
    ...(await sweepVolumes(ec2, cluster)),
    ...(await sweepRecords(deps.route53, properties)),
  ];
}

/** What the stack's events show when resources are left: each, with why, and what to do. */
export function leftoverMessage(cluster: string, leftovers: readonly Leftover[]): string {
  // CloudFormation refuses a custom resource response over 4,096 bytes, and the Provider
  // framework sends this message about twice (its text, then Lambda's trace, which repeats it:
  // aws-cdk-lib 2.276.0 custom-resources/lib/provider-framework/runtime framework.js).
  const MAX_CHARS = 1200;
  const lines = leftovers.map((l) => `${l.kind} ${l.id}${l.reason ? `: ${l.reason}` : ' (deletion pending)'}`);
  let text = `Cluster ${cluster}: could not delete everything Kubernetes created in AWS; left:\n${lines.join('\n')}`;
  if (text.length > MAX_CHARS) text = `${text.slice(0, MAX_CHARS)}\n... (${lines.length} in all; the function's log lists each)`;
  return `${text}\nDelete these by hand (or fix the cause), then delete the stack again.`;
}

function parseProperties(properties: Record<string, unknown>): ClusterCleanupProperties {
  const text = (key: keyof ClusterCleanupProperties): string => {
    const value = properties[key];
    if (typeof value !== 'string' || value === '') throw new Error(`resource property ${key} is missing`);
    return value;
  };
  return { ClusterName: text('ClusterName'), HostedZoneId: text('HostedZoneId'), ClusterDomain: text('ClusterDomain') };
}

/** Sweeps until a pass finds nothing; fails naming what is left when the budget is spent or an error is permanent. */
export async function cleanUp(deps: ClusterCleanupDependencies, properties: ClusterCleanupProperties): Promise<void> {
  const deadline = deps.now() + deps.budgetMs;
  for (let pass = 1; ; pass++) {
    const leftovers = await sweep(deps, properties);
    console.log(JSON.stringify({ pass, leftovers }));
    if (leftovers.length === 0) return;
    const permanent = leftovers.some((l) => l.reason && PERMANENT_ERRORS.has(l.reason.split(':')[0]));
    if (permanent || deps.now() + deps.retryDelayMs > deadline) {
      throw new Error(leftoverMessage(properties.ClusterName, leftovers));
    }
    await deps.sleep(deps.retryDelayMs);
  }
}

/**
 * The stack statuses in which this resource's Delete means the cluster goes: the stack's
 * deletion, or the rollback of its creation (CloudFormation stack status values).
 */
export const STACK_GOING_STATUSES: ReadonlySet<string> = new Set(['DELETE_IN_PROGRESS', 'ROLLBACK_IN_PROGRESS']);

/** The onEvent handler, with its clients injected (tests pass mocked ones). */
export function createOnEventHandler(deps: ClusterCleanupDependencies): (event: OnEventRequest) => Promise<OnEventResponse> {
  return async (event) => {
    const properties = parseProperties(event.ResourceProperties);
    const physicalResourceId = event.PhysicalResourceId ?? `cluster-cleanup/${properties.ClusterName}`;
    if (event.RequestType !== 'Delete') return { PhysicalResourceId: physicalResourceId };
    // Only when the stack itself goes. A Delete also comes when the resource leaves a stack that
    // stays: a rollback of the update that added it, a later release without it. Sweeping then
    // would take the load balancers, volumes and records of a running cluster.
    const status = await deps.stackStatus(event.StackId);
    if (status !== undefined && STACK_GOING_STATUSES.has(status)) await cleanUp(deps, properties);
    else console.log(JSON.stringify({ skipped: `the stack is ${status ?? 'not found'}, not being deleted: nothing cleaned up` }));
    return { PhysicalResourceId: physicalResourceId };
  };
}

/** The clients of the running function, made on its first event: the CDK app imports this module's constants at synth time. */
let lambdaHandler: ((event: OnEventRequest) => Promise<OnEventResponse>) | undefined;

/** The Lambda entry point (`index.handler` of the bundle: lib/constructs/lambda-bundle.ts). */
export const handler = (event: OnEventRequest): Promise<OnEventResponse> => {
  lambdaHandler ??= createOnEventHandler({
    elb: new ElasticLoadBalancingClient({}),
    elbv2: new ElasticLoadBalancingV2Client({}),
    ec2: new EC2Client({}),
    route53: new Route53Client({}),
    stackStatus: async (stackId) => {
      const cloudFormation = new CloudFormationClient({});
      return (await cloudFormation.send(new DescribeStacksCommand({ StackName: stackId }))).Stacks?.[0]?.StackStatus;
    },
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    // Within the function's timeout (CLUSTER_CLEANUP_TIMEOUT, 14 min), with room for a last pass.
    budgetMs: 11 * 60_000,
    retryDelayMs: 15_000,
  });
  return lambdaHandler(event);
};
