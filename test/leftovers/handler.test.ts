import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeSecretCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import {
  LeftoverCheckProperties,
  OnEventRequest,
  createOnEventHandler,
  leftoverMessage,
  probeBucketAnonymously,
} from '../../lib/leftovers/handler';
import { ClusterSecretNames } from '../../userdata/secret-names';

const CLUSTER = 'kube-aws-test-1';
const names = new ClusterSecretNames(CLUSTER);
const BUCKET = 'kube-aws-test-1-etcd-123456789012-eu-central-1';
const STACK_ID = 'arn:aws:cloudformation:eu-central-1:123456789012:stack/kube-aws-test-1-etcd/0a1b2c3d';
const PROPS: LeftoverCheckProperties = {
  ClusterName: CLUSTER,
  Account: '123456789012',
  Region: 'eu-central-1',
  SecretNames: names.ofSet('etcd', 3),
  BucketName: BUCKET,
  BucketUrl: `https://${BUCKET}.s3.eu-central-1.amazonaws.com/`,
  VolumeFilters: ['Name=tag:kubernetes.io/cluster/kube-aws-test-1,Values=owned', 'Name=tag-key,Values=kubernetes-on-aws:etcd-member'],
};
const PENDING_DELETION = new Date('2026-06-01T12:00:00Z');
// Under CI, .ci/run installs shellcheck: run, and fail loudly if it is missing.
const haveShellcheck = existsSync('/usr/bin/shellcheck') || !!process.env.CI;

/**
 * The account at the SDK boundary: which secrets exist (and which are scheduled for
 * deletion), what S3 answers for the bucket name, and the stack's status.
 */
function fakeAccount(options: { secrets?: Record<string, Date | null>; bucketStatus?: number; stackStatus?: string } = {}) {
  const secretsManager = mockClient(SecretsManagerClient);
  secretsManager.on(DescribeSecretCommand).callsFake(({ SecretId }) => {
    const deleted = options.secrets?.[SecretId];
    if (deleted === undefined) {
      throw new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} });
    }
    return { Name: SecretId, ARN: `arn:aws:secretsmanager:eu-central-1:123456789012:secret:${SecretId}-AbCdEf`, DeletedDate: deleted ?? undefined };
  });
  const cloudFormation = mockClient(CloudFormationClient);
  cloudFormation.on(DescribeStacksCommand, { StackName: STACK_ID }).resolves({
    Stacks: [{ StackName: 'kube-aws-test-1-etcd', StackId: STACK_ID, StackStatus: (options.stackStatus ?? 'CREATE_IN_PROGRESS') as never, CreationTime: new Date() }],
  });
  const probed: string[] = [];
  const handler = createOnEventHandler({
    secretsManager: new SecretsManagerClient({ region: 'eu-central-1' }),
    cloudFormation: new CloudFormationClient({ region: 'eu-central-1' }),
    probeBucket: async (url) => {
      probed.push(url);
      return options.bucketStatus ?? 404;
    },
  });
  return { handler, secretsManager, cloudFormation, probed };
}

const event = (RequestType: OnEventRequest['RequestType'], properties: object = PROPS): OnEventRequest => ({
  RequestType,
  StackId: STACK_ID,
  ...(RequestType === 'Create' ? {} : { PhysicalResourceId: `leftover-check/${CLUSTER}` }),
  ResourceProperties: { ServiceToken: 'arn:aws:lambda:eu-central-1:123456789012:function:provider', ...properties },
});

async function failureOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the check to fail');
}

