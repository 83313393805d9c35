import * as yaml from 'js-yaml';
import { DEFAULT_AUTHENTICATE_URL, DEFAULT_AUTHORIZE_URL, webhookKubeconfig } from '../../webhook/kubeconfig';

describe('webhookKubeconfig', () => {
  test.each([DEFAULT_AUTHENTICATE_URL, DEFAULT_AUTHORIZE_URL])('points kube-apiserver at %s', (url) => {
    const kubeconfig = yaml.load(webhookKubeconfig(url)) as any;
    expect(kubeconfig).toEqual({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'kube-auth-webhook', cluster: { server: url } }],
      users: [{ name: 'kube-apiserver', user: {} }],
      contexts: [{ name: 'webhook', context: { cluster: 'kube-auth-webhook', user: 'kube-apiserver' } }],
      'current-context': 'webhook',
    });
  });

  test('https carries the CA file', () => {
    const kubeconfig = yaml.load(webhookKubeconfig('https://127.0.0.1:8443/authorize', { certificateAuthorityFile: '/etc/kubernetes/ssl/webhook-ca.pem' })) as any;
    expect(kubeconfig.clusters[0].cluster).toEqual({ server: 'https://127.0.0.1:8443/authorize', 'certificate-authority': '/etc/kubernetes/ssl/webhook-ca.pem' });
  });

  test.each([
    ['not a URL', '127.0.0.1:8443/authenticate', /endpointUrl: must be an absolute http\(s\) URL/],
    ['another scheme', 'ftp://127.0.0.1/authenticate', /endpointUrl: must use http or https/],
    ['plain http off loopback', 'http://10.0.0.5:8443/authenticate', /plain http is only allowed on loopback/],
    ['https without a CA', 'https://127.0.0.1:8443/authenticate', /certificateAuthorityFile: required/],
  ])('refuses %s', (_, url, message) => {
    expect(() => webhookKubeconfig(url)).toThrow(message);
  });
});
