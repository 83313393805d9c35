import { DescribeInstancesCommand, EC2Client, Instance } from '@aws-sdk/client-ec2';
import { ExpiringLruCache } from './cache';

/** What EC2 says about the instance behind a node role's session. */
export type NodeNameResult =
  /** The instance is a node of this cluster; `nodeName` is its (lowercased) PrivateDnsName. */
  | { readonly kind: 'node'; readonly nodeName: string }
  /** EC2 answered, and the instance is not (or no longer) a node of this cluster. */
  | { readonly kind: 'not-a-node'; readonly reason: string }
  /** EC2 could not be asked: error, throttling or timeout. Never cached. */
  | { readonly kind: 'unavailable'; readonly reason: string };

export interface Ec2NodeNamesOptions {
  /** `<stack>-<version>`: instances must carry tag `kubernetes.io/cluster/<clusterName>` = `owned`. */
  readonly clusterName: string;
  /** Region of the cluster's instances (used only to build the default client). */
  readonly region: string;
  /** How long a found node name is reused. */
  readonly cacheTtlSeconds: number;
  /** How long a not-a-node answer is reused (short: a booting instance may not be visible yet). */
  readonly negativeCacheTtlSeconds: number;
  /** Bound on cached instance ids. */
  readonly cacheMaxEntries: number;
  /** At most this many DescribeInstances calls at once (a flood of tokens must not throttle EC2). */
  readonly maxConcurrentLookups: number;
  /** Deadline of one lookup, from the first caller's arrival: waiting for a slot counts. */
  readonly timeoutMs: number;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default new EC2Client({ region }) */
  readonly client?: EC2Client;
}

// EC2 instance ids: "i-" and 8 hex characters (before 2016) or 17 (since); EC2 User Guide,
// "Resource IDs" (docs.aws.amazon.com/AWSEC2/latest/UserGuide/resource-ids.html). EC2 writes
// them in lowercase, and it is EC2 that sets the role session name to the instance id.
const INSTANCE_ID_PATTERN = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

// Node names are validated as DNS-1123 subdomains (kubernetes/kubernetes pkg/apis/core/validation
// ValidateNodeName -> k8s.io/apimachinery pkg/util/validation IsDNS1123Subdomain): at most 253
// characters, lowercase alphanumeric labels with inner '-', joined by '.'.
const DNS1123_SUBDOMAIN_PATTERN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;

// A node's kubelet may only be starting (pending) or up (running). A stopped instance's
// credentials are gone with it, and a stopping or shutting-down one is leaving the cluster.
const NODE_STATES: ReadonlySet<string> = new Set(['pending', 'running']);

// "If you specify an instance ID that is not valid, an error is returned" (DescribeInstances,
// AWS SDK docs); these codes (enums in @aws-sdk/client-ec2 3.1169.0) concern the id, not EC2's
// health. NotFound is also what a just-launched instance can yield under EC2's eventual
// consistency (EC2 API Reference, "Troubleshooting API request errors"): short negative TTL.
const UNKNOWN_ID_ERRORS: ReadonlySet<string> = new Set(['InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed']);

/**
 * What EC2's description of one instance says: a node of the cluster (with the profile it was
 * launched with, which callers compare) or not. Its reasons name the instance id and the check
 * that failed, never the state, tag, profile or DNS name that failed it.
 */
export type InstanceVerdict =
  | { readonly kind: 'node'; readonly nodeName: string; readonly instanceProfileArn: string }
  | { readonly kind: 'not-a-node'; readonly reason: string };
type LookupOutcome = InstanceVerdict | { readonly kind: 'unavailable'; readonly reason: string };

/**
 * Maps EC2 instance ids to Kubernetes node names with DescribeInstances, bounded in rate
 * (a concurrency cap and caches) because the webhook asks on every node token it sees.
 *
 * No instance data leaves this class except the node name of a node: reasons name the id
 * and the check that failed, never the state, tag, profile or DNS name that failed it
 * (callers log reasons).
 */
export class Ec2NodeNames {
  private readonly client: EC2Client;
  /** Verdicts per instance id, independent of the profile a caller presents. */
  private readonly cache: ExpiringLruCache<InstanceVerdict>;
  /** Lookups under way, so a burst of tokens from one new node asks EC2 once. */
  private readonly inFlight = new Map<string, Promise<LookupOutcome>>();
  private readonly slots: Semaphore;

