import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { LeftoverCheck, LeftoverCheckProps } from '../../lib/constructs/leftover-check';
import { etcdSnapshotBucketName } from '../../lib/stacks/etcd-stack';
import { ClusterSecretNames } from '../../userdata/secret-names';
import { SynthesizedCluster, resourcesOfType, synthesizeCluster } from '../util';

const ENV = { account: '123456789012', region: 'eu-central-1' };
const CLUSTER = 'kube-aws-test-1';
const names = new ClusterSecretNames(CLUSTER);
const BUCKET = 'kube-aws-test-1-etcd-123456789012-eu-central-1';
const VOLUME_FILTERS = ['Name=tag:kubernetes.io/cluster/kube-aws-test-1,Values=owned', 'Name=tag-key,Values=kubernetes-on-aws:etcd-member'];
const PROPS: LeftoverCheckProps = {
  clusterName: CLUSTER,
  secretNames: names.ofSet('etcd', 3),
  bucketName: BUCKET,
  retainedVolumeFilters: VOLUME_FILTERS,
};

type Resources = Record<string, { Type: string; Properties: any; DependsOn?: string[] }>;

/** The ids of every resource whose DependsOn names `id`. */
function dependentsOf(template: Template, id: string): Set<string> {
  const resources = template.toJSON().Resources as Resources;
  return new Set(Object.entries(resources).filter(([, r]) => (r.DependsOn ?? []).includes(id)).map(([key]) => key));
}

