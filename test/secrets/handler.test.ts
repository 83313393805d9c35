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
import { ClusterSecretNames } from '../../userdata/secret-names';

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
};
const CONTROL_PLANE_PROPS = { ...PROPS, Set: 'control-plane' };

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
    expect(json(aws.values.get(names.worker))).toEqual({
      'ca.crt': controlPlane['ca.crt'],
      'worker-token': controlPlane['worker-token'],
    });
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

  test('logs which secrets it wrote, never their values', async () => {
    const aws = fakeSecretsManager();
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);

    await aws.handler(create(CONTROL_PLANE_PROPS));

    const logged = log.mock.calls.flat().join('\n');
    expect(logged).toContain(names.worker);
    const token = json(aws.values.get(names.worker))['worker-token'];
    expect(logged).not.toContain(token);
    expect(logged).not.toContain('PRIVATE KEY');
  });
});
