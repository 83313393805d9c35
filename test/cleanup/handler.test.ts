import {
  DeleteSecurityGroupCommand,
  DeleteVolumeCommand,
  DescribeSecurityGroupsCommand,
  DescribeVolumesCommand,
  EC2Client,
  Tag,
  VolumeState,
} from '@aws-sdk/client-ec2';
import {
  DeleteLoadBalancerCommand as DeleteClassicLoadBalancerCommand,
  DescribeLoadBalancersCommand as DescribeClassicLoadBalancersCommand,
  DescribeTagsCommand as DescribeClassicTagsCommand,
  ElasticLoadBalancingClient,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, ResourceRecordSet, Route53Client } from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { ClusterCleanupProperties } from '../../lib/cleanup/contract';
import { createOnEventHandler, leftoverMessage } from '../../lib/cleanup/handler';
import type { OnEventRequest } from '../../lib/leftovers/handler';
import { externalDnsArgs } from '../../manifests/addons/external-dns';
import { CONTEXT } from '../manifests/addons/addon-fixtures';

const CLUSTER = 'kube-aws-test-1';
const ZONE_ID = 'Z0123456789EXAMPLE';
const DOMAIN = 'kube-aws-test-1.example.org';
const PROPS: ClusterCleanupProperties = { ClusterName: CLUSTER, HostedZoneId: ZONE_ID, ClusterDomain: DOMAIN };
/** Every list call answers in pages this small, so that each fixture spans several. */
const PAGE = 2;

const tags = (entries: Record<string, string>): Tag[] => Object.entries(entries).map(([Key, Value]) => ({ Key, Value }));
const OURS = { 'kubernetes.io/cluster/kube-aws-test-1': 'owned' };
const SERVICE = { 'kubernetes.io/service-name': 'default/web' };
const CSI = { 'ebs.csi.aws.com/cluster-name': CLUSTER };

/** Someone else's: another cluster whose name has ours as a prefix, a shared resource, an untagged one. */
const FOREIGN_TAGS: Record<string, Record<string, string>> = {
  'other-cluster': { 'kubernetes.io/cluster/kube-aws-test-10': 'owned', ...SERVICE },
  shared: { 'kubernetes.io/cluster/kube-aws-test-1': 'shared', ...SERVICE },
  untagged: {},
};

interface FakeVolume {
  id: string;
  tags: Tag[];
  state: VolumeState;
  attachedTo?: string;
  /** Detached (available) after this many DescribeVolumes calls have seen it attached. */
  detachesAfter?: number;
}

interface FakeGroup {
  id: string;
  tags: Tag[];
  /** How many more DeleteSecurityGroup calls fail with DependencyViolation (ELB interfaces still there). */
  busyFor?: number;
}

/** The account at the SDK boundary: what exists, answered in pages, and deleted by the calls. */
class FakeAccount {
  classic: { name: string; tags: Tag[] }[] = [];
  v2: { arn: string; tags: Tag[] }[] = [];
  targetGroups: { arn: string; tags: Tag[]; loadBalancerArn?: string }[] = [];
  securityGroups: FakeGroup[] = [];
  volumes: FakeVolume[] = [];
  records: ResourceRecordSet[] = [];
  /** Each ChangeResourceRecordSets batch, as sent. */
  batches: ResourceRecordSet[][] = [];
  deniedVolumeDeletes = false;
  sleeps = 0;

  readonly elb = mockClient(ElasticLoadBalancingClient);
  readonly elbv2 = mockClient(ElasticLoadBalancingV2Client);
  readonly ec2 = mockClient(EC2Client);
  readonly route53 = mockClient(Route53Client);

  constructor() {
    this.mockElb();
    this.mockElbv2();
    this.mockEc2();
    this.mockRoute53();
  }

  /** The status DescribeStacks gives the stack of the resource. */
  stackStatus = 'DELETE_IN_PROGRESS';

