import * as yaml from 'js-yaml';
import { DEFAULT_CACHE_MAX_ENTRIES, DEFAULT_CACHE_TTL_SECONDS, DEFAULT_MAX_CONCURRENT_LOOKUPS, DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_TOKEN_INFO_FIELDS, DEFAULT_TOKEN_INFO_TIMEOUT_MS, loadWebhookConfig, parseWebhookConfig, validateWebhookConfig, WebhookConfigError } from '../../webhook/config';
import { renderWebhookConfig } from '../../webhook/render-config';
import { CLUSTER_GROUP, configDocument, temporaryDirectory, writeConfig } from './fixtures';

const TOKEN_INFO_URL = 'https://auth.example.org/oauth2/tokeninfo';
const minimal = { clusterGroup: CLUSTER_GROUP, tokenInfo: { url: TOKEN_INFO_URL }, roles: { Administrator: ['admins'] } };

const problemsOf = (document: unknown) => validateWebhookConfig(document).problems;

describe('validateWebhookConfig', () => {
  test('fills defaults for everything left out', () => {
    expect(validateWebhookConfig(minimal)).toEqual({
      problems: [],
      config: {
        ...minimal,
        tokenInfo: { url: TOKEN_INFO_URL, timeoutMs: DEFAULT_TOKEN_INFO_TIMEOUT_MS, fields: DEFAULT_TOKEN_INFO_FIELDS, maxConcurrentLookups: DEFAULT_MAX_CONCURRENT_LOOKUPS },
        cache: { ttlSeconds: DEFAULT_CACHE_TTL_SECONDS, maxEntries: DEFAULT_CACHE_MAX_ENTRIES },
        roles: { ReadOnly: [], PowerUser: [], Administrator: ['admins'] },
        server: { requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS },
      },
    });
  });

  test.each([
    ['a list of groups that is not a list', { roles: { Administrator: 3 } }, 'roles.Administrator: must be a list of group names, got 3'],
    ['an empty group name', { roles: { ReadOnly: ['ok', ''] } }, 'roles.ReadOnly: must be a list of group names, got a list'],
    ['an unknown role', { roles: { Admin: ['x'] } }, 'roles.Admin: unknown field; valid fields here are ReadOnly, PowerUser, Administrator'],
    ['a system: group as a role group', { roles: { ReadOnly: ['system:authenticated'] } }, 'roles.ReadOnly: "system:authenticated" is a system: or kubernetes-on-aws: group, which token-info never grants; name your identity provider\'s group'],
    ['an unknown top-level field', { tokenInfoUrl: 'x' }, 'tokenInfoUrl: unknown field; valid fields here are clusterGroup, tokenInfo, cache, roles, server, iam, kubeletServingApprover'],
    ['a misspelt nested field', { tokenInfo: { url: TOKEN_INFO_URL, timeOutMs: 5 } }, 'tokenInfo.timeOutMs: unknown field; valid fields here are url, timeoutMs, fields, maxConcurrentLookups'],
    ['a missing required field', { clusterGroup: undefined }, 'clusterGroup: is required; the form is aws:<account>:<region>:<stack>-<version>'],
    ['a malformed cluster group', { clusterGroup: 'aws:1234:eu-central-1:kube' }, 'clusterGroup: must look like aws:<12-digit account>:<region>:<stack>-<version> (e.g. aws:123456789012:eu-central-1:kube-aws-test-1), got "aws:1234:eu-central-1:kube"'],
    ['a URL that is not http(s)', { tokenInfo: { url: 'ftp://auth.example.org/' } }, 'tokenInfo.url: must be an http:// or https:// URL, got "ftp://auth.example.org/"'],
    ['a timeout out of range', { tokenInfo: { url: TOKEN_INFO_URL, timeoutMs: 0 } }, 'tokenInfo.timeoutMs: must be an integer from 1 to 30000, got 0'],
    ['no lookups allowed', { tokenInfo: { url: TOKEN_INFO_URL, maxConcurrentLookups: 0 } }, 'tokenInfo.maxConcurrentLookups: must be an integer from 1 to 512, got 0'],
    ['more lookups than sockets can hold', { tokenInfo: { url: TOKEN_INFO_URL, maxConcurrentLookups: 513 } }, 'tokenInfo.maxConcurrentLookups: must be an integer from 1 to 512, got 513'],
    ['a lookup bound as a string', { tokenInfo: { url: TOKEN_INFO_URL, maxConcurrentLookups: '8' } }, 'tokenInfo.maxConcurrentLookups: must be an integer from 1 to 512, got "8"'],
    ['a fractional TTL', { cache: { ttlSeconds: 1.5 } }, 'cache.ttlSeconds: must be an integer from 0 to 3600, got 1.5'],
    ['a zero cache size', { cache: { maxEntries: 0 } }, 'cache.maxEntries: must be an integer from 1 to 1000000, got 0'],
    ['a string request timeout', { server: { requestTimeoutMs: '5s' } }, 'server.requestTimeoutMs: must be an integer from 1 to 30000, got "5s"'],
    ['a bad field path', { tokenInfo: { url: TOKEN_INFO_URL, fields: { groups: 'a..b' } } }, 'tokenInfo.fields.groups: must be a dotted path into the token-info JSON (e.g. "user.name"), got "a..b"'],
    ['a section that is not a mapping', { cache: [1] }, 'cache: must be a mapping with fields ttlSeconds, maxEntries, got a list'],
    ['no roles at all', { roles: undefined }, 'roles: is required; a mapping from ReadOnly, PowerUser, Administrator to lists of group names'],
  ])('reports %s with its field path', (_, override, message) => {
    expect(problemsOf({ ...minimal, ...override })).toEqual([message]);
  });

  test('collects every problem at once', () => {
    expect(problemsOf({ clusterGroup: 'x', roles: { Administrator: 3 }, cache: { ttlSeconds: -1 } })).toEqual([
      expect.stringMatching(/^clusterGroup: must look like/),
      expect.stringMatching(/^tokenInfo: is required/),
      'roles.Administrator: must be a list of group names, got 3',
      'cache.ttlSeconds: must be an integer from 0 to 3600, got -1',
    ]);
  });

  test('a document that is not a mapping', () => {
    expect(problemsOf('just a string')).toEqual(['config: must be a YAML mapping, got "just a string"']);
  });
});