describe('LeftoverCheck', () => {
  // One app for the construct's own tests, checked by cdk-nag as the cluster's app is.
  let app: App;
  let template: Template;
  beforeAll(() => {
    app = new App();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const stack = new Stack(app, 'Test', { env: ENV });
    const check = new LeftoverCheck(stack, 'Check', PROPS);
    const bucket = new s3.Bucket(stack, 'Guarded', { enforceSSL: true });
    Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S1', reason: 'test fixture' });
    check.guard(bucket);
    template = Template.fromStack(stack); // synthesizes: an unacknowledged cdk-nag finding throws here
  });

  test('passes the cluster, account, region, the secret names and the bucket with its regional URL', () => {
    template.hasResourceProperties('Custom::LeftoverCheck', {
      ClusterName: CLUSTER,
      Account: '123456789012',
      Region: 'eu-central-1',
      SecretNames: names.ofSet('etcd', 3),
      BucketName: BUCKET,
      BucketUrl: { 'Fn::Join': ['', [`https://${BUCKET}.s3.eu-central-1.`, { Ref: 'AWS::URLSuffix' }, '/']] },
      VolumeFilters: VOLUME_FILTERS,
    });
  });

  test("may describe this cluster's secrets and its own stack, nothing else (no S3 permission: the bucket probe is anonymous)", () => {
    const policies = Object.values(resourcesOfType(template, 'AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes('CheckHandler'),
    );
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([
      {
        Action: 'secretsmanager:DescribeSecret',
        Effect: 'Allow',
        Resource: {
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:eu-central-1:123456789012:secret:kubernetes-on-aws/kube-aws-test-1/*']],
        },
      },
      { Action: 'cloudformation:DescribeStacks', Effect: 'Allow', Resource: { Ref: 'AWS::StackId' } },
    ]);
  });

  test('whatever it guards waits for it', () => {
    const [checkId] = Object.keys(template.findResources('Custom::LeftoverCheck'));
    const [bucketId] = Object.keys(template.findResources('AWS::S3::Bucket'));
    expect(dependentsOf(template, checkId)).toContain(bucketId);
  });

  test('cdk-nag AwsSolutions finds nothing unacknowledged', () => {
    expect(() => app.synth()).not.toThrow();
  });

  test.each<[string, Partial<LeftoverCheckProps>, RegExp]>([
    ['clusterName', { clusterName: 'Kube_1' }, /clusterName must be a DNS label, e.g. 'kube-aws-test-1'; got 'Kube_1'/],
    ['a secret of another cluster', { secretNames: ['kubernetes-on-aws/kube-aws-test-10/etcd-ca'] }, /secretNames must be under 'kubernetes-on-aws\/kube-aws-test-1\/' .*got 'kubernetes-on-aws\/kube-aws-test-10\/etcd-ca'/],
    ['the folder itself', { secretNames: ['kubernetes-on-aws/kube-aws-test-1/'] }, /secretNames must be under/],
    ['bucketName with dots', { bucketName: 'kube.etcd' }, /bucketName must be 3 to 63 lowercase .*\(no dots\); got 'kube.etcd'/],
    ['a token', { bucketName: new s3.Bucket(new Stack(), 'B').bucketName }, /bucketName must be literal strings known at synth time/],
    ['a volume filter with a space', { retainedVolumeFilters: ['Name=tag:a b,Values=c'] }, /retainedVolumeFilters must be EC2 filters .* got 'Name=tag:a b,Values=c'/],
  ])('rejects %s, naming it', (_case, override, message) => {
    expect(() => new LeftoverCheck(new Stack(new App(), 'Invalid', { env: ENV }), 'Check', { ...PROPS, ...override })).toThrow(message);
  });
});

describe('LeftoverCheck in the cluster', () => {
  // Bundling skipped: the wiring is what matters here, and esbuild costs seconds per function.
  let cluster: SynthesizedCluster;
  beforeAll(() => {
    cluster = synthesizeCluster({ 'aws:cdk:bundling-stacks': [] });
  });

  test('etcd stack: every etcd secret, the snapshot bucket and the retained data volumes wait for the check', () => {
    const etcd = cluster.templates.etcd;
    const [checkId, check] = Object.entries(etcd.findResources('Custom::LeftoverCheck'))[0];
    const secretNames = Object.values(resourcesOfType(etcd, 'AWS::SecretsManager::Secret')).map((s) => s.Properties.Name);
    expect(check.Properties.SecretNames).toEqual(names.ofSet('etcd', cluster.config.etcd.count));
    expect([...check.Properties.SecretNames].sort()).toEqual([...secretNames].sort());
    expect(check.Properties.BucketName).toBe(etcdSnapshotBucketName(cluster.config));
    // The filters find exactly what the stack tags its data volumes with.
    const volumeTags = Object.values(resourcesOfType(etcd, 'AWS::EC2::Volume')).map((v) => v.Properties.Tags as { Key: string; Value: string }[]);
    for (const tags of volumeTags) {
      expect(tags).toContainEqual({ Key: 'kubernetes.io/cluster/kube-aws-test-1', Value: 'owned' });
      expect(tags.map((t) => t.Key)).toContain('kubernetes-on-aws:etcd-member');
    }
    expect(check.Properties.VolumeFilters).toEqual(VOLUME_FILTERS);

    const dependents = dependentsOf(etcd, checkId);
    for (const type of ['AWS::SecretsManager::Secret', 'AWS::S3::Bucket', 'AWS::EC2::Volume', 'Custom::ClusterSecrets']) {
      const ids = Object.keys(etcd.findResources(type));
      expect(ids.length).toBeGreaterThan(0);
      for (const id of ids) expect([type, dependents.has(id)]).toEqual([type, true]);
    }
  });

  test('master stack: every control-plane secret waits for the check, which has no bucket to probe', () => {
    const master = cluster.templates.master;
    const [checkId, check] = Object.entries(master.findResources('Custom::LeftoverCheck'))[0];
    expect(check.Properties.SecretNames).toEqual(names.ofSet('control-plane', cluster.config.etcd.count));
    expect(check.Properties.BucketName).toBe('');
    expect(check.Properties.VolumeFilters).toEqual([]);

    const dependents = dependentsOf(master, checkId);
    for (const id of Object.keys(master.findResources('AWS::SecretsManager::Secret'))) expect(dependents.has(id)).toBe(true);
  });

  test('the worker stack creates no fixed-name resource and needs no check', () => {
    expect(Object.keys(cluster.templates.worker.findResources('Custom::LeftoverCheck'))).toEqual([]);
    expect(Object.keys(cluster.templates.worker.findResources('AWS::SecretsManager::Secret'))).toEqual([]);
    expect(Object.keys(cluster.templates.worker.findResources('AWS::S3::Bucket'))).toEqual([]);
  });
});
