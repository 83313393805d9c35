import { App, Stack } from 'aws-cdk-lib';
import { ClusterSecrets } from '../../lib/constructs/cluster-secrets';
import { BUNDLE_FILES } from '../../lib/secrets/bundle-files';
import { ENCRYPTION_CONFIG_FILE } from '../../userdata/secret-names';

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