  constructor(private readonly options: Ec2NodeNamesOptions) {
    if (options.clusterName === '') throw new Error('clusterName: must not be empty');
    requireNonNegative('cacheTtlSeconds', options.cacheTtlSeconds);
    requireNonNegative('negativeCacheTtlSeconds', options.negativeCacheTtlSeconds);
    if (!Number.isInteger(options.maxConcurrentLookups) || options.maxConcurrentLookups < 1) {
      throw new Error(`maxConcurrentLookups: must be a positive integer, got ${options.maxConcurrentLookups}`);
    }
    if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) throw new Error(`timeoutMs: must be a positive number, got ${options.timeoutMs}`);
    if (!options.client && options.region === '') throw new Error('region: must not be empty when no client is given');
    this.client = options.client ?? new EC2Client({ region: options.region });
    this.cache = new ExpiringLruCache<InstanceVerdict>(options.cacheMaxEntries, options.now);
    this.slots = new Semaphore(options.maxConcurrentLookups);
  }

  /**
   * The node name of `instanceId`, if it is a node of this cluster launched with
   * `instanceProfileArn` (the instance profile of the node role whose session presented it).
   * Never throws.
   */
  async nodeNameOf(instanceId: string, instanceProfileArn: string): Promise<NodeNameResult> {
    if (!INSTANCE_ID_PATTERN.test(instanceId)) return { kind: 'not-a-node', reason: 'session name is not an EC2 instance id' };

    let verdict: LookupOutcome | undefined = this.cache.get(instanceId);
    if (!verdict) {
      let pending = this.inFlight.get(instanceId);
      if (!pending) {
        pending = this.lookUp(instanceId).finally(() => this.inFlight.delete(instanceId));
        this.inFlight.set(instanceId, pending);
      }
      verdict = await pending;
    }
    if (verdict.kind !== 'node') return verdict;
    // Compared per call, not cached apart: one DescribeInstances serves any profile presented.
    if (verdict.instanceProfileArn !== instanceProfileArn) return { kind: 'not-a-node', reason: `instance ${instanceId} was launched with another instance profile` };
    return { kind: 'node', nodeName: verdict.nodeName };
  }

  /** One DescribeInstances, within a concurrency slot and the deadline; caches what it learns. */
  private async lookUp(instanceId: string): Promise<LookupOutcome> {
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<LookupOutcome>((resolve) => {
      timer = setTimeout(() => {
        resolve({ kind: 'unavailable', reason: `EC2 did not answer about ${instanceId} within ${this.options.timeoutMs} ms` });
        abort.abort();
      }, this.options.timeoutMs);
    });
    try {
      const outcome = await Promise.race([deadline, this.describe(instanceId, abort.signal)]);
      if (outcome.kind === 'node') this.cache.set(instanceId, outcome, this.options.cacheTtlSeconds * 1000);
      else if (outcome.kind === 'not-a-node') this.cache.set(instanceId, outcome, this.options.negativeCacheTtlSeconds * 1000);
      return outcome;
    } finally {
      clearTimeout(timer);
    }
  }

  private async describe(instanceId: string, signal: AbortSignal): Promise<LookupOutcome> {
    if (!(await this.slots.acquire(signal))) return { kind: 'unavailable', reason: `timed out waiting for an EC2 lookup slot for ${instanceId}` };
    try {
      // With InstanceIds, DescribeInstances answers only for those ids and refuses MaxResults,
      // so one page holds the answer (DescribeInstancesRequest docs, @aws-sdk/client-ec2 3.1169.0).
      // The answer: Reservations[].Instances[] with State.Name, Tags, IamInstanceProfile.Arn,
      // PrivateDnsName (DescribeInstancesResult and Instance in the same SDK's models).
      const request = this.client.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }), { abortSignal: signal });
      // Settles at the deadline even if the request does not, so the slot below is released.
      const response = await Promise.race([request, whenAborted(signal)]);
      const instances = (response.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []).filter((i) => i.InstanceId === instanceId);
      // "If you specify an instance that you do not own, it is not included in the output" (DescribeInstances).
      if (instances.length !== 1) return { kind: 'not-a-node', reason: `EC2 described ${instances.length} instances with id ${instanceId}` };
      return judgeNodeInstance(instances[0], this.options.clusterName);
    } catch (error) {
      const name = (error as { name?: unknown })?.name;
      if (typeof name === 'string' && UNKNOWN_ID_ERRORS.has(name)) return { kind: 'not-a-node', reason: `EC2 does not know instance ${instanceId} (${name})` };
      // Only the error's name: EC2 messages may quote request data.
      return { kind: 'unavailable', reason: `EC2 DescribeInstances for ${instanceId} failed: ${typeof name === 'string' ? name : 'unknown error'}` };
    } finally {
      // Released on abort too: the SDK's HTTP handler destroys an aborted request
      // (@smithy/node-http-handler 4.14.2 NodeHttpHandler.handle, req.destroy() on abort),
      // so it no longer counts against EC2.
      this.slots.release();
    }
  }
}

