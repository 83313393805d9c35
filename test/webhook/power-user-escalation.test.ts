/**
 * A PowerUser's ways to the host or to cluster-admin, each followed through what the API
 * server asks: the authorization webhook (SubjectAccessReview bodies, as the API server
 * sends them, through the real request handler), then the add-on admission policy. A
 * step that is denied ends the path; an Administrator takes every step.
 */
import { IValidatingAdmissionPolicy } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy';
import { IValidatingAdmissionPolicyBinding } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding';
import { clusterBootstrap } from '../../manifests/addons/cluster-bootstrap';
import { rendered } from '../manifests/addons/addon-fixtures';
import { createRequestHandler } from '../../webhook/request-handler';
import { admit } from '../manifests/validating-admission-policy';
import { CLUSTER_GROUP, ROLE_GROUPS, subjectAccessReview } from './fixtures';

const handler = createRequestHandler({
  authenticate: async () => ({ authenticated: false, reason: 'unused' }),
  policy: { clusterGroup: CLUSTER_GROUP, roles: { ReadOnly: [ROLE_GROUPS.ReadOnly], PowerUser: [ROLE_GROUPS.PowerUser], Administrator: [ROLE_GROUPS.Administrator] } },
});
const manifests = rendered(clusterBootstrap) as { kind: string }[];
const policy = manifests.find((o) => o.kind === 'ValidatingAdmissionPolicy') as unknown as IValidatingAdmissionPolicy;
const binding = manifests.find((o) => o.kind === 'ValidatingAdmissionPolicyBinding') as unknown as IValidatingAdmissionPolicyBinding;

type Role = 'PowerUser' | 'Administrator';
const groupsOf = (role: Role) => [CLUSTER_GROUP, ROLE_GROUPS[role], 'system:authenticated'];

/** The webhook's answer to the API server's SubjectAccessReview for this request. */
async function authorized(role: Role, resourceAttributes: Record<string, string>): Promise<{ allowed: boolean; denied: boolean }> {
  const body = Buffer.from(JSON.stringify(subjectAccessReview({ user: 'jdoe', groups: groupsOf(role), resourceAttributes })));
  const response = await handler({ method: 'POST', url: '/authorize', body });
  expect(response.status).toBe(200);
  const { allowed, denied } = JSON.parse(response.body).status;
  return { allowed, denied: denied === true };
}

const ENFORCE = 'pod-security.kubernetes.io/enforce';
const namespaceObject = (labels: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels } });

