import {
  RequestContext,
  RoleStatement,
  Statement,
  actionsOf,
  allows,
  conditionHolds,
  grantsAction,
  resourcesOf,
  roleStatements,
} from '../iam-policy';
import { SynthesizedCluster, resourcesOfType, synthesizeCluster } from '../util';

const STACKS = ['etcd', 'master', 'worker'] as const;
const CLUSTER_TAG = 'kubernetes.io/cluster/kube-aws-test-1';
/** Another cluster's tag, in the same account: what a compromised master must not hand anything to. */
const OTHER_CLUSTER_TAG = 'kubernetes.io/cluster/other';

/** Verbs that write tags, in any AWS service (ec2:CreateTags, elasticloadbalancing:AddTags, kms:TagResource...). */
const TAG_WRITE_VERBS = ['CreateTags', 'DeleteTags', 'AddTags', 'RemoveTags', 'TagResource', 'UntagResource'];

/** Whether a statement can write tags: an action naming a tag write, or a pattern that covers one. */
function writesTags(statement: Statement): boolean {
  return actionsOf(statement).some((action) => {
    const [service, name] = action.split(':');
    if (name.includes('*')) return TAG_WRITE_VERBS.some((verb) => grantsAction(statement, `${service}:${verb}`));
    return /Tag/.test(name) && !/^(Describe|List|Get)/.test(name);
  });
}

/** A request that tags an existing resource with `keys`, meeting every StringEquals the statement asks for (such as its ownership tag). */
function retagRequest(statement: Statement, keys: string[]): RequestContext {
  const asked = Object.entries(statement.Condition?.StringEquals ?? {}).map(([key, value]) => [key, [value].flat()[0]]);
  return { ...Object.fromEntries(asked), 'aws:TagKeys': keys, ...Object.fromEntries(keys.map((key) => [`aws:RequestTag/${key}`, 'owned'])) };
}

/**
 * Whether a statement refuses every `kubernetes.io/cluster/*` key (another cluster's, this
 * one's, alone or beside others) and a request naming no key, while it still allows a tag
 * the controller writes: the refusal is the tag keys', not a condition the test can't meet.
 */
function refusesClusterTagKeys(statement: Statement): boolean {
  const holds = (keys: string[]) => conditionHolds(statement.Condition, retagRequest(statement, keys));
  const refused = [[OTHER_CLUSTER_TAG], [CLUSTER_TAG], ['kubernetes.io/service-name', OTHER_CLUSTER_TAG], []];
  // Some tag must still be allowed (else the statement is useless, and this check vacuous):
  // the cloud controller's service-name tag, or (EBS CSI) a user's own.
  return (holds(['kubernetes.io/service-name']) || holds(['team'])) && !refused.some(holds);
}

/**
 * Tagging may happen in the request that creates the resource (a create-action condition),
 * or on what the cluster owns already, and then never with a `kubernetes.io/cluster/*` key.
 * Otherwise the role tags any resource of the account as the cluster's own, and every
 * "owned only" statement then covers it; or it tags its own resources as another cluster's,
 * whose controller and IAM (conditioned on that tag) then manage or delete them.
 */
function tagsOnlyOnCreateOrOwned(statement: Statement): boolean {
  const equals = statement.Condition?.StringEquals ?? {};
  const onCreate = ['ec2:CreateAction', 'elasticloadbalancing:CreateAction'].some((key) => equals[key] !== undefined);
  const owned = equals[`aws:ResourceTag/${CLUSTER_TAG}`] === 'owned';
  return onCreate || (owned && refusesClusterTagKeys(statement));
}

/** The KMS calls that use a key's material, or hand its use to someone else. */
const KMS_USAGE = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:CreateGrant'];