  handler(budgetMs = 60_000) {
    let clock = 0;
    return createOnEventHandler({
      stackStatus: async (stackId) => (stackId === STACK_ID ? this.stackStatus : undefined),
      elb: new ElasticLoadBalancingClient({ region: 'eu-central-1' }),
      elbv2: new ElasticLoadBalancingV2Client({ region: 'eu-central-1' }),
      ec2: new EC2Client({ region: 'eu-central-1' }),
      route53: new Route53Client({ region: 'us-east-1' }),
      now: () => clock,
      sleep: async (ms) => {
        // A handler that never gives up would spin here for ever (the fake clock never lets jest's timeout fire).
        if (++this.sleeps > 1000) throw new Error('the handler kept retrying past any deadline');
        clock += ms;
      },
      budgetMs,
      retryDelayMs: 10_000,
    });
  }

  /** The ids of every delete call the handler made. */
  deleted(): string[] {
    return [
      ...this.elb.commandCalls(DeleteClassicLoadBalancerCommand).map((c) => c.args[0].input.LoadBalancerName!),
      ...this.elbv2.commandCalls(DeleteLoadBalancerCommand).map((c) => c.args[0].input.LoadBalancerArn!),
      ...this.elbv2.commandCalls(DeleteTargetGroupCommand).map((c) => c.args[0].input.TargetGroupArn!),
      ...this.ec2.commandCalls(DeleteSecurityGroupCommand).map((c) => c.args[0].input.GroupId!),
      ...this.ec2.commandCalls(DeleteVolumeCommand).map((c) => c.args[0].input.VolumeId!),
      ...this.batches.flat().map((r) => `${r.Name} ${r.Type}`),
    ];
  }

  restore() {
    for (const mock of [this.elb, this.elbv2, this.ec2, this.route53]) mock.restore();
  }

  private page<T>(items: readonly T[], marker: string | undefined): { items: T[]; next?: string } {
    const start = Number(marker ?? 0);
    const next = start + PAGE < items.length ? String(start + PAGE) : undefined;
    return { items: items.slice(start, start + PAGE), next };
  }

  private mockElb() {
    this.elb.on(DescribeClassicLoadBalancersCommand).callsFake(({ Marker }) => {
      const { items, next } = this.page(this.classic, Marker);
      return { LoadBalancerDescriptions: items.map((lb) => ({ LoadBalancerName: lb.name })), NextMarker: next };
    });
    this.elb.on(DescribeClassicTagsCommand).callsFake(({ LoadBalancerNames }) => {
      if (LoadBalancerNames.length > 20) throw Object.assign(new Error('at most 20 names'), { name: 'ValidationError' });
      return { TagDescriptions: this.classic.filter((lb) => LoadBalancerNames.includes(lb.name)).map((lb) => ({ LoadBalancerName: lb.name, Tags: lb.tags })) };
    });
    this.elb.on(DeleteClassicLoadBalancerCommand).callsFake(({ LoadBalancerName }) => {
      this.classic = this.classic.filter((lb) => lb.name !== LoadBalancerName); // succeeds for a missing one too, as ELB does
      return {};
    });
  }

  private mockElbv2() {
    this.elbv2.on(DescribeLoadBalancersCommand).callsFake(({ Marker }) => {
      const { items, next } = this.page(this.v2, Marker);
      return { LoadBalancers: items.map((lb) => ({ LoadBalancerArn: lb.arn })), NextMarker: next };
    });
    this.elbv2.on(DescribeTargetGroupsCommand).callsFake(({ Marker }) => {
      const { items, next } = this.page(this.targetGroups, Marker);
      return { TargetGroups: items.map((tg) => ({ TargetGroupArn: tg.arn })), NextMarker: next };
    });
    this.elbv2.on(DescribeTagsCommand).callsFake(({ ResourceArns }) => {
      if (ResourceArns.length > 20) throw Object.assign(new Error('at most 20 ARNs'), { name: 'ValidationError' });
      const all = [...this.v2, ...this.targetGroups];
      return { TagDescriptions: all.filter((r) => ResourceArns.includes(r.arn)).map((r) => ({ ResourceArn: r.arn, Tags: r.tags })) };
    });
    this.elbv2.on(DeleteLoadBalancerCommand).callsFake(({ LoadBalancerArn }) => {
      this.v2 = this.v2.filter((lb) => lb.arn !== LoadBalancerArn);
      return {};
    });
    this.elbv2.on(DeleteTargetGroupCommand).callsFake(({ TargetGroupArn }) => {
      const group = this.targetGroups.find((tg) => tg.arn === TargetGroupArn);
      if (group?.loadBalancerArn && this.v2.some((lb) => lb.arn === group.loadBalancerArn)) {
        throw Object.assign(new Error(`Target group '${TargetGroupArn}' is currently in use by a listener or a rule`), { name: 'ResourceInUseException' });
      }
      this.targetGroups = this.targetGroups.filter((tg) => tg.arn !== TargetGroupArn);
      return {};
    });
  }

