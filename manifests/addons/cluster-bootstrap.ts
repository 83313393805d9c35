/**
 * cluster-bootstrap: what the API server needs before any node joins or any person works in
 * the cluster, delivered first, as every other add-on, by the master stack:
 * - the node RBAC (bootstrap-rbac.ts): until it is there, no kubelet can register its node,
 *   so every add-on with pods waits for it (NODE_COMPONENTS.nodesRegistered);
 * - the admission policy that cuts the shared worker token's pod and token writes to what a
 *   kubelet makes (node-agent-admission.ts);
 * - the admission policy that keeps namespaces' Pod Security labels for Administrators
 *   (namespace-pod-security-labels.ts).
 *
 * Until this add-on is applied the masters' kubelets retry their registration (they run the
 * control plane's static pods without it), and the masters' health check asks only for the
 * API server (userdata/master.ts): the deploy that creates the cluster waits here instead.
 */
import { bootstrapRbac } from '../bootstrap-rbac';
import { namespacePodSecurityLabelPolicy } from '../namespace-pod-security-labels';
import { nodeAgentAdmissionPolicy } from '../node-agent-admission';
import { KUBERNETES_VERSION } from '../../userdata/versions';
import { Addon, NODE_COMPONENTS } from './addon';

export const CLUSTER_BOOTSTRAP_NAME = 'cluster-bootstrap';

export const clusterBootstrap: Addon = {
  name: CLUSTER_BOOTSTRAP_NAME,
  // Its RBAC is cut to what this release's kubelet calls (node-agent-rbac.ts).
  version: KUBERNETES_VERSION,
  description: 'Node RBAC (kubelets may register), the shared worker token\'s admission policy, and Pod Security labels for Administrators only',
  optional: false,
  placement: 'api',
  needs: [NODE_COMPONENTS.apiServer],
  provides: [NODE_COMPONENTS.nodesRegistered],
  toleratedTaints: {},
  permissions: () => [],
  objects: (context) => [
    ...bootstrapRbac(),
    ...namespacePodSecurityLabelPolicy({ clusterGroup: context.clusterGroup, administratorGroups: context.administratorGroups }),
    ...nodeAgentAdmissionPolicy(),
  ],
};
