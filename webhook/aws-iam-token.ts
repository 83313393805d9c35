/**
 * Tokens in aws-iam-authenticator's format: `k8s-aws-v1.` and an unpadded base64url
 * pre-signed STS GetCallerIdentity URL whose signature covers an `x-k8s-aws-id: <cluster>`
 * header. STS itself checks the signature; this module checks that the URL can only be
 * an STS call before sending it (the token is attacker input, and we are the ones who
 * fetch it: a lax check is an SSRF from the masters), then reads who STS says signed it.
 *
 * Follows kubernetes-sigs/aws-iam-authenticator v0.7.18, pkg/token/token.go
 * (tokenVerifier.Verify, verifySTSHostnameFormat) and pkg/arn/arn.go (Canonicalize,
 * StripPath), stricter where noted.
 */
import * as https from 'https';
import { boundedGet } from './bounded-get';
import { AwsPartition, partitionOfRegion } from './config';

export const IAM_TOKEN_PREFIX = 'k8s-aws-v1.';

/** Upstream maxTokenLenBytes (token.go): a pre-signed URL with a session token fits easily. */
const MAX_TOKEN_LENGTH = 4 * 1024;
/** Upstream presignedURLExpiration (token.go): STS honours a pre-signed URL 15 minutes after X-Amz-Date, whatever X-Amz-Expires says. */
const PRESIGNED_URL_LIFETIME_MS = 15 * 60 * 1000;
/**
 * How far in the future X-Amz-Date may be. Upstream has no bound; without one a token
 * dated ahead outlives the 15 minutes our clock allows. Five minutes covers any client
 * whose clock is roughly right (STS enforces its own skew window on top).
 */
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
/** Upstream Verify: X-Amz-Expires above 900 s (15 minutes) is refused. */
const MAX_EXPIRES_SECONDS = 900;
/** A GetCallerIdentity answer is a few hundred bytes; more is not STS. */
const MAX_STS_RESPONSE_BYTES = 64 * 1024;
const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** Upstream parameterWhitelist (token.go), compared lower-cased as upstream does. */
const ALLOWED_PARAMETERS = new Set([
  'action', 'version', 'x-amz-algorithm', 'x-amz-credential', 'x-amz-date',
  'x-amz-expires', 'x-amz-security-token', 'x-amz-signature', 'x-amz-signedheaders',
]);
/** The only STS API version, as the AWS CLI and SDKs send it. */
const STS_API_VERSION = '2011-06-15';
/** Upstream dateHeaderFormat "20060102T150405Z". */
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const BASE64URL_UNPADDED = /^[A-Za-z0-9_-]+$/;
/**
 * SigV4 pre-signing percent-encodes everything but RFC 3986 unreserved characters, so a
 * genuine query holds only these (the AWS CLI and aws-iam-authenticator both do). Refusing
 * the rest keeps WHATWG URL from re-encoding what STS would then see differently.
 */
const SIGV4_QUERY = /^[A-Za-z0-9\-._~%&=]+$/;
const PERCENT_ESCAPE_BROKEN = /%(?![0-9A-Fa-f]{2})/;
/** AWS region names (us-east-1, ap-southeast-7, us-gov-west-1, cn-north-1). */
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
const REGIONAL_STS_HOST = /^sts\.([a-z0-9-]+)\.(amazonaws\.com|amazonaws\.com\.cn)$/;
/** The legacy global endpoint: upstream verifySTSHostnameFormat allows it in the aws partition only. */
const GLOBAL_STS_HOST = 'sts.amazonaws.com';
/** 12-digit AWS account ids. */
const ACCOUNT_ID = /^\d{12}$/;
/** IAM names, paths and STS session names: [\w+=,.@-] (IAM CreateRole/CreateUser, STS AssumeRole RoleSessionName). */
const IAM_NAME = /^[A-Za-z0-9_+=,.@-]+$/;


/** Upstream pkg/endpoints GetSTSPartitionDomain: aws-us-gov shares amazonaws.com with aws. */
export const PARTITION_DOMAINS: Readonly<Record<AwsPartition, string>> = {
  'aws': 'amazonaws.com',
  'aws-cn': 'amazonaws.com.cn',
  'aws-us-gov': 'amazonaws.com',
};

