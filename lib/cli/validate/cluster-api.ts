import * as https from 'node:https';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { ApiException, ApiregistrationV1Api, AppsV1Api, CoreV1Api, KubeConfig, Observable, type ConfigurationOptions } from '@kubernetes/client-node';
import { iamToken } from '../../addons/iam-token';
import type { ReadyzAnswer } from './api-server-check';
import { ClusterReader, ClusterReadError } from './cluster-reader';

// The one module that loads @kubernetes/client-node (ESM-only: Node 20.19+ loads it through
// require(), jest on Node < 24.9 cannot), so it is tested by running the CLI against a fake
// API server (test/cli/validate-cli.test.ts). Reusable by any command that reads the cluster.

/** How to reach and sign in to a cluster's API. */
export interface ClusterApiProps {
  /** `https://<cluster>.<zone>` (the master stack's ApiUrl output). */
  readonly apiUrl: string;
  /** A bearer token, e.g. from {@link iamSignIn}. */
  readonly token: string;
  /** Every request is aborted after this long, so a hanging API server fails a check instead of hanging the command. */
  readonly requestTimeoutMs: number;
}

/** A signed-in connection: the KubeConfig (for other API clients) and the reads validate makes. */
export interface ClusterApi extends ClusterReader {
  readonly kubeConfig: KubeConfig;
  /** Per-call options that apply the request timeout: pass them to any other API client call. */
  readonly callOptions: () => ConfigurationOptions;
}

/**
 * A bearer token for the caller's AWS identity in aws-iam-authenticator's format, made locally
 * (no AWS CLI needed), for the cluster group the webhook expects as `x-k8s-aws-id`.
 */
export async function iamSignIn(credentials: AwsCredentialIdentityProvider, clusterGroup: string, region: string): Promise<string> {
  return iamToken({ clusterId: clusterGroup, region, credentials: await credentials() });
}

/**
 * A connection to the cluster's API. No certificate-authority data: the public endpoint has an
 * ACM certificate, which the system trust store verifies (NODE_EXTRA_CA_CERTS adds to it).
 */
export function connectCluster(props: ClusterApiProps): ClusterApi {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'cluster', server: props.apiUrl, skipTLSVerify: false }],
    users: [{ name: 'user', token: props.token }],
    contexts: [{ name: 'cluster', cluster: 'cluster', user: 'user' }],
    currentContext: 'cluster',
  });
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const aggregation = kubeConfig.makeApiClient(ApiregistrationV1Api);
  const timeout = props.requestTimeoutMs;
  // A fresh signal per call: the generated client hands the request's signal to node-fetch
  // (client-node 1.4.0 dist/gen/http/isomorphic-fetch.js), which aborts the call and its body.
  // The object-style APIs take Observable middleware (dist/gen/types/ObjectParamAPI.js passes
  // the options on to ObservableAPI).
  const callOptions = (): ConfigurationOptions => ({
    middleware: [
      {
        pre: (context) => {
          context.setSignal(AbortSignal.timeout(timeout));
          return new Observable(Promise.resolve(context));
        },
        post: (response) => new Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: 'append',
  });
  const call = async <T>(what: string, request: () => Promise<T>): Promise<T> => {
    try {
      return await request();
    } catch (error) {
      throw explainApiError(error, what, timeout, VALIDATE_ACCESS);
    }
  };
  return {
    kubeConfig,
    callOptions,
    readyz: () => readyz(kubeConfig, props.apiUrl, timeout),
    listNodes: () => call('listing nodes', async () => (await core.listNode({}, callOptions())).items),
    listDaemonSets: (namespace) => call(`listing DaemonSets in ${namespace}`, async () => (await apps.listNamespacedDaemonSet({ namespace }, callOptions())).items),
    listDeployments: (namespace) => call(`listing Deployments in ${namespace}`, async () => (await apps.listNamespacedDeployment({ namespace }, callOptions())).items),
    readApiService: (name) =>
      call(`reading APIService ${name}`, async () => {
        try {
          return await aggregation.readAPIService({ name }, callOptions());
        } catch (error) {
          if (error instanceof ApiException && error.code === 404) return undefined;
          throw error;
        }
      }),
  };
}

/**
 * A GET outside the typed clients (/readyz, an aggregated API): the KubeConfig's TLS and token
 * (applyToHTTPSOptions), bounded by the same timeout, status and body as received. Rejects
 * with what the request failed with (explainApiError turns it into a message).
 */
export async function rawGet(kubeConfig: KubeConfig, apiUrl: string, path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  const options: https.RequestOptions = { method: 'GET', headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) };
  await kubeConfig.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const request = https.request(new URL(path, apiUrl), options, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

async function readyz(kubeConfig: KubeConfig, apiUrl: string, timeoutMs: number): Promise<ReadyzAnswer> {
  const what = 'reading /readyz';
  try {
    const { status, body } = await rawGet(kubeConfig, apiUrl, '/readyz?verbose', timeoutMs);
    // Not ready is 500 with the checks listed; 401 and 403 are about who asks, not readiness.
    return status === 401 || status === 403 ? { error: explainStatus(status, body, what, VALIDATE_ACCESS).message } : { status, body };
  } catch (error) {
    return { error: explainApiError(error, what, timeoutMs, VALIDATE_ACCESS).message };
  }
}

/** What a command tells the person at the terminal on a 401 or a 403: which role setting it needs. */
export interface AccessHints {
  readonly unauthorized: string;
  readonly forbidden: string;
}

// The ReadOnly role reads all validate reads: nodes, kube-system, other namespaces, apiservices
// (webhook/authorizer.ts AUTHORIZATION_MATRIX: read of nodes, system-namespaces, general, interception).
const VALIDATE_ACCESS: AccessHints = {
  unauthorized: "the API server did not accept your AWS identity; is its role or user in one of the cluster's readOnlyRoleArns, powerUserRoleArns or administratorRoleArns settings?",
  forbidden: "validate reads nodes, the add-ons' DaemonSets, Deployments and APIServices, which the ReadOnly role may (readOnlyRoleArns)",
};

/** An error of a call as the person at the terminal needs it: what failed, and what to do. */
export function explainApiError(error: unknown, what: string, timeoutMs: number, access: AccessHints): ClusterReadError {
  if (error instanceof ClusterReadError) return error;
  if (error instanceof ApiException) return explainStatus(error.code, error.body, what, access);
  const e = error as { name?: string; message?: string; code?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'AbortError' || e.name === 'TimeoutError' || e.cause?.code === 'ABORT_ERR') {
    return new ClusterReadError(`${what}: no answer within ${timeoutMs / 1000}s (--request-timeout)`);
  }
  return new ClusterReadError(`${what}: ${e.code ?? e.cause?.code ?? ''} ${e.message ?? String(error)}`.trim());
}

/** An HTTP error status of the API server, with what to do about 401 and 403. */
export function explainStatus(code: number, body: unknown, what: string, access: AccessHints): ClusterReadError {
  if (code === 401) return new ClusterReadError(`${what}: 401 Unauthorized: ${access.unauthorized}`);
  if (code === 403) return new ClusterReadError(`${what}: 403 Forbidden: ${access.forbidden}: ${statusMessage(body)}`);
  return new ClusterReadError(`${what}: HTTP ${code}: ${statusMessage(body)}`);
}

/** The message of a Kubernetes Status body, or the body itself. */
export function statusMessage(body: unknown): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  try {
    return (JSON.parse(text) as { message?: string }).message ?? text.slice(0, 200);
  } catch {
    return text.slice(0, 200);
  }
}