  private mockEc2() {
    // Filters are the server's business; the handler checks the tags itself, so the fake ignores them.
    this.ec2.on(DescribeSecurityGroupsCommand).callsFake(({ NextToken }) => {
      const { items, next } = this.page(this.securityGroups, NextToken);
      return { SecurityGroups: items.map((g) => ({ GroupId: g.id, Tags: g.tags })), NextToken: next };
    });
    this.ec2.on(DeleteSecurityGroupCommand).callsFake(({ GroupId }) => {
      const group = this.securityGroups.find((g) => g.id === GroupId);
      if (!group) throw Object.assign(new Error(`The security group '${GroupId}' does not exist`), { name: 'InvalidGroup.NotFound' });
      if ((group.busyFor ?? 0) > 0) {
        group.busyFor!--;
        throw Object.assign(new Error(`resource ${GroupId} has a dependent object`), { name: 'DependencyViolation' });
      }
      this.securityGroups = this.securityGroups.filter((g) => g !== group);
      return {};
    });
    this.ec2.on(DescribeVolumesCommand).callsFake(({ NextToken }) => {
      const { items, next } = this.page(this.volumes, NextToken);
      return {
        Volumes: items.map((v) => ({ VolumeId: v.id, Tags: v.tags, State: v.state, Attachments: v.attachedTo ? [{ InstanceId: v.attachedTo, State: 'attached' as const }] : [] })),
        NextToken: next,
        ...this.detach(items),
      };
    });
    this.ec2.on(DeleteVolumeCommand).callsFake(({ VolumeId }) => {
      if (this.deniedVolumeDeletes) throw Object.assign(new Error('You are not authorized to perform this operation.'), { name: 'UnauthorizedOperation' });
      const volume = this.volumes.find((v) => v.id === VolumeId);
      if (volume?.state === 'in-use') throw Object.assign(new Error(`Volume ${VolumeId} is currently attached`), { name: 'VolumeInUse' });
      this.volumes = this.volumes.filter((v) => v.id !== VolumeId);
      return {};
    });
  }

  /** After answering: volumes due to detach do (a terminated instance lets go of its volumes). */
  private detach(seen: FakeVolume[]): object {
    for (const volume of seen) {
      if (volume.detachesAfter !== undefined && --volume.detachesAfter === 0) [volume.state, volume.attachedTo] = ['available', undefined];
    }
    return {};
  }

