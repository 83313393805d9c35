import { X509Certificate, createPrivateKey } from 'node:crypto';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { OnEventRequest, RENEWAL_VERSION_STAGE, createHandler, createOnEventHandler } from '../../lib/secrets/handler';
import { readEncryptionKeys } from '../../lib/secrets/encryption-config';
import { BUNDLE_FILES } from '../../lib/secrets/bundle-files';
import { ClusterSecretNames, ENCRYPTION_CONFIG_FILE } from '../../userdata/secret-names';
import { encryptionConfigErrors } from './encryption-config-rules';
import { apiServerSans, sanList } from '../../lib/secrets/sans';
import { INPUT, INTERNAL_NAME, bundleFromBeforeInternalEndpoint } from './old-bundles';
import { subjectAltNames } from './pki-fixtures';
import { RENEWAL_EVENT_KEY, setCertificates } from '../../lib/secrets/certificate-metric';
import { CERTIFICATE_DAYS_LEFT_METRIC, CERTIFICATE_METRIC_DIMENSIONS, CERTIFICATE_METRIC_NAMESPACE } from '../../lib/certificate-expiry';
import { createFrontProxyCa, etcdMemberBundle } from '../../lib/secrets/bundles';
import { loadCertificateAuthority } from '../../lib/secrets/pki';

const names = new ClusterSecretNames('kube-aws-test-1');
const PROPS = {
  ServiceToken: 'arn:aws:lambda:eu-central-1:123456789012:function:provider',
  Set: 'etcd',
  ClusterName: 'kube-aws-test-1',
  ZoneName: 'team.example.org',
  EtcdMemberCount: '3',
  ServiceCidr: '10.3.0.0/24',
  ClusterDomain: 'cluster.local',
  Regenerate: '0',
  BundleFiles: BUNDLE_FILES.etcd.join(','),
};
const CONTROL_PLANE_PROPS = { ...PROPS, Set: 'control-plane', BundleFiles: BUNDLE_FILES['control-plane'].join(',') };

/**
 * Secrets Manager at the SDK boundary: the created (empty) secrets of both sets, in memory,
 * with versions and staging labels as the API reference describes them. PutSecretValue makes
 * a new version current, or attaches only the VersionStages given (moving each from the version
 * that had it); moving AWSCURRENT moves AWSPREVIOUS to the version it left
 * (PutSecretValue and UpdateSecretVersionStage). UpdateSecretVersionStage fails when the label
 * is on another version than RemoveFromVersionId (its RemoveFromVersionId: "If the label is
 * attached and you either do not specify this parameter, or the version ID does not match, then
 * the operation fails"; which exception is not documented: InvalidRequestException here).
 * `values` is what AWSCURRENT holds.
 */
function fakeSecretsManager(memberSecrets = 3, clock = () => new Date()) {
  const values = new Map<string, string | undefined>(
    [...names.ofSet('etcd', memberSecrets), ...names.ofSet('control-plane', memberSecrets)].map((name) => [name, undefined]),
  );
  /** Per secret: which version holds each staging label. */
  const labels = new Map<string, Map<string, string>>();
  /** Every version's value, by version id. */
  const versionValues = new Map<string, string | undefined>();
  let versionCount = 0;
  const puts: string[] = [];
  /** Called at the start of each call: a test lets another writer act at that moment. */
  const hooks: {
    beforeGet?: (id: string, stage?: string) => void;
    beforePut?: (id: string) => void;
    beforeMove?: (id: string) => Promise<void> | void;
  } = {};
  const mock = mockClient(SecretsManagerClient);
  const known = (id: string | undefined): string => {
    if (!id || !values.has(id)) {
      throw new ResourceNotFoundException({ message: `Secrets Manager can't find the specified secret: ${id}`, $metadata: {} });
    }
    return id;
  };
  const labelsOf = (name: string) => labels.get(name) ?? labels.set(name, new Map()).get(name)!;
  /** Puts `label` on `version`, and AWSPREVIOUS on the version AWSCURRENT leaves. */
  const attach = (name: string, label: string, version: string) => {
    const left = labelsOf(name).get(label);
    labelsOf(name).set(label, version);
    if (label === 'AWSCURRENT') {
      values.set(name, versionValues.get(version));
      if (left !== undefined && left !== version) labelsOf(name).set('AWSPREVIOUS', left);
    }
  };
  /** A new version of `name`, as PutSecretValue makes it (also: another writer's write); current unless `stages` say otherwise. */
  const write = (name: string, value: string | undefined, stages: readonly string[] = ['AWSCURRENT']): string => {
    const id = `v${++versionCount}`;
    versionValues.set(id, value);
    for (const label of stages) attach(name, label, id);
    return id;
  };
  const currentId = (name: string) => labelsOf(name).get('AWSCURRENT') ?? 'v0';
  const stagesOf = (name: string): Record<string, string[]> => {
    const result: Record<string, string[]> = {};
    for (const [label, version] of labelsOf(name)) (result[version] ??= []).push(label);
    // A test may set `values` directly: the value is then current, in some version.
    if (values.get(name) !== undefined && !labelsOf(name).has('AWSCURRENT')) result.v0 = ['AWSCURRENT'];
    return result;
  };
  mock.on(DescribeSecretCommand).callsFake(({ SecretId }) => {
    const id = known(SecretId);
    return { Name: id, VersionIdsToStages: values.get(id) === undefined ? undefined : stagesOf(id) };
  });
  mock.on(GetSecretValueCommand).callsFake(({ SecretId, VersionStage }) => {
    const id = known(SecretId);
    hooks.beforeGet?.(id, VersionStage);
    if (VersionStage !== undefined && VersionStage !== 'AWSCURRENT') {
      const version = labelsOf(id).get(VersionStage);
      return { VersionId: version, SecretString: version === undefined ? undefined : versionValues.get(version) };
    }
    return { VersionId: currentId(id), SecretString: values.get(id) };
  });
  mock.on(PutSecretValueCommand).callsFake(({ SecretId, SecretString, VersionStages }) => {
    hooks.beforePut?.(known(SecretId));
    puts.push(SecretId);
    return { VersionId: write(known(SecretId), SecretString, VersionStages) };
  });
  mock.on(UpdateSecretVersionStageCommand).callsFake(async ({ SecretId, VersionStage, MoveToVersionId, RemoveFromVersionId }) => {
    const id = known(SecretId);
    await hooks.beforeMove?.(id);
    const holder = VersionStage === 'AWSCURRENT' ? currentId(id) : labelsOf(id).get(VersionStage);
    if (holder !== undefined && holder !== MoveToVersionId && holder !== RemoveFromVersionId) {
      throw new InvalidRequestException({ message: `${VersionStage} is attached to another version`, $metadata: {} });
    }
    if (MoveToVersionId !== undefined) attach(id, VersionStage, MoveToVersionId);
    return { Name: id };
  });
  const client = new SecretsManagerClient({ region: 'eu-central-1' });
  return {
    mock,
    values,
    puts,
    write,
    hooks,
    /** The version holding `stage` of `name`, and its value. */
    version: (name: string, stage: string) => {
      const version = labelsOf(name).get(stage);
      return { id: version, value: version === undefined ? undefined : versionValues.get(version) };
    },
    handler: createOnEventHandler(client, clock),
    entry: createHandler(client, clock),
  };
}

