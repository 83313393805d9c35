import { ENCRYPTION_CONFIG_FILE, SecretSet } from '../../userdata/secret-names';

/**
 * The files of each set's bundles (bundles.ts; a test holds the two together). ClusterSecrets
 * passes them to its custom resource, so that a release adding a file changes the resource's
 * properties: CloudFormation then calls the handler, which adds the file to the existing
 * bundles (CONTROL_PLANE_UPGRADES in control-plane-upgrades.ts). Its own module: the construct loads no PKI code.
 */
export const BUNDLE_FILES: Readonly<Record<SecretSet, readonly string[]>> = {
  etcd: ['ca.crt', 'ca.key', 'member.crt', 'member.key', 'etcd-ca.crt', 'apiserver-etcd-client.crt', 'apiserver-etcd-client.key'],
  'control-plane': [
    'ca.crt', 'ca.key', 'apiserver.crt', 'apiserver.key', 'sa.key', 'sa.pub', 'front-proxy-ca.crt',
    'front-proxy-client.crt', 'front-proxy-client.key', 'admin-token', ENCRYPTION_CONFIG_FILE,
  ],
};
