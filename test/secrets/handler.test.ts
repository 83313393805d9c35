import { X509Certificate } from 'node:crypto';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { OnEventRequest, createOnEventHandler } from '../../lib/secrets/handler';
import { readEncryptionKeys } from '../../lib/secrets/encryption-config';
import { BUNDLE_FILES } from '../../lib/secrets/bundle-files';
import { ClusterSecretNames, ENCRYPTION_CONFIG_FILE } from '../../userdata/secret-names';
import { encryptionConfigErrors } from './encryption-config-rules';
import { apiServerSans, sanList } from '../../lib/secrets/sans';
import { INPUT, INTERNAL_NAME, bundleFromBeforeInternalEndpoint } from './old-bundles';
import { subjectAltNames } from './pki-fixtures';

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

/** Secrets Manager at the SDK boundary: the created (empty) secrets of both sets, in memory. */
function fakeSecretsManager(memberSecrets = 3) {
  const values = new Map<string, string | undefined>(
    [...names.ofSet('etcd', memberSecrets), ...names.ofSet('control-plane', memberSecrets)].map((name) => [name, undefined]),
  );
  const puts: string[] = [];
  const mock = mockClient(SecretsManagerClient);
  const known = (id: string | undefined): string => {
    if (!id || !values.has(id)) {
      throw new ResourceNotFoundException({ message: `Secrets Manager can't find the specified secret: ${id}`, $metadata: {} });
    }
    return id;
  };
  mock.on(DescribeSecretCommand).callsFake(({ SecretId }) => {
    const id = known(SecretId);
    return { Name: id, VersionIdsToStages: values.get(id) === undefined ? undefined : { v1: ['AWSCURRENT'] } };
  });
  mock.on(GetSecretValueCommand).callsFake(({ SecretId }) => ({ SecretString: values.get(known(SecretId)) }));
  mock.on(PutSecretValueCommand).callsFake(({ SecretId, SecretString }) => {
    values.set(known(SecretId), SecretString);
    puts.push(SecretId);
    return {};
  });
  return { mock, values, puts, handler: createOnEventHandler(new SecretsManagerClient({ region: 'eu-central-1' })) };
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

    expect(aws.puts).toEqual([names.controlPlane, names.worker, names.admin]);
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
    aws.values.set(names.controlPlane, JSON.stringify(await bundleFromBeforeInternalEndpoint()));
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