function json(value: string | undefined): Record<string, string> {
  return JSON.parse(value ?? 'null');
}

const create = (props: Record<string, string>): OnEventRequest => ({ RequestType: 'Create', ResourceProperties: props });
const update = (old: Record<string, string>, props: Record<string, string>): OnEventRequest => ({
  RequestType: 'Update',
  PhysicalResourceId: `kubernetes-on-aws/kube-aws-test-1/${old.Set}`,
  ResourceProperties: props,
  OldResourceProperties: old,
});

describe('secrets handler', () => {
  beforeAll(() => jest.spyOn(console, 'log').mockImplementation(() => undefined));

  test('Create fills every etcd secret, CA holder first, with chains to one etcd CA', async () => {
    const aws = fakeSecretsManager();

    const response = await aws.handler(create(PROPS));

    expect(response).toEqual({ PhysicalResourceId: 'kubernetes-on-aws/kube-aws-test-1/etcd' });
    expect(aws.puts).toEqual(names.ofSet('etcd', 3));
    const ca = new X509Certificate(json(aws.values.get(names.etcdCa))['ca.crt']);
    for (const member of names.etcdMembers(3)) {
      expect(new X509Certificate(json(aws.values.get(member))['member.crt']).checkIssued(ca)).toBe(true);
    }
    expect(json(aws.values.get(names.apiServerEtcdClient))['etcd-ca.crt']).toBe(ca.toString());
    expect(aws.values.get(names.controlPlane)).toBeUndefined();
  });

  test('Create fills the control-plane set; worker and admin share its CA and tokens', async () => {
    const aws = fakeSecretsManager();

    await aws.handler(create(CONTROL_PLANE_PROPS));

    expect(aws.puts).toEqual([names.frontProxyCa, names.controlPlane, names.worker, names.admin]);
    const controlPlane = json(aws.values.get(names.controlPlane));
    expect(json(aws.values.get(names.worker))).toEqual({ 'ca.crt': controlPlane['ca.crt'] });
    expect(json(aws.values.get(names.admin))).toEqual({
      'ca.crt': controlPlane['ca.crt'],
      'admin-token': controlPlane['admin-token'],
    });
  });

  test('is idempotent: running Create again, or an Update with the same Regenerate, writes nothing', async () => {
    const aws = fakeSecretsManager();
    await aws.handler(create(CONTROL_PLANE_PROPS));
    const before = new Map(aws.values);
    aws.puts.length = 0;

    await aws.handler(create(CONTROL_PLANE_PROPS));
    const response = await aws.handler(update(CONTROL_PLANE_PROPS, CONTROL_PLANE_PROPS));

    expect(aws.puts).toEqual([]);
    expect(aws.values).toEqual(before);
    expect(response.PhysicalResourceId).toBe('kubernetes-on-aws/kube-aws-test-1/control-plane');
  });

  test('a changed Regenerate replaces every value of the set, CA included', async () => {
    const aws = fakeSecretsManager();
    await aws.handler(create(CONTROL_PLANE_PROPS));
    const before = new Map(aws.values);

    await aws.handler(update(CONTROL_PLANE_PROPS, { ...CONTROL_PLANE_PROPS, Regenerate: '1' }));

    for (const name of names.ofSet('control-plane', 3)) {
      expect(aws.values.get(name)).not.toBe(before.get(name));
    }
    expect(json(aws.values.get(names.controlPlane))['ca.crt']).not.toBe(json(before.get(names.controlPlane))['ca.crt']);
  });

  test('more members: only the new member secrets are written, signed by the existing etcd CA', async () => {
    const aws = fakeSecretsManager(5);
    await aws.handler(create(PROPS));
    const before = new Map(aws.values);
    aws.puts.length = 0;

    await aws.handler(update(PROPS, { ...PROPS, EtcdMemberCount: '5' }));

    expect(aws.puts).toEqual([names.etcdMember(3), names.etcdMember(4)]);
    const ca = new X509Certificate(json(before.get(names.etcdCa))['ca.crt']);
    expect(new X509Certificate(json(aws.values.get(names.etcdMember(4)))['member.crt']).checkIssued(ca)).toBe(true);
    expect(aws.values.get(names.etcdMember(0))).toBe(before.get(names.etcdMember(0)));
  });

  test('a changed zone without Regenerate fails, saying how to reissue', async () => {
    const aws = fakeSecretsManager();
    await aws.handler(create(CONTROL_PLANE_PROPS));

    await expect(
      aws.handler(update(CONTROL_PLANE_PROPS, { ...CONTROL_PLANE_PROPS, ZoneName: 'other.example.org' })),
    ).rejects.toThrow(/zoneName changed from "team.example.org" to "other.example.org".*increase the ClusterSecrets "regenerate" prop/);
  });

  test('a changed service CIDR does not concern the etcd set', async () => {
    const aws = fakeSecretsManager();
    await aws.handler(create(PROPS));
    aws.puts.length = 0;

    await aws.handler(update(PROPS, { ...PROPS, ServiceCidr: '10.4.0.0/24' }));

    expect(aws.puts).toEqual([]);
  });

  test('refuses to fill a set whose CA holder lost its value while others kept theirs', async () => {
    const aws = fakeSecretsManager();
    await aws.handler(create(PROPS));
    aws.values.set(names.etcdCa, undefined);
    aws.puts.length = 0;

    await expect(aws.handler(update(PROPS, PROPS))).rejects.toThrow(/etcd-ca has no value, but .*etcd-member-0/);
    expect(aws.puts).toEqual([]);
  });

  test('Delete keeps the secrets (they have their own removal policy) and the physical id', async () => {
    const aws = fakeSecretsManager();

    const response = await aws.handler({
      RequestType: 'Delete',
      PhysicalResourceId: 'kubernetes-on-aws/kube-aws-test-1/etcd',
      ResourceProperties: PROPS,
    });

    expect(response).toEqual({ PhysicalResourceId: 'kubernetes-on-aws/kube-aws-test-1/etcd' });
    expect(aws.mock.calls()).toHaveLength(0);
  });

  test('rejects bad resource properties by name', async () => {
    const aws = fakeSecretsManager();
    await expect(aws.handler(create({ ...PROPS, Set: 'workers' }))).rejects.toThrow(/Set must be one of etcd, control-plane; got "workers"/);
    const { ZoneName: _zone, ...withoutZone } = PROPS;
    await expect(aws.handler(create(withoutZone))).rejects.toThrow(/ZoneName is missing/);
  });

  test('logs which secrets it wrote, never their values (tokens, keys, the encryption key)', async () => {
    const aws = fakeSecretsManager();
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);

    await aws.handler(create(CONTROL_PLANE_PROPS));
    await aws.handler(update(CONTROL_PLANE_PROPS, { ...CONTROL_PLANE_PROPS, Regenerate: '1' }));

    const logged = log.mock.calls.flat().join('\n');
    expect(logged).toContain(names.admin);
    const token = json(aws.values.get(names.admin))['admin-token'];
    expect(logged).not.toContain(token);
    expect(logged).not.toContain('PRIVATE KEY');
    for (const key of readEncryptionKeys(json(aws.values.get(names.controlPlane))[ENCRYPTION_CONFIG_FILE])) {
      expect(logged).not.toContain(key.secret);
    }
  });
});