/** True when the token is in aws-iam-authenticator's format (by its prefix alone). */
export function isIamToken(token: string): boolean {
  return token.startsWith(IAM_TOKEN_PREFIX);
}

/** Who STS says signed the token. */
export interface StsCaller {
  readonly arn: string;
  readonly account: string;
  readonly userId: string;
  /** When the token stops being valid (ms since the epoch): X-Amz-Date plus 15 minutes. */
  readonly expiresAt: number;
}

export type IamTokenResult =
  /** STS vouched for the token. */
  | { readonly kind: 'caller'; readonly caller: StsCaller }
  /** Malformed, expired, not an STS URL, or STS refused the signature. */
  | { readonly kind: 'rejected'; readonly reason: string }
  /** STS could not be asked: unreachable, slow, throttled, failing or answering nonsense. */
  | { readonly kind: 'unavailable'; readonly reason: string };

export interface StsResponse {
  readonly status: number;
  readonly body: string;
}

/** One HTTPS GET, no redirects followed; rejects on network errors, timeouts and oversized bodies. */
export type StsSend = (url: URL, headers: Readonly<Record<string, string>>, timeoutMs: number) => Promise<StsResponse>;

export interface IamTokenVerifierOptions {
  /** The cluster name: the x-k8s-aws-id header the token must have signed, and that we send. */
  readonly clusterId: string;
  /** The AWS partition and region of the cluster: which STS hosts are acceptable. */
  readonly partition: AwsPartition;
  readonly region: string;
  /** Budget for the whole STS exchange. */
  readonly timeoutMs: number;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default httpsSend (real HTTPS GET, no redirects followed, body size bounded) */
  readonly send?: StsSend;
}

export interface HttpsSendOptions {
  /** Extra trusted CAs (tests); the default is Node's bundled roots. */
  readonly ca?: string | Buffer;
  /** @default 64 KiB */
  readonly maxBodyBytes?: number;
}

/** An StsSend over Node's https: GET only, never follows a redirect (https.request does not), bounded body, one deadline. */
export function httpsSendWith(options: HttpsSendOptions = {}): StsSend {
  const agent = new https.Agent({ keepAlive: true, ...(options.ca ? { ca: options.ca } : {}) });
  const maxBodyBytes = options.maxBodyBytes ?? MAX_STS_RESPONSE_BYTES;
  return async (url, headers, timeoutMs) => {
    if (url.protocol !== 'https:') throw new Error('only https URLs are sent');
    return boundedGet(url, { headers, timeoutMs, maxBodyBytes, agent });
  };
}

export const httpsSend: StsSend = httpsSendWith();

type Check<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };
const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

/**
 * Checks the token, asks STS who signed it and returns STS's answer. Never throws; no
 * reason quotes the token or anything decoded from it.
 */
export async function verifyIamToken(token: string, options: IamTokenVerifierOptions): Promise<IamTokenResult> {
  try {
    const misconfigured = checkOptions(options);
    if (misconfigured) return { kind: 'unavailable', reason: misconfigured };
    const now = (options.now ?? Date.now)();
    const url = presignedUrlOf(token, options.partition);
    if (!url.ok) return { kind: 'rejected', reason: url.reason };
    const expiresAt = checkQuery(url.value.query, now);
    if (!expiresAt.ok) return { kind: 'rejected', reason: expiresAt.reason };
    return await askSts(url.value.url, expiresAt.value, options);
  } catch {
    return { kind: 'unavailable', reason: 'IAM token verification failed unexpectedly' };
  }
}

function checkOptions(options: IamTokenVerifierOptions): string | undefined {
  // Sent as a header value: printable ASCII only (EKS cluster names are [0-9A-Za-z][A-Za-z0-9_-]*).
  if (!/^[\x21-\x7e]{1,100}$/.test(options.clusterId)) return 'IAM verifier misconfigured: clusterId must be 1-100 printable ASCII characters';
  if (!Object.prototype.hasOwnProperty.call(PARTITION_DOMAINS, options.partition)) return `IAM verifier misconfigured: partition must be one of ${Object.keys(PARTITION_DOMAINS).join(', ')}`;
  if (!REGION.test(options.region) || partitionOfRegion(options.region) !== options.partition) return `IAM verifier misconfigured: region "${options.region}" is not a region of partition ${options.partition}`;
  if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) return 'IAM verifier misconfigured: timeoutMs must be a positive number';
  return undefined;
}