describe('leftover check', () => {
  beforeAll(() => jest.spyOn(console, 'log').mockImplementation(() => undefined));

  test('nothing left over: Create succeeds after describing every secret of the set and probing the bucket once', async () => {
    const aws = fakeAccount();

    await expect(aws.handler(event('Create'))).resolves.toEqual({ PhysicalResourceId: `leftover-check/${CLUSTER}` });

    expect(aws.secretsManager.commandCalls(DescribeSecretCommand).map((c) => c.args[0].input.SecretId)).toEqual(names.ofSet('etcd', 3));
    expect(aws.probed).toEqual([PROPS.BucketUrl]);
  });

  test('a retained secret fails Create, naming it and the command that deletes it', async () => {
    const aws = fakeAccount({ secrets: { [names.etcdCa]: null, [names.etcdMember(1)]: null } });

    const message = await failureOf(aws.handler(event('Create')));

    expect(message).toMatch(/^Cluster kube-aws-test-1 existed before .* "already exists"\). None was created/);
    expect(message).toContain('Secrets Manager secrets in kubernetes-on-aws/kube-aws-test-1/: etcd-ca, etcd-member-1\n');
    expect(message).not.toContain('etcd-member-0');
    expect(message).toContain(
      'for s in etcd-ca etcd-member-1; do aws secretsmanager delete-secret --region eu-central-1 ' +
        '--force-delete-without-recovery --secret-id "kubernetes-on-aws/kube-aws-test-1/$s"; done',
    );
    expect(message).not.toMatch(/S3 bucket/);
  });

  test('a secret scheduled for deletion still holds its name: the message says until when, and how to restore or free it', async () => {
    const aws = fakeAccount({ secrets: { [names.apiServerEtcdClient]: PENDING_DELETION } });

    const message = await failureOf(aws.handler(event('Create')));

    expect(message).toContain(': apiserver-etcd-client (scheduled for deletion: all on 2026-06-01)\n');
    expect(message).toContain('aws secretsmanager restore-secret --secret-id <name>');
    expect(message).toContain('--force-delete-without-recovery --secret-id "kubernetes-on-aws/kube-aws-test-1/$s"');
  });

  test('secrets scheduled on different days, or not at all, are told apart', async () => {
    const aws = fakeAccount({ secrets: { [names.etcdCa]: null, [names.etcdMember(0)]: PENDING_DELETION, [names.etcdMember(2)]: new Date('2026-06-03T00:00:00Z') } });

    const message = await failureOf(aws.handler(event('Create')));

    expect(message).toContain(': etcd-ca, etcd-member-0, etcd-member-2 (scheduled for deletion: etcd-member-0 on 2026-06-01; etcd-member-2 on 2026-06-03)\n');
  });

  test('a retained bucket (403 to an anonymous HEAD) fails Create with the snapshot warning and commands that empty a versioned bucket', async () => {
    const aws = fakeAccount({ bucketStatus: 403 });

    const message = await failureOf(aws.handler(event('Create')));

    expect(message).toContain(`S3 bucket ${BUCKET} exists (S3 answered HTTP 403)`);
    expect(message).toContain('DELETES EVERY SNAPSHOT');
    expect(message).toContain(`aws s3api head-bucket --bucket ${BUCKET} --expected-bucket-owner 123456789012`);
    expect(message).toContain('`aws s3 rb --force` leaves the old versions and fails');
    expect(message).toContain(`b=${BUCKET}; while v=$(aws s3api list-object-versions --region eu-central-1 --bucket "$b" --no-paginate`);
    expect(message).toContain(
      'aws s3api delete-objects --region eu-central-1 --bucket "$b" --delete "$v"; done; aws s3api delete-bucket --region eu-central-1 --bucket "$b"',
    );
    expect(message).not.toContain('Secrets Manager secrets');
  });

  test('a bucket of another account (403), or in another region (301), is a leftover too: only another version helps', async () => {
    for (const status of [403, 301]) {
      const message = await failureOf(fakeAccount({ bucketStatus: status }).handler(event('Create')));
      expect(message).toContain(`(S3 answered HTTP ${status})`);
      expect(message).toContain('another account holds the name: only another `version` helps');
    }
  });

  test('secrets and bucket left over: one message names all of them', async () => {
    const aws = fakeAccount({ secrets: { [names.etcdCa]: null }, bucketStatus: 403 });

    const message = await failureOf(aws.handler(event('Create')));

    expect(message).toContain('Secrets Manager secrets in kubernetes-on-aws/kube-aws-test-1/: etcd-ca\n');
    expect(message).toContain(`S3 bucket ${BUCKET} exists`);
  });

  test('the etcd stack also says how to find and delete the retained data volumes, which it cannot see', async () => {
    const aws = fakeAccount({ secrets: { [names.etcdCa]: null } });

    const message = await failureOf(aws.handler(event('Create')));

    expect(message).toContain(
      'for v in $(aws ec2 describe-volumes --region eu-central-1 --filters ' +
        'Name=tag:kubernetes.io/cluster/kube-aws-test-1,Values=owned Name=tag-key,Values=kubernetes-on-aws:etcd-member ' +
        "--query 'Volumes[].VolumeId' --output text); do aws ec2 delete-volume --region eu-central-1 --volume-id \"$v\"; done",
    );
  });

  test('an S3 error or an unexpected Secrets Manager error fails Create as "could not check", not as a leftover', async () => {
    await expect(fakeAccount({ bucketStatus: 503 }).handler(event('Create'))).rejects.toThrow(
      /could not check whether bucket .* S3 answered HTTP 503/,
    );
    const aws = fakeAccount();
    aws.secretsManager.on(DescribeSecretCommand).rejects(
      new SecretsManagerServiceException({ name: 'AccessDeniedException', $fault: 'client', message: 'not authorized', $metadata: {} }),
    );
    await expect(aws.handler(event('Create'))).rejects.toThrow(/could not check whether secret .*etcd-ca is left over: AccessDeniedException/);
  });

  test('a stack being updated (a living cluster that gains the check) finds its own resources and passes', async () => {
    const aws = fakeAccount({ secrets: { [names.etcdCa]: null }, bucketStatus: 403, stackStatus: 'UPDATE_IN_PROGRESS' });

    await expect(aws.handler(event('Create'))).resolves.toEqual({ PhysicalResourceId: `leftover-check/${CLUSTER}` });
    expect(aws.secretsManager.commandCalls(DescribeSecretCommand)).toHaveLength(0);
    expect(aws.probed).toEqual([]);
  });

  test.each(['Update', 'Delete'] as const)('%s does nothing and keeps the physical id', async (type) => {
    const aws = fakeAccount({ secrets: { [names.etcdCa]: null }, bucketStatus: 403 });

    await expect(aws.handler(event(type))).resolves.toEqual({ PhysicalResourceId: `leftover-check/${CLUSTER}` });
    expect(aws.secretsManager.calls()).toHaveLength(0);
    expect(aws.cloudFormation.calls()).toHaveLength(0);
    expect(aws.probed).toEqual([]);
  });

  test('without a bucket (the master stack) only secrets are checked', async () => {
    const aws = fakeAccount({ secrets: { [names.controlPlane]: null } });
    const master = { ...PROPS, SecretNames: names.ofSet('control-plane', 3), BucketName: '', BucketUrl: '', VolumeFilters: [] };

    const message = await failureOf(aws.handler(event('Create', master)));

    expect(aws.probed).toEqual([]);
    expect(message).toContain('for s in control-plane; do');
    expect(message).not.toMatch(/S3 bucket|describe-volumes/);
  });

  test('rejects bad resource properties by name', async () => {
    const aws = fakeAccount();
    await expect(aws.handler(event('Create', { ...PROPS, SecretNames: 'etcd-ca' }))).rejects.toThrow(/SecretNames must be a list/);
    await expect(aws.handler(event('Create', { ...PROPS, VolumeFilters: [''] }))).rejects.toThrow(/VolumeFilters must be a list/);
    const { Region: _region, ...withoutRegion } = PROPS;
    await expect(aws.handler(event('Create', withoutRegion))).rejects.toThrow(/Region is missing/);
  });

  test('the commands in the message pass bash -n and shellcheck', async () => {
    const aws = fakeAccount({ secrets: { [names.etcdCa]: PENDING_DELETION, [names.etcdMember(0)]: null }, bucketStatus: 403 });
    const message = await failureOf(aws.handler(event('Create')));
    const commands = message.split('\n').filter((line) => /^ {2}(for |b=)/.test(line));
    expect(commands).toHaveLength(3); // secrets, bucket, volumes
    const script = `#!/bin/bash\n${commands.map((line) => line.trim()).join('\n')}\n`;

    expect(spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' }).status).toBe(0);
    if (!haveShellcheck) return;
    // SC2016: the backquotes in --query are JMESPath literals, meant to reach the AWS CLI unexpanded.
    const shellcheck = spawnSync('shellcheck', ['--shell=bash', '--exclude=SC2016', '-'], { input: script, encoding: 'utf8' });
    expect(`${shellcheck.stdout}${shellcheck.stderr}`).toBe('');
    expect(shellcheck.status).toBe(0);
  });

  // CloudFormation refuses a custom resource response over 4096 bytes, which would hide the
  // message; the Provider framework adds the function's log group and a stack trace to it.
  test.each<[string, number, boolean]>([
    ['the longest cluster name that still fits a bucket name, with the bucket', 63 - '-etcd-123456789012-ap-southeast-2'.length, true],
    ['the longest cluster name (63), secrets only', 63, false],
  ])('the message stays under 3 KB: every secret of a 7-member etcd set scheduled for deletion, the volume hint, %s', (_case, length, withBucket) => {
    const cluster = 'a'.repeat(length);
    const secretNames = new ClusterSecretNames(cluster).ofSet('etcd', 7);
    const bucket = withBucket ? { name: `${cluster}-etcd-123456789012-ap-southeast-2`, status: 403 } : undefined;
    expect(bucket === undefined || bucket.name.length <= 63).toBe(true);

    const message = leftoverMessage(
      {
        ...PROPS,
        ClusterName: cluster,
        Region: 'ap-southeast-2',
        SecretNames: secretNames,
        VolumeFilters: [`Name=tag:kubernetes.io/cluster/${cluster},Values=owned`, PROPS.VolumeFilters[1]],
      },
      // Each scheduled on another day: the longest way to say it.
      { secrets: secretNames.map((name, day) => ({ name, deletedDate: new Date(Date.UTC(2026, 5, day + 1)) })), bucket },
    );

    expect(message).toContain(secretNames.map((name) => name.slice(name.lastIndexOf('/') + 1)).join(' '));
    expect(Buffer.byteLength(message)).toBeLessThan(3000);
  });
});

describe('anonymous bucket probe', () => {
  test('sends a HEAD without credentials and does not follow redirects (301 means: exists elsewhere)', async () => {
    const fetchSpy = jest.spyOn(globalThis, 'fetch').mockResolvedValue(new Response(null, { status: 301 }));

    await expect(probeBucketAnonymously(PROPS.BucketUrl)).resolves.toBe(301);

    expect(fetchSpy).toHaveBeenCalledWith(PROPS.BucketUrl, { method: 'HEAD', redirect: 'manual' });
    fetchSpy.mockRestore();
  });
});