describe("the cluster's node permissions, across all three stacks", () => {
  let cluster: SynthesizedCluster;
  beforeAll(() => {
    cluster = synthesizeCluster();
  });
  const allRoleStatements = (): (RoleStatement & { stack: string })[] =>
    STACKS.flatMap((stack) => roleStatements(cluster.templates[stack]).map((s) => ({ ...s, stack })));

  test('every launch template of every stack requires IMDSv2 and returns its token one hop only (no pod reaches it)', () => {
    const templates = STACKS.flatMap((stack) =>
      Object.entries(resourcesOfType(cluster.templates[stack], 'AWS::EC2::LaunchTemplate')).map(([id, lt]) => ({ stack, id, lt })),
    );
    // 3 etcd members (a template each), the masters, the workers.
    expect(templates.map((t) => t.stack)).toEqual(['etcd', 'etcd', 'etcd', 'master', 'worker']);
    for (const { stack, id, lt } of templates) {
      expect({ stack, id, metadata: lt.Properties.LaunchTemplateData.MetadataOptions }).toEqual({
        stack,
        id,
        metadata: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
      });
    }
    // Nothing launches an instance any other way (its own metadata options).
    for (const stack of STACKS) {
      for (const type of ['AWS::EC2::Instance', 'AWS::AutoScaling::LaunchConfiguration', 'AWS::EC2::SpotFleet', 'AWS::EC2::EC2Fleet']) {
        expect({ stack, type, count: Object.keys(resourcesOfType(cluster.templates[stack], type)).length }).toEqual({ stack, type, count: 0 });
      }
      for (const group of Object.values(resourcesOfType(cluster.templates[stack], 'AWS::AutoScaling::AutoScalingGroup'))) {
        expect(group.Properties.LaunchTemplate.LaunchTemplateId.Ref).toMatch(/LaunchTemplate/);
      }
    }
  });

  test("no role tags anything in bulk, nor hands what it owns to another cluster: tags on creation, or on the cluster's own without kubernetes.io/cluster/* keys", () => {
    const tagging = allRoleStatements().filter(({ statement }) => statement.Effect === 'Allow' && writesTags(statement));
    // The masters' cloud controller tags what it creates: the check below is not vacuous.
    expect(tagging.map((t) => t.stack)).toContain('master');
    const wildcard = tagging.filter(({ statement }) => resourcesOf(statement).some((r) => typeof r === 'string' && r.includes('*')));
    const unscoped = wildcard.filter(({ statement }) => !tagsOnlyOnCreateOrOwned(statement));
    expect(unscoped.map(({ stack, role, statement }) => ({ stack, role, sid: statement.Sid, actions: statement.Action }))).toEqual([]);
  });

  test('only the etcd members attach network interfaces and their own volumes; the EBS CSI driver (its own role) only the volumes it made, to masters and workers', () => {
    const attaching = allRoleStatements().filter(({ statement }) =>
      ['ec2:AttachVolume', 'ec2:AttachNetworkInterface', 'ec2:DetachVolume', 'ec2:DetachNetworkInterface'].some((a) => grantsAction(statement, a)),
    );
    const etcd = attaching.filter(({ stack }) => stack === 'etcd');
    expect(etcd.length).toBeGreaterThan(0);
    for (const { role, statement } of etcd) {
      expect(role).toMatch(/^MembersMember\d+Role/);
      expect(actionsOf(statement).sort()).toEqual(['ec2:AttachNetworkInterface', 'ec2:AttachVolume']);
      // The instance half must be an etcd instance: the role tag, not only the cluster's.
      expect(statement.Condition?.StringEquals).toMatchObject({ 'aws:ResourceTag/kubernetes-on-aws:role': 'etcd', [`aws:ResourceTag/${CLUSTER_TAG}`]: 'owned' });
    }
    const others = attaching.filter(({ stack }) => stack !== 'etcd');
    // The driver's own role (IAM roles for service accounts), never the masters' instance role.
    expect(others.map(({ stack, role }) => `${stack}/${role.replace(/[0-9A-F]{8}$/, '')}`)).toEqual(['master/ServiceAccountIssuerAddonRoleawsebscsidriver', 'master/ServiceAccountIssuerAddonRoleawsebscsidriver']);
    const statements = others.map(({ statement }) => statement);
    const volume = (id: string) => `arn:aws:ec2:eu-central-1:123456789012:volume/${id}`;
    const etcdVolume = { [`aws:ResourceTag/${CLUSTER_TAG}`]: 'owned', 'aws:ResourceTag/kubernetes-on-aws:etcd-member': '0' };
    const driverVolume = { [`aws:ResourceTag/${CLUSTER_TAG}`]: 'owned', 'aws:ResourceTag/ebs.csi.aws.com/cluster-name': 'kube-aws-test-1' };
    for (const action of ['ec2:AttachVolume', 'ec2:DetachVolume']) {
      expect(allows(statements, action, volume('vol-driver'), driverVolume)).toBe(true);
      // an etcd data volume carries the cluster tag too, but not the driver's
      expect(allows(statements, action, volume('vol-etcd'), etcdVolume)).toBe(false);
      expect(allows(statements, action, 'arn:aws:ec2:eu-central-1:123456789012:instance/i-etcd', { [`aws:ResourceTag/${CLUSTER_TAG}`]: 'owned', 'aws:ResourceTag/kubernetes-on-aws:role': 'etcd' })).toBe(false);
    }
    expect(others.some(({ statement }) => grantsAction(statement, 'ec2:AttachNetworkInterface') || grantsAction(statement, 'ec2:DetachNetworkInterface'))).toBe(false);
  });

  test("only the etcd members' roles may use the snapshot key; the masters and workers get nothing of it", () => {
    const keyUsers = allRoleStatements().filter(
      ({ statement }) =>
        statement.Effect === 'Allow' &&
        KMS_USAGE.some((action) => grantsAction(statement, action)) &&
        resourcesOf(statement).some((r) => r === '*' || JSON.stringify(r).includes('SnapshotsKey')),
    );
    expect(keyUsers.map((u) => `${u.stack}/${u.role.replace(/[0-9A-F]{8}$/, '')}`).sort()).toEqual([
      'etcd/MembersMember0Role',
      'etcd/MembersMember1Role',
      'etcd/MembersMember2Role',
    ]);
    for (const stack of ['master', 'worker'] as const) {
      expect(JSON.stringify(cluster.templates[stack].toJSON())).not.toMatch(/SnapshotsKey|SnapshotsBucket/);
    }
  });
});