describe('the iam section', () => {
  const ACCOUNT = '123456789012';
  const nodeRole = { roleArn: `arn:aws:iam::${ACCOUNT}:role/kube-aws-test-1-worker-node`, instanceProfileArn: `arn:aws:iam::${ACCOUNT}:instance-profile/kube-aws-test-1-worker-node` };
  const iam = { clusterId: CLUSTER_GROUP, partition: 'aws', region: 'eu-central-1', nodeRoles: [nodeRole], roles: { Administrator: [`arn:aws:iam::${ACCOUNT}:role/PlatformAdmins`] } };

  test('is optional, and filled in when given', () => {
    expect(validateWebhookConfig(minimal).config?.iam).toBeUndefined();
    expect(validateWebhookConfig({ ...minimal, iam }).config?.iam).toEqual({
      ...iam,
      timeoutMs: DEFAULT_TOKEN_INFO_TIMEOUT_MS,
      roles: { ReadOnly: [], PowerUser: [], Administrator: iam.roles.Administrator },
    });
  });

  test.each([
    // The bare cluster name would let a token made for a cluster of that name in another account or region in.
    ['the cluster name alone', { clusterId: 'kube-aws-test-1' }, `iam.clusterId: must be clusterGroup (${CLUSTER_GROUP}), got "kube-aws-test-1"`],
    ['another region', { region: 'us-east-1' }, 'iam.region: must be the region of clusterGroup (eu-central-1), got "us-east-1"'],
    ['an unknown partition', { partition: 'aws-iso' }, 'iam.partition: must be one of aws, aws-cn, aws-us-gov, got "aws-iso"'],
    ['a node role of another account', { nodeRoles: [{ ...nodeRole, roleArn: 'arn:aws:iam::210987654321:role/x' }] }, "iam.nodeRoles[0].roleArn: must be in the cluster's account 123456789012"],
    ['a node role with a path', { nodeRoles: [{ ...nodeRole, roleArn: `arn:aws:iam::${ACCOUNT}:role/team/x` }] }, 'iam.nodeRoles[0].roleArn: must be arn:<partition>:iam::<account>:role/<name> (no path)'],
    ['a node role without its profile', { nodeRoles: [{ roleArn: nodeRole.roleArn }] }, 'iam.nodeRoles[0].instanceProfileArn: is required'],
    ['a person role that is a node role', { roles: { ReadOnly: [nodeRole.roleArn] } }, `iam.roles.ReadOnly: ${nodeRole.roleArn} is a node role (iam.nodeRoles); nodes get no user role`],
    ['a group name where an ARN belongs', { roles: { PowerUser: ['team-developers'] } }, 'iam.roles.PowerUser: must be a list of IAM role or user ARNs without a path'],
  ])('refuses %s, naming the field', (_, change, problem) => {
    expect(problemsOf({ ...minimal, iam: { ...iam, ...change } }).join('\n')).toContain(problem);
  });
});