/**
 * Whether `host` is an STS endpoint of the partition. Like upstream verifySTSHostnameFormat,
 * any region of the partition is accepted, not only the cluster's: `aws eks get-token` signs
 * for the caller's configured region. Stricter than upstream: only sts.<region>.<domain> and
 * (aws) sts.amazonaws.com, not the FIPS (sts-fips.*) or dual-stack (*.api.aws) names, and an
 * aws-partition verifier does not take us-gov-* hosts (upstream does, as they share a domain).
 */
function isStsHost(host: string, partition: AwsPartition): boolean {
  if (host === GLOBAL_STS_HOST) return partition === 'aws';
  const match = REGIONAL_STS_HOST.exec(host);
  if (!match) return false;
  const [, region, domain] = match;
  return REGION.test(region) && partitionOfRegion(region) === partition && domain === PARTITION_DOMAINS[partition];
}

/** Token to pre-signed URL: every structural rule, before anything is sent. */
function presignedUrlOf(token: string, partition: AwsPartition): Check<{ url: URL; query: string }> {
  // Upstream Verify: length, then prefix, then base64.RawURLEncoding.
  if (token.length > MAX_TOKEN_LENGTH) return fail(`IAM token is longer than ${MAX_TOKEN_LENGTH} bytes`);
  if (!isIamToken(token)) return fail(`IAM token lacks the ${IAM_TOKEN_PREFIX} prefix`);
  const encoded = token.slice(IAM_TOKEN_PREFIX.length);
  // Unpadded base64url only. Buffer's decoder is lenient (skips bad characters, takes either
  // alphabet and padding), so check the alphabet, and re-encode to refuse non-canonical
  // trailing bits and impossible lengths.
  if (!BASE64URL_UNPADDED.test(encoded)) return fail('IAM token is not unpadded base64url');
  const bytes = Buffer.from(encoded, 'base64url');
  if (bytes.toString('base64url') !== encoded) return fail('IAM token is not canonical unpadded base64url');
  const decoded = bytes.toString('latin1');
  // Printable ASCII, no spaces: WHATWG URL silently drops tabs/newlines and trims spaces.
  if (!/^[\x21-\x7e]+$/.test(decoded)) return fail('pre-signed URL holds non-printable or non-ASCII characters');

  const scheme = 'https://';
  // Upstream: scheme must be https. Lower case exactly, as every signer writes it.
  if (!decoded.startsWith(scheme)) return fail('pre-signed URL scheme is not https');
  if (decoded.includes('#')) return fail('pre-signed URL has a fragment');
  const rest = decoded.slice(scheme.length);
  const authorityEnd = rest.search(/[/?\\]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  const afterAuthority = authorityEnd === -1 ? '' : rest.slice(authorityEnd);
  if (authority.includes('@')) return fail('pre-signed URL has userinfo');
  const colon = authority.indexOf(':');
  const host = colon === -1 ? authority : authority.slice(0, colon);
  // An explicit :443 is what https means anyway; any other port is not STS.
  if (colon !== -1 && authority.slice(colon + 1) !== '443') return fail('pre-signed URL names a port other than 443');
  // Exact string match: no case folding, trailing dots, IDNA or IP forms reach the resolver.
  if (!isStsHost(host, partition)) return fail(`pre-signed URL host is not an STS endpoint of partition ${partition}`);
  const queryStart = afterAuthority.indexOf('?');
  const path = queryStart === -1 ? afterAuthority : afterAuthority.slice(0, queryStart);
  // Upstream: path must be "/".
  if (path !== '/') return fail('pre-signed URL path is not /');
  const query = queryStart === -1 ? '' : afterAuthority.slice(queryStart + 1);
  if (!SIGV4_QUERY.test(query)) return fail('pre-signed URL query is empty or holds characters SigV4 never leaves unencoded');

  // What we send must be what we checked: WHATWG URL must agree on every part. A backstop:
  // the checks above leave it nothing to disagree on, so no test reaches it today.
  let url: URL;
  try {
    url = new URL(decoded);
  } catch {
    return fail('pre-signed URL does not parse');
  }
  if (url.protocol !== 'https:' || url.hostname !== host || url.port !== '' || url.username !== '' || url.password !== ''
    || url.pathname !== '/' || url.search !== `?${query}` || url.hash !== '') {
    return fail('pre-signed URL parses ambiguously');
  }
  return { ok: true, value: { url, query } };
}

/** The query rules of upstream Verify; returns when the token expires. */
function checkQuery(query: string, now: number): Check<number> {
  if (PERCENT_ESCAPE_BROKEN.test(query)) return fail('pre-signed URL query has a broken percent escape');
  const parameters = new Map<string, string>();
  for (const pair of query.split('&')) {
    const equals = pair.indexOf('=');
    if (equals <= 0 || pair.includes('=', equals + 1)) return fail('pre-signed URL query parameter is not name=value');
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(pair.slice(0, equals)).toLowerCase();
      value = decodeURIComponent(pair.slice(equals + 1));
    } catch {
      return fail('pre-signed URL query parameter is not UTF-8');
    }
    // Upstream parameterWhitelist and validateDuplicateParameters, both case-insensitive.
    if (!ALLOWED_PARAMETERS.has(name)) return fail('pre-signed URL query has a parameter outside the allowed list');
    if (parameters.has(name)) return fail('pre-signed URL query has a parameter twice');
    parameters.set(name, value);
  }
  // Upstream: exactly GetCallerIdentity, case-sensitive.
  if (parameters.get('action') !== 'GetCallerIdentity') return fail('pre-signed URL Action is not GetCallerIdentity');
  const version = parameters.get('version');
  if (version !== undefined && version !== STS_API_VERSION) return fail(`pre-signed URL Version is not ${STS_API_VERSION}`);
  // Upstream hasSignedClusterIDHeader: a whole item of the ;-list, case-insensitive. Without it
  // the token is not bound to a cluster at all.
  const signedHeaders = (parameters.get('x-amz-signedheaders') ?? '').split(';');
  if (!signedHeaders.some((header) => header.toLowerCase() === CLUSTER_ID_HEADER)) return fail(`pre-signed URL does not sign the ${CLUSTER_ID_HEADER} header`);
  // Upstream requires 0..900; the CLI sends 60. Bounded only: STS ignores it, so it never extends validity.
  const expires = parameters.get('x-amz-expires');
  if (expires !== undefined && (!/^[1-9]\d{0,3}$/.test(expires) || Number(expires) > MAX_EXPIRES_SECONDS)) {
    return fail(`pre-signed URL X-Amz-Expires is not an integer from 1 to ${MAX_EXPIRES_SECONDS}`);
  }
  const signedAt = amzDateMs(parameters.get('x-amz-date'));
  if (signedAt === undefined) return fail('pre-signed URL X-Amz-Date is missing or not YYYYMMDDTHHMMSSZ');
  const expiresAt = signedAt + PRESIGNED_URL_LIFETIME_MS;
  // Upstream: expired when now is after X-Amz-Date + 15 minutes.
  if (now > expiresAt) return fail('IAM token expired (15 minutes after X-Amz-Date)');
  if (signedAt - now > MAX_CLOCK_SKEW_MS) return fail('pre-signed URL X-Amz-Date is in the future beyond the allowed clock skew');
  return { ok: true, value: expiresAt };
}

