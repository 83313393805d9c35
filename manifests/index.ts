import * as yaml from 'js-yaml';
import { bootstrapRbac } from './bootstrap-rbac';
import { namespacePodSecurityLabelPolicy, NamespacePodSecurityLabelsProps } from './namespace-pod-security-labels';
import { nodeAgentAdmissionPolicy } from './node-agent-admission';

/** A Kubernetes object that can check itself against its API schema. */
interface ValidatableObject {
  validate(): void;
  toJSON(): unknown;
}

/** What the add-on manifests need of the cluster's configuration. */
export type AddonManifestsProps = NamespacePodSecurityLabelsProps;

/**
 * The manifests a master applies once its API server answers, as one multi-document YAML.
 * Every object is checked against its Kubernetes schema first: a bad manifest fails the
 * synth, not the cluster.
 */
export function addonManifests(props: AddonManifestsProps): string {
  const objects: ValidatableObject[] = [...bootstrapRbac(), ...namespacePodSecurityLabelPolicy(props), ...nodeAgentAdmissionPolicy()];
  return objects
    .map((object) => {
      object.validate();
      return yaml.dump(object.toJSON(), { lineWidth: -1, noRefs: true });
    })
    .join('---\n');
}
