import { awsEbsCsiDriver, EBS_CSI_DRIVER_VERSION } from '../../../manifests/addons/aws-ebs-csi-driver';
import { NODE_TAGS, clusterTagKey } from '../../../lib/constructs/node-tags';
import { CONTEXT, containersOf, isAllowed, Json, MASTER_NODE, only, podTemplates, rendered, schedulableOn, WORKER_NODE } from './addon-fixtures';

const objects = rendered(awsEbsCsiDriver);
const templates = podTemplates(objects);
const controller = templates.find((t) => t.owner === 'Deployment/ebs-csi-controller')!.spec;
const node = templates.find((t) => t.owner === 'DaemonSet/ebs-csi-node')!.spec;
const container = (spec: Json, name: string) => containersOf(spec).find((c) => c.name === name);
const statements = awsEbsCsiDriver.permissions(CONTEXT);
const volumeArn = (id: string) => `arn:aws:ec2:${CONTEXT.region}:${CONTEXT.account}:volume/${id}`;
const instanceArn = (id: string) => `arn:aws:ec2:${CONTEXT.region}:${CONTEXT.account}:instance/${id}`;

describe('aws-ebs-csi-driver objects', () => {
  test('the driver image is the add-on version, the same in controller and node plugin', () => {
    expect(container(controller, 'ebs-plugin').image).toBe(`public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:${EBS_CSI_DRIVER_VERSION}`);
    expect(container(node, 'ebs-plugin').image).toBe(container(controller, 'ebs-plugin').image);
  });

  test("every container has a memory limit (upstream's)", () => {
    for (const c of [...containersOf(controller), ...containersOf(node)]) expect([c.name, c.resources.limits.memory]).toEqual([c.name, expect.any(String)]);
  });

  test('the controller is cluster-critical, the node plugin node-critical', () => {
    expect(controller.priorityClassName).toBe('system-cluster-critical');
    expect(node.priorityClassName).toBe('system-node-critical');
  });

  test('the controller runs on masters only, on the pod network (its own role, never the masters\' through instance metadata)', () => {
    expect(schedulableOn(controller, MASTER_NODE)).toBe(true);
    expect(schedulableOn(controller, WORKER_NODE)).toBe(false);
    expect(controller.hostNetwork).toBe(false);
    expect(awsEbsCsiDriver.placement).toBe('every-node');
  });

  test("two controllers, as upstream: off the host network they need no host port, so both fit on one master; spread over masters where there are several", () => {
    expect(only(objects, 'Deployment', 'ebs-csi-controller').spec.replicas).toBe(2);
    expect(containersOf(controller).flatMap((c) => (c.ports ?? []).filter((p: Json) => p.hostPort !== undefined))).toEqual([]);
    expect(controller.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution).toEqual([
      { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { app: 'ebs-csi-controller' } }, topologyKey: 'kubernetes.io/hostname' } },
    ]);
  });

  test('the node plugin runs on every node: masters and workers as they register, privileged, off the host network', () => {
    expect(schedulableOn(node, MASTER_NODE)).toBe(true);
    expect(schedulableOn(node, WORKER_NODE)).toBe(true);
    expect(node.affinity).toBeUndefined();
    expect(node.hostNetwork).toBe(false);
    expect(container(node, 'ebs-plugin').securityContext.privileged).toBe(true);
  });

  test('the controller has the sidecars upstream pins, and tags volumes with the cluster', () => {
    expect(containersOf(controller).map((c) => c.name)).toEqual(['ebs-plugin', 'csi-provisioner', 'csi-attacher', 'csi-resizer', 'liveness-probe']);
    expect(container(controller, 'ebs-plugin').args).toContain(`--k8s-tag-cluster-id=${CONTEXT.clusterName}`);
    expect(container(controller, 'ebs-plugin').env).toContainEqual({ name: 'AWS_REGION', value: CONTEXT.region });
    for (const sidecar of ['csi-provisioner', 'csi-attacher', 'csi-resizer']) expect(container(controller, sidecar).args).toContain('--leader-election=true');
  });

  test('the node plugin reads its metadata from its Node object, never from IMDS', () => {
    expect(containersOf(node).map((c) => c.name)).toEqual(['ebs-plugin', 'node-driver-registrar', 'liveness-probe']);
    const plugin = container(node, 'ebs-plugin');
    expect(plugin.args).toContain('--metadata-sources=kubernetes');
    expect(plugin.env).toContainEqual({ name: 'CSI_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } });
  });

  test('the default StorageClass is gp3, encrypted, bound where the pod lands, expandable', () => {
    const storageClass = only(objects, 'StorageClass', 'gp3');
    expect(storageClass.metadata.annotations['storageclass.kubernetes.io/is-default-class']).toBe('true');
    expect(storageClass.provisioner).toBe('ebs.csi.aws.com');
    expect(storageClass.parameters).toMatchObject({ type: 'gp3', encrypted: 'true' });
    expect(storageClass.volumeBindingMode).toBe('WaitForFirstConsumer');
    expect(storageClass.allowVolumeExpansion).toBe(true);
    expect(only(objects, 'CSIDriver', 'ebs.csi.aws.com').spec.attachRequired).toBe(true);
  });

  test('every service account a pod uses exists, and every binding names a role that exists', () => {
    const accounts = objects.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata.name);
    for (const { spec } of templates) expect(accounts).toContain(spec.serviceAccountName);
    const roles = objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role').map((o) => `${o.kind}/${o.metadata.name}`);
    for (const binding of objects.filter((o) => o.kind.endsWith('Binding'))) {
      expect(roles).toContain(`${binding.roleRef.kind}/${binding.roleRef.name}`);
      for (const subject of binding.subjects.filter((s: Json) => s.kind === 'ServiceAccount')) expect(accounts).toContain(subject.name);
    }
  });

  test('it waits for initialized nodes: its metadata are the cloud controller labels', () => {
    expect(awsEbsCsiDriver.needs).toContain('node-initialized');
  });
});