function amzDateMs(text: string | undefined): number | undefined {
  const match = text === undefined ? null : AMZ_DATE.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number);
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(ms);
  // Date.UTC rolls 20240230 over into March: refuse dates that do not exist.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day
    || date.getUTCHours() !== hour || date.getUTCMinutes() !== minute || date.getUTCSeconds() !== second) return undefined;
  return ms;
}

async function askSts(url: URL, expiresAt: number, options: IamTokenVerifierOptions): Promise<IamTokenResult> {
  const send = options.send ?? httpsSend;
  // OUR cluster id, not one taken from the token: a token signed for another cluster fails
  // STS's signature check (upstream Verify sets clusterIDHeader to v.clusterID).
  const headers = { [CLUSTER_ID_HEADER]: options.clusterId, accept: 'application/json' };
  let timer: NodeJS.Timeout | undefined;
  // Our own deadline too, so a send that ignores its timeout still cannot stall a review.
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), options.timeoutMs);
  });
  let response: StsResponse | 'timeout';
  try {
    response = await Promise.race([send(url, headers, options.timeoutMs), timeout]);
  } catch (error) {
    return { kind: 'unavailable', reason: `STS request failed: ${error instanceof Error ? error.message : 'unknown error'}` };
  } finally {
    clearTimeout(timer);
  }
  if (response === 'timeout') return { kind: 'unavailable', reason: `STS did not answer within ${options.timeoutMs} ms` };
  return interpretStsAnswer(response, expiresAt, options.partition);
}

