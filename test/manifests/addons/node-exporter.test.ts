/**
 * node-exporter: one pod on every node, whatever its taints, on the host network at 9100,
 * reading /proc, /sys and / read-only.
 */
import { NODE_EXPORTER_PORT, nodeExporter } from '../../../manifests/addons/node-exporter';
import { EVERY_TAINT, NODE_TAINTS } from '../../../manifests/addons/placement';
import { CONTEXT, NodeTaint, only, onlyPodTemplate, rendered, tolerates } from './addon-fixtures';

describe('node-exporter: its contract', () => {
  test('optional, and it calls no AWS API', () => {
    expect(nodeExporter.optional).toBe(true);
    expect(nodeExporter.permissions(CONTEXT)).toEqual([]);
  });
});

const objects = rendered(nodeExporter);
const pod = onlyPodTemplate(objects);
const container = pod.spec.containers[0];

describe('node-exporter listens on 9100 of the node', () => {
  test('the port the 2016 system opened to the VPC (REFERENCE-2016.md: node exporter 9100)', () => {
    expect(NODE_EXPORTER_PORT).toBe(9100);
    expect(container.ports).toEqual([expect.objectContaining({ containerPort: 9100, hostPort: 9100, protocol: 'TCP' })]);
    expect(container.args).toContain('--web.listen-address=[$(HOST_IP)]:9100');
  });

  test("on the host network, at the node's own address, with the host's processes", () => {
    expect(pod.spec.hostNetwork).toBe(true);
    expect(pod.spec.hostPID).toBe(true);
    expect(container.env).toContainEqual({ name: 'HOST_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.hostIP' } } });
    expect(container.livenessProbe?.httpGet?.port).toBe(9100);
  });

});

describe('node-exporter reads the host, read-only', () => {
  const hostPaths = Object.fromEntries((pod.spec.volumes ?? []).filter((v) => v.hostPath).map((v) => [v.name, v.hostPath!.path]));

  test('/proc, /sys and / and nothing else of the host', () => {
    expect(Object.values(hostPaths).sort()).toEqual(['/', '/proc', '/sys']);
  });

  test('every host path is mounted read-only', () => {
    const mounts = container.volumeMounts ?? [];
    expect(mounts.map((m) => m.name).sort()).toEqual(Object.keys(hostPaths).sort());
    for (const mount of mounts) expect(mount.readOnly).toBe(true);
    expect(mounts.some((m) => m.mountPropagation === 'Bidirectional')).toBe(false);
  });

  test('its --path flags point at those mounts', () => {
    const mountOf = (hostPath: string) => container.volumeMounts!.find((m) => hostPaths[m.name] === hostPath)!.mountPath;
    expect(container.args).toEqual(expect.arrayContaining([
      `--path.procfs=${mountOf('/proc')}`,
      `--path.sysfs=${mountOf('/sys')}`,
      `--path.rootfs=${mountOf('/')}`,
    ]));
  });

  test('not root, no privilege, no capabilities, no API token', () => {
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534 });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(container.securityContext?.privileged).toBeFalsy();
    expect(pod.spec.automountServiceAccountToken).toBe(false);
    expect(only<{ automountServiceAccountToken: boolean }>(objects, 'ServiceAccount').automountServiceAccountToken).toBe(false);
  });
});

describe('node-exporter runs on every node', () => {
  const taints: NodeTaint[] = [
    { key: NODE_TAINTS.controlPlane, effect: 'NoSchedule' },
    { key: NODE_TAINTS.uninitialized, value: 'true', effect: 'NoSchedule' },
    { key: NODE_TAINTS.notReady, effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' },
    { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
  ];

  test.each(taints)('tolerates $key:$effect', (taint) => {
    expect(tolerates(pod.spec.tolerations, taint)).toBe(true);
  });

  test('declares that as every taint, with why', () => {
    expect(Object.keys(nodeExporter.toleratedTaints)).toEqual([EVERY_TAINT]);
    expect(nodeExporter.placement).toBe('every-node');
  });

  test('priority class system-node-critical', () => {
    expect(pod.spec.priorityClassName).toBe('system-node-critical');
  });
});
