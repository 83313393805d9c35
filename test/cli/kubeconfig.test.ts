import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { load } from 'js-yaml';
import { EXIT_FAILURE, EXIT_USAGE } from '../../lib/cli/errors';
import { kubeconfig } from '../../lib/cli/kubeconfig';
import { ADMIN_TOKEN, awsError, captureOutput, masterStack } from './cli-fixtures';

const secretsManager = mockClient(SecretsManagerClient);
const cloudFormation = mockClient(CloudFormationClient);
const API_URL = 'https://kube-aws-test-1.team.example.org';

function deps(home = mkdtempSync(path.join(tmpdir(), 'kubeconfig-'))) {
  const out = captureOutput();
  return {
    home,
    out,
    secretsManager: new SecretsManagerClient({ region: 'eu-central-1' }),
    cloudFormation: new CloudFormationClient({ region: 'eu-central-1' }),
  };
}

beforeEach(() => {
  secretsManager.reset();
  cloudFormation.reset();
  cloudFormation.on(DescribeStacksCommand, { StackName: 'kube-aws-test-1-master' }).resolves(masterStack(API_URL, { BreakGlassAdminToken: 'enabled' }));
  secretsManager
    .on(GetSecretValueCommand, { SecretId: 'kubernetes-on-aws/kube-aws-test-1/admin' })
    .resolves({ SecretString: JSON.stringify({ 'ca.crt': 'x', 'admin-token': ADMIN_TOKEN }) });
});

/** The IAM sign-in kubectl runs: the AWS CLI presigning STS for this cluster, in the client's region. */
function expectIamKubeconfig(text: string): void {
  expect(load(text)).toEqual({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kube-aws-test-1', cluster: { server: API_URL } }],
    users: [{
      name: 'kube-aws-test-1-iam',
      user: {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1beta1',
          command: 'aws',
          args: ['eks', 'get-token', '--cluster-name', 'aws:123456789012:eu-central-1:kube-aws-test-1', '--region', 'eu-central-1', '--output', 'json'],
          interactiveMode: 'Never',
        },
      },
    }],
    contexts: [{ name: 'kube-aws-test-1', context: { cluster: 'kube-aws-test-1', user: 'kube-aws-test-1-iam' } }],
    'current-context': 'kube-aws-test-1',
  });
}

/** The fields kubectl reads, asserted on the parsed YAML. */
function expectAdminKubeconfig(text: string): void {
  expect(load(text)).toEqual({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kube-aws-test-1', cluster: { server: API_URL } }],
    users: [{ name: 'kube-aws-test-1-admin', user: { token: ADMIN_TOKEN } }],
    contexts: [{ name: 'kube-aws-test-1', context: { cluster: 'kube-aws-test-1', user: 'kube-aws-test-1-admin' } }],
    'current-context': 'kube-aws-test-1',
  });
}

