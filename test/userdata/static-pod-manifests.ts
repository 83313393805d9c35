/** The static pod manifests of a rendered config, read back as the kubelet reads them. */
import { load } from 'js-yaml';
import { decodeDataUrl } from '../../userdata/files';
import { IgnitionConfig } from '../../userdata/ignition';
import { STATIC_POD_DIR } from '../../userdata/paths';
import { files } from './config-files';

export interface ContainerManifest {
  name: string;
  image: string;
  command: string[];
  securityContext?: { privileged?: boolean };
  volumeMounts: { name: string; mountPath: string; readOnly: boolean }[];
}

export interface PodManifest {
  metadata: { name: string; namespace: string };
  spec: {
    initContainers?: ContainerManifest[];
    containers: ContainerManifest[];
    volumes: { name: string; hostPath: { path: string; type: string } }[];
  };
}

export function staticPods(config: IgnitionConfig): PodManifest[] {
  return files(config)
    .filter((f) => f.path.startsWith(`${STATIC_POD_DIR}/`))
    .map((f) => load(decodeDataUrl(f.contents.source)) as PodManifest);
}

export function staticPod(config: IgnitionConfig, name: string): PodManifest {
  const pod = staticPods(config).find((p) => p.metadata.name === name);
  if (!pod) throw new Error(`no static pod ${name}`);
  return pod;
}

/** Every host path a pod's containers see, with whether it is read-only. */
export function hostMounts(pod: PodManifest): { path: string; readOnly: boolean }[] {
  const containers = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  return containers.flatMap((c) =>
    c.volumeMounts.map((m) => {
      const volume = pod.spec.volumes.find((v) => v.name === m.name);
      if (!volume) throw new Error(`pod ${pod.metadata.name}: mount ${m.name} has no volume`);
      return { path: volume.hostPath.path, readOnly: m.readOnly };
    }),
  );
}