  private mockRoute53() {
    const sameSet = (a: ResourceRecordSet, b: ResourceRecordSet) => a.Name === b.Name && a.Type === b.Type && a.SetIdentifier === b.SetIdentifier;
    // Route 53 pages by the next record's name, type and set identifier.
    this.route53.on(ListResourceRecordSetsCommand).callsFake(({ HostedZoneId, StartRecordName, StartRecordType, StartRecordIdentifier }) => {
      if (HostedZoneId !== ZONE_ID) throw Object.assign(new Error('No hosted zone found'), { name: 'NoSuchHostedZone' });
      const start = StartRecordName
        ? this.records.findIndex((r) => sameSet(r, { Name: StartRecordName, Type: StartRecordType, SetIdentifier: StartRecordIdentifier }))
        : 0;
      const items = this.records.slice(start, start + PAGE);
      const next = this.records[start + PAGE];
      return {
        ResourceRecordSets: items.map((r) => structuredClone(r)),
        IsTruncated: next !== undefined,
        NextRecordName: next?.Name,
        NextRecordType: next?.Type,
        NextRecordIdentifier: next?.SetIdentifier,
        MaxItems: PAGE,
      };
    });
    // All or nothing, and only for a record set exactly as it is, as Route 53 does.
    this.route53.on(ChangeResourceRecordSetsCommand).callsFake(({ HostedZoneId, ChangeBatch }) => {
      if (HostedZoneId !== ZONE_ID) throw Object.assign(new Error('No hosted zone found'), { name: 'NoSuchHostedZone' });
      const sets = ChangeBatch.Changes.map((c: { Action: string; ResourceRecordSet: ResourceRecordSet }) => {
        const found = this.records.find((r) => c.Action === 'DELETE' && JSON.stringify(r) === JSON.stringify(c.ResourceRecordSet));
        if (!found) throw Object.assign(new Error(`Tried to delete resource record set ${c.ResourceRecordSet.Name} but it was not found`), { name: 'InvalidChangeBatch' });
        return found;
      });
      this.batches.push(sets);
      this.records = this.records.filter((r) => !sets.includes(r));
      return { ChangeInfo: { Id: 'C1', Status: 'PENDING', SubmittedAt: new Date() } };
    });
  }
}

const STACK_ID = 'arn:aws:cloudformation:eu-central-1:123456789012:stack/kube-aws-test-1-master/0a1b2c3d';
const DELETE: OnEventRequest = { RequestType: 'Delete', StackId: STACK_ID, PhysicalResourceId: `cluster-cleanup/${CLUSTER}`, ResourceProperties: { ...PROPS } };

const elbArn = (name: string) => `arn:aws:elasticloadbalancing:eu-central-1:123456789012:loadbalancer/net/${name}/0123456789abcdef`;
const tgArn = (name: string) => `arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/${name}/0123456789abcdef`;
const txt = (value: string) => [{ Value: `"${value}"` }];
const ownerTxt = (owner: string, resource = 'service/default/web') => txt(`heritage=external-dns,external-dns/owner=${owner},external-dns/resource=${resource}`);
const ALIAS = { HostedZoneId: 'Z215JYRZR1TBD5', DNSName: 'web-123.elb.eu-central-1.amazonaws.com.', EvaluateTargetHealth: true };

