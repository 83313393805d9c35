import { randomBytes } from 'node:crypto';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { partitionOfRegion } from '../../../webhook/config';
import { parseClusterArgs } from '../args';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../aws-request-handler';
import { CliError, EXIT_FAILURE, EXIT_USAGE, explainAwsError, reportFailure } from '../errors';
import { MasterStackFacts, readMasterStack } from '../master-stack';
import { CliOutput } from '../output';
import { durationOption } from '../validate/duration';
import { expectedObjects } from '../validate/expected-objects';
import { accessStep } from './access';
import { cleanupStep } from './cleanup';
import { dnsStep } from './dns';
import type { E2eCluster } from './e2e-cluster';
import { DEFAULT_EXTERNAL_NAME, DEFAULT_ROLE_GROUPS, DEFAULT_TIMEOUTS, E2eOptions, E2eTimeouts } from './e2e-options';
import { ebsVolumeStep } from './ebs-volume';
import { loadBalancerStep } from './load-balancer';
import { DNS_NAME, loadBalancerUrl } from './load-balancer-address';
import { nodeMetricsStep } from './node-metrics';
import { refreshingCluster } from './refreshing-cluster';
import { Ownership, leftAlone, ownershipOf, runNamespace } from './run-namespace';
import { E2eStep, HttpAnswer, StepContext, StepResult, runStep, waiterOf } from './step';
import { summaryLines } from './summary';
import { systemPodsStep } from './system-pods';
import { Clock, REAL_CLOCK } from './wait';
import { E2E_IMAGE } from './workloads';

export const E2E_USAGE =
  'Usage: kube-aws e2e <stack> <version> [--timeout DURATION] [--cleanup-timeout DURATION] [--interval DURATION]\n' +
  '       [--request-timeout DURATION] [--image IMAGE] [--external-name NAME] [--read-only-group GROUP] [--power-user-group GROUP]\n' +
  '  Runs the end-to-end suite against cluster <stack>-<version> as your AWS identity, which must be an\n' +
  '  Administrator of it (administratorRoleArns): system pods ready, none restarted during the run; nginx answering\n' +
  '  through a Service of type LoadBalancer; an EBS volume keeping its data across a pod restart; DNS from\n' +
  '  a pod; ReadOnly and PowerUser users denied what their roles forbid; node metrics. Everything goes in\n' +
  '  a namespace kube-aws-e2e-<random>, deleted at the end (also on failure and Ctrl-C; only if this run made it)\n' +
  '  with its load balancer and volume (of a volume the StorageClass retains, its PersistentVolume: the EBS\n' +
  '  volume stays, and the row says how to delete it). One summary row per step; exit 0 when all pass, 130 after Ctrl-C.\n' +
  '  --timeout bounds every wait (default: 5m each, 10m for the load balancer to answer, 3m for DNS and\n' +
  `  metrics); --cleanup-timeout the deletion (default 10m). Looks every --interval (default 5s); each\n` +
  `  request gives up after --request-timeout (default 10s). --image: default ${E2E_IMAGE}.\n` +
  `  --external-name: default ${DEFAULT_EXTERNAL_NAME}. Role groups: default ${DEFAULT_ROLE_GROUPS.readOnly}, ${DEFAULT_ROLE_GROUPS.powerUser}.`;

/** Exit code after Ctrl-C, as shells report a process ended by SIGINT (128 + 2). */
export const EXIT_INTERRUPTED = 130;
const DEFAULT_INTERVAL_MS = 5_000;
/** `kube-aws-e2e-` and this many random base-36 characters: a fresh namespace per run. */
const RUN_ID_LENGTH = 6;

/** The steps after system-pods, which run at the same time: each has its own objects. */
const WORKLOAD_STEPS: readonly E2eStep[] = [loadBalancerStep, ebsVolumeStep, dnsStep, accessStep, nodeMetricsStep];

