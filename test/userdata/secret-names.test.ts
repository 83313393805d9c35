import { ClusterSecretNames } from '../../userdata/secret-names';

describe('ClusterSecretNames', () => {
  const names = new ClusterSecretNames('kube-aws-test-1');

  test('names follow kubernetes-on-aws/<cluster>/<secret>', () => {
    expect(names.etcdMember(0)).toBe('kubernetes-on-aws/kube-aws-test-1/etcd-member-0');
    expect(names.apiServerEtcdClient).toBe('kubernetes-on-aws/kube-aws-test-1/apiserver-etcd-client');
    expect(names.controlPlane).toBe('kubernetes-on-aws/kube-aws-test-1/control-plane');
    expect(names.worker).toBe('kubernetes-on-aws/kube-aws-test-1/worker');
    expect(names.admin).toBe('kubernetes-on-aws/kube-aws-test-1/admin');
    expect(names.etcdCa).toBe('kubernetes-on-aws/kube-aws-test-1/etcd-ca');
  });

  test('each set lists its CA holder first', () => {
    expect(names.ofSet('etcd', 3)).toEqual([
      'kubernetes-on-aws/kube-aws-test-1/etcd-ca',
      'kubernetes-on-aws/kube-aws-test-1/etcd-member-0',
      'kubernetes-on-aws/kube-aws-test-1/etcd-member-1',
      'kubernetes-on-aws/kube-aws-test-1/etcd-member-2',
      'kubernetes-on-aws/kube-aws-test-1/apiserver-etcd-client',
    ]);
    expect(names.ofSet('control-plane', 3)).toEqual([
      'kubernetes-on-aws/kube-aws-test-1/front-proxy-ca',
      'kubernetes-on-aws/kube-aws-test-1/control-plane',
      'kubernetes-on-aws/kube-aws-test-1/worker',
      'kubernetes-on-aws/kube-aws-test-1/admin',
    ]);
  });
});
