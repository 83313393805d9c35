/**
 * The auth webhook on the masters maps a session of a node role to a node. Its config (in the
 * masters' Ignition config, built before the stacks exist) names the roles by ARN: these
 * tests hold those ARNs to the roles and instance profiles the stacks actually create.
 */
import * as fs from 'fs';
import * as path from 'path';
import { load } from 'js-yaml';
import { NODE_KUBECONFIG } from '../../userdata/kubelet';
import { WEBHOOK_CONFIG_PATH } from '../../userdata/master';
import { AWS } from '../../userdata/node-bootstrap';
import { parseWebhookConfig } from '../../webhook/config';
import { fileText } from '../userdata/config-files';
import { resourcesOfType, synthesizeCluster } from '../util';

const cluster = synthesizeCluster({ administratorRoleArns: 'arn:aws:iam::123456789012:role/PlatformAdmins' });
const staged = path.join(cluster.app.outdir, cluster.stacks.master.userData.config.asset.assetPath);
const webhook = parseWebhookConfig(fileText(JSON.parse(fs.readFileSync(staged, 'utf8')), WEBHOOK_CONFIG_PATH));
const nameOf = (arn: string) => arn.split('/').pop();
/** A node's Ignition config as the stack staged it. */
const nodeConfig = (role: 'master' | 'worker') => {
  const userData = role === 'master' ? cluster.stacks.master.userData : cluster.stacks.worker.userData.get('default')!;
  return JSON.parse(fs.readFileSync(path.join(cluster.app.outdir, userData.config.asset.assetPath), 'utf8'));
};

describe('node roles, as the auth webhook names them and as the stacks create them', () => {
  test.each([
    ['master', cluster.templates.master],
    ['worker', cluster.templates.worker],
  ] as const)('%s: the instance role and the profile its launch template uses carry the names the webhook maps', (role, template) => {
    const mapping = webhook.iam!.nodeRoles.find((node) => nameOf(node.roleArn) === `kube-aws-test-1-${role}-node`)!;
    expect(mapping.roleArn).toBe(`arn:aws:iam::123456789012:role/kube-aws-test-1-${role}-node`);
    expect(mapping.instanceProfileArn).toBe(`arn:aws:iam::123456789012:instance-profile/kube-aws-test-1-${role}-node`);

    const roles = Object.entries(resourcesOfType(template, 'AWS::IAM::Role')).filter(([, r]) => r.Properties.RoleName === nameOf(mapping.roleArn));
    expect(roles).toHaveLength(1);
    const [roleId, roleResource] = roles[0];
    // EC2 alone may assume it: anyone else would choose the session name, i.e. the node.
    expect(roleResource.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' } },
    ]);
    const profiles = Object.entries(resourcesOfType(template, 'AWS::IAM::InstanceProfile'))
      .filter(([, p]) => p.Properties.InstanceProfileName === nameOf(mapping.instanceProfileArn));
    expect(profiles).toHaveLength(1);
    const [profileId, profile] = profiles[0];
    expect(profile.Properties.Roles).toEqual([{ Ref: roleId }]);
    const launchTemplates = Object.values(resourcesOfType(template, 'AWS::EC2::LaunchTemplate'));
    expect(launchTemplates.length).toBeGreaterThan(0);
    for (const launchTemplate of launchTemplates) {
      expect(launchTemplate.Properties.LaunchTemplateData.IamInstanceProfile).toEqual({ Arn: { 'Fn::GetAtt': [profileId, 'Arn'] } });
    }
  });

  test.each(['master', 'worker'] as const)('%s: the kubelet signs its token for the cluster id the webhook wants, in its region, as the instance role', (role) => {
    const kubeconfig = load(fileText(nodeConfig(role), NODE_KUBECONFIG)) as { users: { user: { exec?: { command: string; args: string[] } } }[] };
    const exec = kubeconfig.users[0].user.exec!;
    // The node's AWS CLI wrapper: the instance role's credentials from IMDSv2, nothing stored.
    expect(exec.command).toBe(AWS);
    const flag = (name: string) => exec.args[exec.args.indexOf(name) + 1];
    expect(exec.args.slice(0, 2)).toEqual(['eks', 'get-token']);
    expect(flag('--cluster-name')).toBe(webhook.iam!.clusterId);
    expect(flag('--region')).toBe(webhook.iam!.region);
    expect(Object.keys(kubeconfig.users[0].user)).toEqual(['exec']);
  });

  test('exactly the masters\' and workers\' roles are node roles (etcd members are not nodes)', () => {
    expect(webhook.iam!.nodeRoles.map((node) => nameOf(node.roleArn)).sort()).toEqual(['kube-aws-test-1-master-node', 'kube-aws-test-1-worker-node']);
  });

  test('the webhook names this cluster, its region, and the IAM principals of each role from the context', () => {
    // The cluster group, unique across accounts and regions, is what a token must have signed.
    expect(webhook.iam).toMatchObject({ clusterId: 'aws:123456789012:eu-central-1:kube-aws-test-1', partition: 'aws', region: 'eu-central-1' });
    // ... and the add-on applier's own role, an Administrator too (test/stacks/addon-delivery.test.ts).
    expect(webhook.iam!.roles).toEqual({
      ReadOnly: [],
      PowerUser: [],
      Administrator: ['arn:aws:iam::123456789012:role/PlatformAdmins', 'arn:aws:iam::123456789012:role/kube-aws-test-1-addon-applier'],
    });
  });

  test('the masters\' role may describe instances (how the webhook finds a node\'s name)', () => {
    const statements = Object.values(resourcesOfType(cluster.templates.master, 'AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const actions = statements.filter((s) => s.Effect === 'Allow').flatMap((s) => [].concat(s.Action));
    expect(actions).toContain('ec2:DescribeInstances');
  });
});

