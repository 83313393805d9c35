import { IamStatement } from '../../../manifests/addons/addon';
import { EXTERNAL_DNS_VERSION, externalDns } from '../../../manifests/addons/external-dns';
import { CONTEXT, containersOf, isAllowed, MASTER_NODE, only, onlyPodTemplate, podTemplates, rendered, schedulableOn, unscopedWrites, WORKER_NODE } from './addon-fixtures';

const objects = rendered(externalDns);
const pod = onlyPodTemplate(objects).spec;
const [container] = containersOf(pod);
const statements = externalDns.permissions(CONTEXT);
const zoneArn = `arn:aws:route53:::hostedzone/${CONTEXT.hostedZoneId}`;

describe('external-dns objects', () => {
  test('one Deployment with one container, one replica', () => {
    expect(podTemplates(objects).map((t) => t.owner)).toEqual(['Deployment/external-dns']);
    expect(containersOf(pod)).toHaveLength(1);
    // Two writers with one owner id would race on the same records.
    expect(only(objects, 'Deployment', 'external-dns').spec.replicas).toBe(1);
  });

  test('the image is the pinned release', () => {
    expect(container.image).toBe(`registry.k8s.io/external-dns/external-dns:${EXTERNAL_DNS_VERSION}`);
  });

  test('runs on masters only, on the pod network (its own role, never the masters\' through instance metadata), cluster-critical', () => {
    expect(schedulableOn(pod, MASTER_NODE)).toBe(true);
    expect(schedulableOn(pod, WORKER_NODE)).toBe(false);
    expect(pod.hostNetwork).toBe(false);
    expect(externalDns.placement).toBe('masters');
    expect(pod.priorityClassName).toBe('system-cluster-critical');
  });

  test("its flags: AWS, the cluster's zone by name and id, TXT ownership by cluster, never deleting; services and ingresses", () => {
    expect(container.args).toEqual(
      expect.arrayContaining([
        '--provider=aws',
        `--domain-filter=${CONTEXT.clusterName}.${CONTEXT.hostedZoneName}`,
        `--zone-id-filter=${CONTEXT.hostedZoneId}`,
        '--registry=txt',
        `--txt-owner-id=${CONTEXT.clusterName}`,
        '--policy=upsert-only',
      ]),
    );
    expect(container.args.filter((a: string) => a.startsWith('--source=')).sort()).toEqual(['--source=ingress', '--source=service']);
    expect(container.args.filter((a: string) => a.startsWith('--policy='))).toEqual(['--policy=upsert-only']);
  });

  test('its service account exists and may read what its sources watch', () => {
    expect(only(objects, 'ServiceAccount', pod.serviceAccountName).metadata.namespace).toBe('kube-system');
    const rules = only(objects, 'ClusterRole', 'external-dns').rules;
    expect(rules).toContainEqual({ apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: ['get', 'watch', 'list'] });
    expect(rules).toContainEqual({ apiGroups: [''], resources: ['pods', 'services'], verbs: ['get', 'watch', 'list'] });
    // Read-only: no verb that changes anything.
    expect(rules.flatMap((r: any) => r.verbs).filter((v: string) => !['get', 'list', 'watch'].includes(v))).toEqual([]);
    expect(only(objects, 'ClusterRoleBinding', 'external-dns').subjects).toEqual([{ kind: 'ServiceAccount', name: pod.serviceAccountName, namespace: 'kube-system' }]);
  });
});

describe('external-dns IAM', () => {
  test("record changes only in the cluster's hosted zone, listing zones on *", () => {
    const changes = statements.filter((s) => s.Action.includes('route53:ChangeResourceRecordSets'));
    expect(changes.map((s) => s.Resource)).toEqual([[zoneArn], [zoneArn]]);
    expect(statements.filter((s) => s.Resource.includes('*')).flatMap((s) => s.Action)).toEqual(['route53:ListHostedZones']);
  });

  test("its role changes records under the cluster's own subdomain of its zone, and no other", () => {
    const domain = `${CONTEXT.clusterName}.${CONTEXT.hostedZoneName}`;
    const change = (resource: string, ...recordNames: string[]) => isAllowed(statements, { action: 'route53:ChangeResourceRecordSets', resource, recordNames });
    expect(change(zoneArn, `app.${domain}`, `a-app.${domain}`)).toBe(true);
    expect(change('arn:aws:route53:::hostedzone/ZOTHERZONE', `app.${domain}`)).toBe(false);
    // a shared zone: another cluster's API, a team's record, this cluster's own API names and etcd's
    for (const name of [`other-1.${CONTEXT.hostedZoneName}`, `www.${CONTEXT.hostedZoneName}`, domain, `internal.${domain}`, `etcd-0.etcd.${domain}`, `_etcd-server-ssl._tcp.etcd.${domain}`]) {
      expect({ name, allowed: change(zoneArn, name) }).toEqual({ name, allowed: false });
    }
    // one forbidden name spoils a batch
    expect(change(zoneArn, `app.${domain}`, `internal.${domain}`)).toBe(false);
    expect(isAllowed(statements, { action: 'route53:ListHostedZones', resource: '*' })).toBe(true);
  });

  test('the check flags record changes in every zone, in another zone, or on *', () => {
    const change = (Resource: string[]): IamStatement => ({ Sid: 'Bad', Effect: 'Allow', Action: ['route53:ChangeResourceRecordSets'], Resource });
    for (const resources of [['arn:aws:route53:::hostedzone/*'], ['arn:aws:route53:::hostedzone/ZOTHERZONE'], ['*'], [zoneArn, 'arn:aws:route53:::hostedzone/ZOTHERZONE']]) {
      expect(unscopedWrites([...statements, change(resources)], CONTEXT)).toEqual(['Bad: route53:ChangeResourceRecordSets']);
    }
  });
});