describe('secrets handler: Secrets encryption key', () => {
  beforeAll(() => jest.spyOn(console, 'log').mockImplementation(() => undefined));

  /** A control-plane secret as a release before encryption at rest wrote it. */
  async function clusterFromBeforeEncryption() {
    const aws = fakeSecretsManager();
    await aws.handler(create(CONTROL_PLANE_PROPS));
    const { [ENCRYPTION_CONFIG_FILE]: _added, ...old } = json(aws.values.get(names.controlPlane));
    aws.values.set(names.controlPlane, JSON.stringify(old));
    aws.puts.length = 0;
    return { aws, old };
  }

  test('an existing control-plane secret without the file gains it on the next deploy, and nothing else changes', async () => {
    const { aws, old } = await clusterFromBeforeEncryption();
    const before = new Map(aws.values);
    const olderRelease = { ...CONTROL_PLANE_PROPS, BundleFiles: BUNDLE_FILES['control-plane'].filter((f) => f !== ENCRYPTION_CONFIG_FILE).join(',') };

    await aws.handler(update(olderRelease, CONTROL_PLANE_PROPS));

    expect(aws.puts).toEqual([names.controlPlane]);
    const now = json(aws.values.get(names.controlPlane));
    const { [ENCRYPTION_CONFIG_FILE]: config, ...rest } = now;
    expect(rest).toEqual(old);
    expect(Object.keys(rest)).toEqual(Object.keys(old)); // same order: a byte-for-byte superset
    expect(encryptionConfigErrors(config)).toEqual([]);
    expect(readEncryptionKeys(config).map((k) => k.name)).toEqual([expect.stringMatching(/^key-1-[0-9a-f]{6}$/)]);
    expect(aws.values.get(names.worker)).toBe(before.get(names.worker));
    expect(aws.values.get(names.admin)).toBe(before.get(names.admin));
  });

  test('the file is added once: the next deploy keeps the key it made', async () => {
    const { aws } = await clusterFromBeforeEncryption();
    await aws.handler(update(CONTROL_PLANE_PROPS, CONTROL_PLANE_PROPS));
    const withKey = aws.values.get(names.controlPlane);
    aws.puts.length = 0;

    await aws.handler(update(CONTROL_PLANE_PROPS, CONTROL_PLANE_PROPS));
    await aws.handler(create(CONTROL_PLANE_PROPS));

    expect(aws.puts).toEqual([]);
    expect(aws.values.get(names.controlPlane)).toBe(withKey);
  });

  test('worker and admin secrets never carry the encryption config', async () => {
    const aws = fakeSecretsManager();
    await aws.handler(create(CONTROL_PLANE_PROPS));
    await aws.handler(update(CONTROL_PLANE_PROPS, { ...CONTROL_PLANE_PROPS, Regenerate: '1' }));

    for (const name of [names.worker, names.admin]) {
      expect(Object.keys(json(aws.values.get(name)))).not.toContain(ENCRYPTION_CONFIG_FILE);
      expect(aws.values.get(name)).not.toContain('secretbox');
    }
  });

  test('rotation makes a new current key and keeps every earlier key after it, oldest last', async () => {
    const aws = fakeSecretsManager();
    await aws.handler(create(CONTROL_PLANE_PROPS));
    const keysAt = () => readEncryptionKeys(json(aws.values.get(names.controlPlane))[ENCRYPTION_CONFIG_FILE]);
    const first = keysAt();

    await aws.handler(update(CONTROL_PLANE_PROPS, { ...CONTROL_PLANE_PROPS, Regenerate: '1' }));
    const second = keysAt();
    await aws.handler(update({ ...CONTROL_PLANE_PROPS, Regenerate: '1' }, { ...CONTROL_PLANE_PROPS, Regenerate: '2' }));
    const third = keysAt();

    expect(third.map((k) => k.name)).toEqual([expect.stringMatching(/^key-3-[0-9a-f]{6}$/), expect.stringMatching(/^key-2-[0-9a-f]{6}$/), expect.stringMatching(/^key-1-[0-9a-f]{6}$/)]);
    expect(third.slice(1)).toEqual(second);
    expect(second.slice(1)).toEqual(first);
    expect(encryptionConfigErrors(json(aws.values.get(names.controlPlane))[ENCRYPTION_CONFIG_FILE])).toEqual([]);
  });

  test('rotating a control plane from before encryption starts its keys at key-1', async () => {
    const { aws } = await clusterFromBeforeEncryption();

    await aws.handler(update(CONTROL_PLANE_PROPS, { ...CONTROL_PLANE_PROPS, Regenerate: '1' }));

    expect(readEncryptionKeys(json(aws.values.get(names.controlPlane))[ENCRYPTION_CONFIG_FILE]).map((k) => k.name)).toEqual([expect.stringMatching(/^key-1-[0-9a-f]{6}$/)]);
  });

  test('a rotation over an unreadable encryption config fails without writing or quoting anything', async () => {
    const aws = fakeSecretsManager();
    await aws.handler(create(CONTROL_PLANE_PROPS));
    const bundle = json(aws.values.get(names.controlPlane));
    const damaged = bundle[ENCRYPTION_CONFIG_FILE].replace(/secret: (\S+)/, 'secret: $1: damaged');
    aws.values.set(names.controlPlane, JSON.stringify({ ...bundle, [ENCRYPTION_CONFIG_FILE]: damaged }));
    aws.puts.length = 0;

    const failure = aws.handler(update(CONTROL_PLANE_PROPS, { ...CONTROL_PLANE_PROPS, Regenerate: '1' }));

    await expect(failure).rejects.toThrow(/encryption-config.yaml of the control-plane secret cannot be read \(not YAML \(line \d+\)\)/);
    const message = await failure.catch((error: Error) => error.message);
    expect(message).not.toContain(readEncryptionKeys(bundle[ENCRYPTION_CONFIG_FILE])[0].secret);
    expect(aws.puts).toEqual([]);
  });

  test('a control-plane secret that is not a JSON object fails without quoting it', async () => {
    const aws = fakeSecretsManager();
    await aws.handler(create(CONTROL_PLANE_PROPS));
    const token = json(aws.values.get(names.controlPlane))['admin-token'];
    aws.values.set(names.controlPlane, `{"admin-token": "${token}"`);

    const failure = aws.handler(update(CONTROL_PLANE_PROPS, CONTROL_PLANE_PROPS));

    await expect(failure).rejects.toThrow(/control-plane does not hold a JSON object/);
    expect(await failure.catch((error: Error) => error.message)).not.toContain(token);
  });
});

