/**
 * Each add-on that calls AWS does it with its own role, and only its service account's pods
 * carry it: env and token exactly as EKS's pod identity webhook injects them
 * (aws/amazon-eks-pod-identity-webhook v0.6.17 pkg/handler/handler.go), off the host network
 * so that the masters' role stays out of reach.
 */
import { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { MAX_CLUSTER_NAME_LENGTH } from '../../../lib/config';
import { STS_AUDIENCE } from '../../../lib/constructs/service-account-issuer';
import { awsNodeTerminationHandler } from '../../../manifests/addons/aws-node-termination-handler';
import { awsEbsCsiDriver } from '../../../manifests/addons/aws-ebs-csi-driver';
import {
  addonRoleArn,
  addonRoleName,
  IAM_ROLE_NAME_MAX_LENGTH,
  WEB_IDENTITY_AUDIENCE,
  WEB_IDENTITY_MOUNT_PATH,
  WEB_IDENTITY_TOKEN_FILE,
  WEB_IDENTITY_VOLUME,
  withAddonRole,
} from '../../../manifests/addons/aws-identity';
import { clusterAutoscaler } from '../../../manifests/addons/cluster-autoscaler';
import { externalDns } from '../../../manifests/addons/external-dns';
import { ADDONS } from '../../../manifests/addons/registry';
import { CONTEXT, containersOf, Json, only, podTemplates, rendered } from './addon-fixtures';

const envOf = (container: Json): Record<string, string> => Object.fromEntries((container.env ?? []).map((e: Json) => [e.name, e.value]));
/** The token volumes of a pod: projected service-account tokens for STS. */
const stsTokenVolumes = (spec: IPodSpec) =>
  (spec.volumes ?? []).filter((v) => (v.projected?.sources ?? []).some((s) => s.serviceAccountToken?.audience === WEB_IDENTITY_AUDIENCE));
/** The pods of every add-on, each with the namespace of its workload. */
const everyPod = ADDONS.flatMap((addon) => {
  const objects = rendered(addon);
  return podTemplates(objects).map((t) => {
    const [kind, name] = t.owner.split('/');
    return { addon, owner: t.owner, namespace: only(objects, kind, name).metadata.namespace as string, spec: t.spec };
  });
});

describe('the add-ons that call AWS', () => {
  test('are the four expected, each naming the service account its permissions are for', () => {
    const callers = ADDONS.filter((addon) => addon.permissions(CONTEXT).length > 0);
    expect(callers.map((a) => a.name).sort()).toEqual([awsEbsCsiDriver.name, clusterAutoscaler.name, externalDns.name, awsNodeTerminationHandler.name].sort());
    expect(awsNodeTerminationHandler.awsServiceAccount).toEqual({ namespace: 'kube-system', name: 'aws-node-termination-handler' });
    expect(awsEbsCsiDriver.awsServiceAccount).toEqual({ namespace: 'kube-system', name: 'ebs-csi-controller-sa' });
    expect(externalDns.awsServiceAccount).toEqual({ namespace: 'kube-system', name: 'external-dns' });
    expect(clusterAutoscaler.awsServiceAccount).toEqual({ namespace: 'kube-system', name: 'cluster-autoscaler' });
  });

  test.each([
    // The controller's plugin calls EC2; its sidecars and the node plugin (metadata from its Node) never do.
    [awsEbsCsiDriver.name, { 'Deployment/ebs-csi-controller': ['ebs-plugin'] }],
    [externalDns.name, { 'Deployment/external-dns': ['external-dns'] }],
    [clusterAutoscaler.name, { 'Deployment/cluster-autoscaler': ['cluster-autoscaler'] }],
    [awsNodeTerminationHandler.name, { 'Deployment/aws-node-termination-handler': ['aws-node-termination-handler'] }],
  ])('%s: exactly the containers that call AWS carry its role and token', (name, expected) => {
    const carriers: Record<string, string[]> = {};
    for (const { owner, spec } of everyPod.filter((p) => p.addon.name === name)) {
      const withRole = containersOf(spec).filter((c) => envOf(c).AWS_ROLE_ARN !== undefined);
      if (withRole.length > 0) carriers[owner] = withRole.map((c) => c.name);
    }
    expect(carriers).toEqual(expected);
  });

  test.each(everyPod.map((p) => [p.owner, p] as const))('%s carries no role but its own add-on\'s, and only as that add-on\'s service account', (_owner, pod) => {
    const { addon, namespace, spec } = pod;
    const account = addon.awsServiceAccount;
    const runsAsAccount = account !== undefined && namespace === account.namespace && spec.serviceAccountName === account.name;
    const roles = containersOf(spec).map((c) => envOf(c).AWS_ROLE_ARN).filter((arn) => arn !== undefined);
    const ownRole = addonRoleArn(CONTEXT, addon.name);
    if (!runsAsAccount) {
      // Neither a role nor a token for STS.
      expect([roles, stsTokenVolumes(spec)]).toEqual([[], []]);
      return;
    }
    expect(roles.length).toBeGreaterThan(0);
    expect(roles.filter((arn) => arn !== ownRole)).toEqual([]);
    expect(stsTokenVolumes(spec).map((v) => v.name)).toEqual([WEB_IDENTITY_VOLUME]);
  });

  test.each(everyPod.filter((p) => stsTokenVolumes(p.spec).length > 0).map((p) => [p.owner, p.spec] as const))(
    '%s: on the pod network (instance metadata out of reach: the masters\' role is not its fallback), its token readable by its non-root user',
    (_owner, spec) => {
      expect(spec.hostNetwork).not.toBe(true);
      // With fsGroup the kubelet writes the token 0600 and SetVolumeOwnership opens it to the
      // group (kubernetes pkg/volume/projected/projected.go collectData).
      expect(spec.securityContext?.fsGroup).toEqual(expect.any(Number));
    },
  );

  test('every service account that a role trusts is created by its add-on', () => {
    for (const addon of ADDONS.filter((a) => a.awsServiceAccount)) {
      const { namespace, name } = addon.awsServiceAccount!;
      expect([addon.name, only(rendered(addon), 'ServiceAccount', name).metadata.namespace]).toEqual([addon.name, namespace]);
    }
  });
});

describe('the role name and ARN', () => {
  test("every add-on's role name fits IAM's 64 characters with the longest cluster name the config allows", () => {
    const longest = 'c'.repeat(MAX_CLUSTER_NAME_LENGTH);
    for (const addon of ADDONS) expect(addonRoleName(longest, addon.name).length).toBeLessThanOrEqual(IAM_ROLE_NAME_MAX_LENGTH);
  });

  test('a name over the limit is refused, saying what to shorten', () => {
    expect(() => addonRoleName('c'.repeat(IAM_ROLE_NAME_MAX_LENGTH), 'external-dns')).toThrow(/more than IAM's 64: shorten the cluster name/);
  });

  test('names the cluster and the add-on; the ARN is in the partition and account of the cluster', () => {
    expect(addonRoleName('kube-aws-test-1', 'external-dns')).toBe('kube-aws-test-1-addon-external-dns');
    expect(addonRoleArn({ clusterName: 'kube-aws-test-1', partition: 'aws-cn', account: '123456789012' }, 'external-dns')).toBe(
      'arn:aws-cn:iam::123456789012:role/kube-aws-test-1-addon-external-dns',
    );
  });

  test("the token's audience is the one the cluster's OIDC provider admits", () => {
    expect(WEB_IDENTITY_AUDIENCE).toBe(STS_AUDIENCE);
  });
});

describe('withAddonRole', () => {
  const use = { context: CONTEXT, addonName: 'demo', serviceAccount: { namespace: 'kube-system', name: 'demo' }, containers: ['caller'] };
  const spec: IPodSpec = {
    serviceAccountName: 'demo',
    containers: [
      { name: 'caller', image: 'x', env: [{ name: 'OWN', value: '1' }], volumeMounts: [{ name: 'data', mountPath: '/data' }] },
      { name: 'sidecar', image: 'y' },
    ],
    volumes: [{ name: 'data', emptyDir: {} }],
  };
  const result = withAddonRole(spec, use);
  const [caller, sidecar] = result.containers;

  test("gives the calling container the webhook's environment, after its own", () => {
    expect(caller.env).toEqual([
      { name: 'OWN', value: '1' },
      { name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' },
      { name: 'AWS_DEFAULT_REGION', value: CONTEXT.region },
      { name: 'AWS_REGION', value: CONTEXT.region },
      { name: 'AWS_ROLE_ARN', value: `arn:aws:iam::${CONTEXT.account}:role/${CONTEXT.clusterName}-addon-demo` },
      { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token' },
    ]);
  });

  test("mounts the webhook's token volume read-only where the token file is, in the calling container only", () => {
    expect(caller.volumeMounts).toEqual([
      { name: 'data', mountPath: '/data' },
      { name: 'aws-iam-token', mountPath: '/var/run/secrets/eks.amazonaws.com/serviceaccount', readOnly: true },
    ]);
    expect(WEB_IDENTITY_TOKEN_FILE.startsWith(`${WEB_IDENTITY_MOUNT_PATH}/`)).toBe(true);
    expect(sidecar).toEqual(spec.containers[1]);
  });

  test("adds the webhook's projected token: audience sts.amazonaws.com, its default 24 hours", () => {
    expect(result.volumes).toEqual([
      { name: 'data', emptyDir: {} },
      { name: 'aws-iam-token', projected: { sources: [{ serviceAccountToken: { audience: 'sts.amazonaws.com', expirationSeconds: 86400, path: 'token' } }] } },
    ]);
  });

  test('refuses a pod running as another service account than the role trusts', () => {
    expect(() => withAddonRole({ ...spec, serviceAccountName: 'other' }, use)).toThrow(/trusts service account demo, but the pod runs as 'other': set serviceAccountName/);
    expect(() => withAddonRole({ ...spec, serviceAccountName: undefined }, use)).toThrow(/runs as 'default'/);
  });

  test('refuses a container it cannot find, and one that already sets a variable it would set', () => {
    expect(() => withAddonRole(spec, { ...use, containers: ['calller'] })).toThrow(/no container calller/);
    const own = { ...spec, containers: [{ name: 'caller', image: 'x', env: [{ name: 'AWS_REGION', value: 'us-east-1' }] }] };
    expect(() => withAddonRole(own, use)).toThrow(/container caller already sets AWS_REGION/);
  });
});
