/**
 * The API server must sign tokens as exactly the issuer that IAM trusts and whose documents
 * are published: one character apart and STS refuses every pod's token. These tests hold the
 * three together in a synthesized cluster.
 */
import * as fs from 'fs';
import * as path from 'path';
import { load } from 'js-yaml';
import { MAX_CLUSTER_NAME_LENGTH } from '../../lib/config';
import { serviceAccountIssuerBucketName } from '../../lib/stacks/master-stack';
import { fileText } from '../userdata/config-files';
import { resourcesOfType, synthesizeCluster } from '../util';

const cluster = synthesizeCluster();
const staged = path.join(cluster.app.outdir, cluster.stacks.master.userData.config.asset.assetPath);
const apiServer = (load(fileText(JSON.parse(fs.readFileSync(staged, 'utf8')), '/etc/kubernetes/manifests/kube-apiserver.yaml')) as {
  spec: { containers: { command: string[] }[] };
}).spec.containers[0].command;
const issuers = apiServer.filter((a) => a.startsWith('--service-account-issuer=')).map((a) => a.split('=')[1]);

describe('the service-account issuer', () => {
  const expected = `https://${serviceAccountIssuerBucketName(cluster.config)}.s3.eu-central-1.amazonaws.com`;

  test('the API server signs as the bucket-hosted issuer', () => {
    expect(issuers[0]).toBe(expected);
    expect(cluster.stacks.master.serviceAccountIssuer.issuerUrl).toBe(expected);
  });

  test('IAM trusts exactly that issuer, for STS', () => {
    const providers = Object.values(resourcesOfType(cluster.templates.master, 'AWS::IAM::OIDCProvider'));
    expect(providers).toHaveLength(1);
    expect(providers[0].Properties).toMatchObject({ Url: expected, ClientIdList: ['sts.amazonaws.com'] });
  });

  test('its documents are published for that issuer into that bucket, after the secrets exist', () => {
    const documents = Object.values(resourcesOfType(cluster.templates.master, 'Custom::ServiceAccountIssuerDocuments'));
    expect(documents).toHaveLength(1);
    expect(documents[0].Properties.IssuerUrl).toBe(expected);
    const buckets = Object.values(resourcesOfType(cluster.templates.master, 'AWS::S3::Bucket')).map((b) => b.Properties.BucketName);
    expect(buckets).toContain(serviceAccountIssuerBucketName(cluster.config));
  });

  test('the bucket name fits S3 with the longest cluster name and region', () => {
    const longest = serviceAccountIssuerBucketName({ ...cluster.config, clusterName: 'x'.repeat(MAX_CLUSTER_NAME_LENGTH), region: 'ap-southeast-5' });
    expect(longest.length).toBeLessThanOrEqual(63);
  });

  test('the outputs name the issuer and the provider for roles of the user\'s own', () => {
    const outputs = cluster.templates.master.findOutputs('*');
    expect(outputs.ServiceAccountIssuerUrl.Value).toBe(expected);
    const [providerId] = Object.keys(resourcesOfType(cluster.templates.master, 'AWS::IAM::OIDCProvider'));
    expect(outputs.OidcProviderArn.Value).toEqual({ Ref: providerId });
  });
});
