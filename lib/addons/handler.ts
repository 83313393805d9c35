/**
 * The add-on applier's Lambda (the onEvent of `Custom::Addon`, lib/constructs/addon-delivery.ts):
 * signs in as its own IAM role (an Administrator of the cluster through the auth webhook; no
 * stored credential), reads the cluster CA from the worker secret (also the caBundle of the
 * add-ons' webhook configurations: cluster-ca-bundle.ts), then applies, updates or
 * deletes one add-on through lib/addons/applier.ts. Stateless: the objects of the previous apply come from the old
 * properties CloudFormation sends with an Update, so an update prunes what the add-on dropped
 * and CloudFormation's rollback (an Update back to the old properties) prunes what the failed
 * update added.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { applyAddon, deleteAddon } from './applier';
import { withClusterCaBundle } from './cluster-ca-bundle';
import { iamToken } from './iam-token';
import { KubeApiConnection, KubeApiError } from './kube-api';
import { KubeObject, ObjectRef, refOf } from './object-ref';

/** The custom resource's properties (AddonResourceProperties in lib/constructs/addon-delivery.ts). */
export interface AddonProperties {
  readonly Name: string;
  readonly Version: string;
  readonly ContentHash: string;
  readonly Objects: string;
}

/** The part of the Provider framework's onEvent request this handler reads. */
export interface OnEventRequest {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: AddonProperties;
  readonly OldResourceProperties?: AddonProperties;
}

export interface OnEventResponse {
  readonly PhysicalResourceId: string;
}

/** Where the handler finds the API server and the CA that checks it (the construct sets them). */
export interface ApplierEnvironment {
  /** `https://<internal API name>`. */
  readonly API_URL?: string;
  /** A secret holding `ca.crt`, the cluster CA (the cluster's `worker` secret: nothing else in it). */
  readonly CA_SECRET_ID?: string;
  /** The cluster group, which the function's IAM token is signed for (`x-k8s-aws-id`). */
  readonly CLUSTER_ID?: string;
}

/** How long a delete retries an API server that does not answer before it gives up on it. */
const DELETE_RETRY_MS = 60_000;

/** Time kept back from the Lambda's own limit, so that a failure is reported, not cut off. */
const REPORTING_MARGIN_MS = 60_000;

export interface HandlerDependencies {
  readonly readSecret: (secretId: string) => Promise<string>;
  /** A bearer token of the function's own IAM role for the cluster `clusterId` (lib/addons/iam-token.ts). */
  readonly signIn: (clusterId: string) => Promise<string>;
  readonly environment: ApplierEnvironment;
  /** Milliseconds this invocation has left. */
  readonly remainingMs: () => number;
  /**
   * How long a delete retries an API server that does not answer.
   * @default 60 s
   */
  readonly deleteRetryMs?: number;
  /**
   * How long a 401 makes the applier sign in again and retry, and the pause between tries.
   * @default SIGN_IN_RETRY
   */
  readonly signInRetry?: { readonly forMs: number; readonly pauseMs: number };
}

/**
 * A 401 is the webhook saying it could not vouch for the token: STS out of reach for longer
 * than the API server's own retries of the webhook, or a refusal. A fresh token is a new
 * lookup (the API server caches a refusal per token for its webhook cache TTL, 2 minutes), so
 * the applier signs in again for a while before it fails the deploy.
 */
export const SIGN_IN_RETRY = { forMs: 120_000, pauseMs: 5_000 };

