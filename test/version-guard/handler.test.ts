/**
 * The Kubernetes version guard's rules (Kubernetes version skew policy,
 * kubernetes.io/releases/version-skew-policy: the API server upgrades one minor at a time;
 * a kubelet is never newer than the API server and at most three minors older) and its
 * CloudFormation events: a refusal is an error, which fails the deploy before a node changes.
 */
import { createOnEventHandler, kubeletSkewProblem, OnEventRequest, StackState, upgradeProblem } from '../../lib/version-guard/handler';
import { KUBERNETES_VERSION_OUTPUT } from '../../lib/stack-outputs';

describe('upgradeProblem', () => {
  test.each([
    ['v1.35.1', 'v1.35.1'],
    ['v1.35.1', 'v1.35.4'],
    ['v1.35.4', 'v1.35.1'], // a patch back is allowed
    ['v1.35.1', 'v1.36.0'],
  ])('%s -> %s is allowed', (from, to) => {
    expect(upgradeProblem(from, to)).toBeUndefined();
  });

  test('a skipped minor is refused, naming both versions and the allowed next one', () => {
    expect(upgradeProblem('v1.35.1', 'v1.37.0')).toBe(
      'kubernetesVersion v1.37.0 skips a minor version: the cluster runs v1.35.1, and Kubernetes upgrades one minor at a time; deploy v1.36.x first, then v1.37.0',
    );
  });

  test('a minor downgrade and a major change are refused, saying what to do instead', () => {
    expect(upgradeProblem('v1.36.0', 'v1.35.1')).toMatch(/v1\.35\.1 is older than v1\.36\.0.*does not downgrade a minor version.*deploy a new cluster version/);
    expect(upgradeProblem('v1.35.1', 'v2.0.0')).toMatch(/changes the major version.*runs v1\.35\.1/);
  });

  test('a value that is not a release is an error naming it', () => {
    expect(() => upgradeProblem('1.35.1', 'v1.35.1')).toThrow("the deployed version '1.35.1' is not a Kubernetes release such as v1.35.1");
  });
});

