/**
 * createAddonRoles: each add-on that calls AWS gets a role of its own, trusted by its service
 * account only, named as its pods expect, carrying its contract's statements; no other role
 * (the masters' among them) gets any add-on statement.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { addonSteps, createAddonRoles, ServiceAccountRoleIssuer } from '../../lib/constructs/cluster-addons';
import { ClusterSecrets } from '../../lib/constructs/cluster-secrets';
import { ServiceAccountIssuer, ServiceAccountRoleOptions } from '../../lib/constructs/service-account-issuer';
import { Addon, AddonContext } from '../../manifests/addons/addon';
import { addonRoleName } from '../../manifests/addons/aws-identity';
import { BootstrapStep } from '../../manifests/addons/bootstrap-chain';
import { ADDONS } from '../../manifests/addons/registry';
import { resourcesOfType } from '../util';

const ENV = { account: '123456789012', region: 'eu-central-1' };
const BUCKET = 'kube-aws-test-1-oidc-123456789012-eu-central-1';
const ISSUER_HOST = `${BUCKET}.s3.eu-central-1.amazonaws.com`;
const CONTEXT: AddonContext = {
  clusterName: 'kube-aws-test-1',
  region: ENV.region,
  account: ENV.account,
  partition: 'aws',
  hostedZoneId: 'Z0123456789ABCDEFGHIJ',
  hostedZoneName: 'team.example.org',
  kubernetesVersion: 'v1.35.1',
  clusterGroup: `aws:${ENV.account}:${ENV.region}:kube-aws-test-1`,
  administratorGroups: ['team-admins'],
  workerPoolTaints: [],
};
const callers = ADDONS.filter((addon) => addon.permissions(CONTEXT).length > 0);

/** A stand-in issuer: plain roles, and a record of what was asked. */
class RecordingIssuer implements ServiceAccountRoleIssuer {
  readonly asked: { id: string; options: ServiceAccountRoleOptions }[] = [];
  constructor(private readonly scope: Stack) {}
  roleForServiceAccount(id: string, options: ServiceAccountRoleOptions): iam.IRole {
    this.asked.push({ id, options });
    return new iam.Role(this.scope, id, { roleName: options.roleName, assumedBy: new iam.AccountRootPrincipal() });
  }
}