describe('parseWebhookConfig and loadWebhookConfig', () => {
  test('invalid YAML is one problem naming the config', () => {
    expect(() => parseWebhookConfig('roles: [unclosed')).toThrow(/config: not valid YAML/);
  });

  test('throws a WebhookConfigError listing the problems', () => {
    try {
      parseWebhookConfig('roles:\n  Administrator: 3\n');
      throw new Error('expected a WebhookConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(WebhookConfigError);
      expect((error as WebhookConfigError).message).toContain('  - roles.Administrator: must be a list of group names, got 3');
    }
  });

  test('reads and validates the config file', () => {
    const directory = temporaryDirectory();
    expect(loadWebhookConfig(writeConfig(directory, configDocument(TOKEN_INFO_URL))).clusterGroup).toBe(CLUSTER_GROUP);
    expect(() => loadWebhookConfig(writeConfig(directory, { ...configDocument(TOKEN_INFO_URL), workerTokenFile: '/etc/kubernetes/pki/worker-token' })))
      .toThrow(/workerTokenFile: unknown field/);
  });

  test('a missing config file names --config', () => {
    expect(() => loadWebhookConfig('/nonexistent/kube-auth-webhook.yaml')).toThrow(/--config: cannot read \/nonexistent\/kube-auth-webhook.yaml: ENOENT/);
  });
});

describe('renderWebhookConfig', () => {
  test('renders YAML that parses back to the same config, defaults filled in', () => {
    const settings = { ...minimal, cache: { ttlSeconds: 30 }, roles: { ReadOnly: ['readers'], Administrator: ['admins'] } };
    const rendered = renderWebhookConfig(settings);
    expect(rendered.startsWith('# kube-auth-webhook configuration')).toBe(true);
    const config = parseWebhookConfig(rendered);
    expect(config).toEqual(validateWebhookConfig(settings).config);
    expect(config.cache).toEqual({ ttlSeconds: 30, maxEntries: DEFAULT_CACHE_MAX_ENTRIES });
    expect((yaml.load(rendered) as { roles: unknown }).roles).toEqual({ ReadOnly: ['readers'], PowerUser: [], Administrator: ['admins'] });
  });

  test('refuses invalid settings with the field path', () => {
    expect(() => renderWebhookConfig({ ...minimal, clusterGroup: 'kube-aws-test-1' })).toThrow(/clusterGroup: must look like/);
  });
});
