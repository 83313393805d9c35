import { KubeApi, responseError } from './kube-api';
import { describeRef, groupOf, ObjectRef } from './object-ref';

// Where an object lives in the REST API. The plural and the scope of a kind are the API
// server's to say (a CRD picks its own plural), so they come from discovery, not from a guess.

/** A kind as discovery describes it. */
export interface ResourceType {
  /** `/api/v1` or `/apis/<group>/<version>`. */
  readonly groupVersionPath: string;
  /** `APIResource.name`: "the plural name of the resource" (apimachinery v0.35.1 pkg/apis/meta/v1/types.go). */
  readonly plural: string;
  /** `APIResource.namespaced`. */
  readonly namespaced: boolean;
}

/** The part of `APIResourceList` read here. */
interface APIResourceList {
  readonly resources?: readonly { readonly name: string; readonly kind: string; readonly namespaced: boolean }[];
}

/** `/api/v1` for the core group, `/apis/<group>/<version>` for the others. */
export function groupVersionPath(apiVersion: string): string {
  return groupOf(apiVersion) === '' ? `/api/${apiVersion}` : `/apis/${apiVersion}`;
}

/**
 * Resolves kinds through discovery, one GET per group version per run. A group version not
 * served (404) or a kind missing from its list is asked again on the next lookup: a CRD applied
 * earlier in the run adds its kind once Established.
 */
export class ResourceResolver {
  private readonly lists = new Map<string, Map<string, ResourceType>>();

  constructor(private readonly api: KubeApi) {}

  /** The kind of `ref`, or undefined when the API server does not serve it. */
  async find(ref: ObjectRef): Promise<ResourceType | undefined> {
    const path = groupVersionPath(ref.apiVersion);
    const cached = this.lists.get(path)?.get(ref.kind);
    if (cached) return cached;
    const response = await this.api.request({ method: 'GET', path });
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw responseError(`discovery of ${ref.apiVersion} (for ${describeRef(ref)})`, response);
    const kinds = new Map<string, ResourceType>();
    for (const resource of (response.body as APIResourceList).resources ?? []) {
      // Subresources (`deployments/status`, `deployments/scale`) repeat or change the kind.
      if (resource.name.includes('/')) continue;
      kinds.set(resource.kind, { groupVersionPath: path, plural: resource.name, namespaced: resource.namespaced });
    }
    this.lists.set(path, kinds);
    return kinds.get(ref.kind);
  }

  /**
   * Like {@link find}, failing with what to check when the kind is not served. `waitMs` keeps
   * asking for that long: a CRD's kind reaches discovery shortly after the CRD is Established,
   * not at the same instant (discovery is refreshed asynchronously by the API server).
   */
  async resolve(ref: ObjectRef, wait: { waitMs: number; intervalMs: number } = { waitMs: 0, intervalMs: 0 }): Promise<ResourceType> {
    const deadline = Date.now() + wait.waitMs;
    let type = await this.find(ref);
    while (!type && Date.now() + wait.intervalMs <= deadline) {
      await new Promise((resolve) => setTimeout(resolve, wait.intervalMs));
      type = await this.find(ref);
    }
    if (!type) {
      throw new Error(`${describeRef(ref)}: the API server does not serve kind ${ref.kind} in ${ref.apiVersion} ` +
        '(a CustomResourceDefinition not in the add-on, or an API version removed in this Kubernetes release)');
    }
    return type;
  }
}

/** The collection path of a kind (`.../namespaces/<ns>/<plural>` when namespaced). */
export function collectionPath(type: ResourceType, namespace: string | undefined): string {
  const scope = type.namespaced ? `/namespaces/${encodeURIComponent(namespace ?? '')}` : '';
  return `${type.groupVersionPath}${scope}/${type.plural}`;
}

/** The path of one object. */
export function objectPath(type: ResourceType, ref: ObjectRef): string {
  return `${collectionPath(type, ref.namespace)}/${encodeURIComponent(ref.name)}`;
}