describe('createAddonRoles with the cluster issuer (GIVEN every add-on enabled, and the masters\' role in the stack)', () => {
  // One app for the file: the issuer's publishing function is bundled on synth.
  const app = new App();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new Stack(app, 'Roles', { env: ENV });
  const secrets = new ClusterSecrets(stack, 'Secrets', { set: 'control-plane', clusterName: CONTEXT.clusterName, zoneName: CONTEXT.hostedZoneName });
  const issuer = new ServiceAccountIssuer(stack, 'Issuer', {
    bucketName: BUCKET,
    secrets: { controlPlaneSecret: secrets.controlPlaneSecret, resource: secrets.resource, regenerate: 0, grantControlPlaneRead: (grantee) => secrets.grantControlPlaneRead(grantee) },
  });
  const masters = new iam.Role(stack, 'Masters', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
  const roles = createAddonRoles(stack, issuer, addonSteps([]), CONTEXT);
  const template = Template.fromStack(stack);
  const roleResources = resourcesOfType(template, 'AWS::IAM::Role');
  const policies = Object.values(resourcesOfType(template, 'AWS::IAM::Policy'));
  const logicalIdOf = (role: iam.IRole) => stack.getLogicalId(role.node.defaultChild as iam.CfnRole);

  test('THEN exactly the add-ons with permissions get a role, by add-on name', () => {
    expect([...roles.keys()].sort()).toEqual(callers.map((a) => a.name).sort());
  });

  describe.each(callers.map((addon) => [addon.name, addon] as const))('%s', (name, addon) => {
    const role = () => roleResources[logicalIdOf(roles.get(name)!)];

    test('its role has the name its pods carry (aws-identity.ts)', () => {
      expect(role().Properties.RoleName).toBe(addonRoleName(CONTEXT.clusterName, name));
    });

    test('its role trusts exactly its service account\'s tokens for STS, through the cluster\'s OIDC provider', () => {
      const { namespace, name: account } = addon.awsServiceAccount!;
      const statements = role().Properties.AssumeRolePolicyDocument.Statement;
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatchObject({
        Effect: 'Allow',
        Action: 'sts:AssumeRoleWithWebIdentity',
        Principal: { Federated: { Ref: stack.getLogicalId(issuer.provider.node.defaultChild as never) } },
        Condition: { StringEquals: { [`${ISSUER_HOST}:sub`]: `system:serviceaccount:${namespace}:${account}`, [`${ISSUER_HOST}:aud`]: 'sts.amazonaws.com' } },
      });
      expect(Object.keys(statements[0].Condition)).toEqual(['StringEquals']);
    });

    test('one policy named for the add-on holds its contract\'s statements, on its role only', () => {
      const own = policies.filter((p) => p.Properties.PolicyName === name);
      expect(own).toHaveLength(1);
      expect(own[0].Properties.Roles).toEqual([{ Ref: logicalIdOf(roles.get(name)!) }]);
      expect(own[0].Properties.PolicyDocument.Statement).toEqual(addon.permissions(CONTEXT).map((s) => iam.PolicyStatement.fromJson(s).toStatementJson()));
    });
  });

  test("THEN no policy is attached to the masters' role, nor any add-on policy to a role it did not create", () => {
    const created = new Set([...roles.values()].map(logicalIdOf));
    const addonPolicies = policies.filter((p) => callers.some((a) => a.name === p.Properties.PolicyName));
    expect(addonPolicies).toHaveLength(callers.length);
    for (const policy of addonPolicies) for (const ref of policy.Properties.Roles) expect(created.has(ref.Ref)).toBe(true);
    const onMasters = policies.filter((p) => (p.Properties.Roles ?? []).some((ref: { Ref: string }) => ref.Ref === logicalIdOf(masters)));
    expect(onMasters).toEqual([]);
  });

  test('THEN cdk-nag AwsSolutions finds nothing unacknowledged (the wildcards of reads are acknowledged per add-on)', () => {
    expect(() => app.synth()).not.toThrow();
  });
});

describe('createAddonRoles with a stand-in issuer', () => {
  test('a disabled add-on gets no role', () => {
    const stack = new Stack(new App(), 'Disabled', { env: ENV });
    const issuer = new RecordingIssuer(stack);
    const roles = createAddonRoles(stack, issuer, addonSteps(['external-dns', 'cluster-autoscaler']), CONTEXT);
    expect([...roles.keys()]).toEqual(['aws-ebs-csi-driver', 'aws-node-termination-handler']);
    expect(issuer.asked).toEqual([
      {
        id: 'AddonRole-aws-ebs-csi-driver',
        options: expect.objectContaining({ namespace: 'kube-system', serviceAccountName: 'ebs-csi-controller-sa', roleName: addonRoleName(CONTEXT.clusterName, 'aws-ebs-csi-driver') }),
      },
      {
        id: 'AddonRole-aws-node-termination-handler',
        options: expect.objectContaining({ namespace: 'kube-system', serviceAccountName: 'aws-node-termination-handler', roleName: addonRoleName(CONTEXT.clusterName, 'aws-node-termination-handler') }),
      },
    ]);
  });

  test('an add-on listing permissions without the service account they are for is refused, naming it and the fix', () => {
    const stack = new Stack(new App(), 'NoAccount', { env: ENV });
    const ebs = ADDONS.find((a) => a.name === 'aws-ebs-csi-driver')!;
    const withoutAccount: Addon = { ...ebs, awsServiceAccount: undefined };
    const steps: BootstrapStep[] = [{ addon: withoutAccount, stack: 'master' }];
    expect(() => createAddonRoles(stack, new RecordingIssuer(stack), steps, CONTEXT)).toThrow(
      /add-on aws-ebs-csi-driver lists IAM permissions but no awsServiceAccount: set it in its file under manifests\/addons\//,
    );
  });
});
