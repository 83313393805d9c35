/**
 * Headlamp: a web UI for the cluster, the suggested successor of the Kubernetes Dashboard
 * (archived in 2026, DESIGN.md), which the 2016 system ran.
 *
 * Source: kubernetes-sigs/headlamp v0.45.0 (tag commit 0e9fe810cb618964172f420666727c9a67fd6ebf;
 * the project moved there from headlamp-k8s/headlamp, whose images it still publishes:
 * .github/workflows/container-publish.yml, ghcr.io/headlamp-k8s/headlamp). Objects after
 * charts/headlamp at that tag (values.yaml, templates/deployment.yaml,
 * tests/expected_templates/default.yaml and readonly-root-filesystem.yaml), with these
 * differences:
 * - Its own namespace `headlamp`, which enforces the Pod Security `restricted` level.
 * - The ServiceAccount is bound to the built-in `view` ClusterRole, not the chart's
 *   `cluster-admin`.
 * - A restricted securityContext (the chart's runs as user 100 but keeps capabilities and
 *   a writable root), with the chart's own read-only-root layout: an emptyDir on /tmp.
 * - Requests (the chart sets none).
 *
 * Who can do what through it: each user logs in with their own token (the one
 * `get-api-token` prints), and Headlamp sends that token with every call it makes for them
 * (backend/cmd/headlamp.go: applyRequestTokenToContext, and "no authentication token
 * provided" in-cluster without one). So a user sees and changes exactly what the webhook's
 * role lets them, as with kubectl. Its own token is used for users only with
 * -unsafe-use-service-account-token (values.yaml: "UNSAFE: authenticate every Headlamp user
 * as the pod's service account"), which is never passed here. The token is still mounted,
 * because the in-cluster context is built from rest.InClusterConfig(), which reads it
 * (backend/pkg/kubeconfig/kubeconfig.go, GetInClusterContext); binding it to `view` caps what
 * it could ever do at reading, without Secrets (`view` excludes them).
 *
 * Reaching it: a ClusterIP Service only, never a LoadBalancer or NodePort (the UI would face
 * the VPC or the internet); users reach it through the API with `kubectl port-forward`
 * (the chart's README and NOTES.txt) or `kubectl proxy` (the API server's service proxy).
 */
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { MANAGED_BY_LABELS } from '../managed-by';
import { Addon, NODE_COMPONENTS } from './addon';

/** The release pinned (kubernetes-sigs/headlamp tag v0.45.0, charts/headlamp appVersion 0.45.0). */
export const HEADLAMP_VERSION = 'v0.45.0';
/** The chart's image at v0.45.0 (registry ghcr.io, repository headlamp-k8s/headlamp, tag v<appVersion>). */
export const HEADLAMP_IMAGE = `ghcr.io/headlamp-k8s/headlamp:${HEADLAMP_VERSION}`;
export const HEADLAMP_NAME = 'headlamp';
export const HEADLAMP_NAMESPACE = 'headlamp';
/** The only ClusterRole its ServiceAccount is bound to: built in, read-only, no Secrets. */
export const HEADLAMP_CLUSTER_ROLE = 'view';
/** The backend's port (chart: containerPort 4466) and the Service's (chart: service.port 80). */
export const HEADLAMP_CONTAINER_PORT = 4466;
export const HEADLAMP_SERVICE_PORT = 80;

/**
 * The namespace's Pod Security labels: `restricted` enforced (audit and warn too), at the API
 * server's own release (`latest`, for the reason given in userdata/apiserver-admission.ts).
 * Only Administrators and system:masters may set them (manifests/namespace-pod-security-labels.ts).
 */
export const HEADLAMP_NAMESPACE_POD_SECURITY: Readonly<Record<string, string>> = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
  'pod-security.kubernetes.io/audit': 'restricted',
  'pod-security.kubernetes.io/audit-version': 'latest',
  'pod-security.kubernetes.io/warn': 'restricted',
  'pod-security.kubernetes.io/warn-version': 'latest',
};

/** The chart's selector labels. */
const SELECTOR = { 'app.kubernetes.io/name': HEADLAMP_NAME, 'app.kubernetes.io/instance': HEADLAMP_NAME };
const labels = { ...MANAGED_BY_LABELS, ...SELECTOR };