/** What the suite uses (the dispatcher wires the real ones; tests inject them). */
export interface E2eDeps {
  readonly cloudFormation: CloudFormationClient;
  /** A bearer token for the cluster, signed in as the caller; called again before a token gets old. */
  readonly signIn: (facts: MasterStackFacts) => Promise<string>;
  /** The suite's calls on the cluster's API with this token and request timeout. */
  readonly connect: (apiUrl: string, token: string, requestTimeoutMs: number) => E2eCluster;
  readonly out: CliOutput;
  /** GET a URL. @default fetch, with the timeout */
  readonly httpGet?: (url: string, timeoutMs: number) => Promise<HttpAnswer>;
  /**
   * Where a load balancer's host (once loadBalancerHost accepted it) is reached. Only the test
   * entry passes one (a local server); no option of the command sets it.
   * @default http://<host>:<port>/
   */
  readonly loadBalancerUrl?: (host: string, port: number) => string;
  /** Calls `listener` on each Ctrl-C; returns the unsubscription. @default process SIGINT */
  readonly onInterrupt?: (listener: () => void) => () => void;
  /** @default real time */
  readonly clock?: Clock;
  /** @default crypto random */
  readonly runId?: () => string;
  /** The namespace's RUN_TOKEN_ANNOTATION value. @default 16 crypto random bytes, hex */
  readonly runToken?: () => string;
}

/** `kube-aws e2e <stack> <version> ...`; returns the exit code. */
export async function e2e(argv: readonly string[], deps: E2eDeps): Promise<number> {
  let args;
  let options: E2eOptions;
  try {
    args = parseClusterArgs(argv, E2E_USAGE, false, [], ['timeout', 'cleanup-timeout', 'interval', 'request-timeout', 'image', 'external-name', 'read-only-group', 'power-user-group']);
    if (args.help) {
      deps.out.stdout(`${E2E_USAGE}\n`);
      return 0;
    }
    options = parseOptions(args.options);
  } catch (error) {
    return reportFailure(error, deps.out.stderr);
  }
  const clock = deps.clock ?? REAL_CLOCK;
  let facts: MasterStackFacts;
  let firstToken: string;
  try {
    facts = await readMasterStack(deps.cloudFormation, args.cluster);
    firstToken = await signIn(deps, facts, args.cluster);
  } catch (error) {
    return reportFailure(error, deps.out.stderr);
  }
  let token: string | undefined = firstToken;
  const cluster = refreshingCluster(async () => {
    const fresh = token ?? (await signIn(deps, facts, args.cluster));
    token = undefined; // the first connection uses the token already made; later ones sign in anew
    return deps.connect(facts.apiUrl, fresh, options.requestTimeoutMs);
  }, clock.now);
  const [, account] = facts.clusterGroup.split(':');
  const expected = expectedObjects({ clusterName: args.cluster, region: facts.region, account, partition: partitionOfRegion(facts.region), clusterGroup: facts.clusterGroup });
  const namespace = `kube-aws-e2e-${(deps.runId ?? randomRunId)()}`;

  // Ctrl-C once: stop the steps and clean up. Twice: stop the cleanup too (it says what is left).
  const steps = new AbortController();
  const cleanup = new AbortController();
  const unsubscribe = (deps.onInterrupt ?? onSigint)(() => {
    if (!steps.signal.aborted) {
      steps.abort();
      deps.out.stderr(`interrupted: stopping, then deleting namespace ${namespace} (Ctrl-C again to stop that too)\n`);
    } else {
      cleanup.abort();
    }
  });
  // The local clock until the namespace's creationTimestamp says better.
  let runStartedAt = new Date(clock.now());
  const context = (signal: AbortSignal): StepContext => ({
    cluster,
    namespace,
    runStartedAt,
    region: facts.region,
    options,
    clusterGroup: facts.clusterGroup,
    expected,
    httpGet: deps.httpGet ?? httpGet,
    loadBalancerUrl: deps.loadBalancerUrl ?? loadBalancerUrl,
    wait: waiterOf({ clock, intervalMs: options.intervalMs, signal }),
    signal,
    progress: (text) => deps.out.stderr(`${text}\n`),
  });
  const results: StepResult[] = [];
  const runToken = (deps.runToken ?? randomRunToken)();
  let ownership: Ownership;
  deps.out.stderr(`e2e ${args.cluster}: namespace ${namespace}\n`);
  try {
    const made = await cluster.createNamespace(runNamespace(namespace, runToken));
    ownership = 'ours';
    // The cluster's clock, as the containers' termination times are: the operator's may be off.
    if (made.metadata?.creationTimestamp) runStartedAt = new Date(made.metadata.creationTimestamp);
  } catch (error) {
    results.push({ name: 'namespace', passed: false, seconds: 0, detail: (error as Error).message });
    ownership = await ownershipOf(cluster, namespace, runToken);
  }
  try {
    if (results.length === 0) {
      const stepContext = context(steps.signal);
      results.push(await runStep(systemPodsStep, stepContext, clock));
      results.push(...(await Promise.all(WORKLOAD_STEPS.map((step) => runStep(step, stepContext, clock)))));
    }
  } finally {
    // Only a namespace this run made: also after a failed creation, which may have made it (a timeout).
    results.push(ownership === 'ours' ? await runStep(cleanupStep, context(cleanup.signal), clock) : leftAlone(namespace, ownership, runToken));
    unsubscribe();
  }
  deps.out.stdout(`e2e ${args.cluster} (namespace ${namespace}): result, step, seconds, detail\n`);
  for (const line of summaryLines(results)) deps.out.stdout(`${line}\n`);
  const failed = results.filter((r) => !r.passed).length;
  deps.out.stderr(`e2e ${args.cluster}: ${failed === 0 ? 'PASSED' : 'FAILED'}: ${results.length - failed} passed, ${failed} failed${steps.signal.aborted ? ' (interrupted)' : ''}\n`);
  if (steps.signal.aborted) return EXIT_INTERRUPTED;
  return failed === 0 ? 0 : EXIT_FAILURE;
}

