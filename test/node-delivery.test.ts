import * as fs from 'fs';
import * as path from 'path';
import { createHash } from 'crypto';
import { findSecretMaterial } from '../lib/secrets/scanner';
import { EC2_USER_DATA_LIMIT_BYTES } from '../lib/constructs/ignition-user-data';
import { ignitionValidate } from './userdata/config-files';
import { SynthesizedCluster, resourcesOfType, synthesizeCluster } from './util';

const ROLES = ['etcd', 'master', 'worker'] as const;
type Role = (typeof ROLES)[number];

/** The launch template's user data (the stub) as text. */
function userDataOf(cluster: SynthesizedCluster, role: Role): string {
  const [template] = Object.values(resourcesOfType(cluster.templates[role], 'AWS::EC2::LaunchTemplate'));
  return template.Properties.LaunchTemplateData.UserData['Fn::Base64'];
}

/** The instance roles of a node role's stack (etcd: one per member, member order), by logical id. */
function nodeRolesOf(cluster: SynthesizedCluster, role: Role): string[] {
  return Object.keys(resourcesOfType(cluster.templates[role], 'AWS::IAM::Role'))
    .filter((id) => /^(MembersMember\d+|Masters|Workers)Role/.test(id))
    .sort();
}

/** Every statement of one node role's instance policy. */
function statementsOf(cluster: SynthesizedCluster, role: Role, roleId: string): any[] {
  const policies = Object.values(resourcesOfType(cluster.templates[role], 'AWS::IAM::Policy'));
  const nodePolicy = policies.find((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleId));
  return nodePolicy!.Properties.PolicyDocument.Statement;
}

/** The secret names each instance role of a node role may read (GetSecretValue resources resolved to their names). */
function readableSecrets(cluster: SynthesizedCluster, role: Role): string[][] {
  const secrets = Object.fromEntries(
    ROLES.flatMap((r) =>
      Object.entries(resourcesOfType(cluster.templates[r], 'AWS::SecretsManager::Secret')).map(([id, s]) => [id, s.Properties.Name]),
    ),
  );
  return nodeRolesOf(cluster, role).map((roleId) =>
    statementsOf(cluster, role, roleId)
      .filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'))
      .flatMap((s) => [s.Resource].flat())
      .map((resource) => {
        const text = JSON.stringify(resource);
        const id = Object.keys(secrets).find((logicalId) => text.includes(logicalId));
        return id ? secrets[id] : text;
      })
      .sort(),
  );
}

describe('node configs delivered as S3 assets', () => {
  let cluster: SynthesizedCluster;
  let assemblyDir: string;
  beforeAll(() => {
    cluster = synthesizeCluster();
    assemblyDir = cluster.app.synth().directory;
  });

  /** The staged asset file a stub points at. */
  function configAsset(role: Role): { file: string; sha512: string } {
    const stub = JSON.parse(userDataOf(cluster, role));
    const { source, verification } = stub.ignition.config.replace;
    const key = source.split('/').pop();
    return { file: path.join(assemblyDir, `asset.${key}`), sha512: verification.hash.replace(/^sha512-/, '') };
  }

  test.each(ROLES)('%s: the user data is a small stub, far below EC2\'s 16 KB', (role) => {
    const size = Buffer.byteLength(userDataOf(cluster, role));
    console.log(`${role} user data: ${size} bytes (limit ${EC2_USER_DATA_LIMIT_BYTES})`);
    expect(size).toBeLessThan(1024);
  });

  test.each(ROLES)('%s: the stub names the staged config and its true sha512, and ignition-validate accepts the config', (role) => {
    const { file, sha512 } = configAsset(role);
    const content = fs.readFileSync(file);
    expect(createHash('sha512').update(content).digest('hex')).toBe(sha512);
    expect(ignitionValidate(JSON.parse(content.toString()))).toEqual({ status: 0, output: '' });
  });

  test.each(ROLES)('%s: nodes may fetch their own config object and no other asset', (role) => {
    expect(nodeRolesOf(cluster, role).length).toBeGreaterThan(0);
    for (const roleId of nodeRolesOf(cluster, role)) expectOwnConfigOnly(role, roleId);
  });

  function expectOwnConfigOnly(role: Role, roleId: string): void {
    // Only the assets bucket's objects: an etcd member's GetObject statement also names its snapshots.
    const objects = statementsOf(cluster, role, roleId)
      .filter((s) => [s.Action].flat().some((a: string) => a.startsWith('s3:')))
      .flatMap((s) => [s.Resource].flat())
      .map((r) => JSON.stringify(r))
      .filter((r) => r.includes('cdk-hnb659fds-assets'));
    const { file } = configAsset(role);
    expect(objects.some((o) => o.includes(path.basename(file).replace(/^asset\./, '')))).toBe(true);
    for (const object of objects) expect(object).not.toMatch(/\/\*"/);
  }

  test('secrets are read by role: etcd member N its own certificates, masters the control plane, workers only the worker secret', () => {
    const name = (n: string) => `kubernetes-on-aws/kube-aws-test-1/${n}`;
    expect(readableSecrets(cluster, 'etcd')).toEqual([0, 1, 2].map((i) => [name(`etcd-member-${i}`)]));
    expect(readableSecrets(cluster, 'master')).toEqual([[name('apiserver-etcd-client'), name('control-plane')]]);
    expect(readableSecrets(cluster, 'worker')).toEqual([[name('worker')]]);
  });

  test('no private key or inline secret file anywhere in the cloud assembly', () => {
    const findings: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else findings.push(...findSecretMaterial(fs.readFileSync(full, 'utf8')).map((f) => `${full}: ${f.slice(0, 40)}`));
      }
    };
    walk(assemblyDir);
    expect(findings).toEqual([]);
    for (const role of ROLES) {
      const config = JSON.parse(fs.readFileSync(configAsset(role).file, 'utf8'));
      const secretFiles = (config.storage?.files ?? []).filter((f: { path: string }) => /\/pki\/|token|\.key$/.test(f.path));
      expect(secretFiles.map((f: { path: string }) => f.path)).toEqual([]);
    }
  });

  test('a changed master setting rolls the masters only: a new config hash in their launch template', () => {
    const changed = synthesizeCluster({ tokenInfoUrl: 'https://auth.team.example.org/oauth2/other' });
    expect(userDataOf(changed, 'master')).not.toEqual(userDataOf(cluster, 'master'));
    expect(userDataOf(changed, 'worker')).toEqual(userDataOf(cluster, 'worker'));
    expect(userDataOf(changed, 'etcd')).toEqual(userDataOf(cluster, 'etcd'));
  });
});
