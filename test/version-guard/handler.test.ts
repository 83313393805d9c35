/**
 * The Kubernetes version guard's rules (Kubernetes version skew policy,
 * kubernetes.io/releases/version-skew-policy: the API server upgrades one minor at a time;
 * a kubelet is never newer than the API server and at most three minors older) and its
 * CloudFormation events: a refusal is an error, which fails the deploy before a node changes.
 */
import { createOnEventHandler, kubeletSkewProblem, KUBERNETES_VERSION_OUTPUT, OnEventRequest, upgradeProblem } from '../../lib/version-guard/handler';

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
  const outputs: Record<string, Record<string, string>> = { 'c-1-master': { [KUBERNETES_VERSION_OUTPUT]: 'v1.35.1' }, 'old-master': {} };
  const asked: string[] = [];
  const onEvent = createOnEventHandler({ stackOutputs: async (name) => (asked.push(name), outputs[name]) });
  const event = (RequestType: OnEventRequest['RequestType'], Version: string, old?: string, ApiServerStack?: string): OnEventRequest => ({
    RequestType,
    ResourceProperties: { Version, ...(ApiServerStack ? { ApiServerStack } : {}) },
    ...(old ? { OldResourceProperties: { Version: old } } : {}),
  });

  test('Create of the master stack allows any release, and answers one physical id whatever the version (no replacement)', async () => {
    await expect(onEvent(event('Create', 'v1.35.1'))).resolves.toEqual({ PhysicalResourceId: 'kubernetes-version', Data: { Version: 'v1.35.1' } });
  });

  test('Update compares with the version the stack runs (the old properties)', async () => {
    await expect(onEvent(event('Update', 'v1.36.0', 'v1.35.1'))).resolves.toMatchObject({ Data: { Version: 'v1.36.0' } });
    await expect(onEvent(event('Update', 'v1.37.0', 'v1.35.1'))).rejects.toThrow(/skips a minor version.*deploy v1\.36\.x first/);
  });

  test("the worker stack's guard reads the master stack's output and refuses kubelets ahead of it", async () => {
    await expect(onEvent(event('Update', 'v1.35.1', 'v1.35.1', 'c-1-master'))).resolves.toBeDefined();
    await expect(onEvent(event('Update', 'v1.36.0', 'v1.35.1', 'c-1-master'))).rejects.toThrow(/newer than the API servers' v1\.35\.1/);
    expect(asked).toContain('c-1-master');
  });

  test('a master stack without the output (an older release) skips the kubelet check; Delete never refuses', async () => {
    await expect(onEvent(event('Update', 'v1.35.1', 'v1.35.1', 'old-master'))).resolves.toBeDefined();
    await expect(onEvent(event('Delete', 'v9.0.0', 'v1.35.1'))).resolves.toBeDefined();
  });
});
