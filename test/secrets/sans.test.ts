/** The API server certificate names every endpoint a client dials with the cluster CA. */
import { load } from 'js-yaml';
import { apiServerSans } from '../../lib/secrets/sans';
import { ClusterSecretsInput } from '../../lib/secrets/inputs';
import { internalApiDnsName } from '../../userdata/types';
import { workerConfig } from '../../userdata/worker';
import { fileText } from '../userdata/config-files';

const INPUT: ClusterSecretsInput = {
  clusterName: 'kube-aws-test-1',
  zoneName: 'team.example.org',
  etcdMemberCount: 3,
  serviceCidr: '10.3.0.0/24',
  clusterDomain: 'cluster.local',
};

describe('apiServerSans', () => {
  test('names the internal endpoint internal.<cluster>.<zone> beside the public name', () => {
    const { dnsNames } = apiServerSans(INPUT);
    expect(dnsNames).toContain('internal.kube-aws-test-1.team.example.org');
    expect(dnsNames).toContain('kube-aws-test-1.team.example.org');
    expect(internalApiDnsName({ cluster: INPUT.clusterName, zone: INPUT.zoneName })).toBe('internal.kube-aws-test-1.team.example.org');
  });

  test("names the host a worker's kubeconfig dials (TLS passes through the internal endpoint)", () => {
    // The worker's default API URL and this certificate are built from the same two names;
    // if one of them moves, a worker would fail TLS verification and never join.
    const config = workerConfig({ cluster: INPUT.clusterName, zone: INPUT.zoneName, region: 'eu-central-1', account: '123456789012' });
    const kubeconfig = load(fileText(config, '/etc/kubernetes/kubeconfig')) as { clusters: { cluster: { server: string } }[] };
    const host = new URL(kubeconfig.clusters[0].cluster.server).hostname;
    expect(apiServerSans(INPUT).dnsNames).toContain(host);
  });
});
