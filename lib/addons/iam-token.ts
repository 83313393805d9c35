import { createHash, createHmac, Hash, Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';
import { IAM_TOKEN_PREFIX, PARTITION_DOMAINS } from '../../webhook/aws-iam-token';
import { partitionOfRegion } from '../../webhook/config';

// A token in aws-iam-authenticator's format, made the way `aws eks get-token` makes it (aws-cli
// awscli/customizations/eks/get_token.py; aws-iam-authenticator v0.7.18 pkg/token
// generator.GetWithSTS): an STS GetCallerIdentity request presigned with SigV4 for 60 s, its
// `x-k8s-aws-id` header naming the cluster signed and kept a header (not moved into the
// query), the URL base64url-encoded without padding behind `k8s-aws-v1.`. The cluster's
// webhook verifies it by calling STS (webhook/aws-iam-token.ts).

/** The credentials of the caller (a Lambda function's role session). */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface IamTokenRequest {
  /** The cluster id the webhook expects as `x-k8s-aws-id` (the cluster group). */
  readonly clusterId: string;
  /** The region whose STS endpoint signs (the cluster's). */
  readonly region: string;
  readonly credentials: AwsCredentials;
  /** @default now */
  readonly signingDate?: Date;
}

const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** What the AWS CLI presigns for (get_token.py URL_TIMEOUT); the webhook bounds validity itself. */
const PRESIGN_SECONDS = 60;

/** SHA-256, or HMAC-SHA-256 with a key, in the Checksum shape SignatureV4 takes, from node:crypto. */
class NodeSha256 {
  private hash: Hash | Hmac;
  private readonly secret?: string | Uint8Array;
  constructor(secret?: SourceData) {
    this.secret = secret === undefined ? undefined : bytesOf(secret);
    this.hash = this.fresh();
  }
  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
  reset(): void {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
}

function bytesOf(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  return ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
}

/** A bearer token that signs in to the cluster as the caller's IAM identity, valid about 15 minutes. */
export async function iamToken(request: IamTokenRequest): Promise<string> {
  const hostname = `sts.${request.region}.${PARTITION_DOMAINS[partitionOfRegion(request.region)]}`;
  const signer = new SignatureV4({ service: 'sts', region: request.region, credentials: request.credentials, sha256: NodeSha256, uriEscapePath: true });
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, [CLUSTER_ID_HEADER]: request.clusterId },
    },
    { expiresIn: PRESIGN_SECONDS, unhoistableHeaders: new Set([CLUSTER_ID_HEADER]), ...(request.signingDate ? { signingDate: request.signingDate } : {}) },
  );
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(presigned.query ?? {})) {
    for (const one of Array.isArray(value) ? value : [value]) if (one !== null && one !== undefined) query.append(key, one);
  }
  const url = `https://${hostname}/?${query.toString()}`;
  return IAM_TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url');
}
