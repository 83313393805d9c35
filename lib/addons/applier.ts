import { MANAGED_BY_LABELS } from '../../manifests/managed-by';
import { collectionPath, objectPath, ResourceResolver, ResourceType } from './discovery';
import { KubeApi, KubeApiConnection, responseError, RetryPolicy } from './kube-api';
import {
  applyPhase, describeRef, groupOf, identityOf, inApplyOrder, inDeleteOrder, KubeObject, ObjectRef, refOf,
} from './object-ref';
import { LabelSelector, podFailure, PodView, rolloutState, selectorQuery, Workload, WORKLOAD_KINDS } from './rollout';

// Applies one add-on's objects to the API server, as the add-on's custom resource does on
// Create and Update (server-side apply, wait for CRDs and rollouts, prune what the add-on no
// longer has), and removes them on Delete. Pure TypeScript over Node's https: no kubectl, no
// AWS SDK (the Lambda wrapper reads the token and passes it in).

/**
 * The field manager of every apply. "Required for apply requests" (apimachinery v0.35.1
 * pkg/apis/meta/v1/types.go PatchOptions.FieldManager; rejected when empty by
 * pkg/apis/meta/v1/validation/validation.go ValidatePatchOptions), at most 128 characters.
 */
export const FIELD_MANAGER = 'kubernetes-on-aws';

/** The label naming the add-on an object belongs to: only objects carrying it are ever deleted. */
export const ADDON_LABEL = 'kubernetes-on-aws/addon';

/** The add-on version that last applied an object (an annotation: a version is no selector). */
export const ADDON_VERSION_ANNOTATION = 'kubernetes-on-aws/addon-version';

/**
 * The server-side apply content type: `types.ApplyYAMLPatchType` (apimachinery v0.35.1
 * pkg/types/patch.go). JSON is YAML, so the body is the object as JSON.
 */
export const APPLY_PATCH_CONTENT_TYPE = 'application/apply-patch+yaml';

/** How long each wait lasts. */
export interface ApplyTimeouts extends RetryPolicy {
  /** How long a CRD may take to become Established. @default 60_000 */
  readonly establishedTimeoutMs: number;
  /**
   * How long all workloads together may take to roll out. A Deployment reports
   * ProgressDeadlineExceeded after 600 s by default (api v0.35.1 apps/v1/types.go); less here
   * so that the failure, with its pod's reason, comes within a Lambda's 15 minutes.
   * @default 480_000
   */
  readonly rolloutTimeoutMs: number;
  /** The pause between two reads of a CRD or workload. @default 2_000 */
  readonly pollIntervalMs: number;
}

/** The defaults of the waits; {@link KubeApi}'s for the requests. */
export const DEFAULT_WAITS: Pick<ApplyTimeouts, 'establishedTimeoutMs' | 'rolloutTimeoutMs' | 'pollIntervalMs'> = {
  establishedTimeoutMs: 60_000,
  rolloutTimeoutMs: 480_000,
  pollIntervalMs: 2_000,
};

/** What the custom resource passes on Create and Update. */
export interface ApplyAddonRequest {
  readonly connection: KubeApiConnection;
  /** `Addon.name`: the value of {@link ADDON_LABEL}. */
  readonly addonName: string;
  /** `Addon.version`, recorded in {@link ADDON_VERSION_ANNOTATION}. */
  readonly addonVersion: string;
  /** The objects as plain JSON (`AddonObject.toJSON()`). */
  readonly objects: readonly unknown[];
  /** The inventory the last apply returned (empty on Create): what may be pruned. */
  readonly previousInventory: readonly ObjectRef[];
  /** The add-on's name before a rename, if this apply renames it: objects labelled so are its own. */
  readonly previousName?: string;
  /** @default the defaults of each field */
  readonly timeouts?: Partial<ApplyTimeouts>;
}

/** What an apply did. */
export interface ApplyAddonResult {
  /** The objects applied, in apply order: the next run's `previousInventory`. */
  readonly inventory: readonly ObjectRef[];
  /** Objects of the previous inventory deleted. */
  readonly pruned: readonly ObjectRef[];
  /** Objects of the previous inventory left alone: no longer labelled as this add-on's. */
  readonly leftAlone: readonly ObjectRef[];
}

/** What the custom resource passes on Delete. */
export interface DeleteAddonRequest {
  readonly connection: KubeApiConnection;
  readonly addonName: string;
  /** The inventory the last apply returned. */
  readonly inventory: readonly ObjectRef[];
  readonly timeouts?: Partial<ApplyTimeouts>;
}

/** What a delete did. */
export interface DeleteAddonResult {
  readonly deleted: readonly ObjectRef[];
  readonly leftAlone: readonly ObjectRef[];
}