describe('secrets handler: API server names added by a release', () => {
  beforeAll(() => jest.spyOn(console, 'log').mockImplementation(() => undefined));

  const withNames = (props: Record<string, string>, names: string[]) => ({ ...props, ApiServerNames: names.join(',') });
  const currentNames = sanList(apiServerSans(INPUT));
  const NEW_RELEASE = withNames(CONTROL_PLANE_PROPS, currentNames);
  const OLD_RELEASE = withNames(CONTROL_PLANE_PROPS, currentNames.filter((name) => name !== `DNS:${INTERNAL_NAME}`));

  /** A cluster whose control-plane secret the release before the internal endpoint wrote. */
  async function clusterFromBeforeInternalEndpoint() {
    const aws = fakeSecretsManager();
    await aws.handler(create(OLD_RELEASE));
    aws.values.set(names.controlPlane, JSON.stringify(await bundleFromBeforeInternalEndpoint(json(aws.values.get(names.controlPlane)))));
    aws.puts.length = 0;
    return aws;
  }

  test('the upgrade re-issues apiserver.crt from the existing CA; worker, admin and every other file stay', async () => {
    const aws = await clusterFromBeforeInternalEndpoint();
    const before = new Map(aws.values);
    const old = json(before.get(names.controlPlane));

    await aws.handler(update(OLD_RELEASE, NEW_RELEASE));

    expect(aws.puts).toEqual([names.controlPlane]);
    const now = json(aws.values.get(names.controlPlane));
    expect(subjectAltNames(now['apiserver.crt'])).toContain(`DNS:${INTERNAL_NAME}`);
    const ca = new X509Certificate(old['ca.crt']);
    expect(new X509Certificate(now['apiserver.crt']).checkIssued(ca)).toBe(true);
    expect(new X509Certificate(now['apiserver.crt']).verify(ca.publicKey)).toBe(true);
    const { 'apiserver.crt': _crt, 'apiserver.key': _key, ...rest } = now;
    const { 'apiserver.crt': _oldCrt, 'apiserver.key': _oldKey, ...oldRest } = old;
    expect(rest).toEqual(oldRest);
    expect(Object.keys(now)).toEqual(Object.keys(old));
    expect(aws.values.get(names.worker)).toBe(before.get(names.worker));
    expect(aws.values.get(names.admin)).toBe(before.get(names.admin));
  });

  test('logs the re-issued file names and the missing name, never key material', async () => {
    const aws = await clusterFromBeforeInternalEndpoint();
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    log.mockClear();

    await aws.handler(update(OLD_RELEASE, NEW_RELEASE));

    const entries = log.mock.calls.map(([line]) => JSON.parse(String(line)));
    expect(entries).toContainEqual(
      expect.objectContaining({
        written: [names.controlPlane],
        changes: [{ secret: names.controlPlane, files: ['apiserver.crt', 'apiserver.key'], reason: `apiserver.crt lacks DNS:${INTERNAL_NAME}` }],
      }),
    );
    const logged = log.mock.calls.flat().join('\n');
    expect(logged).not.toContain('PRIVATE KEY');
    expect(logged).not.toContain('BEGIN CERTIFICATE');
    expect(logged).not.toContain(json(aws.values.get(names.controlPlane))['admin-token']);
  });

  test('once re-issued, later deploys write nothing', async () => {
    const aws = await clusterFromBeforeInternalEndpoint();
    await aws.handler(update(OLD_RELEASE, NEW_RELEASE));
    const reissued = aws.values.get(names.controlPlane);
    aws.puts.length = 0;

    await aws.handler(update(NEW_RELEASE, NEW_RELEASE));
    await aws.handler(create(NEW_RELEASE));

    expect(aws.puts).toEqual([]);
    expect(aws.values.get(names.controlPlane)).toBe(reissued);
  });

  test('a regenerated control plane is a new one: no re-issue on top of it', async () => {
    const aws = await clusterFromBeforeInternalEndpoint();
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    log.mockClear();

    await aws.handler(update(OLD_RELEASE, { ...NEW_RELEASE, Regenerate: '1' }));

    expect(JSON.parse(String(log.mock.calls[0][0]))).toEqual(expect.objectContaining({ regenerate: true, changes: [] }));
    expect(subjectAltNames(json(aws.values.get(names.controlPlane))['apiserver.crt'])).toContain(`DNS:${INTERNAL_NAME}`);
  });
});

