import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { OnEventRequest, OnEventResponse } from '../secrets/handler';
import { DISCOVERY_OBJECT_KEYS, discoveryDocuments, keyIdOf } from './discovery';

// The custom resource behind ServiceAccountIssuer (lib/constructs/service-account-issuer.ts),
// run by the custom_resources.Provider framework: publishes the issuer's discovery documents,
// made from sa.pub, in the issuer bucket. The control-plane secret also holds sa.key and the
// CAs' keys: only sa.pub is taken from it, and nothing of the secret is logged or returned.

/** The resource properties ServiceAccountIssuer passes. */
export interface ServiceAccountIssuerProperties {
  /** The issuer (`--service-account-issuer`), `https://<bucket host>`. */
  readonly IssuerUrl: string;
  /** The bucket that serves the issuer URL. */
  readonly BucketName: string;
  /** The control-plane secret (name or ARN), a JSON bundle with `sa.pub` (lib/secrets/bundles.ts). */
  readonly SecretId: string;
  /**
   * Not read here: it changes when the secrets are regenerated (ClusterSecrets `regenerate`),
   * so CloudFormation calls the handler, which re-reads sa.pub and publishes its new key.
   */
  readonly SecretGeneration: string;
}

/** The API server's Cache-Control for both documents (kubernetes/kubernetes v1.35 pkg/routes/openidmetadata.go cacheControlTemplate, max-age 3600 for static keys: pkg/serviceaccount/jwt.go GetCacheAgeMaxSeconds). */
export const DISCOVERY_CACHE_CONTROL = 'public, max-age=3600';

function parseProperties(properties: Record<string, unknown>): ServiceAccountIssuerProperties {
  const read = (key: keyof ServiceAccountIssuerProperties): string => {
    const value = properties[key];
    if (value === undefined || value === null || String(value) === '') {
      throw new Error(`resource property ${key} is missing`);
    }
    return String(value);
  };
  return {
    IssuerUrl: read('IssuerUrl'),
    BucketName: read('BucketName'),
    SecretId: read('SecretId'),
    SecretGeneration: read('SecretGeneration'),
  };
}

/** sa.pub of the control-plane bundle; errors never quote the secret (JSON.parse's would). */
async function readServiceAccountPublicKey(client: SecretsManagerClient, secretId: string): Promise<string> {
  const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (SecretString === undefined) {
    throw new Error(`secret ${secretId} has no value yet: ClusterSecrets fills it, and this resource must depend on it`);
  }
  let bundle: unknown;
  try {
    bundle = JSON.parse(SecretString);
  } catch {
    throw new Error(`secret ${secretId} is not a JSON bundle of files (lib/secrets/bundles.ts)`);
  }
  const publicKey = (bundle as Record<string, unknown> | null)?.['sa.pub'];
  if (typeof publicKey !== 'string') {
    throw new Error(`secret ${secretId} has no sa.pub: is it the control-plane secret?`);
  }
  return publicKey;
}

/** The onEvent handler, with its clients injected (tests pass mocked ones). */
export function createOnEventHandler(clients: {
  readonly s3: S3Client;
  readonly secretsManager: SecretsManagerClient;
}): (event: OnEventRequest) => Promise<OnEventResponse> {
  return async (event) => {
    const properties = parseProperties(event.ResourceProperties);
    if (event.RequestType === 'Delete') {
      for (const key of DISCOVERY_OBJECT_KEYS) {
        try {
          await clients.s3.send(new DeleteObjectCommand({ Bucket: properties.BucketName, Key: key }));
        } catch (error) {
          // Already gone with its bucket (a rolled-back create): nothing left to remove.
          if ((error as Error).name !== 'NoSuchBucket') throw error;
        }
      }
      console.log(JSON.stringify({ deleted: DISCOVERY_OBJECT_KEYS, bucket: properties.BucketName }));
      return { PhysicalResourceId: event.PhysicalResourceId };
    }
    const publicKey = await readServiceAccountPublicKey(clients.secretsManager, properties.SecretId);
    for (const document of discoveryDocuments(properties.IssuerUrl, publicKey)) {
      await clients.s3.send(
        new PutObjectCommand({
          Bucket: properties.BucketName,
          Key: document.key,
          Body: document.body,
          ContentType: 'application/json',
          CacheControl: DISCOVERY_CACHE_CONTROL,
        }),
      );
    }
    // Public values only: the key id is in every token's header.
    console.log(JSON.stringify({ published: DISCOVERY_OBJECT_KEYS, bucket: properties.BucketName, kid: keyIdOf(publicKey) }));
    // The issuer: a new one is a new resource, and CloudFormation then deletes the old
    // documents (Delete with the old properties).
    return { PhysicalResourceId: properties.IssuerUrl };
  };
}

/** The Lambda entry point (`index.handler` of the bundle: lib/constructs/lambda-bundle.ts). */
export const handler = createOnEventHandler({ s3: new S3Client({}), secretsManager: new SecretsManagerClient({}) });
