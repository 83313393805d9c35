import { DescribeInstancesCommand, DescribeInstancesCommandOutput, EC2Client, EC2ServiceException, Instance } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { Ec2NodeNames, Ec2NodeNamesOptions, isValidNodeName, judgeNodeInstance, NodeNameResult, whenAborted } from '../../webhook/ec2-node-names';

const ec2 = mockClient(EC2Client);

const CLUSTER = 'kube-1-35';
const ID = 'i-0123456789abcdef0';
const WORKER_PROFILE = 'arn:aws:iam::123456789012:instance-profile/kube-1-35-worker';
const MASTER_PROFILE = 'arn:aws:iam::123456789012:instance-profile/kube-1-35-master';
const DNS_NAME = 'ip-10-0-1-23.eu-central-1.compute.internal';

let clock = 0;
beforeEach(() => {
  ec2.reset();
  clock = 1_000_000;
});

function nodeNames(overrides: Partial<Ec2NodeNamesOptions> = {}): Ec2NodeNames {
  return new Ec2NodeNames({
    clusterName: CLUSTER,
    region: 'eu-central-1',
    cacheTtlSeconds: 300,
    negativeCacheTtlSeconds: 10,
    cacheMaxEntries: 100,
    maxConcurrentLookups: 5,
    timeoutMs: 1000,
    now: () => clock,
    client: new EC2Client({ region: 'eu-central-1' }),
    ...overrides,
  });
}

/** A worker of this cluster, as DescribeInstances describes it; overrides replace fields. */
function instance(overrides: Partial<Instance> = {}): Instance {
  return {
    InstanceId: ID,
    State: { Code: 16, Name: 'running' },
    PrivateDnsName: DNS_NAME,
    IamInstanceProfile: { Arn: WORKER_PROFILE, Id: 'AIPAEXAMPLE' },
    Tags: [
      { Key: 'Name', Value: 'worker' },
      { Key: `kubernetes.io/cluster/${CLUSTER}`, Value: 'owned' },
    ],
    ...overrides,
  };
}

function answer(...instances: Instance[]): DescribeInstancesCommandOutput {
  return { $metadata: {}, Reservations: [{ ReservationId: 'r-0123456789abcdef0', Instances: instances }] };
}

function ec2Error(name: string): EC2ServiceException {
  return new EC2ServiceException({ name, $fault: 'client', $metadata: {}, message: `${name} for ${ID} (${DNS_NAME})` });
}

function describeCalls(): number {
  return ec2.commandCalls(DescribeInstancesCommand).length;
}