describe('a PowerUser cannot reach the host or cluster-admin', () => {
  test.each([
    // A hostPath PersistentVolume bound to a claim in their namespace mounts the host's / from a
    // baseline pod: Pod Security does not look at PV sources. The PV is cluster-scoped.
    ['create a hostPath PersistentVolume', { verb: 'create', group: '', version: 'v1', resource: 'persistentvolumes' }],
    ['create a StorageClass (a provisioner of its choosing)', { verb: 'create', group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' }],
    ['create a RuntimeClass', { verb: 'create', group: 'node.k8s.io', version: 'v1', resource: 'runtimeclasses' }],
    ['create a CustomResourceDefinition', { verb: 'create', group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions' }],
    ['approve a certificate signing request', { verb: 'update', group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests', subresource: 'approval', name: 'csr-1' }],
    ['create a namespace', { verb: 'create', group: '', version: 'v1', resource: 'namespaces' }],
    ["change a namespace's labels through namespaces/status (Pod Security skips subresources)", { verb: 'update', group: '', version: 'v1', resource: 'namespaces', subresource: 'status', namespace: 'team-a', name: 'team-a' }],
    ['remove a namespace finalizer', { verb: 'update', group: '', version: 'v1', resource: 'namespaces', subresource: 'finalize', namespace: 'team-a', name: 'team-a' }],
    ['delete the pod-security label policy binding', { verb: 'delete', group: 'admissionregistration.k8s.io', version: 'v1', resource: 'validatingadmissionpolicybindings', name: 'kubernetes-on-aws-namespace-pod-security-labels' }],
    ['create a ValidatingAdmissionPolicy', { verb: 'create', group: 'admissionregistration.k8s.io', version: 'v1', resource: 'validatingadmissionpolicies' }],
    ['create a pod in kube-system (exempt from Pod Security)', { verb: 'create', group: '', version: 'v1', resource: 'pods', namespace: 'kube-system' }],
    ['label the kube-system namespace', { verb: 'patch', group: '', version: 'v1', resource: 'namespaces', namespace: 'kube-system', name: 'kube-system' }],
    ['renew a node lease in kube-node-lease', { verb: 'update', group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease', name: 'ip-10-0-0-1.eu-central-1.compute.internal' }],
    ['delete pods across all namespaces', { verb: 'deletecollection', group: '', version: 'v1', resource: 'pods' }],
    // The kubelet API (kubernetes v1.35 pkg/kubelet/server/auth.go): /exec, /run, /attach of any
    // container, kube-system's too, are nodes/proxy, whatever the HTTP method; /logs is nodes/log.
    ['exec into any container through the kubelet (get nodes/proxy, as a WebSocket does)', { verb: 'get', group: '', version: 'v1', resource: 'nodes', subresource: 'proxy', name: 'ip-10-0-0-1.eu-central-1.compute.internal' }],
    ['run a command through the kubelet (create nodes/proxy)', { verb: 'create', group: '', version: 'v1', resource: 'nodes', subresource: 'proxy', name: 'ip-10-0-0-1.eu-central-1.compute.internal' }],
    ["read a node's /var/log (nodes/log)", { verb: 'get', group: '', version: 'v1', resource: 'nodes', subresource: 'log', name: 'ip-10-0-0-1.eu-central-1.compute.internal' }],
    ['read a kube-system secret', { verb: 'get', group: '', version: 'v1', resource: 'secrets', namespace: 'kube-system', name: 'cluster-ca' }],
    ['list secrets across all namespaces (kube-system included)', { verb: 'list', group: '', version: 'v1', resource: 'secrets' }],
    ['exec into a pod in kube-public', { verb: 'create', group: '', version: 'v1', resource: 'pods', subresource: 'exec', namespace: 'kube-public', name: 'any' }],
    ['create a PriorityClass', { verb: 'create', group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses' }],
    ['create a FlowSchema (exempt its own requests from fairness)', { verb: 'create', group: 'flowcontrol.apiserver.k8s.io', version: 'v1', resource: 'flowschemas' }],
    ['update a PriorityLevelConfiguration', { verb: 'update', group: 'flowcontrol.apiserver.k8s.io', version: 'v1', resource: 'prioritylevelconfigurations', name: 'exempt' }],
    ['create a certificate signing request', { verb: 'create', group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests' }],
    ['sign a certificate signing request (its status)', { verb: 'update', group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests', subresource: 'status', name: 'csr-1' }],
    // The approval check asks of the signer by name, then of its domain with /* (kubernetes v1.35
    // pkg/certificates/authorization IsAuthorizedForSignerName).
    ['approve for the kubelet serving signer', { verb: 'approve', group: 'certificates.k8s.io', version: '*', resource: 'signers', name: 'kubernetes.io/kubelet-serving' }],
    ['approve for the kubelet client signer', { verb: 'approve', group: 'certificates.k8s.io', version: '*', resource: 'signers', name: 'kubernetes.io/kube-apiserver-client-kubelet' }],
    ['approve for every kubernetes.io signer', { verb: 'approve', group: 'certificates.k8s.io', version: '*', resource: 'signers', name: 'kubernetes.io/*' }],
    ['approve for any other signer', { verb: 'approve', group: 'certificates.k8s.io', version: '*', resource: 'signers', name: 'example.com/any' }],
    ['sign for the kubelet serving signer', { verb: 'sign', group: 'certificates.k8s.io', version: '*', resource: 'signers', name: 'kubernetes.io/kubelet-serving' }],
    ['create the kube-public namespace after deleting it', { verb: 'create', group: '', version: 'v1', resource: 'namespaces', name: 'kube-public' }],
    ['delete the kube-node-lease namespace', { verb: 'delete', group: '', version: 'v1', resource: 'namespaces', namespace: 'kube-node-lease', name: 'kube-node-lease' }],
  ])('%s: denied by the webhook (an Administrator is allowed)', async (_, attributes) => {
    expect(await authorized('PowerUser', attributes)).toEqual({ allowed: false, denied: true });
    expect(await authorized('Administrator', attributes)).toEqual({ allowed: true, denied: false });
  });

  test('relabel their namespace privileged: the webhook allows the update, the admission policy denies it', async () => {
    // GIVEN team-a at baseline; WHEN a PowerUser updates it to privileged
    const attributes = { verb: 'update', group: '', version: 'v1', resource: 'namespaces', namespace: 'team-a', name: 'team-a' };
    const admission = (role: Role) => admit(policy, binding, {
      operation: 'UPDATE',
      resource: { group: '', version: 'v1', resource: 'namespaces' },
      userInfo: { username: 'jdoe', groups: groupsOf(role) },
      object: namespaceObject({ [ENFORCE]: 'privileged' }),
      oldObject: namespaceObject({ [ENFORCE]: 'baseline' }),
    });
    // THEN a SubjectAccessReview carries no labels: authorized like any namespaced write...
    expect(await authorized('PowerUser', attributes)).toEqual({ allowed: true, denied: false });
    // ...and admission stops it; an Administrator passes both
    expect(admission('PowerUser')).toMatchObject({ matched: true, allowed: false });
    expect(await authorized('Administrator', attributes)).toEqual({ allowed: true, denied: false });
    expect(admission('Administrator')).toMatchObject({ matched: true, allowed: true });
  });

  test('still work in their own namespaces (claims, pods, secrets, the namespace itself) and read the cluster', async () => {
    const ownWork: Record<string, string>[] = [
      { verb: 'create', group: '', version: 'v1', resource: 'persistentvolumeclaims', namespace: 'team-a' },
      { verb: 'create', group: '', version: 'v1', resource: 'pods', namespace: 'team-a' },
      { verb: 'get', group: '', version: 'v1', resource: 'secrets', namespace: 'team-a', name: 'db' },
      { verb: 'delete', group: '', version: 'v1', resource: 'namespaces', namespace: 'team-a', name: 'team-a' },
      { verb: 'list', group: '', version: 'v1', resource: 'persistentvolumes' },
      { verb: 'create', group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectaccessreviews' },
      { verb: 'create', group: '', version: 'v1', resource: 'pods', subresource: 'exec', namespace: 'team-a', name: 'web-1' },
      // A cluster-wide reader: kube-system's pod logs and everything but its secrets.
      { verb: 'get', group: '', version: 'v1', resource: 'pods', subresource: 'log', namespace: 'kube-system', name: 'coredns-1' },
      { verb: 'list', group: '', version: 'v1', resource: 'configmaps', namespace: 'kube-system' },
      { verb: 'list', group: 'flowcontrol.apiserver.k8s.io', version: 'v1', resource: 'flowschemas' },
      { verb: 'get', group: '', version: 'v1', resource: 'nodes', subresource: 'stats', name: 'ip-10-0-0-1.eu-central-1.compute.internal' },
    ];
    for (const attributes of ownWork) {
      expect({ attributes, ...(await authorized('PowerUser', attributes)) }).toEqual({ attributes, allowed: true, denied: false });
    }
  });
});