/** A cluster's worth of what controllers made, ours and others', each kind spanning pages. */
function populate(account: FakeAccount): void {
  const foreign = Object.entries(FOREIGN_TAGS);
  // 25 of ours among the classic ones: more than one DescribeTags call of 20.
  for (let i = 0; i < 25; i++) account.classic.push({ name: `a${i}ours`, tags: tags({ ...OURS, ...SERVICE }) });
  for (const [kind, t] of foreign) account.classic.push({ name: `foreign-${kind}`, tags: tags(t) });
  // Owned but no Service's: the cluster tag alone is not the controller's mark.
  account.classic.push({ name: 'not-a-service', tags: tags(OURS) });

  for (let i = 0; i < 3; i++) {
    account.v2.push({ arn: elbArn(`ours${i}`), tags: tags({ ...OURS, ...SERVICE }) });
    account.targetGroups.push({ arn: tgArn(`ours${i}`), tags: tags({ ...OURS, ...SERVICE }), loadBalancerArn: elbArn(`ours${i}`) });
  }
  account.targetGroups.push({ arn: tgArn('orphan'), tags: tags({ ...OURS, ...SERVICE }) });
  for (const [kind, t] of foreign) {
    account.v2.push({ arn: elbArn(`foreign-${kind}`), tags: tags(t) });
    account.targetGroups.push({ arn: tgArn(`foreign-${kind}`), tags: tags(t) });
  }

  account.securityGroups.push(
    { id: 'sg-ours1', tags: tags({ ...OURS, 'kubernetes.io/service-name': 'default/web' }), busyFor: 2 },
    { id: 'sg-ours2', tags: tags(OURS) },
    { id: 'sg-ours3', tags: tags(OURS) },
    // A stack's group with the cluster tag is CloudFormation's to delete.
    { id: 'sg-stack', tags: tags({ ...OURS, 'aws:cloudformation:stack-id': 'arn:aws:cloudformation:eu-central-1:123456789012:stack/x/1' }) },
    ...foreign.map(([kind, t]) => ({ id: `sg-foreign-${kind}`, tags: tags(t) })),
  );

  account.volumes.push(
    { id: 'vol-ours1', tags: tags({ ...OURS, ...CSI }), state: 'available' },
    { id: 'vol-ours2', tags: tags({ ...OURS, ...CSI }), state: 'available' },
    { id: 'vol-ours3', tags: tags({ ...OURS, ...CSI }), state: 'available' },
    // etcd's retained data volume: the cluster tag, not the driver's.
    { id: 'vol-etcd', tags: tags({ ...OURS, 'kubernetes-on-aws:etcd-member': '0' }), state: 'available' },
    { id: 'vol-other-cluster', tags: tags({ 'kubernetes.io/cluster/kube-aws-test-10': 'owned', 'ebs.csi.aws.com/cluster-name': 'kube-aws-test-10' }), state: 'available' },
    { id: 'vol-shared', tags: tags({ 'kubernetes.io/cluster/kube-aws-test-1': 'shared', ...CSI }), state: 'available' },
    { id: 'vol-untagged', tags: [], state: 'available' },
  );

  account.records.push(
    { Name: 'example.org.', Type: 'NS', TTL: 172800, ResourceRecords: [{ Value: 'ns-1.awsdns-01.org.' }] },
    // The API name CloudFormation owns: no TXT.
    { Name: `${DOMAIN}.`, Type: 'A', AliasTarget: ALIAS },
    // Ours, new format: the alias and its `a-` TXT; an AAAA alias and its `aaaa-` TXT.
    { Name: `web.${DOMAIN}.`, Type: 'A', AliasTarget: ALIAS },
    { Name: `web.${DOMAIN}.`, Type: 'AAAA', AliasTarget: ALIAS },
    { Name: `a-web.${DOMAIN}.`, Type: 'TXT', TTL: 300, ResourceRecords: ownerTxt(CLUSTER) },
    { Name: `aaaa-web.${DOMAIN}.`, Type: 'TXT', TTL: 300, ResourceRecords: ownerTxt(CLUSTER) },
    // Ours, an alias with only the legacy `cname-` TXT.
    { Name: `legacy.${DOMAIN}.`, Type: 'A', AliasTarget: ALIAS },
    { Name: `cname-legacy.${DOMAIN}.`, Type: 'TXT', TTL: 300, ResourceRecords: ownerTxt(CLUSTER) },
    // Ours, old format: the TXT at the record's own name.
    { Name: `old-style.${DOMAIN}.`, Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: 'web-123.elb.eu-central-1.amazonaws.com' }] },
    { Name: `old-style.${DOMAIN}.`, Type: 'TXT', TTL: 300, ResourceRecords: ownerTxt(CLUSTER) },
    // Weighted: set identifiers on both.
    { Name: `weighted.${DOMAIN}.`, Type: 'CNAME', SetIdentifier: 'blue', Weight: 1, TTL: 60, ResourceRecords: [{ Value: 'blue.example.org' }] },
    { Name: `cname-weighted.${DOMAIN}.`, Type: 'TXT', SetIdentifier: 'blue', Weight: 1, TTL: 60, ResourceRecords: ownerTxt(CLUSTER) },
    // Another owner's in our domain (a cluster re-created under another name took it over).
    { Name: `taken.${DOMAIN}.`, Type: 'A', AliasTarget: ALIAS },
    { Name: `a-taken.${DOMAIN}.`, Type: 'TXT', TTL: 300, ResourceRecords: ownerTxt('kube-aws-test-2') },
    // Ours by an old-format TXT, but the new-format one names another owner: that one decides.
    { Name: `moved.${DOMAIN}.`, Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: 'x.example.org' }] },
    { Name: `cname-moved.${DOMAIN}.`, Type: 'TXT', TTL: 300, ResourceRecords: ownerTxt('kube-aws-test-2') },
    { Name: `moved.${DOMAIN}.`, Type: 'TXT', TTL: 300, ResourceRecords: ownerTxt(CLUSTER) },
    // A person's records: no TXT; a TXT that only looks like a registry one; another heritage.
    { Name: `manual.${DOMAIN}.`, Type: 'A', TTL: 300, ResourceRecords: [{ Value: '192.0.2.1' }] },
    { Name: `a-lookalike.${DOMAIN}.`, Type: 'TXT', TTL: 300, ResourceRecords: txt(`external-dns/owner=${CLUSTER}`) },
    { Name: `lookalike.${DOMAIN}.`, Type: 'A', TTL: 300, ResourceRecords: [{ Value: '192.0.2.2' }] },
    { Name: `a-heritage.${DOMAIN}.`, Type: 'TXT', TTL: 300, ResourceRecords: txt(`heritage=someone-else,external-dns/owner=${CLUSTER}`) },
    { Name: `heritage.${DOMAIN}.`, Type: 'A', TTL: 300, ResourceRecords: [{ Value: '192.0.2.3' }] },
    // Our owner id outside the cluster's domain: not external-dns' doing (--domain-filter), not ours to delete.
    { Name: 'web.team.example.org.', Type: 'A', AliasTarget: ALIAS },
    { Name: 'a-web.team.example.org.', Type: 'TXT', TTL: 300, ResourceRecords: ownerTxt(CLUSTER) },
  );
}