/** Applies an add-on's objects, waits for them to be ready, then prunes what it no longer has. */
export async function applyAddon(request: ApplyAddonRequest): Promise<ApplyAddonResult> {
  const objects = request.objects.map((object, index) => labelled(validObject(object, index, request.addonName), request));
  const refs = objects.map(refOf);
  const duplicates = refs.filter((ref, index) => refs.findIndex((other) => identityOf(other) === identityOf(ref)) !== index);
  if (duplicates.length > 0) throw new Error(`add-on ${request.addonName}: objects listed twice: ${duplicates.map(describeRef).join(', ')}`);

  return withSession(request, async (session) => {
    const ordered = inApplyOrder(objects.map((object) => ({ ...refOf(object), object })));
    session.expectKindsOf(objects);
    await session.refuseForeign(ordered, request.previousName);
    const first = ordered.filter((entry) => applyPhase(entry) < 2);
    for (const entry of first) await session.apply(entry, entry.object);
    for (const entry of first.filter((candidate) => applyPhase(candidate) === 0)) await session.waitEstablished(entry);
    for (const entry of ordered.filter((candidate) => applyPhase(candidate) >= 2)) await session.apply(entry, entry.object);
    await session.waitForRollouts(ordered.filter(isWorkload));

    // Pruned after the new objects are up: a renamed Deployment's replacement serves first.
    const kept = new Set(refs.map(identityOf));
    const stale = request.previousInventory.filter((ref) => !kept.has(identityOf(ref)));
    const { deleted, leftAlone } = await session.deleteOurs(stale);
    return { inventory: ordered.map(({ object: _object, ...ref }) => ref), pruned: deleted, leftAlone };
  });
}

/** Deletes the inventory's objects that still carry the add-on's label, in reverse apply order. */
export async function deleteAddon(request: DeleteAddonRequest): Promise<DeleteAddonResult> {
  return withSession(request, (session) => session.deleteOurs(request.inventory));
}

async function withSession<T>(
  request: { connection: KubeApiConnection; addonName: string; timeouts?: Partial<ApplyTimeouts> },
  run: (session: ApplySession) => Promise<T>,
): Promise<T> {
  const api = new KubeApi(request.connection, request.timeouts);
  try {
    return await run(new ApplySession(api, request.addonName, { ...DEFAULT_WAITS, ...request.timeouts }));
  } finally {
    api.close();
  }
}

function isWorkload(ref: ObjectRef): boolean {
  return groupOf(ref.apiVersion) === 'apps' && WORKLOAD_KINDS.includes(ref.kind);
}

/** Checks the fields the applier relies on, naming the add-on and the object's position. */
function validObject(object: unknown, index: number, addonName: string): KubeObject {
  const candidate = object as Partial<KubeObject> | undefined;
  const where = `add-on ${addonName}: object ${index}`;
  if (typeof candidate !== 'object' || candidate === null) throw new Error(`${where}: not an object`);
  if (typeof candidate.apiVersion !== 'string' || typeof candidate.kind !== 'string') throw new Error(`${where}: apiVersion and kind are required`);
  if (typeof candidate.metadata?.name !== 'string' || candidate.metadata.name === '') throw new Error(`${where} (${candidate.kind}): metadata.name is required`);
  return candidate as KubeObject;
}

