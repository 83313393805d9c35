/**
 * Literal, readable example inputs for the user-data templates: one cluster,
 * `kube-aws-test-1` in `team.example.org`, three etcd members. The golden files under
 * __golden__/ are these inputs rendered.
 */
import { EtcdNodeInput, MasterNodeInput, S3Asset, WorkerNodeInput } from '../../userdata/types';

export const CLUSTER = 'kube-aws-test-1';
export const ZONE = 'team.example.org';
export const REGION = 'eu-central-1';
export const ACCOUNT = '123456789012';

export const etcdInput: EtcdNodeInput = {
  cluster: CLUSTER,
  zone: ZONE,
  region: REGION,
  snapshotBucket: 'kube-aws-test-1-etcd-snapshots',
  memberCount: 3,
};

/** The webhook server's config as its owner renders it (no secret in it). */
const webhookServerConfigYaml = `clusterGroup: aws:123456789012:eu-central-1:kube-aws-test-1
tokenInfo:
  url: https://auth.example.org/oauth2/tokeninfo
roles:
  ReadOnly: [team-readers]
  PowerUser: [team-developers]
  Administrator: [team-admins]
`;

const webhookKubeconfig = (path: string) => `apiVersion: v1
kind: Config
clusters:
  - name: kube-auth-webhook
    cluster:
      server: http://127.0.0.1:8443/${path}
users:
  - name: kube-apiserver
contexts:
  - name: webhook
    context:
      cluster: kube-auth-webhook
      user: kube-apiserver
current-context: webhook
`;

/** 128 hex characters: an example sha512, not the hash of anything. */
export const EXAMPLE_SHA512 = 'ab'.repeat(64);

export const webhookBundle: S3Asset = {
  source: 's3://cdk-hnb659fds-assets-123456789012-eu-central-1/kube-auth-webhook.js',
  sha512: EXAMPLE_SHA512,
};

export const masterInput: MasterNodeInput = {
  cluster: CLUSTER,
  zone: ZONE,
  region: REGION,
  account: ACCOUNT,
  etcdMemberNames: [0, 1, 2].map((n) => `etcd-${n}.etcd.${CLUSTER}.${ZONE}`),
  apiServerCertificateNames: ['10.3.0.1', `${CLUSTER}.${ZONE}`, `internal.${CLUSTER}.${ZONE}`, 'kubernetes.default.svc.cluster.local'],
  webhookServerConfigYaml,
  authenticationWebhookKubeconfig: webhookKubeconfig('authenticate'),
  authorizationWebhookKubeconfig: webhookKubeconfig('authorize'),
  webhookBundle,
  serviceAccountIssuer: `https://${CLUSTER}-oidc-${ACCOUNT}-${REGION}.s3.${REGION}.amazonaws.com`,
  breakGlassAdminToken: false,
};

export const workerInput: WorkerNodeInput = {
  cluster: CLUSTER,
  zone: ZONE,
  region: REGION,
  account: ACCOUNT,
};

/** A stub source as long as a real CDK asset URL (bucket with account and region, 64-hex key). */
export const stubAsset: S3Asset = {
  source: `s3://cdk-hnb659fds-assets-123456789012-eu-central-1/${'0123456789abcdef'.repeat(4)}.json`,
  sha512: EXAMPLE_SHA512,
};

/**
 * The kubelet's credential on every node: the AWS CLI (the node's /opt/bin/aws wrapper) signs
 * a token for the cluster group, which the webhook's iam.clusterId must equal.
 */
export const INSTANCE_ROLE_EXEC = {
  apiVersion: 'client.authentication.k8s.io/v1beta1',
  command: '/opt/bin/aws',
  args: ['eks', 'get-token', '--cluster-name', `aws:${ACCOUNT}:${REGION}:${CLUSTER}`, '--region', REGION, '--output', 'json'],
  interactiveMode: 'Never',
};