function deployment(): Deployment {
  return new Deployment({
    metadata: { name: HEADLAMP_NAME, namespace: HEADLAMP_NAMESPACE, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: SELECTOR },
      template: {
        metadata: { labels: SELECTOR },
        spec: {
          serviceAccountName: HEADLAMP_NAME,
          // rest.InClusterConfig() reads the token file (see the file's comment); never sent for users.
          automountServiceAccountToken: true,
          securityContext: { runAsNonRoot: true, runAsUser: 100, runAsGroup: 101, seccompProfile: { type: 'RuntimeDefault' } },
          volumes: [{ name: 'headlamp-tmp', emptyDir: {} }],
          containers: [{
            name: HEADLAMP_NAME,
            image: HEADLAMP_IMAGE,
            imagePullPolicy: 'IfNotPresent',
            // The chart's defaults: in-cluster, its context name, the plugins shipped in the
            // image, sessions of 24 h. No -unsafe-use-service-account-token, no OIDC.
            args: ['-in-cluster', '-in-cluster-context-name=main', '-plugins-dir=/headlamp/plugins', '-session-ttl=86400'],
            ports: [{ name: 'http', containerPort: HEADLAMP_CONTAINER_PORT, protocol: 'TCP' }],
            livenessProbe: { httpGet: { path: '/', port: 'http', scheme: 'HTTP' } },
            readinessProbe: { httpGet: { path: '/', port: 'http', scheme: 'HTTP' } },
            // Ours, not measured: a Go backend serving a static UI and proxying API calls.
            resources: { requests: { cpu: '50m', memory: '128Mi' } },
            securityContext: {
              privileged: false,
              allowPrivilegeEscalation: false,
              capabilities: { drop: ['ALL'] },
              readOnlyRootFilesystem: true,
              runAsNonRoot: true,
              runAsUser: 100,
              runAsGroup: 101,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            volumeMounts: [{ name: 'headlamp-tmp', mountPath: '/tmp' }],
          }],
        },
      },
    },
  });
}

/** Headlamp as an add-on: read-only by default, reached only through the API. */
export const headlamp: Addon = {
  name: HEADLAMP_NAME,
  version: HEADLAMP_VERSION,
  description:
    'Web UI (successor of the Kubernetes Dashboard); each user logs in with their own token and can do what their role allows; ' +
    'reached with `kubectl port-forward -n headlamp svc/headlamp 8080:80` or `kubectl proxy`, never exposed outside the cluster',
  replaces: 'Kubernetes Dashboard',
  // Optional: a convenience for people; nothing in the cluster depends on it.
  optional: true,
  placement: 'workers',
  needs: [NODE_COMPONENTS.nodeInitialized, NODE_COMPONENTS.podNetwork, NODE_COMPONENTS.kubeProxy, NODE_COMPONENTS.workers],
  provides: [],
  toleratedTaints: {},
  permissions: () => [],
  objects: () => [
    new Namespace({ metadata: { name: HEADLAMP_NAMESPACE, labels: { ...MANAGED_BY_LABELS, ...HEADLAMP_NAMESPACE_POD_SECURITY } } }),
    new ServiceAccount({ metadata: { name: HEADLAMP_NAME, namespace: HEADLAMP_NAMESPACE, labels } }),
    new ClusterRoleBinding({
      metadata: { name: `${HEADLAMP_NAME}-${HEADLAMP_CLUSTER_ROLE}`, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: HEADLAMP_CLUSTER_ROLE },
      subjects: [{ kind: 'ServiceAccount', name: HEADLAMP_NAME, namespace: HEADLAMP_NAMESPACE }],
    }),
    new Service({
      metadata: { name: HEADLAMP_NAME, namespace: HEADLAMP_NAMESPACE, labels },
      spec: {
        type: 'ClusterIP',
        selector: SELECTOR,
        ports: [{ name: 'http', port: HEADLAMP_SERVICE_PORT, targetPort: 'http', protocol: 'TCP' }],
      },
    }),
    deployment(),
  ],
};