/** The object with the add-on's labels and version annotation, added or overwritten (idempotent). */
function labelled(object: KubeObject, request: ApplyAddonRequest): KubeObject {
  return {
    ...object,
    metadata: {
      ...object.metadata,
      labels: { ...object.metadata.labels, ...MANAGED_BY_LABELS, [ADDON_LABEL]: request.addonName },
      annotations: { ...object.metadata.annotations, [ADDON_VERSION_ANNOTATION]: request.addonVersion },
    },
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One run against the API server: its discovery cache, its add-on, its waits. */
class ApplySession {
  private readonly resolver: ResourceResolver;
  /** `<group>|<kind>` of the kinds the add-on's own CRDs define: discovery may lag for them. */
  private readonly crdKinds = new Set<string>();

  constructor(private readonly api: KubeApi, private readonly addonName: string, private readonly waits: typeof DEFAULT_WAITS) {
    this.resolver = new ResourceResolver(api);
  }

  /** Notes the kinds the add-on's CRDs define, so that their discovery is waited for. */
  expectKindsOf(objects: readonly KubeObject[]): void {
    for (const object of objects) {
      if (applyPhase(refOf(object)) !== 0) continue;
      const spec = object.spec as { group?: string; names?: { kind?: string } } | undefined;
      if (spec?.group && spec.names?.kind) this.crdKinds.add(`${spec.group}|${spec.names.kind}`);
    }
  }

  /**
   * Server-side apply: PATCH with `fieldManager` and `force=true`, which "re-acquire[s]
   * conflicting fields owned by other people" (apimachinery v0.35.1 PatchOptions.Force): the
   * add-on's code is the truth for its fields. The apply patcher may create the object
   * (apiserver v0.35.1 pkg/endpoints/handlers/patch.go: forceAllowCreate for ApplyYAMLPatchType).
   */
  async apply(ref: ObjectRef, object: KubeObject): Promise<void> {
    const type = await this.typeOf(ref);
    const response = await this.api.request({
      method: 'PATCH',
      path: objectPath(type, ref),
      query: { fieldManager: FIELD_MANAGER, force: 'true' },
      contentType: APPLY_PATCH_CONTENT_TYPE,
      body: object,
    });
    if (response.status !== 200 && response.status !== 201) throw responseError(this.what('apply', ref), response);
  }

  /**
   * Refuses, before anything is applied, any object that exists without this add-on's label
   * (or, in a rename, its previous name's):
   * it is someone else's (another add-on's, a person's, or what a cluster made before the
   * add-on delivery took that job over). A forced apply would take it over, and this add-on's
   * Delete, a rollback's included, would then remove it. A kind not served yet (its CRD comes
   * with this add-on) has no object to take over.
   */
  async refuseForeign(refs: readonly ObjectRef[], previousName: string | undefined): Promise<void> {
    const foreign: string[] = [];
    for (const ref of refs) {
      const type = await this.resolver.find(ref);
      if (!type) continue;
      const read = await this.api.request({ method: 'GET', path: objectPath(type, ref) });
      if (read.status === 404) continue;
      if (read.status !== 200) throw responseError(this.what('read before apply', ref), read);
      const owner = (read.body as { metadata?: { labels?: Record<string, string> } }).metadata?.labels?.[ADDON_LABEL];
      if (owner !== this.addonName && (previousName === undefined || owner !== previousName)) foreign.push(`${describeRef(ref)} (${owner ? `add-on ${owner}'s` : `no ${ADDON_LABEL} label`})`);
    }
    if (foreign.length > 0) {
      throw new Error(
        `add-on ${this.addonName}: refusing to take over objects that exist and are not this add-on's: ${foreign.join(', ')}. ` +
          `Delete them, or label them ${ADDON_LABEL}=${this.addonName} to hand them over; a cluster created before this add-on ` +
          'took them over is updated by deploying a new cluster version instead (README, "Update")',
      );
    }
  }

  /**
   * Waits for a CRD's `Established` condition: "the resource has become active"
   * (kubernetes/apiextensions-apiserver pkg/apis/apiextensions/v1/types.go; not checked at a
   * v0.35.1 tag here). Before it, objects of its kinds are refused and discovery lacks them.
   */
  async waitEstablished(ref: ObjectRef): Promise<void> {
    const path = objectPath(await this.typeOf(ref), ref);
    type Condition = { type: string; status: string; reason?: string; message?: string };
    let conditions: Condition[] = [];
    const established = await this.poll(this.waits.establishedTimeoutMs, async () => {
      const response = await this.api.request({ method: 'GET', path });
      if (response.status !== 200) throw responseError(this.what('read', ref), response);
      conditions = (response.body as { status?: { conditions?: Condition[] } }).status?.conditions ?? [];
      return conditions.some((condition) => condition.type === 'Established' && condition.status === 'True');
    });
    if (!established) {
      const problems = conditions.filter((condition) => condition.status !== 'True')
        .map((condition) => `${condition.type}=${condition.status}${condition.message ? `: ${condition.message}` : ''}`);
      throw new Error(`${this.what('wait for', ref)}: not Established after ${this.waits.establishedTimeoutMs} ms` +
        (problems.length > 0 ? ` (${problems.join('; ')})` : ''));
    }
  }

  /** Waits for every workload to roll out, all within one deadline; fails with a failing pod's reason. */
  async waitForRollouts(workloads: readonly ObjectRef[]): Promise<void> {
    const deadline = Date.now() + this.waits.rolloutTimeoutMs;
    for (const ref of workloads) {
      const path = objectPath(await this.typeOf(ref), ref);
      let live: Workload | undefined;
      let failed: string | undefined;
      let waitingFor = '';
      const done = await this.poll(deadline - Date.now(), async () => {
        const response = await this.api.request({ method: 'GET', path });
        if (response.status !== 200) throw responseError(this.what('read', ref), response);
        live = response.body as Workload;
        const state = rolloutState(live);
        if (state.done) return true;
        waitingFor = state.waitingFor;
        failed = state.failed;
        return failed !== undefined; // past its progress deadline: waiting longer changes nothing
      });
      if (done && !failed) continue;
      const pod = await this.failingPod(ref, live?.spec?.selector);
      const why = failed ?? `not rolled out after ${this.waits.rolloutTimeoutMs} ms (waiting for ${waitingFor})`;
      throw new Error(`${this.what('roll out', ref)}: ${why}${pod ? `; ${pod}` : '; no failing pod found'}`);
    }
  }

  /**
   * Deletes, in reverse apply order, each object that still carries this add-on's label; leaves
   * the others (another add-on's or someone's since). The label is read first, and the DELETE
   * carries the read's uid and resourceVersion as preconditions (apimachinery v0.35.1
   * pkg/apis/meta/v1/types.go Preconditions), so an object changed in between is read again
   * (409) rather than deleted unseen.
   */
  async deleteOurs(refs: readonly ObjectRef[]): Promise<{ deleted: ObjectRef[]; leftAlone: ObjectRef[] }> {
    const deleted: ObjectRef[] = [];
    const leftAlone: ObjectRef[] = [];
    for (const ref of inDeleteOrder(refs)) {
      const outcome = await this.deleteIfOurs(ref);
      if (outcome === 'deleted') deleted.push(ref);
      if (outcome === 'not ours') leftAlone.push(ref);
    }
    return { deleted, leftAlone };
  }

  private async deleteIfOurs(ref: ObjectRef): Promise<'deleted' | 'absent' | 'not ours'> {
    // A kind no longer served (its CRD deleted) has no objects left.
    const type = await this.resolver.find(ref);
    if (!type) return 'absent';
    const path = objectPath(type, ref);
    const attempts = 3;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const read = await this.api.request({ method: 'GET', path });
      if (read.status === 404) return 'absent';
      if (read.status !== 200) throw responseError(this.what('read before delete', ref), read);
      const metadata = (read.body as { metadata?: { uid?: string; resourceVersion?: string; labels?: Record<string, string> } }).metadata ?? {};
      if (metadata.labels?.[ADDON_LABEL] !== this.addonName) return 'not ours';
      const response = await this.api.request({
        method: 'DELETE',
        path,
        // In the body, not the query: the API server reads the query only when the body is
        // empty (apiserver v0.35.1 pkg/endpoints/handlers/delete.go), and preconditions need a body.
        body: {
          apiVersion: 'meta.k8s.io/v1',
          kind: 'DeleteOptions',
          // Background: the object goes now, its dependents (ReplicaSets, pods) after it
          // (apimachinery v0.35.1 DeletePropagationBackground); no wait for the garbage collector.
          propagationPolicy: 'Background',
          preconditions: { uid: metadata.uid, resourceVersion: metadata.resourceVersion },
        },
      });
      if (response.status === 200 || response.status === 202) return 'deleted';
      if (response.status === 404) return 'absent';
      if (response.status !== 409 || attempt === attempts) throw responseError(this.what('delete', ref), response);
    }
    throw new Error('unreachable');
  }

  /** The first failing pod's reason among the workload's pods. */
  private async failingPod(ref: ObjectRef, selector: LabelSelector | undefined): Promise<string | undefined> {
    if (!selector) return undefined;
    const path = collectionPath({ groupVersionPath: '/api/v1', plural: 'pods', namespaced: true }, ref.namespace);
    const response = await this.api.request({ method: 'GET', path, query: { labelSelector: selectorQuery(selector) } });
    if (response.status !== 200) return `(its pods could not be listed: HTTP ${response.status})`;
    return podFailure((response.body as { items?: PodView[] }).items ?? []);
  }

  /** The object's kind from discovery, checked against its namespace. */
  private async typeOf(ref: ObjectRef): Promise<ResourceType> {
    const lagging = this.crdKinds.has(`${groupOf(ref.apiVersion)}|${ref.kind}`);
    const type = await this.resolver.resolve(ref, { waitMs: lagging ? this.waits.establishedTimeoutMs : 0, intervalMs: this.waits.pollIntervalMs });
    if (type.namespaced && !ref.namespace) throw new Error(`${this.what('apply', ref)}: ${ref.kind} is namespaced: set metadata.namespace`);
    if (!type.namespaced && ref.namespace) throw new Error(`${this.what('apply', ref)}: ${ref.kind} is cluster-scoped: remove metadata.namespace`);
    return type;
  }

  /** Calls `check` every poll interval until it is true (true) or `timeoutMs` has passed (false). */
  private async poll(timeoutMs: number, check: () => Promise<boolean>): Promise<boolean> {
    const deadline = Date.now() + Math.max(0, timeoutMs);
    for (;;) {
      if (await check()) return true;
      if (Date.now() + this.waits.pollIntervalMs > deadline) return false;
      await sleep(this.waits.pollIntervalMs);
    }
  }

  private what(action: string, ref: ObjectRef): string {
    return `add-on ${this.addonName}: ${action} ${describeRef(ref)}`;
  }
}
