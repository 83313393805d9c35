import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { getApiToken } from '../../lib/cli/api-token';
import { EXIT_FAILURE, EXIT_USAGE } from '../../lib/cli/errors';
import { ADMIN_TOKEN, awsError, captureOutput, masterStack } from './cli-fixtures';

const secretsManager = mockClient(SecretsManagerClient);
const cloudFormation = mockClient(CloudFormationClient);
const client = { secretsManager: new SecretsManagerClient({ region: 'eu-central-1' }), cloudFormation: new CloudFormationClient({ region: 'eu-central-1' }) };
const API_URL = 'https://kube-aws-test-1.team.example.org';

beforeEach(() => {
  secretsManager.reset();
  cloudFormation.reset();
  cloudFormation.on(DescribeStacksCommand, { StackName: 'kube-aws-test-1-master' }).resolves(masterStack(API_URL, { BreakGlassAdminToken: 'enabled' }));
});

describe('get-api-token', () => {
  test('prints the admin token of <stack>-<version>', async () => {
    secretsManager
      .on(GetSecretValueCommand, { SecretId: 'kubernetes-on-aws/kube-aws-test-1/admin' })
      .resolves({ SecretString: JSON.stringify({ 'ca.crt': 'x', 'admin-token': ADMIN_TOKEN }) });
    const out = captureOutput();

    expect(await getApiToken(['kube-aws-test', '1'], client, out)).toBe(0);
    expect(out.stdoutText()).toBe(`${ADMIN_TOKEN}\n`);
    expect(out.stderrText()).toBe('');
  });

  test.each([
    ['no credentials', awsError('CredentialsProviderError', 'Could not load credentials from any providers'), /No AWS credentials found/],
    ['no cluster', awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret."), /Cluster kube-aws-test-1 not found: secret kubernetes-on-aws\/kube-aws-test-1\/admin does not exist/],
    ['access denied', awsError('AccessDeniedException', 'User is not authorized'), /Access denied reading secret kubernetes-on-aws\/kube-aws-test-1\/admin of cluster kube-aws-test-1/],
    ['no region', new Error('Region is missing'), /No AWS region set/],
  ])('%s: a clear message and exit code 1', async (_case, error, message) => {
    secretsManager.on(GetSecretValueCommand).rejects(error);
    const out = captureOutput();

    expect(await getApiToken(['kube-aws-test', '1'], client, out)).toBe(EXIT_FAILURE);
    expect(out.stderrText()).toMatch(message);
    expect(out.stdoutText()).toBe('');
  });

  test('refuses, without reading the secret, when the cluster does not accept the token (the default), saying how to sign in instead', async () => {
    cloudFormation.on(DescribeStacksCommand, { StackName: 'kube-aws-test-1-master' }).resolves(masterStack(API_URL, { BreakGlassAdminToken: 'disabled' }));
    const out = captureOutput();

    expect(await getApiToken(['kube-aws-test', '1'], client, out)).toBe(EXIT_FAILURE);
    expect(out.stderrText()).toMatch(/Cluster kube-aws-test-1 does not accept its break-glass admin token .*npx kubeconfig without --admin-token/);
    expect(secretsManager.calls()).toHaveLength(0);
  });

  test('a secret without a token (never generated) is an error, not an empty line', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: '{}' });
    const out = captureOutput();

    expect(await getApiToken(['kube-aws-test', '1'], client, out)).toBe(EXIT_FAILURE);
    expect(out.stderrText()).toMatch(/holds no admin-token/);
  });

  test.each([
    [[], /Missing arguments/],
    [['kube-aws-test'], /Missing arguments/],
    [['kube-aws-test', '1', 'extra'], /Unexpected arguments: extra/],
    [['Kube_Test', '1'], /Invalid stack "Kube_Test"/],
    [['kube-aws-test', '-1'], /Unknown option '-1'/],
    [['kube-aws-test', 'v1-'], /Invalid version "v1-"/],
    [['kube-aws-test', '1', '--output', 'x'], /Unknown option '--output'/],
  ])('usage error for %p: exit 2 with the usage line, no AWS call', async (argv, message) => {
    const out = captureOutput();

    expect(await getApiToken(argv, client, out)).toBe(EXIT_USAGE);
    expect(out.stderrText()).toMatch(message);
    expect(out.stderrText()).toMatch(/Usage: get-api-token <stack> <version>/);
    expect(secretsManager.calls()).toHaveLength(0);
    expect(cloudFormation.calls()).toHaveLength(0);
  });

  test('cluster names longer than a DNS label are refused', async () => {
    const out = captureOutput();
    expect(await getApiToken(['a'.repeat(62), '1'], client, out)).toBe(EXIT_USAGE);
    expect(out.stderrText()).toMatch(/longer than 63 characters/);
  });
});
