import type { E2eCluster } from './e2e-cluster';
import type { E2eOptions } from './e2e-options';
import type { ExpectedObject } from '../validate/expected-objects';
import { Clock, Probe, StepFailure, WaitProps, waitFor } from './wait';

/** What an HTTP GET of the load balancer answered. */
export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

/** Everything a step may use: the cluster, its run's namespace, the options, and the outside world. */
export interface StepContext {
  readonly cluster: E2eCluster;
  /** The run's own namespace, where every test object goes. */
  readonly namespace: string;
  /** When the run started, by the cluster's clock: its namespace's creationTimestamp. */
  readonly runStartedAt: Date;
  /** The cluster's AWS region (its load balancers' DNS names name it). */
  readonly region: string;
  readonly options: E2eOptions;
  /** `aws:<account>:<region>:<cluster>`: the group every user of the cluster has. */
  readonly clusterGroup: string;
  /** The add-ons' workloads, from the add-on registry. */
  readonly expected: readonly ExpectedObject[];
  /** GET `url` with a timeout; rejects when nothing answers. */
  readonly httpGet: (url: string, timeoutMs: number) => Promise<HttpAnswer>;
  /** The URL of a load balancer's host (as loadBalancerHost accepted it) and port. */
  readonly loadBalancerUrl: (host: string, port: number) => string;
  /** Polls until done or `timeoutMs` is up (waitFor with the run's clock, interval and Ctrl-C). */
  wait<T>(what: string, timeoutMs: number, probe: () => Promise<Probe<T>>): Promise<T>;
  /** Aborted by Ctrl-C. */
  readonly signal: AbortSignal;
  /** A line on stderr while the suite runs (the summary comes at the end). */
  readonly progress: (text: string) => void;
}

/** One step of the suite: one row of the summary. */
export interface E2eStep {
  /** The summary's step column: at most 12 characters. */
  readonly name: string;
  /** Resolves to what was proven (the PASS detail); rejects with why not. */
  run(context: StepContext): Promise<string>;
}

/** One row of the summary. */
export interface StepResult {
  readonly name: string;
  readonly passed: boolean;
  readonly seconds: number;
  readonly detail: string;
}

/** Runs `step`, timing it; any error becomes its FAIL row (an unexpected one with its name). */
export async function runStep(step: E2eStep, context: StepContext, clock: Clock): Promise<StepResult> {
  const started = clock.now();
  if (context.signal.aborted) return { name: step.name, passed: false, seconds: 0, detail: 'not run: interrupted (Ctrl-C)' };
  context.progress(`${step.name}: started`);
  let passed = true;
  let detail: string;
  try {
    detail = await step.run(context);
  } catch (error) {
    passed = false;
    const e = error as Error;
    detail = error instanceof StepFailure || e.name === 'ClusterReadError' ? e.message : `${e.name ?? 'Error'}: ${e.message ?? String(error)}`;
  }
  const result = { name: step.name, passed, seconds: (clock.now() - started) / 1000, detail };
  context.progress(`${step.name}: ${passed ? 'PASS' : 'FAIL'}`);
  return result;
}

/** The wait of a context: waitFor with these props. */
export function waiterOf(props: WaitProps): StepContext['wait'] {
  return (what, timeoutMs, probe) => waitFor(props, what, timeoutMs, probe);
}