describe('kubeconfig', () => {
  test('writes ~/.kube/<stack>-<version>.yaml, owner-only, signing in with the AWS identity: no secret read, none written', async () => {
    const d = deps();

    expect(await kubeconfig(['kube-aws-test', '1'], d)).toBe(0);

    const file = path.join(d.home, '.kube', 'kube-aws-test-1.yaml');
    expectIamKubeconfig(readFileSync(file, 'utf8'));
    expect(secretsManager.calls()).toHaveLength(0);
    expect(readFileSync(file, 'utf8')).not.toContain(ADMIN_TOKEN);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(d.out.stderrText()).toContain(`export KUBECONFIG=${file}`);
    expect(d.out.stdoutText()).toBe('');
  });

  test('--admin-token writes the break-glass admin token instead', async () => {
    const d = deps();

    expect(await kubeconfig(['kube-aws-test', '1', '--admin-token', '-o', '-'], d)).toBe(0);

    expectAdminKubeconfig(d.out.stdoutText());
  });

  test('--admin-token is refused, without reading the secret, when the cluster does not accept the token (its default)', async () => {
    cloudFormation.on(DescribeStacksCommand, { StackName: 'kube-aws-test-1-master' }).resolves(masterStack(API_URL, { BreakGlassAdminToken: 'disabled' }));
    const d = deps();

    expect(await kubeconfig(['kube-aws-test', '1', '--admin-token', '-o', '-'], d)).toBe(EXIT_FAILURE);

    expect(d.out.stderrText()).toMatch(/does not accept its break-glass admin token .*--context breakGlassAdminToken=true/);
    expect(d.out.stdoutText()).toBe('');
    expect(secretsManager.calls()).toHaveLength(0);
  });

  test('--admin-token works against a master stack of a release that always accepted the token (no such output)', async () => {
    cloudFormation.on(DescribeStacksCommand, { StackName: 'kube-aws-test-1-master' }).resolves(masterStack(API_URL));
    const d = deps();

    expect(await kubeconfig(['kube-aws-test', '1', '--admin-token', '-o', '-'], d)).toBe(0);
    expectAdminKubeconfig(d.out.stdoutText());
  });

  test('--output FILE writes there and tightens an existing file to 0600', async () => {
    const d = deps();
    const file = path.join(d.home, 'existing.yaml');
    writeFileSync(file, 'old', { mode: 0o644 });

    expect(await kubeconfig(['kube-aws-test', '1', '--output', file], d)).toBe(0);

    expectIamKubeconfig(readFileSync(file, 'utf8'));
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  test('-o - prints to stdout', async () => {
    const d = deps();

    expect(await kubeconfig(['kube-aws-test', '1', '-o', '-'], d)).toBe(0);

    expectIamKubeconfig(d.out.stdoutText());
  });

  test.each([
    ['no credentials', awsError('CredentialsProviderError', 'Could not load credentials from any providers'), /No AWS credentials found/],
    ['no cluster', awsError('ValidationError', 'Stack with id kube-aws-test-1-master does not exist'), /Cluster kube-aws-test-1 not found: stack kube-aws-test-1-master does not exist/],
    ['access denied', awsError('AccessDenied', 'User is not authorized to perform: cloudformation:DescribeStacks'), /Access denied reading stack kube-aws-test-1-master/],
  ])('CloudFormation %s: a clear message, exit 1, no file', async (_case, error, message) => {
    cloudFormation.on(DescribeStacksCommand).rejects(error);
    const d = deps();

    expect(await kubeconfig(['kube-aws-test', '1'], d)).toBe(EXIT_FAILURE);
    expect(d.out.stderrText()).toMatch(message);
    expect(() => statSync(path.join(d.home, '.kube'))).toThrow();
  });

  test.each([
    ['no cluster', awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret."), /Cluster kube-aws-test-1 not found: secret kubernetes-on-aws\/kube-aws-test-1\/admin/],
    ['access denied', awsError('AccessDeniedException', 'not authorized'), /Access denied reading secret kubernetes-on-aws\/kube-aws-test-1\/admin/],
  ])('Secrets Manager %s: a clear message and exit 1', async (_case, error, message) => {
    secretsManager.on(GetSecretValueCommand).rejects(error);
    const d = deps();

    expect(await kubeconfig(['kube-aws-test', '1', '--admin-token'], d)).toBe(EXIT_FAILURE);
    expect(d.out.stderrText()).toMatch(message);
  });

  test('a master stack without the ApiUrl output is reported', async () => {
    cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'x', CreationTime: new Date(), StackStatus: 'CREATE_IN_PROGRESS' }] });
    const d = deps();

    expect(await kubeconfig(['kube-aws-test', '1'], d)).toBe(EXIT_FAILURE);
    expect(d.out.stderrText()).toMatch(/Stack kube-aws-test-1-master has no ApiUrl output/);
  });

  test.each([[[]], [['kube-aws-test']], [['kube-aws-test', '1', '--output']], [['Kube', '1']], [['kube-aws-test', '1', '--admin-token=yes']]])(
    'usage error for %p: exit 2 with the usage, no AWS call',
    async (argv) => {
      const d = deps();

      expect(await kubeconfig(argv, d)).toBe(EXIT_USAGE);
      expect(d.out.stderrText()).toMatch(/Usage: kubeconfig <stack> <version> \[--output FILE\] \[--admin-token\]/);
      expect(cloudFormation.calls()).toHaveLength(0);
      expect(secretsManager.calls()).toHaveLength(0);
    },
  );
});