/** A promise with its resolve handle, for holding a fake EC2 answer back. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('Ec2NodeNames: what makes an instance a node', () => {
  test('a running worker of this cluster maps to its private DNS name, after one DescribeInstances for exactly that id', async () => {
    ec2.on(DescribeInstancesCommand).resolves(answer(instance()));
    await expect(nodeNames().nodeNameOf(ID, WORKER_PROFILE)).resolves.toEqual({ kind: 'node', nodeName: DNS_NAME });
    const calls = ec2.commandCalls(DescribeInstancesCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input).toEqual({ InstanceIds: [ID] });
  });

  test('an 8-hex-digit id (EC2\'s pre-2016 format) is looked up too', async () => {
    ec2.on(DescribeInstancesCommand).resolves(answer(instance({ InstanceId: 'i-0a1b2c3d' })));
    await expect(nodeNames().nodeNameOf('i-0a1b2c3d', WORKER_PROFILE)).resolves.toEqual({ kind: 'node', nodeName: DNS_NAME });
  });

  test.each([
    ['empty', ''],
    ['too short', 'i-0a1b2c3'],
    ['between the two lengths', 'i-0123456789abcdef'],
    ['too long', 'i-0123456789abcdef01'],
    ['uppercase hex', 'i-0123456789ABCDEF0'],
    ['uppercase prefix', 'I-0123456789abcdef0'],
    ['not hex', 'i-0123456789abcdefg'],
    ['padded', ` ${ID}`],
    ['with a suffix', `${ID}/x`],
    ['a user session name', 'alice@example.org'],
    ['an instance ARN', `arn:aws:ec2:eu-central-1:123456789012:instance/${ID}`],
  ])('a session name that is no instance id (%s) is not a node, and EC2 is not asked', async (_case, id) => {
    ec2.on(DescribeInstancesCommand).resolves(answer(instance({ InstanceId: id })));
    const result = await nodeNames().nodeNameOf(id, WORKER_PROFILE);
    expect(result.kind).toBe('not-a-node');
    expect(describeCalls()).toBe(0);
  });

  test.each(['pending', 'running'])('a %s instance is a node', async (state) => {
    ec2.on(DescribeInstancesCommand).resolves(answer(instance({ State: { Name: state as 'pending' } })));
    await expect(nodeNames().nodeNameOf(ID, WORKER_PROFILE)).resolves.toEqual({ kind: 'node', nodeName: DNS_NAME });
  });

  test.each(['stopping', 'stopped', 'shutting-down', 'terminated'])('a %s instance is not a node', async (state) => {
    ec2.on(DescribeInstancesCommand).resolves(answer(instance({ State: { Name: state as 'stopped' } })));
    await expect(nodeNames().nodeNameOf(ID, WORKER_PROFILE)).resolves.toMatchObject({ kind: 'not-a-node' });
  });

  test('an instance without a state is not a node', async () => {
    ec2.on(DescribeInstancesCommand).resolves(answer(instance({ State: undefined })));
    await expect(nodeNames().nodeNameOf(ID, WORKER_PROFILE)).resolves.toMatchObject({ kind: 'not-a-node' });
  });

  test.each([
    ['no tags at all', undefined],
    ['no cluster tag', [{ Key: 'Name', Value: 'worker' }]],
    ['another cluster\'s tag', [{ Key: 'kubernetes.io/cluster/kube-1-34', Value: 'owned' }]],
    ['a cluster whose name only starts like ours', [{ Key: `kubernetes.io/cluster/${CLUSTER}-b`, Value: 'owned' }]],
    ['the tag value shared', [{ Key: `kubernetes.io/cluster/${CLUSTER}`, Value: 'shared' }]],
    ['the tag value Owned', [{ Key: `kubernetes.io/cluster/${CLUSTER}`, Value: 'Owned' }]],
    ['an empty tag value', [{ Key: `kubernetes.io/cluster/${CLUSTER}`, Value: '' }]],
  ])('an instance with %s is not a node of this cluster', async (_case, tags) => {
    ec2.on(DescribeInstancesCommand).resolves(answer(instance({ Tags: tags })));
    await expect(nodeNames().nodeNameOf(ID, WORKER_PROFILE)).resolves.toMatchObject({ kind: 'not-a-node' });
  });

  test('an instance launched with another instance profile is not a node for the presented role', async () => {
    ec2.on(DescribeInstancesCommand).resolves(answer(instance({ IamInstanceProfile: { Arn: MASTER_PROFILE } })));
    await expect(nodeNames().nodeNameOf(ID, WORKER_PROFILE)).resolves.toMatchObject({ kind: 'not-a-node' });
  });

  test('an instance without an instance profile is not a node', async () => {
    ec2.on(DescribeInstancesCommand).resolves(answer(instance({ IamInstanceProfile: undefined })));
    await expect(nodeNames().nodeNameOf(ID, WORKER_PROFILE)).resolves.toMatchObject({ kind: 'not-a-node' });
  });

  test('the profile is checked on every call, also against a cached answer, with one DescribeInstances in all', async () => {
    ec2.on(DescribeInstancesCommand).resolves(answer(instance()));
    const names = nodeNames();
    await expect(names.nodeNameOf(ID, MASTER_PROFILE)).resolves.toMatchObject({ kind: 'not-a-node' });
    await expect(names.nodeNameOf(ID, WORKER_PROFILE)).resolves.toEqual({ kind: 'node', nodeName: DNS_NAME });
    await expect(names.nodeNameOf(ID, '')).resolves.toMatchObject({ kind: 'not-a-node' });
    expect(describeCalls()).toBe(1);
  });

  test.each([
    ['no reservations', { $metadata: {} }],
    ['an empty reservation list (an instance of another account)', { $metadata: {}, Reservations: [] }],
    ['a reservation without instances', { $metadata: {}, Reservations: [{ Instances: [] }] }],
    ['only another instance', answer(instance({ InstanceId: 'i-0fedcba9876543210' }))],
    ['the id twice', { $metadata: {}, Reservations: [{ Instances: [instance()] }, { Instances: [instance()] }] }],
  ])('an answer with %s is not a node', async (_case, output) => {
    ec2.on(DescribeInstancesCommand).resolves(output as DescribeInstancesCommandOutput);
    await expect(nodeNames().nodeNameOf(ID, WORKER_PROFILE)).resolves.toMatchObject({ kind: 'not-a-node' });
  });

  test('the node name is lowercased, as the kubelet lowercases its hostname override', async () => {
    ec2.on(DescribeInstancesCommand).resolves(answer(instance({ PrivateDnsName: 'IP-10-0-1-23.EU-Central-1.compute.internal' })));
    await expect(nodeNames().nodeNameOf(ID, WORKER_PROFILE)).resolves.toEqual({ kind: 'node', nodeName: DNS_NAME });
  });

  test('the resource-based EC2 host name is a valid node name', async () => {
    ec2.on(DescribeInstancesCommand).resolves(answer(instance({ PrivateDnsName: `${ID}.eu-central-1.compute.internal` })));
    await expect(nodeNames().nodeNameOf(ID, WORKER_PROFILE)).resolves.toEqual({ kind: 'node', nodeName: `${ID}.eu-central-1.compute.internal` });
  });

  test.each([
    ['missing', undefined],
    ['empty', ''],
    ['with an underscore', 'ip_10_0_1_23.eu-central-1.compute.internal'],
    ['with a trailing dot', `${DNS_NAME}.`],
    ['with an empty label', 'ip-10-0-1-23..compute.internal'],
    ['with a label ending in a dash', 'ip-10-0-1-23-.compute.internal'],
    ['with a space', `${DNS_NAME} `],
    ['254 characters long', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`],
    ['with a slash', 'ip-10-0-1-23/compute.internal'],
  ])('a private DNS name %s is not a node name', async (_case, dnsName) => {
    ec2.on(DescribeInstancesCommand).resolves(answer(instance({ PrivateDnsName: dnsName })));
    await expect(nodeNames().nodeNameOf(ID, WORKER_PROFILE)).resolves.toMatchObject({ kind: 'not-a-node' });
  });

  test('a 253-character private DNS name is still a node name', async () => {
    const longName = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    expect(longName).toHaveLength(253);
    ec2.on(DescribeInstancesCommand).resolves(answer(instance({ PrivateDnsName: longName })));
    await expect(nodeNames().nodeNameOf(ID, WORKER_PROFILE)).resolves.toEqual({ kind: 'node', nodeName: longName });
  });
});

describe('Ec2NodeNames: EC2 errors', () => {
  test.each(['InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed'])('%s means not a node', async (code) => {
    ec2.on(DescribeInstancesCommand).rejects(ec2Error(code));
    await expect(nodeNames().nodeNameOf(ID, WORKER_PROFILE)).resolves.toMatchObject({ kind: 'not-a-node' });
  });

  test.each(['RequestLimitExceeded', 'UnauthorizedOperation', 'InternalError', 'Unavailable'])('%s means EC2 is unavailable', async (code) => {
    ec2.on(DescribeInstancesCommand).rejects(ec2Error(code));
    const result = await nodeNames().nodeNameOf(ID, WORKER_PROFILE);
    expect(result).toMatchObject({ kind: 'unavailable' });
    expect((result as { reason: string }).reason).toContain(code);
  });

  test('a network error or a non-Error rejection means unavailable, never a throw', async () => {
    ec2.on(DescribeInstancesCommand).rejectsOnce(Object.assign(new Error('connect ECONNREFUSED'), { name: 'Error' }));
    const names = nodeNames();
    await expect(names.nodeNameOf(ID, WORKER_PROFILE)).resolves.toMatchObject({ kind: 'unavailable' });
    ec2.on(DescribeInstancesCommand).callsFake(() => Promise.reject(undefined));
    await expect(names.nodeNameOf(ID, WORKER_PROFILE)).resolves.toMatchObject({ kind: 'unavailable' });
  });

  test('no reason carries instance data beyond the id: not the DNS name, profile, tags, state or EC2\'s message', async () => {
    const secretish = [DNS_NAME, WORKER_PROFILE, MASTER_PROFILE, 'kube-1-34', 'shared', 'stopped', 'ip_10', 'ECONNREFUSED'];
    const cases: Array<[Instance | EC2ServiceException | Error, string]> = [
      [instance({ IamInstanceProfile: { Arn: MASTER_PROFILE } }), WORKER_PROFILE],
      [instance({ State: { Name: 'stopped' } }), WORKER_PROFILE],
      [instance({ Tags: [{ Key: 'kubernetes.io/cluster/kube-1-34', Value: 'owned' }] }), WORKER_PROFILE],
      [instance({ Tags: [{ Key: `kubernetes.io/cluster/${CLUSTER}`, Value: 'shared' }] }), WORKER_PROFILE],
      [instance({ PrivateDnsName: 'ip_10_0_1_23.eu-central-1.compute.internal' }), WORKER_PROFILE],
      [instance(), MASTER_PROFILE],
      [ec2Error('InvalidInstanceID.NotFound'), WORKER_PROFILE],
      [ec2Error('RequestLimitExceeded'), WORKER_PROFILE],
      [new Error(`connect ECONNREFUSED ${DNS_NAME}`), WORKER_PROFILE],
    ];
    for (const [given, profile] of cases) {
      ec2.reset();
      if (given instanceof Error) ec2.on(DescribeInstancesCommand).rejects(given);
      else ec2.on(DescribeInstancesCommand).resolves(answer(given));
      const result: NodeNameResult = await nodeNames().nodeNameOf(ID, profile);
      expect(result.kind).not.toBe('node');
      const reason = (result as { reason: string }).reason;
      expect(reason).toContain(ID);
      for (const s of secretish) expect(reason).not.toContain(s);
    }
  });
});

describe('Ec2NodeNames: caching', () => {
  test('a node name is reused for cacheTtlSeconds, then asked for again', async () => {
    ec2.on(DescribeInstancesCommand).resolves(answer(instance()));
    const names = nodeNames({ cacheTtlSeconds: 300 });
    await names.nodeNameOf(ID, WORKER_PROFILE);
    clock += 299_999;
    await expect(names.nodeNameOf(ID, WORKER_PROFILE)).resolves.toEqual({ kind: 'node', nodeName: DNS_NAME });
    expect(describeCalls()).toBe(1);
    clock += 1;
    await names.nodeNameOf(ID, WORKER_PROFILE);
    expect(describeCalls()).toBe(2);
  });

  test('a not-a-node answer is reused for negativeCacheTtlSeconds only, so a booting instance is seen soon', async () => {
    ec2.on(DescribeInstancesCommand).rejectsOnce(ec2Error('InvalidInstanceID.NotFound')).resolves(answer(instance({ State: { Name: 'pending' } })));
    const names = nodeNames({ cacheTtlSeconds: 300, negativeCacheTtlSeconds: 10 });
    await expect(names.nodeNameOf(ID, WORKER_PROFILE)).resolves.toMatchObject({ kind: 'not-a-node' });
    clock += 9_999;
    await expect(names.nodeNameOf(ID, WORKER_PROFILE)).resolves.toMatchObject({ kind: 'not-a-node' });
    expect(describeCalls()).toBe(1);
    clock += 1;
    await expect(names.nodeNameOf(ID, WORKER_PROFILE)).resolves.toEqual({ kind: 'node', nodeName: DNS_NAME });
    expect(describeCalls()).toBe(2);
  });

  test('an instance found in a wrong state is cached as negative too', async () => {
    ec2.on(DescribeInstancesCommand).resolves(answer(instance({ State: { Name: 'terminated' } })));
    const names = nodeNames({ negativeCacheTtlSeconds: 10 });
    await names.nodeNameOf(ID, WORKER_PROFILE);
    await names.nodeNameOf(ID, WORKER_PROFILE);
    expect(describeCalls()).toBe(1);
  });

  test('a zero negative TTL turns negative caching off', async () => {
    ec2.on(DescribeInstancesCommand).rejects(ec2Error('InvalidInstanceID.NotFound'));
    const names = nodeNames({ negativeCacheTtlSeconds: 0 });
    await names.nodeNameOf(ID, WORKER_PROFILE);
    await names.nodeNameOf(ID, WORKER_PROFILE);
    expect(describeCalls()).toBe(2);
  });

  test('an unavailable answer is never cached', async () => {
    ec2.on(DescribeInstancesCommand).rejectsOnce(ec2Error('RequestLimitExceeded')).resolves(answer(instance()));
    const names = nodeNames();
    await expect(names.nodeNameOf(ID, WORKER_PROFILE)).resolves.toMatchObject({ kind: 'unavailable' });
    await expect(names.nodeNameOf(ID, WORKER_PROFILE)).resolves.toEqual({ kind: 'node', nodeName: DNS_NAME });
    expect(describeCalls()).toBe(2);
  });

  test('the cache holds at most cacheMaxEntries ids, dropping the least recently used', async () => {
    const ids = ['i-00000000000000001', 'i-00000000000000002', 'i-00000000000000003'];
    ec2.on(DescribeInstancesCommand).callsFake((input: { InstanceIds: string[] }) => Promise.resolve(answer(instance({ InstanceId: input.InstanceIds[0] }))));
    const names = nodeNames({ cacheMaxEntries: 2 });
    for (const id of ids) await names.nodeNameOf(id, WORKER_PROFILE);
    expect(describeCalls()).toBe(3);
    await names.nodeNameOf(ids[2], WORKER_PROFILE);
    await names.nodeNameOf(ids[1], WORKER_PROFILE);
    expect(describeCalls()).toBe(3);
    await names.nodeNameOf(ids[0], WORKER_PROFILE);
    expect(describeCalls()).toBe(4);
  });
});

describe('Ec2NodeNames: load on EC2', () => {
  test('concurrent calls for one id share one DescribeInstances', async () => {
    const held = deferred<DescribeInstancesCommandOutput>();
    ec2.on(DescribeInstancesCommand).callsFake(() => held.promise);
    const names = nodeNames();
    const results = Array.from({ length: 10 }, () => names.nodeNameOf(ID, WORKER_PROFILE));
    await flush();
    held.resolve(answer(instance()));
    for (const result of await Promise.all(results)) expect(result).toEqual({ kind: 'node', nodeName: DNS_NAME });
    expect(describeCalls()).toBe(1);
  });

  test('with 20 new ids and maxConcurrentLookups 3, never more than 3 DescribeInstances are in flight, and all 20 are answered', async () => {
    let inFlight = 0;
    let mostInFlight = 0;
    const waiting: Array<() => void> = [];
    ec2.on(DescribeInstancesCommand).callsFake((input: { InstanceIds: string[] }) => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      return new Promise((resolve) => waiting.push(() => {
        inFlight -= 1;
        resolve(answer(instance({ InstanceId: input.InstanceIds[0] })));
      }));
    });
    const names = nodeNames({ maxConcurrentLookups: 3, timeoutMs: 60_000 });
    const ids = Array.from({ length: 20 }, (_, i) => `i-${i.toString(16).padStart(17, '0')}`);
    const results = Promise.all(ids.map((id) => names.nodeNameOf(id, WORKER_PROFILE)));
    await flush();
    expect(inFlight).toBe(3);
    while (waiting.length > 0) {
      // Answer one at a time, in arrival order, and let the queue move on.
      waiting.shift()!();
      await flush();
    }
    for (const result of await results) expect(result).toEqual({ kind: 'node', nodeName: DNS_NAME });
    expect(mostInFlight).toBe(3);
    expect(ec2.commandCalls(DescribeInstancesCommand).map((call) => call.args[0].input.InstanceIds![0]).sort()).toEqual([...ids].sort());
  });

  test('a DescribeInstances slower than timeoutMs is unavailable, uncached, and frees its slot', async () => {
    ec2.on(DescribeInstancesCommand).callsFakeOnce(() => new Promise(() => undefined)).resolves(answer(instance()));
    const names = nodeNames({ timeoutMs: 50, maxConcurrentLookups: 1 });
    const started = Date.now();
    const result = await names.nodeNameOf(ID, WORKER_PROFILE);
    expect(result).toMatchObject({ kind: 'unavailable' });
    expect((result as { reason: string }).reason).toMatch(/within 50 ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(Date.now() - started).toBeLessThan(1000);
    // The one slot is free again and nothing was cached: the next call asks EC2 and succeeds.
    await expect(names.nodeNameOf(ID, WORKER_PROFILE)).resolves.toEqual({ kind: 'node', nodeName: DNS_NAME });
    expect(describeCalls()).toBe(2);
  });

  test('the timeout aborts the SDK request through its abort signal', async () => {
    let signal: AbortSignal | undefined;
    const client = new EC2Client({ region: 'eu-central-1' });
    // aws-sdk-client-mock does not pass send's options on, so this test spies on this
    // client's own send, which shadows the mocked prototype method.
    const send = jest.spyOn(client, 'send').mockImplementation(((_command: unknown, options?: { abortSignal?: AbortSignal }) => {
      signal = options?.abortSignal;
      return new Promise(() => undefined);
    }) as never);
    try {
      await expect(nodeNames({ client, timeoutMs: 20 }).nodeNameOf(ID, WORKER_PROFILE)).resolves.toMatchObject({ kind: 'unavailable' });
      expect(send).toHaveBeenCalledTimes(1);
      expect(signal?.aborted).toBe(true);
    } finally {
      send.mockRestore();
    }
  });

  test('a lookup queued behind a slow one gives up at its deadline without ever reaching EC2', async () => {
    // Fake timers: both deadlines pass in one step, before the first lookup's slot comes
    // back (with real timers the order of two equal deadlines is up to the event loop).
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    try {
      ec2.on(DescribeInstancesCommand).callsFake(() => new Promise(() => undefined));
      const names = nodeNames({ timeoutMs: 50, maxConcurrentLookups: 1 });
      const first = names.nodeNameOf(ID, WORKER_PROFILE);
      const second = names.nodeNameOf('i-0fedcba9876543210', WORKER_PROFILE);
      await flush();
      expect(describeCalls()).toBe(1);
      jest.advanceTimersByTime(50);
      await expect(second).resolves.toEqual({ kind: 'unavailable', reason: expect.stringMatching(/within 50 ms/) });
      await expect(first).resolves.toMatchObject({ kind: 'unavailable' });
      await flush();
      expect(describeCalls()).toBe(1);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('Ec2NodeNames: options', () => {
  const valid: Ec2NodeNamesOptions = {
    clusterName: CLUSTER, region: 'eu-central-1', cacheTtlSeconds: 300, negativeCacheTtlSeconds: 10,
    cacheMaxEntries: 100, maxConcurrentLookups: 5, timeoutMs: 1000,
  };
  test.each<[Partial<Ec2NodeNamesOptions>, RegExp]>([
    [{ clusterName: '' }, /clusterName: must not be empty/],
    [{ cacheTtlSeconds: -1 }, /cacheTtlSeconds: must be a non-negative number, got -1/],
    [{ negativeCacheTtlSeconds: NaN }, /negativeCacheTtlSeconds: must be a non-negative number, got NaN/],
    [{ maxConcurrentLookups: 0 }, /maxConcurrentLookups: must be a positive integer, got 0/],
    [{ maxConcurrentLookups: 2.5 }, /maxConcurrentLookups: must be a positive integer, got 2.5/],
    [{ timeoutMs: 0 }, /timeoutMs: must be a positive number, got 0/],
    [{ cacheMaxEntries: 0 }, /maxEntries: must be a positive integer, got 0/],
    [{ region: '' }, /region: must not be empty/],
  ])('refuses %p', (override, message) => {
    expect(() => new Ec2NodeNames({ ...valid, ...override })).toThrow(message);
  });
});

describe('the shared checks (also used by the kubelet serving approver)', () => {
  test('judgeNodeInstance: a node keeps the profile it was launched with, for the caller to compare', () => {
    expect(judgeNodeInstance(instance(), CLUSTER)).toEqual({ kind: 'node', nodeName: DNS_NAME, instanceProfileArn: WORKER_PROFILE });
  });

  test.each<[string, Partial<Instance>, RegExp]>([
    ['stopped', { State: { Name: 'stopped' } }, /neither pending nor running/],
    ['of another cluster', { Tags: [{ Key: 'kubernetes.io/cluster/kube-1-34', Value: 'owned' }] }, /not owned by cluster kube-1-35/],
    ['without a profile', { IamInstanceProfile: undefined }, /has no instance profile/],
  ])('judgeNodeInstance: an instance %s is not a node, and the reason names its id', (_case, overrides, reason) => {
    expect(judgeNodeInstance(instance(overrides), CLUSTER)).toEqual({ kind: 'not-a-node', reason: expect.stringMatching(reason) });
    expect((judgeNodeInstance(instance(overrides), CLUSTER) as { reason: string }).reason).toContain(ID);
  });

  test.each([
    [DNS_NAME, true],
    ['ip-10-0-1-23.EU-central-1.compute.internal', false],
    ['ip-10-*', false],
    ['', false],
  ])('isValidNodeName(%p) is %p', (name, valid) => {
    expect(isValidNodeName(name)).toBe(valid);
  });

  test('whenAborted rejects for a signal aborted already, too', async () => {
    await expect(whenAborted(AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' });
  });
});
