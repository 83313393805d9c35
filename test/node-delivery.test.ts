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

/** Every statement of the role's instance policy. */
function statementsOf(cluster: SynthesizedCluster, role: Role): any[] {
  const policies = Object.values(resourcesOfType(cluster.templates[role], 'AWS::IAM::Policy'));
  const nodePolicy = policies.find((p) => JSON.stringify(p.Properties.Roles).match(/(Members|Masters|Workers)Role/));
  return nodePolicy!.Properties.PolicyDocument.Statement;
}

/** The secret names a role may read (GetSecretValue resources resolved to their logical ids' names). */
function readableSecrets(cluster: SynthesizedCluster, role: Role): string[] {
  const secrets = Object.fromEntries(
    ROLES.flatMap((r) =>
      Object.entries(resourcesOfType(cluster.templates[r], 'AWS::SecretsManager::Secret')).map(([id, s]) => [id, s.Properties.Name]),
    ),
  );
  return statementsOf(cluster, role)
    .filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'))
    .flatMap((s) => [s.Resource].flat())
    .map((resource) => {
      const text = JSON.stringify(resource);
      const id = Object.keys(secrets).find((logicalId) => text.includes(logicalId));
      return id ? secrets[id] : text;
    })
    .sort();
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
    const s3 = statementsOf(cluster, role).filter((s) => [s.Action].flat().some((a: string) => a.startsWith('s3:')) && JSON.stringify(s.Resource).includes('cdk-hnb659fds-assets'));
    const objects = s3.flatMap((s) => [s.Resource].flat()).map((r) => JSON.stringify(r));
    const { file } = configAsset(role);
    expect(objects.some((o) => o.includes(path.basename(file).replace(/^asset\./, '')))).toBe(true);
    for (const object of objects) expect(object).not.toMatch(/\/\*"/);
  });

  test('secrets are read by role: etcd its member certificates, masters the control plane, workers only the worker secret', () => {
    const name = (n: string) => `kubernetes-on-aws/kube-aws-test-1/${n}`;
    expect(readableSecrets(cluster, 'etcd')).toEqual([0, 1, 2].map((i) => name(`etcd-member-${i}`)));
    expect(readableSecrets(cluster, 'master')).toEqual([name('apiserver-etcd-client'), name('control-plane')]);
    expect(readableSecrets(cluster, 'worker')).toEqual([name('worker')]);
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
