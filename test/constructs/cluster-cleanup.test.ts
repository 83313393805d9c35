import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CLUSTER_CLEANUP_TIMEOUT, ClusterCleanup, ClusterCleanupProps } from '../../lib/constructs/cluster-cleanup';
import { SynthesizedCluster, resourcesOfType, synthesizeCluster } from '../util';

const ENV = { account: '123456789012', region: 'eu-central-1' };
const CLUSTER = 'kube-aws-test-1';
const PROPS: ClusterCleanupProps = { clusterName: CLUSTER, hostedZoneId: 'Z0123456789EXAMPLE', hostedZoneName: 'Example.org.' };

type Resources = Record<string, { Type: string; Properties: any; DependsOn?: string[] }>;

function dependentsOf(template: Template, id: string): Set<string> {
  const resources = template.toJSON().Resources as Resources;
  return new Set(Object.entries(resources).filter(([, r]) => (r.DependsOn ?? []).includes(id)).map(([key]) => key));
}

/** The statements of the cleanup function's role. */
function cleanupStatements(template: Template): any[] {
  return Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))
    .filter((p) => /Cleanup.*Handler/.test(JSON.stringify(p.Properties.Roles)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

const arn = (rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:${rest}`]] });

describe('ClusterCleanup', () => {
  let app: App;
  let template: Template;
  beforeAll(() => {
    app = new App();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const stack = new Stack(app, 'Test', { env: ENV });
    const cleanup = new ClusterCleanup(stack, 'Cleanup', PROPS);
    const queue = new sqs.Queue(stack, 'DeletedFirst', { enforceSSL: true });
    Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'test fixture' });
    cleanup.runAfterDeletionOf(queue);
    template = Template.fromStack(stack); // synthesizes: an unacknowledged cdk-nag finding throws here
  });

  test('passes the cluster, its zone id and its lowercase domain', () => {
    template.hasResourceProperties('Custom::ClusterCleanup', {
      ClusterName: CLUSTER,
      HostedZoneId: 'Z0123456789EXAMPLE',
      ClusterDomain: 'kube-aws-test-1.example.org',
    });
    template.hasResourceProperties('AWS::Lambda::Function', { Timeout: CLUSTER_CLEANUP_TIMEOUT.toSeconds() });
  });

  test("reads its stack's status and with `*`; deletes only what carries the cluster's tags; Route 53: deletions under the cluster's domain in its zone", () => {
    const owned = { 'aws:ResourceTag/kubernetes.io/cluster/kube-aws-test-1': 'owned' };
    expect(cleanupStatements(template)).toEqual([
      // Its own stack's status only: it sweeps while the stack is being deleted.
      { Sid: 'ReadOwnStackStatus', Effect: 'Allow', Action: 'cloudformation:DescribeStacks', Resource: { Ref: 'AWS::StackId' } },
      {
        Sid: 'FindWhatControllersCreated',
        Effect: 'Allow',
        Action: [
          'elasticloadbalancing:DescribeLoadBalancers',
          'elasticloadbalancing:DescribeTags',
          'elasticloadbalancing:DescribeTargetGroups',
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeVolumes',
        ],
        Resource: '*',
      },
      {
        Sid: 'DeleteTheCloudControllersLoadBalancers',
        Effect: 'Allow',
        Action: ['elasticloadbalancing:DeleteLoadBalancer', 'elasticloadbalancing:DeleteTargetGroup'],
        Resource: [arn('elasticloadbalancing:eu-central-1:123456789012:loadbalancer/*'), arn('elasticloadbalancing:eu-central-1:123456789012:targetgroup/*')],
        Condition: { StringEquals: owned, Null: { 'aws:ResourceTag/kubernetes.io/service-name': 'false' } },
      },
      {
        Sid: 'DeleteTheCloudControllersSecurityGroups',
        Effect: 'Allow',
        Action: 'ec2:DeleteSecurityGroup',
        Resource: arn('ec2:eu-central-1:123456789012:security-group/*'),
        // Never a group a stack made.
        Condition: { StringEquals: owned, Null: { 'aws:ResourceTag/aws:cloudformation:stack-id': 'true' } },
      },
      {
        Sid: 'DeleteTheEbsCsiDriversVolumes',
        Effect: 'Allow',
        Action: 'ec2:DeleteVolume',
        Resource: arn('ec2:eu-central-1:123456789012:volume/*'),
        Condition: { StringEquals: { ...owned, 'aws:ResourceTag/ebs.csi.aws.com/cluster-name': CLUSTER } },
      },
      { Sid: 'ReadTheClusterZone', Effect: 'Allow', Action: 'route53:ListResourceRecordSets', Resource: arn('route53:::hostedzone/Z0123456789EXAMPLE') },
      {
        Sid: 'DeleteExternalDnsRecords',
        Effect: 'Allow',
        Action: 'route53:ChangeResourceRecordSets',
        Resource: arn('route53:::hostedzone/Z0123456789EXAMPLE'),
        Condition: {
          'ForAllValues:StringEquals': { 'route53:ChangeResourceRecordSetsActions': ['DELETE'] },
          'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['*.kube-aws-test-1.example.org'] },
        },
      },
      // The names the stacks keep under the cluster's domain: never.
      {
        Sid: 'NeverTheClustersOwnRecords',
        Effect: 'Deny',
        Action: 'route53:ChangeResourceRecordSets',
        Resource: arn('route53:::hostedzone/Z0123456789EXAMPLE'),
        Condition: {
          'ForAnyValue:StringLike': {
            'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['internal.kube-aws-test-1.example.org', 'etcd.kube-aws-test-1.example.org', '*.etcd.kube-aws-test-1.example.org'],
          },
        },
      },
    ]);
  });

  test('what it runs after is deleted before it', () => {
    const [cleanupId] = Object.keys(template.findResources('Custom::ClusterCleanup'));
    const [queueId] = Object.keys(template.findResources('AWS::SQS::Queue'));
    expect(dependentsOf(template, cleanupId)).toContain(queueId);
  });

  test('cdk-nag AwsSolutions finds nothing unacknowledged', () => {
    expect(() => app.synth()).not.toThrow();
  });

  test.each<[string, Partial<ClusterCleanupProps>, RegExp]>([
    ['clusterName', { clusterName: 'Kube_1' }, /clusterName must be a DNS label.*got 'Kube_1'/],
    ['hostedZoneId', { hostedZoneId: 'hostedzone/Z1' }, /hostedZoneId must be a Route 53 zone id.*got 'hostedzone\/Z1'/],
  ])('rejects %s, naming it', (_case, override, message) => {
    expect(() => new ClusterCleanup(new Stack(new App(), 'Invalid', { env: ENV }), 'Cleanup', { ...PROPS, ...override })).toThrow(message);
  });
});

describe('ClusterCleanup in the cluster', () => {
  // Bundling skipped: the wiring is what matters here.
  let cluster: SynthesizedCluster;
  beforeAll(() => {
    cluster = synthesizeCluster({ 'aws:cdk:bundling-stacks': [] });
  });

  test('master stack: one cleanup, for this cluster and its zone', () => {
    const cleanups = resourcesOfType(cluster.templates.master, 'Custom::ClusterCleanup');
    expect(Object.values(cleanups).map((c) => c.Properties.ClusterName)).toEqual([cluster.config.clusterName]);
    expect(Object.values(cleanups)[0].Properties.HostedZoneId).toBe(cluster.config.hostedZone.id);
    for (const other of [cluster.templates.etcd, cluster.templates.worker]) {
      expect(Object.keys(other.findResources('Custom::ClusterCleanup'))).toEqual([]);
    }
  });

  test("runs after the masters are gone: their groups, security group, launch templates and role are deleted first", () => {
    const master = cluster.templates.master;
    const [cleanupId] = Object.keys(master.findResources('Custom::ClusterCleanup'));
    const dependents = dependentsOf(master, cleanupId);
    const groups = Object.keys(master.findResources('AWS::AutoScaling::AutoScalingGroup'));
    expect(groups.length).toBeGreaterThan(0);
    for (const id of groups) expect([id, dependents.has(id)]).toEqual([id, true]);
    const mastersOwn = (type: string) => Object.keys(master.findResources(type)).filter((id) => id.startsWith('Masters'));
    for (const type of ['AWS::EC2::SecurityGroup', 'AWS::EC2::LaunchTemplate', 'AWS::IAM::Role']) {
      const ids = mastersOwn(type);
      expect([type, ids.length > 0]).toEqual([type, true]);
      for (const id of ids) expect([id, dependents.has(id)]).toEqual([id, true]);
    }
  });
});