/** Whether `name` can be a node name: a DNS-1123 subdomain (see DNS1123_SUBDOMAIN_PATTERN). */
export function isValidNodeName(name: string): boolean {
  return name.length <= DNS1123_SUBDOMAIN_MAX_LENGTH && DNS1123_SUBDOMAIN_PATTERN.test(name);
}

/**
 * Whether `instance` is a node of cluster `clusterName`: pending or running, tagged
 * `kubernetes.io/cluster/<clusterName>=owned`, launched with an instance profile, and with a
 * private DNS name that is a valid node name. Whether the profile is a node role's is the
 * caller's check (it knows which roles count).
 */
export function judgeNodeInstance(instance: Instance, clusterName: string): InstanceVerdict {
  const instanceId = instance.InstanceId ?? 'without an id';
  const state = instance.State?.Name ?? '';
  if (!NODE_STATES.has(state)) return { kind: 'not-a-node', reason: `instance ${instanceId} is neither pending nor running` };
  const ownership = (instance.Tags ?? []).find((tag) => tag.Key === `kubernetes.io/cluster/${clusterName}`)?.Value;
  // `owned`, not `shared`: shared resources are merely used by the cluster (the cloud
  // provider's convention for kubernetes.io/cluster/<name> tags), nodes are owned by it.
  if (ownership !== 'owned') return { kind: 'not-a-node', reason: `instance ${instanceId} is not owned by cluster ${clusterName}` };
  const instanceProfileArn = instance.IamInstanceProfile?.Arn;
  if (!instanceProfileArn) return { kind: 'not-a-node', reason: `instance ${instanceId} has no instance profile` };
  // The kubelet lowercases its --hostname-override to get its node name (kubernetes/kubernetes
  // cmd/kubelet/app/server.go run -> k8s.io/component-helpers/node/util GetHostname), so the
  // name it registers, and the one the Node authorizer compares, is the lowercase one.
  const nodeName = (instance.PrivateDnsName ?? '').toLowerCase();
  if (nodeName === '') return { kind: 'not-a-node', reason: `instance ${instanceId} has no private DNS name` };
  if (!isValidNodeName(nodeName)) return { kind: 'not-a-node', reason: `private DNS name of instance ${instanceId} is not a valid node name` };
  return { kind: 'node', nodeName, instanceProfileArn };
}

/** Rejects once `signal` aborts (and never otherwise): a deadline for SDK calls that ignore their signal. */
export function whenAborted(signal: AbortSignal): Promise<never> {
  const aborted = new Promise<never>((_resolve, reject) => {
    const abort = () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
  });
  aborted.catch(() => undefined); // the race above handles it; no unhandled rejection when it lost
  return aborted;
}

function requireNonNegative(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name}: must be a non-negative number, got ${value}`);
}

/** A counting semaphore with a FIFO queue whose waiters can give up. */
class Semaphore {
  private available: number;
  private readonly waiters: Array<(granted: boolean) => void> = [];

  constructor(permits: number) {
    this.available = permits;
  }

  /** Resolves true with a permit, or false if `signal` aborts first (then holds nothing). */
  acquire(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.available > 0) {
      this.available -= 1;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const waiter = (granted: boolean) => {
        signal.removeEventListener('abort', onAbort);
        resolve(granted);
      };
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        resolve(false);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next(true);
    else this.available += 1;
  }
}
