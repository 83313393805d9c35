import * as yaml from 'js-yaml';
import { bootstrapRbac } from './bootstrap-rbac';

/** A Kubernetes object that can check itself against its API schema. */
interface ValidatableObject {
  validate(): void;
  toJSON(): unknown;
}

/**
 * The manifests a master applies once its API server answers, as one multi-document YAML.
 * Every object is checked against its Kubernetes schema first: a bad manifest fails the
 * synth, not the cluster.
 */
export function addonManifests(): string {
  const objects: ValidatableObject[] = [...bootstrapRbac()];
  return objects
    .map((object) => {
      object.validate();
      return yaml.dump(object.toJSON(), { lineWidth: -1, noRefs: true });
    })
    .join('---\n');
}