describe('kubeletSkewProblem', () => {
  test('kubelets at or up to three minors behind the API servers are allowed', () => {
    for (const kubelet of ['v1.35.1', 'v1.35.9', 'v1.34.0', 'v1.32.3']) expect(kubeletSkewProblem(kubelet, 'v1.35.1')).toBeUndefined();
  });

  test('a kubelet newer than the API servers is refused (by minor, not by patch); one four minors behind too', () => {
    expect(kubeletSkewProblem('v1.36.0', 'v1.35.1')).toMatch(/kubelets would run v1\.36\.0, newer than the API servers' v1\.35\.1: a kubelet may never lead the API server; deploy the master stack first/);
    expect(kubeletSkewProblem('v1.35.2', 'v1.35.1')).toBeUndefined();
    expect(kubeletSkewProblem('v1.31.0', 'v1.35.1')).toMatch(/more than 3 minor versions behind/);
  });
});

describe('the guard on CloudFormation events', () => {
  const OWN = 'arn:aws:cloudformation:eu-central-1:123456789012:stack/c-1-worker/guid';
  let stacks: Record<string, StackState>;
  let asked: string[];
  beforeEach(() => {
    stacks = {
      'c-1-master': { status: 'UPDATE_COMPLETE', outputs: { [KUBERNETES_VERSION_OUTPUT]: 'v1.35.1' } },
      [OWN]: { status: 'UPDATE_IN_PROGRESS', outputs: { [KUBERNETES_VERSION_OUTPUT]: 'v1.35.1' } },
      'old-master': { status: 'UPDATE_COMPLETE', outputs: {} },
    };
    asked = [];
  });
  const onEvent = createOnEventHandler({ describeStack: async (name) => (asked.push(name), stacks[name]) });
  const event = (RequestType: OnEventRequest['RequestType'], Version: string, old?: string, others: { ApiServerStack?: string; KubeletStack?: string } = {}): OnEventRequest => ({
    RequestType,
    StackId: OWN,
    ResourceProperties: { Version, ...others },
    ...(old ? { OldResourceProperties: { Version: old } } : {}),
  });

  test('Create in a new stack allows any release, and answers one physical id whatever the version (no replacement)', async () => {
    delete stacks[OWN];
    await expect(onEvent(event('Create', 'v1.35.1'))).resolves.toEqual({ PhysicalResourceId: 'kubernetes-version', Data: { Version: 'v1.35.1' } });
  });

  test("compares with the version the stack's last deploy recorded (its output), also on Create in a stack that had no guard yet", async () => {
    await expect(onEvent(event('Update', 'v1.36.0', 'v1.35.1'))).resolves.toMatchObject({ Data: { Version: 'v1.36.0' } });
    await expect(onEvent(event('Update', 'v1.37.0', 'v1.35.1'))).rejects.toThrow(/skips a minor version.*deploy v1\.36\.x first/);
    await expect(onEvent(event('Create', 'v1.37.0'))).rejects.toThrow(/the cluster runs v1\.35\.1/);
  });

  test('without an output (a stack of an older release), compares with the old properties', async () => {
    stacks[OWN] = { status: 'UPDATE_IN_PROGRESS', outputs: {} };
    await expect(onEvent(event('Update', 'v1.37.0', 'v1.35.1'))).rejects.toThrow(/skips a minor version/);
  });

  test('a rollback back to the version the stack ran is never refused (it would leave the stack in UPDATE_ROLLBACK_FAILED)', async () => {
    // The failed update had moved the guard to v1.36.0; CloudFormation now sends it back.
    stacks[OWN] = { status: 'UPDATE_ROLLBACK_IN_PROGRESS', outputs: { [KUBERNETES_VERSION_OUTPUT]: 'v1.35.1' } };
    await expect(onEvent(event('Update', 'v1.35.1', 'v1.36.0'))).resolves.toBeDefined();
    // The same request outside a rollback is a downgrade.
    stacks[OWN] = { status: 'UPDATE_IN_PROGRESS', outputs: { [KUBERNETES_VERSION_OUTPUT]: 'v1.36.0' } };
    await expect(onEvent(event('Update', 'v1.35.1', 'v1.36.0'))).rejects.toThrow(/does not downgrade/);
  });

  test("the worker stack's guard reads the master stack's output and refuses kubelets ahead of it", async () => {
    await expect(onEvent(event('Update', 'v1.35.1', 'v1.35.1', { ApiServerStack: 'c-1-master' }))).resolves.toBeDefined();
    await expect(onEvent(event('Update', 'v1.36.0', 'v1.35.1', { ApiServerStack: 'c-1-master' }))).rejects.toThrow(/newer than the API servers' v1\.35\.1/);
    expect(asked).toContain('c-1-master');
  });

  test("the master stack's guard refuses API servers more than three minors ahead of the workers' kubelets", async () => {
    stacks[OWN] = { status: 'UPDATE_IN_PROGRESS', outputs: { [KUBERNETES_VERSION_OUTPUT]: 'v1.38.0' } };
    stacks['c-1-worker'] = { status: 'UPDATE_COMPLETE', outputs: { [KUBERNETES_VERSION_OUTPUT]: 'v1.35.1' } };
    await expect(onEvent(event('Update', 'v1.39.0', 'v1.38.0', { KubeletStack: 'c-1-worker' }))).rejects.toThrow(/v1\.35\.1, more than 3 minor versions behind the API servers' v1\.39\.0/);
    await expect(onEvent(event('Update', 'v1.38.2', 'v1.38.0', { KubeletStack: 'c-1-worker' }))).resolves.toBeDefined();
  });

  test('a stack to compare with that does not exist, or has no output (an older release), is no refusal; Delete never refuses', async () => {
    await expect(onEvent(event('Update', 'v1.35.1', 'v1.35.1', { ApiServerStack: 'old-master' }))).resolves.toBeDefined();
    await expect(onEvent(event('Update', 'v1.35.1', 'v1.35.1', { KubeletStack: 'c-1-worker' }))).resolves.toBeDefined();
    await expect(onEvent(event('Delete', 'v9.0.0', 'v1.35.1'))).resolves.toBeDefined();
  });
});
