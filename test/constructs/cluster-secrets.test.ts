import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ClusterSecrets, ClusterSecretsProps } from '../../lib/constructs/cluster-secrets';
import { findSecretMaterial } from '../../lib/secrets/scanner';
import * as sans from '../../lib/secrets/sans';
import { Statement, allows, resolveIntrinsics, roleStatements } from '../iam-policy';
import { synthesizeCluster } from '../util';

const ENV = { account: '123456789012', region: 'eu-central-1' };
const BASE = { clusterName: 'kube-aws-test-1', zoneName: 'team.example.org' };

/** One app and stack for the file: every new stack costs a synth with cdk-nag. */
function fixture() {
  const app = new App();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new Stack(app, 'Test', { env: ENV });
  const etcd = new ClusterSecrets(stack, 'EtcdSecrets', { ...BASE, set: 'etcd' });
  const controlPlane = new ClusterSecrets(stack, 'ControlPlaneSecrets', { ...BASE, set: 'control-plane' });
  const role = (id: string) => new iam.Role(stack, id, { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
  const roles = {
    etcdMember0: role('EtcdMember0Role'),
    etcdMember1: role('EtcdMember1Role'),
    master: role('MasterRole'),
    worker: role('WorkerRole'),
    admin: role('AdminRole'),
  };
  etcd.grantEtcdMemberRead(roles.etcdMember0, 0);
  etcd.grantEtcdMemberRead(roles.etcdMember1, 1);
  etcd.grantApiServerEtcdClientRead(roles.master);
  controlPlane.grantControlPlaneRead(roles.master);
  controlPlane.grantWorkerRead(roles.worker);
  controlPlane.grantAdminRead(roles.admin);
  return { app, stack, etcd, controlPlane, roles, template: Template.fromStack(stack) };
}

describe('ClusterSecrets', () => {
  const { app, stack, etcd, controlPlane, roles, template } = fixture();
  const ref = (value: string) => stack.resolve(value);
  const keyArnOf = (secrets: ClusterSecrets) => ref(secrets.encryptionKey.keyArn);

  /** The statements of the role's default policy. */
  function statementsOf(role: iam.Role): unknown[] {
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [ref(role.roleName)] },
    });
    return Object.values(policies).flatMap((policy) => policy.Properties.PolicyDocument.Statement);
  }

  function readStatements(secrets: ClusterSecrets, secretArns: string[]): unknown[] {
    return [
      { Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: secretArns.length === 1 ? secretArns[0] : secretArns },
      {
        Action: 'kms:Decrypt',
        Effect: 'Allow',
        Resource: keyArnOf(secrets),
        Condition: {
          StringEquals: {
            'kms:ViaService': 'secretsmanager.eu-central-1.amazonaws.com',
            'kms:EncryptionContext:SecretARN': secretArns,
          },
        },
      },
    ];
  }

  test('one KMS key per set, rotation on, retained', () => {
    template.resourceCountIs('AWS::KMS::Key', 2);
    template.allResources('AWS::KMS::Key', {
      Properties: Match.objectLike({ EnableKeyRotation: true }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('one empty secret per agreed name, encrypted with its set\'s key, retained', () => {
    const expected: [string, ClusterSecrets][] = [
      ['etcd-ca', etcd],
      ['etcd-member-0', etcd],
      ['etcd-member-1', etcd],
      ['etcd-member-2', etcd],
      ['apiserver-etcd-client', etcd],
      ['front-proxy-ca', controlPlane],
      ['control-plane', controlPlane],
      ['worker', controlPlane],
      ['admin', controlPlane],
    ];
    template.resourceCountIs('AWS::SecretsManager::Secret', expected.length);
    for (const [name, secrets] of expected) {
      template.hasResource('AWS::SecretsManager::Secret', {
        Properties: {
          Name: `kubernetes-on-aws/kube-aws-test-1/${name}`,
          KmsKeyId: keyArnOf(secrets),
          Description: Match.anyValue(),
          // No value at all: CloudFormation must not generate one (the handler fills it).
          GenerateSecretString: Match.absent(),
          SecretString: Match.absent(),
        },
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    }
  });

  test('the custom resource gets the generator inputs and waits for its secrets', () => {
    template.resourceCountIs('Custom::ClusterSecrets', 2);
    const resources = template.findResources('Custom::ClusterSecrets', {
      Properties: {
        Set: 'control-plane',
        ClusterName: 'kube-aws-test-1',
        ZoneName: 'team.example.org',
        EtcdMemberCount: '3',
        ServiceCidr: '10.3.0.0/24',
        ClusterDomain: 'cluster.local',
        Regenerate: '0',
      },
    });
    const [resource] = Object.values(resources);
    const secretIds = [controlPlane.controlPlaneSecret, controlPlane.workerSecret, controlPlane.adminSecret].map(
      (secret) => stack.getLogicalId(secret.node.defaultChild as secretsmanager.CfnSecret),
    );
    expect(resource.DependsOn).toEqual(expect.arrayContaining(secretIds));
  });

  test('only the control-plane resource carries the API server names, sorted, the internal endpoint\'s among them', () => {
    const names = template.findResources('Custom::ClusterSecrets', { Properties: { Set: 'control-plane' } });
    const [controlPlaneResource] = Object.values(names);
    expect(controlPlaneResource.Properties.ApiServerNames).toBe(
      [
        'DNS:internal.kube-aws-test-1.team.example.org',
        'DNS:kube-aws-test-1.team.example.org',
        'DNS:kubernetes',
        'DNS:kubernetes.default',
        'DNS:kubernetes.default.svc',
        'DNS:kubernetes.default.svc.cluster.local',
        'DNS:localhost',
        'IP:10.3.0.1',
        'IP:127.0.0.1',
      ].join(','),
    );
    // The same list for the master stack to put into the master user data (replacing masters).
    expect(controlPlane.apiServerNames.join(',')).toBe(controlPlaneResource.Properties.ApiServerNames);
    // The etcd set holds no API server certificate: a name change must not touch its resource.
    template.hasResourceProperties('Custom::ClusterSecrets', { Set: 'etcd', ApiServerNames: Match.absent() });
    expect(etcd.apiServerNames).toEqual([]);
  });

  test('the handler runs on Node 22 and may only read and write its own secrets', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Timeout: 120,
      MemorySize: 512,
    });
    const handlerRole = etcd.node.findChild('Handler').node.findChild('ServiceRole') as iam.Role;
    expect(statementsOf(handlerRole)).toEqual([
      {
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
        Effect: 'Allow',
        Resource: [etcd.etcdCaSecret, ...etcd.etcdMemberSecrets, etcd.apiServerEtcdClientSecret].map((s) => ref(s.secretArn)),
      },
      {
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Effect: 'Allow',
        Resource: keyArnOf(etcd),
        Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-central-1.amazonaws.com' } },
      },
    ]);
  });

  test('workers may read the worker secret and nothing else', () => {
    expect(statementsOf(roles.worker)).toEqual(readStatements(controlPlane, [ref(controlPlane.workerSecret.secretArn)]));
  });

  test('masters may read the control-plane secret and the API server\'s etcd client secret', () => {
    expect(statementsOf(roles.master)).toEqual([
      ...readStatements(etcd, [ref(etcd.apiServerEtcdClientSecret.secretArn)]),
      ...readStatements(controlPlane, [ref(controlPlane.controlPlaneSecret.secretArn)]),
    ]);
  });

  test('etcd member N may read its own member secret only (not the etcd CA, not another member\'s)', () => {
    expect(statementsOf(roles.etcdMember0)).toEqual(readStatements(etcd, [ref(etcd.etcdMemberSecrets[0].secretArn)]));
    expect(statementsOf(roles.etcdMember1)).toEqual(readStatements(etcd, [ref(etcd.etcdMemberSecrets[1].secretArn)]));
  });

  test('admins may read the admin secret only', () => {
    expect(statementsOf(roles.admin)).toEqual(readStatements(controlPlane, [ref(controlPlane.adminSecret.secretArn)]));
  });

  test('the front-proxy CA secret: its set\'s function reads and writes it; no grant reaches it', () => {
    const values = arnValues(template);
    const arn = values[stack.getLogicalId(controlPlane.frontProxyCaSecret.node.defaultChild as secretsmanager.CfnSecret)];
    const keyArn = values[`${stack.getLogicalId(controlPlane.encryptionKey.node.defaultChild as kms.CfnKey)}.Arn`];
    const handlerRole = controlPlane.node.findChild('Handler').node.findChild('ServiceRole') as iam.Role;
    const resolved = (role: iam.Role) => resolveIntrinsics(statementsOf(role), values) as Statement[];

    expect(readsSecret(resolved(handlerRole), arn, keyArn)).toEqual({ secret: true, key: true });
    expect(allows(resolved(handlerRole), 'secretsmanager:PutSecretValue', arn)).toBe(true);
    for (const [name, role] of Object.entries(roles)) {
      expect({ name, ...readsSecret(resolved(role), arn, keyArn) }).toEqual({ name, secret: false, key: false });
    }
  });

  test('a set has no secrets of the other set', () => {
    expect(() => etcd.grantWorkerRead(roles.worker)).toThrow(/holds the etcd set .*worker is not one of its secrets/);
    expect(() => controlPlane.grantEtcdMemberRead(roles.etcdMember0, 0)).toThrow(/holds the control-plane set/);
    expect(() => etcd.grantEtcdMemberRead(roles.etcdMember0, 3)).toThrow(/member must be an integer from 0 to 2, got 3/);
  });

  test('cdk-nag AwsSolutions finds nothing unacknowledged, and nothing secret is synthesized', () => {
    const assembly = app.synth();

    const files = fs.readdirSync(assembly.directory, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    expect(files.some((f) => f.name === 'index.js')).toBe(true); // the bundled handler is scanned too
    for (const file of files) {
      expect(findSecretMaterial(fs.readFileSync(path.join(file.parentPath, file.name), 'utf8'))).toEqual([]);
    }
  });

  test('cdk-nag is active: an unacknowledged finding fails synthesis', () => {
    const other = new App();
    Validations.of(other).addPlugins(new AwsSolutionsChecks(other));
    new secretsmanager.Secret(new Stack(other, 'Bare', { env: ENV }), 'NoRotation');
    expect(() => other.synth()).toThrow(/AwsSolutions-SMG4/);
  });
});

/**
 * ARNs for a template's secrets, KMS keys and pseudo parameters, so that IAM's wildcards can
 * be matched against them. Logical ids repeat across stacks: `stack` keeps their keys apart.
 */
function arnValues(template: Template, stack = 'Test'): Record<string, string> {
  const values: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': ENV.region, 'AWS::AccountId': ENV.account, 'AWS::URLSuffix': 'amazonaws.com' };
  for (const [id, secret] of Object.entries(template.findResources('AWS::SecretsManager::Secret'))) {
    values[id] = `arn:aws:secretsmanager:${ENV.region}:${ENV.account}:secret:${secret.Properties.Name}-AbCdEf`;
  }
  for (const id of Object.keys(template.findResources('AWS::KMS::Key'))) {
    values[`${id}.Arn`] = `arn:aws:kms:${ENV.region}:${ENV.account}:key/${stack}-${id}`;
  }
  return values;
}

/**
 * Whether `statements` let their role read the secret `arn`: GetSecretValue on it, and
 * Decrypt with its key (`keyArn`) as Secrets Manager calls it (through the service, the
 * secret's ARN in the encryption context). Reading needs both; each alone is reported.
 */
function readsSecret(statements: Statement[], arn: string, keyArn: string): { secret: boolean; key: boolean } {
  return {
    secret: allows(statements, 'secretsmanager:GetSecretValue', arn),
    key: allows(statements, 'kms:Decrypt', keyArn, {
      'kms:ViaService': `secretsmanager.${ENV.region}.amazonaws.com`,
      'kms:EncryptionContext:SecretARN': arn,
    }),
  };
}

describe('the front-proxy CA secret in the synthesized cluster', () => {
  // Its key signs client certificates that aggregated API servers trust to name any user: only
  // the control-plane secrets function may read it; no node role (etcd, master, worker), no
  // other function of any stack, and it is not handed to another stack.
  test('only the control-plane secrets function\'s role may read it, in any of the three stacks', () => {
    const cluster = synthesizeCluster();
    const master = cluster.stacks.master;
    const secretId = master.getLogicalId(master.node.findChild('Secrets').node.findChild('FrontProxyCa').node.defaultChild as secretsmanager.CfnSecret);
    const handlerRoleId = master.getLogicalId(
      (master.node.findChild('Secrets').node.findChild('Handler').node.findChild('ServiceRole') as iam.Role).node.defaultChild as iam.CfnRole,
    );
    const keyId = master.getLogicalId(master.node.findChild('Secrets').node.findChild('Key').node.defaultChild as kms.CfnKey);
    const masterValues = arnValues(cluster.templates.master, 'master');
    const arn = masterValues[secretId];
    const keyArn = masterValues[`${keyId}.Arn`];
    expect(arn).toMatch(/:secret:kubernetes-on-aws\/kube-aws-test-1\/front-proxy-ca-/);

    const readers: string[] = [];
    let roles = 0;
    for (const [stack, template] of Object.entries(cluster.templates)) {
      // The secret's own ARN string, as a wildcard or a literal would name it in any stack.
      const values = arnValues(template, stack);
      const byRole = new Map<string, Statement[]>();
      for (const { role, statement } of roleStatements(template)) {
        byRole.set(role, [...(byRole.get(role) ?? []), resolveIntrinsics(statement, values)]);
      }
      roles += byRole.size;
      for (const [role, statements] of byRole) {
        const reads = readsSecret(statements, arn, keyArn);
        if (reads.secret || reads.key) readers.push(`${stack}:${role}`);
      }
    }

    expect(roles).toBeGreaterThan(5); // node roles and functions of all three stacks were looked at
    expect(readers).toEqual([`master:${handlerRoleId}`]);
    // Nor is it handed to another stack, where an import would hide it from the check above.
    const exported = JSON.stringify(cluster.templates.master.toJSON().Outputs ?? {});
    expect(exported).not.toContain(secretId);
  });
});

describe('ClusterSecrets options', () => {
  test('removalPolicy DESTROY applies to secrets and key; regenerate reaches the resource', () => {
    const stack = new Stack(new App(), 'Destroy', { env: ENV });
    new ClusterSecrets(stack, 'Secrets', { ...BASE, set: 'control-plane', removalPolicy: RemovalPolicy.DESTROY, regenerate: 2 });

    const template = Template.fromStack(stack);
    template.allResources('AWS::SecretsManager::Secret', { DeletionPolicy: 'Delete' });
    template.allResources('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
    template.hasResourceProperties('Custom::ClusterSecrets', { Regenerate: '2' });
  });

  test.each<[string, Partial<ClusterSecretsProps>, RegExp]>([
    ['set', { set: 'workers' as never }, /set must be one of 'etcd', 'control-plane'; got 'workers'/],
    ['clusterName', { clusterName: 'Kube_1' }, /clusterName must be a DNS label .* got 'Kube_1'/],
    ['zoneName', { zoneName: 'team.example.org.' }, /zoneName must be a lowercase DNS name without trailing dot.* got 'team.example.org.'/],
    ['etcdMemberCount (even)', { etcdMemberCount: 2 }, /etcdMemberCount must be an odd integer from 1 to 7 .* got 2/],
    ['etcdMemberCount (too many)', { etcdMemberCount: 9 }, /etcdMemberCount must be an odd integer from 1 to 7 .* got 9/],
    ['serviceCidr', { serviceCidr: '10.3.0.0' }, /serviceCidr must be an IPv4 CIDR .* got "10.3.0.0"/],
    ['clusterDomain', { clusterDomain: 'Cluster.Local' }, /clusterDomain must be a lowercase DNS name.* got 'Cluster.Local'/],
    ['regenerate', { regenerate: -1 }, /regenerate must be a non-negative integer .* got -1/],
  ])('rejects a bad %s, naming it', (_name, override, message) => {
    const stack = new Stack(new App(), 'Invalid', { env: ENV });
    expect(() => new ClusterSecrets(stack, 'Secrets', { ...BASE, set: 'etcd', ...override })).toThrow(message);
  });
});

describe('ClusterSecrets ApiServerNames', () => {
  afterEach(() => jest.restoreAllMocks());

  /** The custom resource's properties, without bundling the handler or synthesizing the app. */
  function resourceProperties(props: Partial<ClusterSecretsProps> = {}): Record<string, string> {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Names', { env: ENV });
    new ClusterSecrets(stack, 'Secrets', { ...BASE, set: 'control-plane', ...props });
    const toCloudFormation = (stack as unknown as { _toCloudFormation(): unknown })._toCloudFormation.bind(stack);
    const template = stack.resolve(toCloudFormation()) as { Resources: Record<string, { Type: string; Properties: any }> };
    return Object.values(template.Resources).find((r) => r.Type === 'Custom::ClusterSecrets')!.Properties;
  }

  test('a release that adds a name changes the property, so CloudFormation calls the handler to re-issue', () => {
    const current = resourceProperties().ApiServerNames;
    // The release before the internal endpoint: the same names without internal.<cluster>.<zone>.
    const realApiServerSans = sans.apiServerSans;
    jest.spyOn(sans, 'apiServerSans').mockImplementation((input) => {
      const names = realApiServerSans(input);
      return { ...names, dnsNames: names.dnsNames.filter((name) => !name.startsWith('internal.')) };
    });
    const before = resourceProperties().ApiServerNames;

    expect(before).not.toBe(current);
    expect(current.split(',')).toEqual([...before.split(','), 'DNS:internal.kube-aws-test-1.team.example.org'].sort());
  });

  test('inputs the certificate names change it too; inputs it does not name leave it', () => {
    const current = resourceProperties().ApiServerNames;

    expect(resourceProperties({ serviceCidr: '10.4.0.0/24' }).ApiServerNames).toContain('IP:10.4.0.1');
    expect(resourceProperties({ clusterDomain: 'cluster.example' }).ApiServerNames).not.toBe(current);
    expect(resourceProperties({ regenerate: 3 }).ApiServerNames).toBe(current);
  });
});
