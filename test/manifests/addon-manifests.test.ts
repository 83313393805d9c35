import * as yaml from 'js-yaml';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { addonManifests } from '../../manifests';
import { KUBELET_CLIENT_USER } from '../../userdata/master';
import { KUBELET_IDENTITY } from '../../webhook/authenticator';

type Binding = { kind: string; metadata: { name: string }; roleRef: { name: string }; subjects: { kind: string; name: string }[] };

describe('add-on manifests', () => {
  const objects = yaml.loadAll(addonManifests()) as Binding[];

  test('give the shared node identity the rights of a kubelet, kube-proxy and flannel, and its webhook checks', () => {
    const roles = objects.filter((o) => o.subjects.some((s) => s.kind === 'User' && s.name === KUBELET_IDENTITY.username)).map((o) => o.roleRef.name);
    expect(roles.sort()).toEqual(['system:auth-delegator', 'system:node', 'system:node-proxier']);
  });

  test("give the API server's kubelet client certificate the kubelet API", () => {
    const binding = objects.find((o) => o.subjects.some((s) => s.name === KUBELET_CLIENT_USER));
    expect(binding?.roleRef.name).toBe('system:kubelet-api-admin');
  });

  test('grant nothing broader than the built-in roles named (no cluster-admin, no groups)', () => {
    for (const object of objects) {
      expect(object.kind).toBe('ClusterRoleBinding');
      expect(object.roleRef.name).not.toBe('cluster-admin');
      expect(object.subjects.every((s) => s.kind === 'User')).toBe(true);
    }
    expect(new Set(objects.map((o) => o.metadata.name)).size).toBe(objects.length);
  });

  test('are checked against the Kubernetes schema (a bad object is refused)', () => {
    const bad = new ClusterRoleBinding({ metadata: { name: 'x' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole' } as never });
    expect(() => bad.validate()).toThrow(/name/);
    for (const object of objects) expect(() => new ClusterRoleBinding(object as never).validate()).not.toThrow();
  });
});
