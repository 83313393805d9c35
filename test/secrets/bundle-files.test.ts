import { App, Stack } from 'aws-cdk-lib';
import { ClusterSecrets } from '../../lib/constructs/cluster-secrets';
import { BUNDLE_FILES } from '../../lib/secrets/bundle-files';
import { ClusterSecretNames, ENCRYPTION_CONFIG_FILE } from '../../userdata/secret-names';

// CloudFormation calls a custom resource's handler only when its properties change. A
// release that adds a bundle file (as encryption-config.yaml did) must change them, or
// existing clusters never get the file and new masters fail to fetch it.
test('the secrets custom resource announces its bundle files, so that a new file reaches existing clusters', () => {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'BundleFiles', {
    env: { account: '123456789012', region: 'eu-central-1' },
  });
  new ClusterSecrets(stack, 'Secrets', { set: 'control-plane', clusterName: 'kube-aws-test-1', zoneName: 'team.example.org' });

  // The stack's template without synthesizing the app: a first synthesis in a test file costs
  // seconds (validators loading), and only this resource's properties matter here.
  const toCloudFormation = (stack as unknown as { _toCloudFormation(): unknown })._toCloudFormation.bind(stack);
  const template = stack.resolve(toCloudFormation()) as { Resources: Record<string, { Type: string; Properties: any }> };
  const [resource] = Object.values(template.Resources).filter((r) => r.Type === 'Custom::ClusterSecrets');

  expect(resource.Properties.BundleFiles).toBe(BUNDLE_FILES['control-plane'].join(','));
  expect(resource.Properties.BundleFiles.split(',')).toContain(ENCRYPTION_CONFIG_FILE);
});

// front-proxy-ca brought no new file name (its ca.crt and ca.key are names BundleFiles has
// already), so BundleFiles alone would not change: the secret names do, and the handler then
// fills the new secret and gives the bundle a chain of its CA (control-plane-upgrades.ts).
test('the secrets custom resource announces its secret names, so that a new secret reaches existing clusters', () => {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'SecretNames', {
    env: { account: '123456789012', region: 'eu-central-1' },
  });
  new ClusterSecrets(stack, 'Secrets', { set: 'control-plane', clusterName: 'kube-aws-test-1', zoneName: 'team.example.org' });
  const toCloudFormation = (stack as unknown as { _toCloudFormation(): unknown })._toCloudFormation.bind(stack);
  const template = stack.resolve(toCloudFormation()) as { Resources: Record<string, { Type: string; Properties: any }> };
  const [resource] = Object.values(template.Resources).filter((r) => r.Type === 'Custom::ClusterSecrets');
  const names = new ClusterSecretNames('kube-aws-test-1');

  // The release before front-proxy-ca had no SecretNames: the property is new, so it changed.
  expect(resource.Properties.SecretNames).toBe(names.ofSet('control-plane', 3).join(','));
  expect(resource.Properties.SecretNames.split(',')).toContain(names.frontProxyCa);
});
