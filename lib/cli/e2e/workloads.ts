import type { V1Container, V1Deployment, V1Job, V1Service, V1StatefulSet } from '@kubernetes/client-node';

/**
 * The image of every test workload: nginx, whose Alpine base also has the shell and musl's
 * `getent` the volume and DNS steps run, so each node pulls one image. From the ECR Public mirror
 * of Docker's official images: nodes behind one NAT address would soon hit Docker Hub's anonymous
 * pull limit. An exact version tag, not a digest: the official images are rebuilt under the same
 * tag when Alpine is patched, so a digest would pin one such rebuild, and none could be checked
 * here. Pass --image with a digest (or a private mirror) for a fixed byte-for-byte image.
 */
export const E2E_IMAGE = 'public.ecr.aws/docker/library/nginx:1.28.0-alpine';

/** The label every test object carries: how the suite finds a workload's pods. */
export const NAME_LABEL = 'app.kubernetes.io/name';
/** Marks the namespace and its objects as the suite's. */
export const PART_OF_LABEL = { 'app.kubernetes.io/part-of': 'kube-aws-e2e' } as const;

export const WEB = 'web';
export const STORE = 'store';
export const DNS = 'dns';
/** The StatefulSet's volume claim template and its mount. */
const DATA_VOLUME = 'data';
const DATA_DIR = '/data';
/** Each start of the volume's pod appends its UID here and prints the whole file. */
export const BOOTS_FILE = `${DATA_DIR}/boots`;
export const WEB_PORT = 80;
/** What nginx's default page says (its html/index.html title). */
export const NGINX_WELCOME = 'Welcome to nginx!';

/** The test pods need no API access: no service-account token in them, whatever their image does. */
const NO_TOKEN = { automountServiceAccountToken: false } as const;

/** Small requests: the suite must schedule on a busy cluster too. */
const RESOURCES = { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } };

const labels = (name: string) => ({ [NAME_LABEL]: name, ...PART_OF_LABEL });

function container(image: string, extra: Partial<V1Container>): V1Container {
  return { name: 'main', image, imagePullPolicy: 'IfNotPresent', resources: RESOURCES, ...extra };
}

/** nginx serving its welcome page on port 80. */
export function webDeployment(image: string): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: WEB, labels: labels(WEB) },
    spec: {
      replicas: 1,
      selector: { matchLabels: { [NAME_LABEL]: WEB } },
      template: {
        metadata: { labels: labels(WEB) },
        spec: { ...NO_TOKEN, containers: [container(image, { ports: [{ containerPort: WEB_PORT }], readinessProbe: { httpGet: { path: '/', port: WEB_PORT }, periodSeconds: 2 } })] },
      },
    },
  };
}

/** The web Deployment behind a load balancer that the cloud controller manager makes (kubernetes/api v0.35.1 core/v1 ServiceTypeLoadBalancer). */
export function webService(): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: WEB, labels: labels(WEB) },
    spec: { type: 'LoadBalancer', selector: { [NAME_LABEL]: WEB }, ports: [{ name: 'http', port: WEB_PORT, targetPort: WEB_PORT }] },
  };
}

/**
 * One pod with a volume from the default StorageClass (no storageClassName: the DefaultStorageClass
 * admission plugin fills it in). Each start appends the pod's UID (downward API) to a file on the
 * volume and prints the file: the second pod's log lists the first pod's UID only if the volume
 * kept it. Ready once the file is written; exits at once on SIGTERM so a pod deletion is quick.
 */
export function storeStatefulSet(image: string): V1StatefulSet {
  const script = [`echo "$POD_UID" >> ${BOOTS_FILE}`, `cat ${BOOTS_FILE}`, "trap 'exit 0' TERM", 'while true; do sleep 1; done'].join('\n');
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: STORE, labels: labels(STORE) },
    spec: {
      replicas: 1,
      selector: { matchLabels: { [NAME_LABEL]: STORE } },
      template: {
        metadata: { labels: labels(STORE) },
        spec: {
          ...NO_TOKEN,
          terminationGracePeriodSeconds: 5,
          containers: [
            container(image, {
              command: ['sh', '-c', script],
              env: [{ name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } }],
              volumeMounts: [{ name: DATA_VOLUME, mountPath: DATA_DIR }],
              readinessProbe: { exec: { command: ['test', '-s', BOOTS_FILE] }, periodSeconds: 2 },
            }),
          ],
        },
      },
      volumeClaimTemplates: [
        { metadata: { name: DATA_VOLUME, labels: labels(STORE) }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
      ],
    },
  };
}

/** The claim a pod mounts as the store's data volume (named by the StatefulSet controller). */
export function dataClaimOf(pod: { spec?: { volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[] } }): string | undefined {
  return pod.spec?.volumes?.find((v) => v.name === DATA_VOLUME)?.persistentVolumeClaim?.claimName;
}

/**
 * Resolves the API's Service name through the pod's search path (kubernetes.default, as a
 * person types it) and `externalName` through CoreDNS's upstream, with musl's resolver
 * (`getent hosts` exits non-zero for a name it cannot resolve). Two retries for a node's first
 * DNS packet; never restarted in place, so a failure shows as the Job's Failed condition.
 */
export function dnsJob(image: string, externalName: string): V1Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: DNS, labels: labels(DNS) },
    spec: {
      backoffLimit: 2,
      template: {
        metadata: { labels: labels(DNS) },
        spec: {
          ...NO_TOKEN,
          restartPolicy: 'Never',
          containers: [
            container(image, {
              command: ['sh', '-c', 'set -e; getent hosts kubernetes.default; getent hosts "$EXTERNAL_NAME"'],
              env: [{ name: 'EXTERNAL_NAME', value: externalName }],
            }),
          ],
        },
      },
    },
  };
}