/** The onEvent function, with its AWS and time dependencies passed in (tests pass fakes). */
export function createOnEventHandler(dependencies: HandlerDependencies) {
  return async (event: OnEventRequest): Promise<OnEventResponse> => {
    const { API_URL, CA_SECRET_ID, CLUSTER_ID } = dependencies.environment;
    if (!API_URL || !CA_SECRET_ID || !CLUSTER_ID) throw new Error('the add-on applier needs API_URL, CA_SECRET_ID and CLUSTER_ID in its environment');
    const props = event.ResourceProperties;
    const physicalResourceId = `addon-${props.Name}`;
    const caPem = caOf(await dependencies.readSecret(CA_SECRET_ID));
    const retry = dependencies.signInRetry ?? SIGN_IN_RETRY;
    /** Runs `work` signed in (a token lives 15 minutes, the function at most 14), signing in again on a 401. */
    const signedIn = async <T>(work: (connection: KubeApiConnection) => Promise<T>): Promise<T> => {
      const giveUpAt = Date.now() + retry.forMs;
      for (let attempt = 1; ; attempt++) {
        const connection: KubeApiConnection = { server: API_URL, caPem, token: await dependencies.signIn(CLUSTER_ID) };
        try {
          return await work(connection);
        } catch (error) {
          if (!(error instanceof KubeApiError && error.status === 401) || Date.now() + retry.pauseMs > giveUpAt) throw error;
          console.log(`add-on ${props.Name}: the API server did not accept the applier's IAM token (try ${attempt}); signing in again`);
          await new Promise((resolve) => setTimeout(resolve, retry.pauseMs));
        }
      }
    };
    const timeouts = { rolloutTimeoutMs: Math.max(0, Math.min(480_000, dependencies.remainingMs() - REPORTING_MARGIN_MS)) };

    if (event.RequestType === 'Delete') {
      try {
        await signedIn((connection) => deleteAddon({ connection, addonName: props.Name, inventory: inventoryOf(props), timeouts: { ...timeouts, retryForMs: dependencies.deleteRetryMs ?? DELETE_RETRY_MS } }));
      } catch (error) {
        // No answer at all: the cluster is going away with its stack (or its masters are), and
        // its objects with it; waiting would only fail the stack's deletion. An answer with an
        // error (403, 409, ...) still fails the delete.
        if (!(error instanceof KubeApiError && error.status === undefined)) throw error;
        console.log(`add-on ${props.Name}: the API server cannot be reached, so nothing is deleted: ${error.message}`);
      }
      return { PhysicalResourceId: physicalResourceId };
    }
    const old = event.RequestType === 'Update' ? event.OldResourceProperties : undefined;
    // A renamed add-on is a new resource (new physical id): CloudFormation deletes the old one.
    const previousInventory = old && old.Name === props.Name ? inventoryOf(old) : [];
    const result = await signedIn((connection) => applyAddon({
      connection,
      addonName: props.Name,
      addonVersion: props.Version,
      objects: withClusterCaBundle(parseObjects(props), caPem),
      previousInventory,
      ...(old && old.Name !== props.Name ? { previousName: old.Name } : {}),
      timeouts,
    }));
    console.log(
      `add-on ${props.Name} ${props.Version}: applied ${result.inventory.length} objects, pruned ${result.pruned.length}` +
        (result.leftAlone.length > 0 ? `, left alone ${result.leftAlone.length} no longer labelled as ours` : ''),
    );
    return { PhysicalResourceId: physicalResourceId };
  };
}

function parseObjects(props: AddonProperties): KubeObject[] {
  const objects = JSON.parse(props.Objects) as unknown;
  if (!Array.isArray(objects)) throw new Error(`add-on ${props.Name}: Objects is not a JSON array`);
  return objects as KubeObject[];
}

function inventoryOf(props: AddonProperties): ObjectRef[] {
  return parseObjects(props).map(refOf);
}

function caOf(secretString: string): string {
  const caPem = (JSON.parse(secretString) as Record<string, string>)['ca.crt'];
  if (!caPem) throw new Error('the CA secret lacks ca.crt');
  return caPem;
}

const secretsManager = new SecretsManagerClient({});

export const handler = (event: OnEventRequest, context: { getRemainingTimeInMillis(): number }) =>
  createOnEventHandler({
    readSecret: async (secretId) => {
      const response = await secretsManager.send(new GetSecretValueCommand({ SecretId: secretId }));
      if (!response.SecretString) throw new Error(`secret ${secretId} has no string value`);
      return response.SecretString;
    },
    environment: process.env as ApplierEnvironment,
    // The Lambda runtime puts the role session's credentials and its region in the environment.
    signIn: async (clusterId) => iamToken({ clusterId, region: lambdaRegion(), credentials: await fromEnv()() }),
    remainingMs: () => context.getRemainingTimeInMillis(),
  })(event);

function lambdaRegion(): string {
  const region = process.env.AWS_REGION;
  if (!region) throw new Error('the add-on applier needs AWS_REGION in its environment (the Lambda runtime sets it)');
  return region;
}