describe('secrets handler: the front-proxy CA', () => {
  let log: jest.SpyInstance;
  beforeEach(() => {
    log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => log.mockRestore());

  const FRONT_PROXY_FILES = ['front-proxy-ca.crt', 'front-proxy-client.crt', 'front-proxy-client.key'];
  const others = (bundle: Record<string, string>) => Object.entries(bundle).filter(([file]) => !FRONT_PROXY_FILES.includes(file));

  /** A cluster whose control-plane set an earlier release wrote: the same bundle, and no front-proxy-ca value (that release dropped the key). */
  async function clusterFromBeforeFrontProxyCaKept() {
    const aws = fakeSecretsManager();
    await aws.handler(create(CONTROL_PLANE_PROPS));
    aws.values.set(names.frontProxyCa, undefined); // the new, empty secret CloudFormation adds
    aws.puts.length = 0;
    log.mockClear();
    return aws;
  }

  test('Create keeps the front-proxy CA and its key in a secret of their own, written first; no other secret holds the key', async () => {
    const aws = fakeSecretsManager();

    await aws.handler(create(CONTROL_PLANE_PROPS));

    expect(aws.puts[0]).toBe(names.frontProxyCa);
    const frontProxyCa = json(aws.values.get(names.frontProxyCa));
    expect(Object.keys(frontProxyCa)).toEqual(['ca.crt', 'ca.key']);
    const controlPlane = json(aws.values.get(names.controlPlane));
    expect(controlPlane['front-proxy-ca.crt']).toBe(frontProxyCa['ca.crt']);
    expect(new X509Certificate(frontProxyCa['ca.crt']).checkPrivateKey(createPrivateKey(frontProxyCa['ca.key']))).toBe(true);
    const keyBody = frontProxyCa['ca.key'].split('\n')[1];
    for (const name of [names.controlPlane, names.worker, names.admin]) expect(aws.values.get(name)).not.toContain(keyBody);
  });

  test('an existing cluster without it gets a new front-proxy chain at the next deploy; every other file stays byte for byte', async () => {
    const aws = await clusterFromBeforeFrontProxyCaKept();
    const before = new Map(aws.values);
    const old = json(before.get(names.controlPlane));

    await aws.handler(update(CONTROL_PLANE_PROPS, CONTROL_PLANE_PROPS));

    expect(aws.puts).toEqual([names.frontProxyCa, names.controlPlane]);
    const kept = json(aws.values.get(names.frontProxyCa));
    const now = json(aws.values.get(names.controlPlane));
    expect(now['front-proxy-ca.crt']).toBe(kept['ca.crt']);
    expect(now['front-proxy-ca.crt']).not.toBe(old['front-proxy-ca.crt']);
    const ca = new X509Certificate(kept['ca.crt']);
    const client = new X509Certificate(now['front-proxy-client.crt']);
    expect(client.checkIssued(ca) && client.verify(ca.publicKey)).toBe(true);
    expect(client.checkPrivateKey(createPrivateKey(now['front-proxy-client.key']))).toBe(true);
    expect(others(now)).toEqual(others(old)); // same files, values and order
    expect(Object.keys(now)).toEqual(Object.keys(old));
    expect(aws.values.get(names.worker)).toBe(before.get(names.worker));
    expect(aws.values.get(names.admin)).toBe(before.get(names.admin));

    aws.puts.length = 0;
    await aws.handler(update(CONTROL_PLANE_PROPS, CONTROL_PLANE_PROPS));
    expect(aws.puts).toEqual([]); // once: the chain is now of the kept CA
  });

  test('its log names the secrets, files and reasons, never a key or certificate', async () => {
    const aws = await clusterFromBeforeFrontProxyCaKept();

    await aws.handler(update(CONTROL_PLANE_PROPS, CONTROL_PLANE_PROPS));

    const summary = JSON.parse(String(log.mock.calls[0][0]));
    expect(summary).toEqual({
      set: 'control-plane',
      regenerate: false,
      written: [names.frontProxyCa, names.controlPlane],
      changes: [
        { secret: names.frontProxyCa, files: ['ca.crt', 'ca.key'], reason: expect.stringMatching(/^the front-proxy CA had no stored key/) },
        { secret: names.controlPlane, files: FRONT_PROXY_FILES, reason: expect.stringMatching(/^front-proxy-ca\.crt is not the front-proxy CA whose key is kept/) },
      ],
    });
    const logged = log.mock.calls.flat().join('\n');
    expect(logged).not.toContain('PRIVATE KEY');
    expect(logged).not.toContain('BEGIN CERTIFICATE');
    expect(logged).not.toContain(json(aws.values.get(names.frontProxyCa))['ca.key'].split('\n')[1]);
  });

  test('after the upgrade, renewal at now + 500 days renews the new client from the kept CA', async () => {
    let now = new Date();
    const aws = fakeSecretsManager(3, () => now);
    await aws.handler(create(CONTROL_PLANE_PROPS));
    aws.values.set(names.frontProxyCa, undefined);
    await aws.handler(update(CONTROL_PLANE_PROPS, CONTROL_PLANE_PROPS));
    const upgraded = json(aws.values.get(names.controlPlane));
    now = new Date(now.getTime() + 500 * 86_400_000);

    const result = await aws.entry({ [RENEWAL_EVENT_KEY]: CONTROL_PLANE_PROPS });

    expect(result).toMatchObject({ written: [names.controlPlane], notRenewed: [] });
    const renewed = json(aws.values.get(names.controlPlane));
    expect(renewed['front-proxy-client.crt']).not.toBe(upgraded['front-proxy-client.crt']);
    expect(renewed['front-proxy-ca.crt']).toBe(upgraded['front-proxy-ca.crt']);
    const ca = new X509Certificate(json(aws.values.get(names.frontProxyCa))['ca.crt']);
    expect(new X509Certificate(renewed['front-proxy-client.crt']).verify(ca.publicKey)).toBe(true);
  });

  test('a Create stopped after writing the front-proxy CA is completed from it', async () => {
    const aws = fakeSecretsManager();
    const ca = await createFrontProxyCa();
    aws.values.set(names.frontProxyCa, JSON.stringify(ca.bundle));

    await aws.handler(create(CONTROL_PLANE_PROPS));

    expect(aws.puts).toEqual([names.controlPlane, names.worker, names.admin]);
    expect(json(aws.values.get(names.controlPlane))['front-proxy-ca.crt']).toBe(ca.bundle['ca.crt']);
  });

  test('a front-proxy-ca value that is not a CA and its key fails the deploy without quoting it', async () => {
    const aws = fakeSecretsManager();
    await aws.handler(create(CONTROL_PLANE_PROPS));
    const kept = json(aws.values.get(names.frontProxyCa));
    const other = await createFrontProxyCa();
    aws.values.set(names.frontProxyCa, JSON.stringify({ 'ca.crt': kept['ca.crt'], 'ca.key': other.bundle['ca.key'] }));
    aws.puts.length = 0;

    const failure = aws.handler(update(CONTROL_PLANE_PROPS, CONTROL_PLANE_PROPS));

    await expect(failure).rejects.toThrow(/front-proxy-ca does not hold a CA certificate \(ca.crt\) and its key \(ca.key\); restore its previous version/);
    expect(await failure.catch((error: Error) => error.message)).not.toContain('PRIVATE KEY');
    expect(aws.puts).toEqual([]);
  });
});

describe('secrets handler: scheduled renewal', () => {
  const DAY = 86_400_000;
  let now = new Date();
  const clock = () => now;
  const renewal = (props: Record<string, string>) => ({ [RENEWAL_EVENT_KEY]: props });
  let log: jest.SpyInstance;
  beforeEach(() => {
    now = new Date();
    log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => log.mockRestore());

  const lines = () => log.mock.calls.map(([line]) => String(line));
  const metricLines = () => lines().map((line) => JSON.parse(line)).filter((entry) => '_aws' in entry);

  /** A set the Create wrote at the real clock; for etcd, member 2 re-issued 300 days later (not due at +500). */
  async function clusterAt(set: 'etcd' | 'control-plane') {
    const aws = fakeSecretsManager(3, clock);
    await aws.handler(create(set === 'etcd' ? PROPS : CONTROL_PLANE_PROPS));
    if (set === 'etcd') {
      const etcdCa = json(aws.values.get(names.etcdCa));
      const ca = await loadCertificateAuthority({ certificatePem: etcdCa['ca.crt'], privateKeyPem: etcdCa['ca.key'] });
      aws.values.set(names.etcdMember(2), JSON.stringify(await etcdMemberBundle(ca, INPUT, 2, new Date(now.getTime() + 300 * DAY))));
    }
    aws.puts.length = 0;
    log.mockClear();
    return aws;
  }

  test('at now + 500 days it writes exactly the secrets with a due leaf; the CA secret and the fresh member stay', async () => {
    const aws = await clusterAt('etcd');
    const before = new Map(aws.values);
    now = new Date(now.getTime() + 500 * DAY);

    const result = await aws.entry(renewal(PROPS));

    expect(aws.puts).toEqual([names.etcdMember(0), names.etcdMember(1), names.apiServerEtcdClient]);
    expect(result).toEqual({ written: aws.puts, skipped: [], notRenewed: [] });
    expect(aws.values.get(names.etcdCa)).toBe(before.get(names.etcdCa));
    expect(aws.values.get(names.etcdMember(2))).toBe(before.get(names.etcdMember(2)));
    const ca = new X509Certificate(json(before.get(names.etcdCa))['ca.crt']);
    for (const name of [names.etcdMember(0), names.etcdMember(1)]) {
      const renewed = json(aws.values.get(name));
      expect(renewed['member.crt']).not.toBe(json(before.get(name))['member.crt']);
      expect(new X509Certificate(renewed['member.crt']).checkIssued(ca)).toBe(true);
      expect(renewed['ca.crt']).toBe(json(before.get(name))['ca.crt']);
    }

    aws.puts.length = 0;
    await aws.entry(renewal(PROPS));
    expect(aws.puts).toEqual([]); // renewed leaves are not due again
  });

  test('control plane: only the control-plane secret is written, both leaves renewed; the CA secret, worker and admin stay', async () => {
    const aws = await clusterAt('control-plane');
    const before = new Map(aws.values);
    now = new Date(now.getTime() + 500 * DAY);

    await aws.entry(renewal(CONTROL_PLANE_PROPS));

    expect(aws.puts).toEqual([names.controlPlane]);
    for (const name of [names.frontProxyCa, names.worker, names.admin]) expect(aws.values.get(name)).toBe(before.get(name));
    const renewed = json(aws.values.get(names.controlPlane));
    const frontProxyCa = new X509Certificate(json(before.get(names.frontProxyCa))['ca.crt']);
    expect(new X509Certificate(renewed['front-proxy-client.crt']).checkIssued(frontProxyCa)).toBe(true);
    expect(new X509Certificate(renewed['front-proxy-client.crt']).verify(frontProxyCa.publicKey)).toBe(true);
    const summary = JSON.parse(lines()[0]);
    expect(summary).toEqual({
      set: 'control-plane',
      renewal: true,
      written: [names.controlPlane],
      changes: [
        { secret: names.controlPlane, files: ['apiserver.crt', 'apiserver.key'], reason: expect.stringMatching(/^apiserver\.crt had/) },
        { secret: names.controlPlane, files: ['front-proxy-client.crt', 'front-proxy-client.key'], reason: expect.stringMatching(/^front-proxy-client\.crt had/) },
      ],
      skipped: [],
      notRenewed: [],
    });
  });

  test('one EMF line per certificate, CAs included, in the shape of the EMF specification, value in days', async () => {
    const aws = await clusterAt('etcd');
    now = new Date(now.getTime() + 500 * DAY);

    await aws.entry(renewal(PROPS));

    const metrics = metricLines();
    expect(metrics.map((m) => m.Certificate)).toEqual(setCertificates('etcd', 'kube-aws-test-1', 3).map((c) => c.id));
    for (const metric of metrics) {
      expect(metric).toEqual({
        _aws: {
          Timestamp: now.getTime(),
          CloudWatchMetrics: [
            {
              Namespace: CERTIFICATE_METRIC_NAMESPACE,
              Dimensions: [[CERTIFICATE_METRIC_DIMENSIONS.cluster, CERTIFICATE_METRIC_DIMENSIONS.certificate]],
              Metrics: [{ Name: CERTIFICATE_DAYS_LEFT_METRIC, Unit: 'None' }],
            },
          ],
        },
        [CERTIFICATE_METRIC_DIMENSIONS.cluster]: 'kube-aws-test-1',
        [CERTIFICATE_METRIC_DIMENSIONS.certificate]: metric.Certificate,
        [CERTIFICATE_DAYS_LEFT_METRIC]: expect.any(Number),
      });
    }
    const daysLeft = Object.fromEntries(metrics.map((m) => [m.Certificate, m[CERTIFICATE_DAYS_LEFT_METRIC]]));
    // After the renewal: renewed leaves have a full lifetime again, the later member 530 days, the CA 3150.
    expect(daysLeft['etcd/etcd-member-0/member.crt']).toBeCloseTo(730, 0);
    expect(daysLeft['etcd/apiserver-etcd-client/apiserver-etcd-client.crt']).toBeCloseTo(730, 0);
    expect(daysLeft['etcd/etcd-member-2/member.crt']).toBeCloseTo(530, 0);
    expect(daysLeft['etcd/etcd-ca/ca.crt']).toBeCloseTo(3150, 0);
  });

  test('the custom resource publishes the metric too, at Create', async () => {
    const aws = fakeSecretsManager(3, clock);

    await aws.handler(create(CONTROL_PLANE_PROPS));

    expect(metricLines().map((m) => [m.Certificate, Math.round(m[CERTIFICATE_DAYS_LEFT_METRIC])])).toEqual([
      ['control-plane/control-plane/ca.crt', 3650],
      ['control-plane/front-proxy-ca/ca.crt', 3650],
      ['control-plane/control-plane/apiserver.crt', 730],
      ['control-plane/control-plane/front-proxy-client.crt', 730],
    ]);
  });

  test('no log line carries a key, a certificate, the admin token or an encryption key', async () => {
    const aws = fakeSecretsManager(3, clock);
    await aws.handler(create(CONTROL_PLANE_PROPS));
    now = new Date(now.getTime() + 500 * DAY);
    await aws.entry(renewal(CONTROL_PLANE_PROPS));

    const logged = lines().join('\n');
    const bundle = json(aws.values.get(names.controlPlane));
    expect(logged).toContain('CertificateDaysLeft');
    expect(logged).not.toContain('PRIVATE KEY');
    expect(logged).not.toContain('BEGIN CERTIFICATE');
    expect(logged).not.toContain(bundle['admin-token']);
    for (const key of readEncryptionKeys(bundle[ENCRYPTION_CONFIG_FILE])) expect(logged).not.toContain(key.secret);
    for (const file of ['apiserver.key', 'sa.key', 'ca.key', 'front-proxy-client.key']) {
      expect(logged).not.toContain(bundle[file].split('\n')[1]); // a line of base64 from the key's body
    }
    expect(logged).not.toContain(json(aws.values.get(names.frontProxyCa))['ca.key'].split('\n')[1]);
  });

  /** Lets another writer put `value` into the control-plane secret once, at the `nth` call of `kind` on it. */
  function anotherWriterAt(aws: ReturnType<typeof fakeSecretsManager>, kind: 'beforeGet' | 'beforePut', nth: number, value: () => Record<string, string>) {
    let calls = 0;
    aws.hooks[kind] = (id: string, stage?: string) => {
      if (id === names.controlPlane && stage === undefined && ++calls === nth) aws.write(id, JSON.stringify(value()));
    };
  }

  test('a secret a deploy re-issued between the plan and the write is not written over; the next run decides again', async () => {
    const aws = await clusterAt('control-plane');
    now = new Date(now.getTime() + 500 * DAY);
    const reissuedByDeploy = { ...json(aws.values.get(names.controlPlane)), 'apiserver.crt': 'a certificate a deploy just wrote' };
    anotherWriterAt(aws, 'beforeGet', 2, () => reissuedByDeploy); // the read right before the write

    const result = await aws.entry(renewal(CONTROL_PLANE_PROPS));

    expect(aws.puts).toEqual([]);
    expect(result).toMatchObject({ written: [], skipped: [names.controlPlane] });
    expect(json(aws.values.get(names.controlPlane))['apiserver.crt']).toBe('a certificate a deploy just wrote');
  });

  test('a file a deploy added between the plan and the write survives: only the renewed files are replaced', async () => {
    const aws = await clusterAt('control-plane');
    now = new Date(now.getTime() + 500 * DAY);
    const before = json(aws.values.get(names.controlPlane));
    anotherWriterAt(aws, 'beforeGet', 2, () => ({ ...before, [ENCRYPTION_CONFIG_FILE]: 'the config a deploy just wrote' }));

    await aws.entry(renewal(CONTROL_PLANE_PROPS));

    expect(aws.puts).toEqual([names.controlPlane]);
    const written = json(aws.values.get(names.controlPlane));
    expect(written[ENCRYPTION_CONFIG_FILE]).toBe('the config a deploy just wrote');
    expect(written['apiserver.crt']).not.toBe(before['apiserver.crt']);
  });

  test('no race: the renewed value is put under the renewal label, then AWSCURRENT moves to it from the version read', async () => {
    const aws = await clusterAt('control-plane');
    now = new Date(now.getTime() + 500 * DAY);
    const read = aws.version(names.controlPlane, 'AWSCURRENT');
    let currentAtMove: string | undefined;
    aws.hooks.beforeMove = (id) => {
      currentAtMove = aws.version(id, 'AWSCURRENT').id;
    };

    const result = await aws.entry(renewal(CONTROL_PLANE_PROPS));

    expect(result).toEqual({ written: [names.controlPlane], skipped: [], notRenewed: [] });
    const ours = aws.version(names.controlPlane, RENEWAL_VERSION_STAGE);
    expect(currentAtMove).toBe(read.id); // the put alone made nothing current
    expect(aws.version(names.controlPlane, 'AWSCURRENT')).toEqual(ours);
    expect(aws.version(names.controlPlane, 'AWSPREVIOUS')).toEqual(read);
    expect(aws.mock.commandCalls(UpdateSecretVersionStageCommand).map((call) => call.args[0].input)).toEqual([
      { SecretId: names.controlPlane, VersionStage: 'AWSCURRENT', MoveToVersionId: ours.id, RemoveFromVersionId: read.id },
    ]);
    expect(json(ours.value)['apiserver.crt']).not.toBe(json(read.value)['apiserver.crt']);
  });

  test('a deploy writing between the read and the renewal\'s write keeps its value current; nothing of the renewal becomes current', async () => {
    const aws = await clusterAt('control-plane');
    now = new Date(now.getTime() + 500 * DAY);
    const read = aws.version(names.controlPlane, 'AWSCURRENT');
    const deployed = JSON.stringify({ ...json(read.value), [ENCRYPTION_CONFIG_FILE]: 'the config a deploy just wrote' });
    aws.hooks.beforePut = (id) => {
      if (id === names.controlPlane && aws.values.get(id) !== deployed) aws.write(id, deployed);
    };

    const result = await aws.entry(renewal(CONTROL_PLANE_PROPS));

    expect(result).toMatchObject({ written: [], skipped: [names.controlPlane] });
    expect(aws.values.get(names.controlPlane)).toBe(deployed);
    expect(aws.version(names.controlPlane, 'AWSPREVIOUS')).toEqual(read);
    expect(aws.version(names.controlPlane, RENEWAL_VERSION_STAGE).id).not.toBe(aws.version(names.controlPlane, 'AWSCURRENT').id);
    expect(JSON.parse(lines()[0])).toMatchObject({ written: [], changes: [], skipped: [names.controlPlane] });

    // The next run decides again, from the deploy's value: renewed, and the deploy's file kept.
    aws.hooks.beforePut = undefined;
    await aws.entry(renewal(CONTROL_PLANE_PROPS));
    const after = json(aws.values.get(names.controlPlane));
    expect(after[ENCRYPTION_CONFIG_FILE]).toBe('the config a deploy just wrote');
    expect(after['apiserver.crt']).not.toBe(json(read.value)['apiserver.crt']);
  });

  test('the same event delivered twice, the runs interleaved: one renewal becomes current, the other is skipped', async () => {
    const aws = await clusterAt('control-plane');
    now = new Date(now.getTime() + 500 * DAY);
    const read = aws.version(names.controlPlane, 'AWSCURRENT');
    const ca = new X509Certificate(json(read.value)['ca.crt']);
    let second: Promise<unknown> | undefined;
    // The first run has read and put its value; the duplicate runs whole before the first moves AWSCURRENT.
    aws.hooks.beforeMove = async () => {
      if (second !== undefined) return;
      second = aws.entry(renewal(CONTROL_PLANE_PROPS));
      await second;
    };

    const first = await aws.entry(renewal(CONTROL_PLANE_PROPS));

    expect(await second).toEqual({ written: [names.controlPlane], skipped: [], notRenewed: [] });
    expect(first).toEqual({ written: [], skipped: [names.controlPlane], notRenewed: [] });
    expect(aws.puts).toEqual([names.controlPlane, names.controlPlane]);
    const current = aws.version(names.controlPlane, 'AWSCURRENT');
    expect(current).toEqual(aws.version(names.controlPlane, RENEWAL_VERSION_STAGE)); // the second's, the first's lost the label
    expect(aws.version(names.controlPlane, 'AWSPREVIOUS')).toEqual(read);
    expect(new X509Certificate(json(current.value)['apiserver.crt']).checkIssued(ca)).toBe(true);
  });

  test('a move that fails while AWSCURRENT is still on the version read is an error, not a race', async () => {
    const aws = await clusterAt('control-plane');
    now = new Date(now.getTime() + 500 * DAY);
    const read = aws.version(names.controlPlane, 'AWSCURRENT');
    aws.hooks.beforeMove = () => {
      throw new InvalidRequestException({ message: 'throttled, say', $metadata: {} });
    };

    await expect(aws.entry(renewal(CONTROL_PLANE_PROPS))).rejects.toThrow(/throttled, say/);
    expect(aws.version(names.controlPlane, 'AWSCURRENT')).toEqual(read);
  });

  test('a renewal event never regenerates: a Regenerate in it is not read, and no CA changes', async () => {
    const aws = await clusterAt('control-plane');
    const ca = json(aws.values.get(names.controlPlane))['ca.crt'];
    now = new Date(now.getTime() + 500 * DAY);

    await aws.entry(renewal({ ...CONTROL_PLANE_PROPS, Regenerate: '7' }));

    expect(json(aws.values.get(names.controlPlane))['ca.crt']).toBe(ca);
    expect(aws.puts).toEqual([names.controlPlane]);
  });

  test.each<[string, unknown]>([
    ['a renewal key beside a RequestType', { [RENEWAL_EVENT_KEY]: PROPS, RequestType: 'Delete', PhysicalResourceId: 'x', ResourceProperties: PROPS }],
    ['a renewal key beside anything else', { [RENEWAL_EVENT_KEY]: PROPS, OldResourceProperties: PROPS }],
    ['EventBridge\'s own scheduled event (a rule without the fixed input)', {
      version: '0', id: '53dc4d37', 'detail-type': 'Scheduled Event', source: 'aws.events', account: '123456789012',
      time: '2026-12-04T06:00:00Z', region: 'eu-central-1', resources: ['arn:aws:events:eu-central-1:123456789012:rule/r'], detail: {},
    }],
    ['an unknown RequestType', { RequestType: 'Rotate', ResourceProperties: PROPS }],
    ['no object', null],
    ['an array', [PROPS]],
  ])('refuses %s before any AWS call', async (_name, event) => {
    const aws = await clusterAt('etcd');
    aws.mock.resetHistory();

    await expect(aws.entry(event)).rejects.toThrow(/answers a CloudFormation custom resource request .* or a renewal event/);
    expect(aws.mock.calls()).toHaveLength(0);
  });

  test('a Provider request through the same entry point still reaches the custom resource path', async () => {
    const aws = fakeSecretsManager(3, clock);

    const response = await aws.entry(create(PROPS));

    expect(response).toEqual({ PhysicalResourceId: 'kubernetes-on-aws/kube-aws-test-1/etcd' });
    expect(aws.puts).toEqual(names.ofSet('etcd', 3));
  });
});