/** STS's Throttling error comes as HTTP 400 (upstream Verify looks for "Throttling" in any non-200 body). */
const THROTTLING = /"Code"\s*:\s*"Throttling"|<Code>Throttling<\/Code>/;

function interpretStsAnswer(response: StsResponse, expiresAt: number, partition: AwsPartition): IamTokenResult {
  const { status, body } = response;
  if (status === 429 || (status >= 400 && status < 500 && THROTTLING.test(body))) return { kind: 'unavailable', reason: `STS throttled (HTTP ${status})` };
  // Upstream's client returns redirects as they are (http.ErrUseLastResponse); we refuse them.
  if (status >= 300 && status < 400) return { kind: 'rejected', reason: `STS answered a redirect (HTTP ${status}), which is not followed` };
  // 403 (bad or expired signature, other cluster id), 400 (malformed request): STS said no.
  if (status >= 400 && status < 500) return { kind: 'rejected', reason: `STS refused the token (HTTP ${status})` };
  if (status !== 200) return { kind: 'unavailable', reason: `STS answered HTTP ${status}` };
  let answer: unknown;
  try {
    answer = JSON.parse(body);
  } catch {
    return { kind: 'unavailable', reason: 'STS answer is not JSON' };
  }
  const result = field(field(answer, 'GetCallerIdentityResponse'), 'GetCallerIdentityResult');
  const arn = field(result, 'Arn');
  const account = field(result, 'Account');
  const userId = field(result, 'UserId');
  if (typeof arn !== 'string' || arn === '' || typeof account !== 'string' || account === '' || typeof userId !== 'string' || userId === '') {
    return { kind: 'unavailable', reason: 'STS answer lacks GetCallerIdentityResult Arn, Account or UserId' };
  }
  const arnParts = arn.split(':');
  if (arnParts.length < 6 || arnParts[0] !== 'arn' || arnParts[1] !== partition) return { kind: 'unavailable', reason: `STS answer Arn is not an ARN of partition ${partition}` };
  if (!ACCOUNT_ID.test(account) || arnParts[4] !== account) return { kind: 'unavailable', reason: 'STS answer Account is not the 12-digit account of its Arn' };
  return { kind: 'caller', caller: { arn, account, userId, expiresAt } };
}

function field(value: unknown, key: string): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.prototype.hasOwnProperty.call(value, key)) return undefined;
  return (value as Record<string, unknown>)[key];
}

/** An STS caller ARN as the IAM principal it stands for. */
export type IamPrincipal =
  /** arn is arn:<partition>:iam::<account>:role/<name>, the path dropped as upstream StripPath does. */
  | { readonly kind: 'role'; readonly arn: string; readonly account: string; readonly sessionName: string }
  /** arn as STS gives it (upstream Canonicalize keeps user ARNs, paths included). */
  | { readonly kind: 'user'; readonly arn: string; readonly account: string };

/**
 * The principal behind a GetCallerIdentity ARN: an assumed-role session or an IAM user.
 * Root, federated users and anything else are undefined (upstream Canonicalize knows them,
 * but they are not principals this cluster maps).
 */
export function principalOf(callerArn: string): IamPrincipal | undefined {
  const match = /^arn:(aws|aws-cn|aws-us-gov):(iam|sts)::(\d{12}):([^:]+)$/.exec(callerArn);
  if (!match) return undefined;
  const [, partition, service, account, resource] = match;
  const parts = resource.split('/');
  if (!parts.slice(1).every((part) => IAM_NAME.test(part))) return undefined;
  // Canonicalize: sts assumed-role/<path...>/<role>/<session> is the IAM role; StripPath then keeps only the role name.
  if (service === 'sts' && parts[0] === 'assumed-role' && parts.length >= 3) {
    const role = parts[parts.length - 2];
    return { kind: 'role', arn: `arn:${partition}:iam::${account}:role/${role}`, account, sessionName: parts[parts.length - 1] };
  }
  if (service === 'iam' && parts[0] === 'user' && parts.length >= 2) return { kind: 'user', arn: callerArn, account };
  return undefined;
}