describe('aws-ebs-csi-driver IAM', () => {
  test('it creates only volumes carrying the tags the controller is told to set', () => {
    const tagArg = container(controller, 'ebs-plugin').args.find((a: string) => a.startsWith('--k8s-tag-cluster-id='));
    const id = tagArg.split('=')[1];
    // What pkg/driver/controller.go puts in CreateVolume's TagSpecifications for this id.
    const driverTags = { [`kubernetes.io/cluster/${id}`]: 'owned', 'ebs.csi.aws.com/cluster-name': id, KubernetesCluster: id, Name: `${id}-dynamic-pvc-1`, CSIVolumeName: 'pvc-1' };
    const create = (requestTags: Record<string, string>) => isAllowed(statements, { action: 'ec2:CreateVolume', resource: volumeArn('vol-new'), requestTags });
    expect(create(driverTags)).toBe(true);
    expect(create({ ...driverTags, 'ebs.csi.aws.com/cluster-name': 'other' })).toBe(false);
    expect(create({ CSIVolumeName: 'pvc-1', 'ebs.csi.aws.com/cluster': 'true' })).toBe(false);
    expect(isAllowed(statements, { action: 'ec2:CreateTags', resource: volumeArn('vol-new'), requestTags: driverTags, createAction: 'CreateVolume' })).toBe(true);
  });

  test("it manages its own volumes, never the etcd members' data volumes nor another cluster's", () => {
    const csiVolume = { [`kubernetes.io/cluster/${CONTEXT.clusterName}`]: 'owned', 'ebs.csi.aws.com/cluster-name': CONTEXT.clusterName };
    // The tags lib/constructs/etcd-member-identities.ts gives member 0's data volume.
    const etcdVolume = { [clusterTagKey(CONTEXT.clusterName)]: 'owned', [NODE_TAGS.role]: 'etcd', [NODE_TAGS.member('etcd')]: '0' };
    const otherClusterVolume = { 'kubernetes.io/cluster/other': 'owned', 'ebs.csi.aws.com/cluster-name': 'other' };
    for (const action of ['ec2:AttachVolume', 'ec2:DetachVolume', 'ec2:DeleteVolume', 'ec2:ModifyVolume']) {
      expect([action, isAllowed(statements, { action, resource: volumeArn('vol-csi'), resourceTags: csiVolume })]).toEqual([action, true]);
      expect([action, isAllowed(statements, { action, resource: volumeArn('vol-etcd'), resourceTags: etcdVolume })]).toEqual([action, false]);
      expect([action, isAllowed(statements, { action, resource: volumeArn('vol-other'), resourceTags: otherClusterVolume })]).toEqual([action, false]);
    }
  });

  test('it attaches to masters and workers of this cluster, not to etcd members', () => {
    const node = (role: string) => ({ [clusterTagKey(CONTEXT.clusterName)]: 'owned', [NODE_TAGS.role]: role });
    const attachTo = (tags: Record<string, string>) => isAllowed(statements, { action: 'ec2:AttachVolume', resource: instanceArn('i-1'), resourceTags: tags });
    expect(attachTo(node('worker'))).toBe(true);
    expect(attachTo(node('master'))).toBe(true);
    expect(attachTo(node('etcd'))).toBe(false);
    expect(attachTo({ 'kubernetes.io/cluster/other': 'owned', [NODE_TAGS.role]: 'worker' })).toBe(false);
  });

  test('it may change user tags on its volumes, not the ownership tags, and not delete every tag at once', () => {
    const csiVolume = { [`kubernetes.io/cluster/${CONTEXT.clusterName}`]: 'owned', 'ebs.csi.aws.com/cluster-name': CONTEXT.clusterName };
    const retag = (action: string, requestTags: Record<string, string>) => isAllowed(statements, { action, resource: volumeArn('vol-csi'), resourceTags: csiVolume, requestTags });
    expect(retag('ec2:CreateTags', { team: 'storage' })).toBe(true);
    expect(retag('ec2:DeleteTags', { team: '' })).toBe(true);
    expect(retag('ec2:CreateTags', { [NODE_TAGS.role]: 'etcd' })).toBe(false);
    expect(retag('ec2:DeleteTags', { [`kubernetes.io/cluster/${CONTEXT.clusterName}`]: '' })).toBe(false);
    expect(retag('ec2:DeleteTags', {})).toBe(false);
  });

  test('no snapshot writes: no snapshotter runs', () => {
    const actions = statements.flatMap((s) => s.Action);
    expect(actions.filter((a) => /Snapshot/.test(a) && !a.startsWith('ec2:Describe'))).toEqual([]);
  });
});