const OUR_RECORDS = [
  `web.${DOMAIN}. A`,
  `web.${DOMAIN}. AAAA`,
  `a-web.${DOMAIN}. TXT`,
  `aaaa-web.${DOMAIN}. TXT`,
  `legacy.${DOMAIN}. A`,
  `cname-legacy.${DOMAIN}. TXT`,
  `old-style.${DOMAIN}. CNAME`,
  `old-style.${DOMAIN}. TXT`,
  `weighted.${DOMAIN}. CNAME`,
  `cname-weighted.${DOMAIN}. TXT`,
  `moved.${DOMAIN}. TXT`,
];

describe('ClusterCleanup handler', () => {
  let account: FakeAccount;
  beforeEach(() => {
    account = new FakeAccount();
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => {
    account.restore();
    jest.restoreAllMocks();
  });

  test('deletes every page of what the controllers made for this cluster, and nothing else', async () => {
    populate(account);
    await expect(account.handler()(DELETE)).resolves.toEqual({ PhysicalResourceId: `cluster-cleanup/${CLUSTER}` });

    expect(account.classic.map((lb) => lb.name).sort()).toEqual(['foreign-other-cluster', 'foreign-shared', 'foreign-untagged', 'not-a-service']);
    expect(account.v2.map((lb) => lb.arn)).toEqual(['other-cluster', 'shared', 'untagged'].map((k) => elbArn(`foreign-${k}`)));
    expect(account.targetGroups.map((tg) => tg.arn)).toEqual(['other-cluster', 'shared', 'untagged'].map((k) => tgArn(`foreign-${k}`)));
    expect(account.securityGroups.map((g) => g.id)).toEqual(['sg-stack', 'sg-foreign-other-cluster', 'sg-foreign-shared', 'sg-foreign-untagged']);
    expect(account.volumes.map((v) => v.id)).toEqual(['vol-etcd', 'vol-other-cluster', 'vol-shared', 'vol-untagged']);
    const left = account.records.map((r) => `${r.Name} ${r.Type}`);
    for (const record of OUR_RECORDS) expect(left).not.toContain(record);
    expect(left).toHaveLength(24 - OUR_RECORDS.length);

    // Never even tried: the delete calls name only what was ours.
    const foreign = /foreign|not-a-service|sg-stack|vol-etcd|vol-other|vol-shared|vol-untagged|taken|lookalike|heritage|manual|team\.example|^moved\..* CNAME|^kube-aws-test-1\.example\.org\. A/;
    expect(account.deleted().filter((id) => foreign.test(id))).toEqual([]);
    // Every list call was followed to its last page.
    expect(account.elb.commandCalls(DescribeClassicLoadBalancersCommand).some((c) => c.args[0].input.Marker !== undefined)).toBe(true);
    expect(account.ec2.commandCalls(DescribeVolumesCommand).some((c) => c.args[0].input.NextToken !== undefined)).toBe(true);
    expect(account.route53.commandCalls(ListResourceRecordSetsCommand).some((c) => c.args[0].input.StartRecordName !== undefined)).toBe(true);
  });

  test('deletes an external-dns record and its TXT records in one change batch, of deletions only', async () => {
    populate(account);
    await account.handler()(DELETE);
    expect(account.batches).toHaveLength(1);
    expect(account.batches[0].map((r) => `${r.Name} ${r.Type}`).sort()).toEqual([...OUR_RECORDS].sort());
    for (const call of account.route53.commandCalls(ChangeResourceRecordSetsCommand)) {
      expect(call.args[0].input.ChangeBatch!.Changes!.every((c) => c.Action === 'DELETE')).toBe(true);
      expect(call.args[0].input.HostedZoneId).toBe(ZONE_ID);
    }
  });

  test("retries until deletions settle: a security group once the ELB's network interfaces are gone", async () => {
    populate(account);
    await account.handler()(DELETE);
    const groupDeletes = account.ec2.commandCalls(DeleteSecurityGroupCommand).filter((c) => c.args[0].input.GroupId === 'sg-ours1');
    expect(groupDeletes).toHaveLength(3); // two DependencyViolations, then deleted
    expect(account.sleeps).toBeGreaterThanOrEqual(2);
  });

  test('never deletes an attached volume; one that is detached meanwhile goes', async () => {
    account.volumes.push(
      { id: 'vol-attached', tags: tags({ ...OURS, ...CSI }), state: 'in-use', attachedTo: 'i-0abc' },
      { id: 'vol-detaching', tags: tags({ ...OURS, ...CSI }), state: 'in-use', attachedTo: 'i-0def', detachesAfter: 2 },
    );

    const failure = account.handler(60_000)(DELETE);
    await expect(failure).rejects.toThrow(/EBS volume vol-attached: in-use \(attached to i-0abc\), not deleted/);
    const deletes = account.ec2.commandCalls(DeleteVolumeCommand).map((c) => c.args[0].input.VolumeId);
    expect(deletes).not.toContain('vol-attached');
    expect(deletes).toContain('vol-detaching');
    expect(account.volumes.map((v) => v.id)).toEqual(['vol-attached']);
  });

  test('a second Delete, with nothing left, succeeds at once and deletes nothing', async () => {
    populate(account);
    await account.handler()(DELETE);
    const callsBefore = account.deleted().length;
    const sleepsBefore = account.sleeps;
    await expect(account.handler()(DELETE)).resolves.toEqual({ PhysicalResourceId: `cluster-cleanup/${CLUSTER}` });
    expect(account.deleted().length).toBe(callsBefore);
    expect(account.sleeps).toBe(sleepsBefore);
  });

  test('fails within its budget, naming what is left and why', async () => {
    account.securityGroups.push({ id: 'sg-stuck', tags: tags(OURS), busyFor: Number.POSITIVE_INFINITY });
    account.volumes.push({ id: 'vol-ok', tags: tags({ ...OURS, ...CSI }), state: 'available' });
    await expect(account.handler(60_000)(DELETE)).rejects.toThrow(
      /Cluster kube-aws-test-1: could not delete everything.*\nsecurity group sg-stuck: DependencyViolation: resource sg-stuck has a dependent object\nDelete these by hand/,
    );
    // 60 s of budget, 10 s between sweeps: a bounded number of attempts, and the rest was deleted.
    expect(account.ec2.commandCalls(DeleteSecurityGroupCommand).length).toBeLessThanOrEqual(7);
    expect(account.volumes).toEqual([]);
  });

  test('stops at once on a permission error rather than wait out the budget', async () => {
    account.volumes.push({ id: 'vol-ours', tags: tags({ ...OURS, ...CSI }), state: 'available' });
    account.deniedVolumeDeletes = true;
    await expect(account.handler(60_000)(DELETE)).rejects.toThrow(/EBS volume vol-ours: UnauthorizedOperation: You are not authorized/);
    expect(account.sleeps).toBe(0);
  });

  test('a failing list call is retried, and named if it keeps failing', async () => {
    account.route53.on(ListResourceRecordSetsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    await expect(account.handler(30_000)(DELETE)).rejects.toThrow(/listing of Route 53 records -: Throttling: Rate exceeded/);
    expect(account.route53.commandCalls(ListResourceRecordSetsCommand).length).toBeGreaterThan(1);
  });

  // A Delete of the resource in a stack that stays: the rollback of the update that added it,
  // the cleanup phase of a release without it. Sweeping would take a live cluster's resources.
  test.each(['UPDATE_ROLLBACK_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_IN_PROGRESS'])(
    'a Delete while the stack is %s touches nothing',
    async (status) => {
      populate(account);
      account.stackStatus = status;
      await expect(account.handler()(DELETE)).resolves.toEqual({ PhysicalResourceId: `cluster-cleanup/${CLUSTER}` });
      for (const mock of [account.elb, account.elbv2, account.ec2, account.route53]) expect(mock.calls()).toHaveLength(0);
    },
  );

  test('the rollback of a failed create cleans up as a deletion does', async () => {
    populate(account);
    account.stackStatus = 'ROLLBACK_IN_PROGRESS';
    await account.handler()(DELETE);
    expect(account.ec2.calls().length).toBeGreaterThan(0);
  });

  test.each(['Create', 'Update'] as const)('%s touches nothing', async (RequestType) => {
    populate(account);
    const { PhysicalResourceId: _, ...create } = DELETE;
    const event = RequestType === 'Create' ? { ...create, RequestType } : { ...DELETE, RequestType };
    await expect(account.handler()(event)).resolves.toEqual({ PhysicalResourceId: `cluster-cleanup/${CLUSTER}` });
    for (const mock of [account.elb, account.elbv2, account.ec2, account.route53]) expect(mock.calls()).toHaveLength(0);
  });

  test('the failure the stack events show fits CloudFormation\'s 4,096-byte response with the framework\'s repetition', async () => {
    // Many leftovers: a message, then the Provider framework's reason (message + Lambda's trace, which repeats it).
    const leftovers = Array.from({ length: 200 }, (_, i) => ({ kind: 'security group', id: `sg-${String(i).padStart(17, '0')}`, reason: 'DependencyViolation: resource has a dependent object' }));
    const message = leftoverMessage(CLUSTER, leftovers);
    expect(message).toMatch(/\(200 in all; the function's log lists each\)/);
    const trace = ['Error: ' + message.split('\n')[0], ...message.split('\n').slice(1), '    at cleanUp (/var/task/index.js:1:1)'];
    const reason = `${message}\n\nLogs: /aws/lambda/x\n\n${trace.slice(1).join('\n')}`;
    expect(Buffer.byteLength(JSON.stringify({ Status: 'FAILED', Reason: reason, PhysicalResourceId: `cluster-cleanup/${CLUSTER}`, StackId: STACK_ID, RequestId: 'r', LogicalResourceId: 'ClusterCleanup' }))).toBeLessThan(4096);
  });

  test("external-dns writes its TXT records as the cleanup reads them: no prefix, suffix, wildcard replacement or encryption", () => {
    // With any of these, the cleanup would find the TXT records and miss the records they guard.
    const args = externalDnsArgs(CONTEXT);
    expect(args).toContain(`--txt-owner-id=${CONTEXT.clusterName}`);
    expect(args.filter((arg) => /^--txt-(prefix|suffix|wildcard-replacement|encrypt)/.test(arg))).toEqual([]);
  });
});