function parseOptions(given: ReadonlyMap<string, string>): E2eOptions {
  const duration = (option: string, fallback: number) => durationOption(given, option, fallback, E2E_USAGE);
  const timeout = given.has('timeout') ? duration('timeout', 0) : undefined;
  const timeouts = Object.fromEntries(Object.entries(DEFAULT_TIMEOUTS).map(([key, ms]) => [key, timeout ?? ms])) as unknown as E2eTimeouts;
  const externalName = given.get('external-name') ?? DEFAULT_EXTERNAL_NAME;
  if (!DNS_NAME.test(externalName)) throw new CliError(`Invalid --external-name "${externalName}": give a DNS name such as ${DEFAULT_EXTERNAL_NAME}.\n${E2E_USAGE}`, EXIT_USAGE);
  for (const option of ['image', 'read-only-group', 'power-user-group']) {
    if (given.get(option) === '') throw new CliError(`Invalid --${option}: it must not be empty.\n${E2E_USAGE}`, EXIT_USAGE);
  }
  return {
    timeouts: { ...timeouts, cleanup: duration('cleanup-timeout', DEFAULT_TIMEOUTS.cleanup) },
    intervalMs: duration('interval', DEFAULT_INTERVAL_MS),
    requestTimeoutMs: duration('request-timeout', DEFAULT_REQUEST_TIMEOUT_MS),
    image: given.get('image') ?? E2E_IMAGE,
    externalName,
    readOnlyGroup: given.get('read-only-group') ?? DEFAULT_ROLE_GROUPS.readOnly,
    powerUserGroup: given.get('power-user-group') ?? DEFAULT_ROLE_GROUPS.powerUser,
  };
}

async function signIn(deps: E2eDeps, facts: MasterStackFacts, cluster: string): Promise<string> {
  try {
    return await deps.signIn(facts);
  } catch (error) {
    throw explainAwsError(error, { cluster, resource: 'your AWS credentials' });
  }
}

function randomRunToken(): string {
  return randomBytes(16).toString('hex');
}

function randomRunId(): string {
  return [...randomBytes(RUN_ID_LENGTH)].map((byte) => (byte % 36).toString(36)).join('');
}

function onSigint(listener: () => void): () => void {
  process.on('SIGINT', listener);
  return () => process.off('SIGINT', listener);
}

/**
 * GET with fetch; the body is read in full (nginx's page is small), both bounded by the timeout.
 * A failure names its cause (ENOTFOUND while the ELB's DNS name propagates), not fetch's
 * `fetch failed`.
 */
async function httpGet(url: string, timeoutMs: number): Promise<HttpAnswer> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    return { status: response.status, body: await response.text() };
  } catch (error) {
    const e = error as Error & { cause?: { code?: string; message?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000}s` : (e.cause?.code ?? e.cause?.message ?? e.message);
    throw new Error(`GET ${url}: ${why}`);
  }
}

