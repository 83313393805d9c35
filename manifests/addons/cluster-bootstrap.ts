/**
 * cluster-bootstrap: what the cluster needs before any person works in it, delivered first,
 * as every other add-on, by the master stack:
 * - the RBAC of the masters' own components (bootstrap-rbac.ts);
 * - the admission policy that keeps namespaces' Pod Security labels for Administrators
 *   (namespace-pod-security-labels.ts).
 *
 * Its first object tells a master's health check that the cluster has had its add-ons
 * (userdata/master.ts): until then the API server is all a new cluster's master can show.
 */
import { bootstrapRbac } from '../bootstrap-rbac';
import { namespacePodSecurityLabelPolicy } from '../namespace-pod-security-labels';
import { KUBERNETES_VERSION } from '../../userdata/versions';
import { Addon, NODE_COMPONENTS } from './addon';

export const CLUSTER_BOOTSTRAP_NAME = 'cluster-bootstrap';

export const clusterBootstrap: Addon = {
  name: CLUSTER_BOOTSTRAP_NAME,
  version: KUBERNETES_VERSION,
  description: 'RBAC of the masters\' own components, and Pod Security labels for Administrators only',
  optional: false,
  placement: 'api',
  needs: [NODE_COMPONENTS.apiServer],
  provides: [NODE_COMPONENTS.clusterBootstrapped],
  toleratedTaints: {},
  permissions: () => [],
  objects: (context) => [
    ...bootstrapRbac(),
    ...namespacePodSecurityLabelPolicy({ clusterGroup: context.clusterGroup, administratorGroups: context.administratorGroups }),
  ],
};
