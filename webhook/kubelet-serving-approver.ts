/**
 * Approves kubelet serving certificates whose names are the node's own, as EC2 knows them.
 *
 * Kubelets with `serverTLSBootstrap: true` ask for their serving certificate with a
 * CertificateSigningRequest for signer kubernetes.io/kubelet-serving, which kube-controller-manager
 * signs but "never auto-approves" (k8s.io/api v0.35.1 certificates/v1/types.go,
 * KubeletServingSignerName). This controller approves a request when every name in it belongs to
 * the EC2 instance of the requesting node, denies it when one does not, and leaves it pending
 * when EC2 cannot be asked. Several masters run it at once: the API server's optimistic
 * concurrency (a 409 on a stale resourceVersion) makes the first decision the only one.
 */
import { DescribeInstancesCommand, DescribeInstancesCommandOutput, EC2Client, Instance } from '@aws-sdk/client-ec2';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Extensions, SubjectAlternativeName } from '@peculiar/asn1-x509';
import { KubeApi, KubeApiConnection, KubeResponse, responseError } from '../lib/addons/kube-api';
import * as x509 from '../lib/secrets/x509';
import { isValidNodeName, judgeNodeInstance, whenAborted } from './ec2-node-names';
import { NODES_GROUP, NODE_USER_PREFIX } from './identities';
import { Logger, silentLogger } from './logger';

/** k8s.io/api v0.35.1 certificates/v1/types.go KubeletServingSignerName. */
export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';
/** The reason of the Approved condition this controller sets. */
export const APPROVED_REASON = 'KubeletServingNamesMatchInstance';

const CSR_COLLECTION = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
/** Conditions that end a request (k8s.io/api v0.35.1 certificates/v1/types.go, RequestConditionType). */
const FINAL_CONDITIONS: ReadonlySet<string> = new Set(['Approved', 'Denied', 'Failed']);
/** id-ce-subjectAltName (RFC 5280 section 4.2.1.6). */
const SUBJECT_ALT_NAME_OID = '2.5.29.17';
/** pkcs-9-at-extensionRequest (RFC 2985 section 5.4.2). */
const EXTENSION_REQUEST_OID = '1.2.840.113549.1.9.14';
const CSR_PEM_TYPE = 'CERTIFICATE REQUEST';

/**
 * The usage sets kube-controller-manager's signer accepts for this signer, exactly
 * (kubernetes/kubernetes v1.35 pkg/apis/certificates/helpers.go ValidateKubeletServingCSR:
 * kubeletServingRequiredUsages or kubeletServingRequiredUsagesNoRSA, compared with Equal), which
 * are also the two sets a kubelet asks for, with an RSA key or another (client-go util/certificate
 * certificate_manager.go DefaultKubeletServingGetUsages). Both hold "server auth", neither
 * "client auth".
 */
const KUBELET_SERVING_USAGE_SETS: readonly (readonly string[])[] = [
  ['digital signature', 'key encipherment', 'server auth'],
  ['digital signature', 'server auth'],
];

/** The CertificateSigningRequest fields this controller reads (certificates.k8s.io/v1). */
export interface CertificateSigningRequest {
  readonly metadata: {
    readonly name: string;
    readonly resourceVersion?: string;
    /** RFC 3339, set by the API server on create. */
    readonly creationTimestamp?: string;
    readonly [field: string]: unknown;
  };
  readonly spec: {
    /** base64 of a PEM "CERTIFICATE REQUEST" block. */
    readonly request: string;
    readonly signerName: string;
    readonly usages?: readonly string[];
    readonly username?: string;
    readonly groups?: readonly string[];
    readonly [field: string]: unknown;
  };
  readonly status?: { readonly conditions?: readonly CsrCondition[]; readonly [field: string]: unknown };
}

export interface CsrCondition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
}

/** The addresses the AWS cloud-controller-manager reports for an instance (see {@link nodeAddressesOf}). */
export interface NodeAddresses {
  /** Lowercase. */
  readonly dnsNames: ReadonlySet<string>;
  readonly ips: ReadonlySet<string>;
}

/** What EC2 says about the instance behind the node name of a request. */
export type InstanceFinding =
  | { readonly kind: 'node'; readonly instanceId: string; readonly nodeName: string; readonly addresses: NodeAddresses }
  /** `noInstance`: EC2 knows no instance of that name at all (maybe not yet, see {@link INSTANCE_GRACE_MS}). */
  | { readonly kind: 'not-a-node'; readonly reason: string; readonly noInstance?: boolean };

/** The decision on one request. */
export type CsrReview =
  /** Not this controller's to decide: another signer, or decided already. */
  | { readonly decision: 'ignore'; readonly reason: string }
  | { readonly decision: 'approve' | 'deny'; readonly reason: string; readonly message: string };

/** A request that passed every check that needs no EC2: what EC2 must confirm. */
interface RequestedNames {
  readonly nodeName: string;
  readonly dnsNames: readonly string[];
  readonly ips: readonly string[];
}

const deny = (reason: string, message: string): CsrReview => ({ decision: 'deny', reason, message });

/**
 * `bytes` read as `type` when they are its only DER encoding, else undefined. asn1js, under
 * @peculiar/x509, also reads forms Go's encoding/asn1 refuses (non-minimal lengths, for one), and
 * kube-controller-manager's signer skips a CSR attribute Go cannot parse (go1.25 crypto/x509
 * x509.go parseCSRExtensions: "Ignore attributes that don't parse"): any encoding but the one
 * could make this controller and the signer read different names.
 */
function parseCanonical<T>(bytes: ArrayBuffer, type: new () => T): T | undefined {
  let parsed: T;
  try {
    parsed = AsnConvert.parse(bytes, type);
  } catch {
    return undefined;
  }
  return Buffer.from(AsnConvert.serialize(parsed)).equals(Buffer.from(bytes)) ? parsed : undefined;
}

/** A request shaped as a kubelet's: its parsed form and the subject alternative names it asks for. */
interface KubeletShapedRequest {
  readonly request: x509.Pkcs10CertificateRequest;
  readonly names: readonly x509.GeneralName[];
}

/**
 * Reads spec.request when it has the one shape a kubelet gives it, else returns the denial.
 * The kubelet makes its request with Go's x509.CreateCertificateRequest from a template of
 * subject, DNS names and IP addresses only (kubernetes/kubernetes v1.35
 * staging/src/k8s.io/client-go/util/cert/csr.go MakeCSRFromTemplate, called by
 * util/certificate/certificate_manager.go), which writes one PEM block and, in DER, exactly one
 * attribute: extensionRequest with one value holding one extension, subjectAltName (go1.25
 * crypto/x509 x509.go CreateCertificateRequest, buildCSRExtensions). Anything more is room for the
 * approver and the signer to disagree, so it is denied.
 */
function readKubeletShapedRequest(requestBase64: string): KubeletShapedRequest | CsrReview {
  const unreadable = (message: string) => deny('RequestUnreadable', message);
  const notAsKubelet = (message: string) => deny('RequestNotAsKubeletMakesIt', `${message}; a kubelet's request has exactly one attribute, extensionRequest, with one value holding only a subjectAltName extension`);

  const text = Buffer.from(requestBase64, 'base64').toString('utf8');
  let blocks: ReturnType<typeof x509.PemConverter.decodeWithHeaders>;
  try {
    blocks = x509.PemConverter.decodeWithHeaders(text);
  } catch {
    return unreadable('spec.request is not a PEM certificate request');
  }
  if (blocks.length !== 1 || blocks[0].type !== CSR_PEM_TYPE || blocks[0].headers.length > 0) {
    return unreadable(`spec.request must be exactly one PEM "${CSR_PEM_TYPE}" block without headers, found ${blocks.map((block) => JSON.stringify(block.type)).join(', ') || 'none'}`);
  }
  const der = blocks[0].rawData;
  // Nothing around or inside the block that another PEM reader (Go's encoding/pem) might read otherwise.
  const withoutSpace = (value: string) => value.replace(/\s+/g, '');
  if (withoutSpace(text) !== withoutSpace(x509.PemConverter.encode(der, CSR_PEM_TYPE))) return unreadable('spec.request has text besides its one PEM block');

  const parsed = parseCanonical(der, CertificationRequest);
  if (!parsed) return unreadable('spec.request is not a certificate request in canonical DER (re-encoding it gives other bytes)');
  const attributes = parsed.certificationRequestInfo.attributes ?? [];
  // Go writes no attribute for a template without names; "at least one of dnsNames or
  // ipAddresses must be specified" (pkg/apis/certificates/helpers.go ValidateKubeletServingCSR).
  if (attributes.length === 0) return deny('NamesNotAllowed', 'the request names no DNS name and no IP address');
  if (attributes.length !== 1) return notAsKubelet(`the request has ${attributes.length} attributes (${attributes.map((attribute) => attribute.type).join(', ')})`);
  const [attribute] = attributes;
  if (attribute.type !== EXTENSION_REQUEST_OID) return notAsKubelet(`the request's attribute is ${attribute.type}, not extensionRequest (${EXTENSION_REQUEST_OID})`);
  if (attribute.values.length !== 1) return notAsKubelet(`the extensionRequest attribute has ${attribute.values.length} values`);
  const extensions = parseCanonical(attribute.values[0], Extensions);
  if (!extensions) return unreadable('the extensionRequest attribute is not a list of extensions in canonical DER');
  const extensionIds = extensions.map((extension) => extension.extnID);
  if (extensions.length !== 1 || extensionIds[0] !== SUBJECT_ALT_NAME_OID) return notAsKubelet(`the request asks for extensions [${extensionIds.join(', ')}]`);
  if (!parseCanonical(extensions[0].extnValue.buffer, SubjectAlternativeName)) return unreadable('the subjectAltName extension is not canonical DER');

  const request = new x509.Pkcs10CertificateRequest(der);
  const names = [...new x509.SubjectAlternativeNameExtension(AsnConvert.serialize(extensions[0])).names.items];
  return { request, names };
}

/** The checks that need no EC2: the final review, or the names EC2 must confirm. */
async function inspectKubeletServingCsr(csr: CertificateSigningRequest): Promise<CsrReview | RequestedNames> {
  if (csr.spec.signerName !== KUBELET_SERVING_SIGNER) return { decision: 'ignore', reason: `signer ${csr.spec.signerName} is not ${KUBELET_SERVING_SIGNER}` };
  const decided = (csr.status?.conditions ?? []).find((condition) => FINAL_CONDITIONS.has(condition.type));
  if (decided) return { decision: 'ignore', reason: `already ${decided.type}` };

  // The requestor is the node itself: its user and group as the Node authorizer knows them
  // (kubernetes/kubernetes plugin/pkg/auth/authorizer/node; webhook/iam-authenticator.ts gives them).
  const username = csr.spec.username ?? '';
  const nodeName = username.startsWith(NODE_USER_PREFIX) ? username.slice(NODE_USER_PREFIX.length) : '';
  if (!isValidNodeName(nodeName)) return deny('RequestorNotANode', `requestor ${JSON.stringify(username)} is not ${NODE_USER_PREFIX}<node name>`);
  if (!(csr.spec.groups ?? []).includes(NODES_GROUP)) return deny('RequestorNotANode', `requestor ${username} is not in group ${NODES_GROUP}`);

  const shaped = readKubeletShapedRequest(csr.spec.request);
  if ('decision' in shaped) return shaped;
  const { request, names } = shaped;

  // What the kubelet puts in its request: CN=system:node:<node name>, O=system:nodes and nothing
  // else (kubernetes/kubernetes v1.35 pkg/kubelet/certificate/kubelet.go newGetTemplateFn).
  // The signer requires O to be exactly [system:nodes] (helpers.go ValidateKubeletServingCSR).
  const subject = request.subjectName.toJSON().flatMap((rdn) => Object.entries(rdn).flatMap(([type, values]) => values.map((value) => `${type}=${value}`)));
  const expectedSubject = [`CN=${username}`, `O=${NODES_GROUP}`];
  if (subject.length !== 2 || !expectedSubject.every((attribute) => subject.includes(attribute))) {
    return deny('SubjectNotTheNode', `subject ${subject.join(', ')} is not ${expectedSubject.join(', ')}`);
  }

  const usages = [...new Set(csr.spec.usages ?? [])].sort();
  if (!KUBELET_SERVING_USAGE_SETS.some((set) => set.length === usages.length && set.every((usage) => usages.includes(usage)))) {
    return deny('UsagesNotKubeletServing', `usages [${usages.join(', ')}] are not ${KUBELET_SERVING_USAGE_SETS.map((set) => `[${set.join(', ')}]`).join(' or ')}`);
  }

  // The kubelet asks for DNS and IP names only (kubelet.go addressesToHostnamesAndIPs); the signer
  // refuses email and URI ones (helpers.go); other kinds have no use on a kubelet either.
  const others = names.filter((name) => name.type !== 'dns' && name.type !== 'ip');
  if (others.length > 0) return deny('NamesNotAllowed', `subject alternative names of kinds ${[...new Set(others.map((name) => name.type))].join(', ')} are not allowed; only DNS names and IP addresses`);
  const dnsNames = names.filter((name) => name.type === 'dns').map((name) => name.value);
  const ips = names.filter((name) => name.type === 'ip').map((name) => name.value);
  if (dnsNames.length + ips.length === 0) return deny('NamesNotAllowed', 'the request names no DNS name and no IP address');

  // Proof that the requestor holds the key: the API server checks it on create too
  // (pkg/apis/certificates/validation validateCSR, CheckSignature); checked here as well.
  let signed: boolean;
  try {
    signed = await request.verify();
  } catch {
    signed = false;
  }
  if (!signed) return deny('RequestSignatureInvalid', 'the signature of spec.request does not verify against its public key');
  return { nodeName, dnsNames, ips };
}

/** The decision on a request once EC2 has been asked about its node. */
function matchInstance(requested: RequestedNames, instance: InstanceFinding): CsrReview {
  if (instance.kind === 'not-a-node') return deny('NodeNotAnInstance', `node ${requested.nodeName}: ${instance.reason}`);
  if (instance.nodeName !== requested.nodeName) return deny('NodeNotAnInstance', `EC2 instance ${instance.instanceId} is node ${instance.nodeName}, not ${requested.nodeName}`);
  // DNS names compare without case (RFC 4343); IP addresses as @peculiar/x509 and EC2 both
  // print them, dotted quads for IPv4.
  const foreign = [
    ...requested.dnsNames.filter((name) => !instance.addresses.dnsNames.has(name.toLowerCase())).map((name) => `DNS name ${name}`),
    ...requested.ips.filter((ip) => !instance.addresses.ips.has(ip)).map((ip) => `IP address ${ip}`),
  ];
  if (foreign.length > 0) return deny('NamesNotOfInstance', `not addresses of EC2 instance ${instance.instanceId} (node ${requested.nodeName}): ${foreign.join(', ')}`);
  return {
    decision: 'approve',
    reason: APPROVED_REASON,
    message: `every name is an address of EC2 instance ${instance.instanceId} (node ${requested.nodeName}): ${[...requested.dnsNames, ...requested.ips].join(', ')}`,
  };
}

/** The whole review of a request against what EC2 says of its node's instance. Pure (async only to verify the signature). */
export async function reviewKubeletServingCsr(csr: CertificateSigningRequest, instance: InstanceFinding): Promise<CsrReview> {
  const inspected = await inspectKubeletServingCsr(csr);
  return 'decision' in inspected ? inspected : matchInstance(inspected, instance);
}

/**
 * The addresses the AWS cloud-controller-manager gives the node of `instance`, with its
 * default IPv4 family (kubernetes/cloud-provider-aws v1.35.2 pkg/providers/v1/aws.go
 * extractIPv4NodeAddresses; NodeIPFamilies defaults to ipv4): the private IPs of network
 * interfaces in use, the public IP, the private and public DNS names. The kubelet asks for
 * exactly its node's addresses (kubelet.go addressesToHostnamesAndIPs).
 */
export function nodeAddressesOf(instance: Instance): NodeAddresses {
  const ips = new Set<string>();
  for (const networkInterface of instance.NetworkInterfaces ?? []) {
    if (networkInterface.Status !== 'in-use') continue;
    for (const address of networkInterface.PrivateIpAddresses ?? []) if (address.PrivateIpAddress) ips.add(address.PrivateIpAddress);
  }
  if (instance.PublicIpAddress) ips.add(instance.PublicIpAddress);
  const dnsNames = new Set([instance.PrivateDnsName, instance.PublicDnsName].filter((name): name is string => !!name).map((name) => name.toLowerCase()));
  return { dnsNames, ips };
}

/** What one {@link KubeletServingApprover.reconcileOnce} did, by CSR name. */
export interface ReconcileSummary {
  readonly approved: string[];
  readonly denied: string[];
  /** Left pending: EC2 could not be asked, or knows no instance yet for a young request; retried next pass. */
  readonly pending: string[];
  /** Decided by someone else first (409 Conflict): nothing to do. */
  readonly conflicted: string[];
  /** The API server refused the decision; retried next pass. */
  readonly failed: string[];
}

export interface KubeletServingApproverOptions {
  /** The API server: a client, or how to reach it (then the approver makes and closes its own client). */
  readonly api: KubeApi | KubeApiConnection;
  /** `<stack>-<version>`: a node's instance must carry tag `kubernetes.io/cluster/<clusterName>` = `owned`. */
  readonly clusterName: string;
  /** ARNs of the instance profiles of the node roles (the webhook config's `iam.nodeRoles[].instanceProfileArn`). */
  readonly nodeInstanceProfileArns: readonly string[];
  /** Region of the cluster's instances (used only to build the default client). */
  readonly region: string;
  /** @default new EC2Client({ region }) */
  readonly ec2?: EC2Client;
  /** Seconds between passes. @default 10 */
  readonly intervalSeconds?: number;
  /** Deadline of one request's EC2 lookup; past it the request stays pending. @default 10_000 */
  readonly ec2TimeoutMs?: number;
  /** Most undecided requests decided in one pass, oldest first; the rest wait for later passes. @default 100 */
  readonly maxRequestsPerPass?: number;
  /** @default silentLogger */
  readonly logger?: Logger;
}

/** Default seconds between passes: a kubelet waits for its certificate at most this long. */
export const DEFAULT_INTERVAL_SECONDS = 10;
const DEFAULT_EC2_TIMEOUT_MS = 10_000;
/**
 * Bounds a pass: a node may create any number of CSRs (the Node authorizer lets it create
 * them), and each undecided one costs a PUT, so a flood waits its turn instead of growing a pass.
 */
export const DEFAULT_MAX_REQUESTS_PER_PASS = 100;
/**
 * How long a request whose node EC2 does not know yet stays pending before it is denied:
 * DescribeInstances is eventually consistent, and a new instance may be missing from it for a
 * while after RunInstances (EC2 API Reference, "Eventual consistency in the Amazon EC2 API").
 */
export const INSTANCE_GRACE_MS = 5 * 60_000;
/**
 * No retries of the API server within a pass (the next pass, `intervalSeconds` later, is the
 * retry), so that closing the client in {@link KubeletServingApprover.stop} ends a pass at once.
 */
const API_RETRY = { requestTimeoutMs: 30_000, retryForMs: 0 };
/** Longest stop() waits for a pass it could not cut short (a client it does not own, EC2). */
const STOP_WAIT_MS = 1_000;

type Outcome = keyof ReconcileSummary;
/** A finding, or that EC2 could not be asked. */
type InstanceLookup = InstanceFinding | { readonly kind: 'unavailable'; readonly reason: string };

/** metadata.creationTimestamp in ms; a missing or unreadable one counts as oldest (no grace). */
function createdAt(csr: CertificateSigningRequest): number {
  const time = Date.parse(csr?.metadata?.creationTimestamp ?? '');
  return Number.isNaN(time) ? 0 : time;
}

/**
 * Every `intervalSeconds`, lists the pending kubelet serving CSRs and decides each. Runs in the
 * auth webhook process on every master, with the master instance role's EC2 access.
 */
export class KubeletServingApprover {
  private readonly api: KubeApi;
  private readonly ownsApi: boolean;
  private readonly ec2: EC2Client;
  private readonly profiles: ReadonlySet<string>;
  private readonly intervalMs: number;
  private readonly ec2TimeoutMs: number;
  private readonly maxRequestsPerPass: number;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;
  private pass: Promise<unknown> | undefined;

  constructor(private readonly options: KubeletServingApproverOptions) {
    if (options.clusterName === '') throw new Error('clusterName: must not be empty');
    if (options.nodeInstanceProfileArns.length === 0) throw new Error('nodeInstanceProfileArns: must name at least one node instance profile (iam.nodeRoles[].instanceProfileArn)');
    for (const arn of options.nodeInstanceProfileArns) {
      if (!/^arn:[\w-]+:iam::\d{12}:instance-profile\/.+$/.test(arn)) throw new Error(`nodeInstanceProfileArns: must be arn:<partition>:iam::<account>:instance-profile/<name>, got ${JSON.stringify(arn)}`);
    }
    const intervalSeconds = options.intervalSeconds ?? DEFAULT_INTERVAL_SECONDS;
    if (!Number.isFinite(intervalSeconds) || intervalSeconds <= 0) throw new Error(`intervalSeconds: must be a positive number, got ${intervalSeconds}`);
    const ec2TimeoutMs = options.ec2TimeoutMs ?? DEFAULT_EC2_TIMEOUT_MS;
    if (!Number.isFinite(ec2TimeoutMs) || ec2TimeoutMs <= 0) throw new Error(`ec2TimeoutMs: must be a positive number, got ${ec2TimeoutMs}`);
    const maxRequestsPerPass = options.maxRequestsPerPass ?? DEFAULT_MAX_REQUESTS_PER_PASS;
    if (!Number.isInteger(maxRequestsPerPass) || maxRequestsPerPass <= 0) throw new Error(`maxRequestsPerPass: must be a positive integer, got ${maxRequestsPerPass}`);
    if (!options.ec2 && options.region === '') throw new Error('region: must not be empty when no EC2 client is given');
    this.ownsApi = !(options.api instanceof KubeApi);
    this.api = options.api instanceof KubeApi ? options.api : new KubeApi(options.api, API_RETRY);
    this.ec2 = options.ec2 ?? new EC2Client({ region: options.region });
    this.profiles = new Set(options.nodeInstanceProfileArns);
    this.intervalMs = intervalSeconds * 1000;
    this.ec2TimeoutMs = ec2TimeoutMs;
    this.maxRequestsPerPass = maxRequestsPerPass;
    this.logger = options.logger ?? silentLogger;
  }

  /** One pass over the kubelet serving CSRs. Throws only when they cannot be listed. */
  async reconcileOnce(): Promise<ReconcileSummary> {
    // spec.signerName is a field selector of CSRs (kubernetes/kubernetes v1.35
    // pkg/registry/certificates/certificates/strategy.go SelectableFields).
    const list = await this.api.request({ method: 'GET', path: CSR_COLLECTION, query: { fieldSelector: `spec.signerName=${KUBELET_SERVING_SIGNER}` } });
    if (list.status !== 200) throw responseError('listing kubelet serving CertificateSigningRequests', list);
    const items = ((list.body as { items?: CertificateSigningRequest[] } | undefined)?.items ?? []);
    const undecided = items
      .filter((csr) => !(csr?.status?.conditions ?? []).some((condition) => FINAL_CONDITIONS.has(condition.type)))
      .sort((a, b) => createdAt(a) - createdAt(b) || (a?.metadata?.name ?? '').localeCompare(b?.metadata?.name ?? ''));
    if (undecided.length > this.maxRequestsPerPass) {
      this.logger.warn('kubelet serving CSRs: more undecided than one pass decides; the newest wait for later passes', { undecided: undecided.length, maxRequestsPerPass: this.maxRequestsPerPass });
    }
    const summary: ReconcileSummary = { approved: [], denied: [], pending: [], conflicted: [], failed: [] };
    // What EC2 said of each node in this pass: one DescribeInstances per node, however many CSRs it made.
    const findings = new Map<string, Promise<InstanceLookup>>();
    // One at a time: a burst of new nodes must not become a burst of DescribeInstances.
    for (const csr of undecided.slice(0, this.maxRequestsPerPass)) {
      if (this.stopped) break;
      const name = csr?.metadata?.name ?? '<unnamed>';
      try {
        const outcome = await this.reconcile(csr, findings);
        if (outcome) summary[outcome].push(name);
      } catch (error) {
        summary.failed.push(name);
        this.logger.warn('kubelet serving CSR: decision failed, retried next pass', { csr: name, error: (error as Error)?.message ?? String(error) });
      }
    }
    return summary;
  }

  /** Runs a pass now and every `intervalSeconds` after the previous one ended. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const loop = async () => {
      try {
        await this.reconcileOnce();
      } catch (error) {
        this.logger.warn('kubelet serving CSRs: pass failed, retried next interval', { error: (error as Error)?.message ?? String(error) });
      }
      if (this.running) {
        this.timer = setTimeout(() => { this.pass = loop(); }, this.intervalMs);
        // The loop alone never keeps the process (or a test worker) alive.
        this.timer.unref();
      }
    };
    this.pass = loop();
  }

  /**
   * Ends the loop: no pass and no decision starts after this. Closes an API client it made first,
   * so a pass waiting on the API server ends at once; waits at most about a second for the pass.
   */
  async stop(): Promise<void> {
    this.running = false;
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ownsApi) this.api.close();
    let bound: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => { bound = setTimeout(resolve, STOP_WAIT_MS); bound.unref(); });
    await Promise.race([this.pass?.catch(() => undefined), waited]);
    clearTimeout(bound);
  }

  private async reconcile(csr: CertificateSigningRequest, findings: Map<string, Promise<InstanceLookup>>): Promise<Outcome | undefined> {
    const inspected = await inspectKubeletServingCsr(csr);
    let review: CsrReview;
    if ('decision' in inspected) {
      review = inspected;
    } else {
      let finding = findings.get(inspected.nodeName);
      if (!finding) {
        finding = this.findInstance(inspected.nodeName);
        findings.set(inspected.nodeName, finding);
      }
      const instance = await finding;
      if (instance.kind === 'unavailable') {
        this.logger.warn('kubelet serving CSR left pending: EC2 unavailable', { csr: csr.metadata.name, node: inspected.nodeName, reason: instance.reason });
        return 'pending';
      }
      if (instance.kind === 'not-a-node' && instance.noInstance && Date.now() - createdAt(csr) < INSTANCE_GRACE_MS) {
        this.logger.info('kubelet serving CSR left pending: EC2 knows no instance of its node yet', { csr: csr.metadata.name, node: inspected.nodeName });
        return 'pending';
      }
      review = matchInstance(inspected, instance);
    }
    if (review.decision === 'ignore' || this.stopped) return undefined;
    return this.decide(csr, review);
  }

  /** Appends the condition through the approval subresource, with the read resourceVersion. */
  private async decide(csr: CertificateSigningRequest, review: Exclude<CsrReview, { decision: 'ignore' }>): Promise<Outcome> {
    const condition: CsrCondition = { type: review.decision === 'approve' ? 'Approved' : 'Denied', status: 'True', reason: review.reason, message: review.message };
    const body = {
      ...csr,
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      status: { ...csr.status, conditions: [...(csr.status?.conditions ?? []), condition] },
    };
    // PUT, as `kubectl certificate approve` does (UpdateApproval): RBAC verb `update` on
    // certificatesigningrequests/approval, and `approve` on the signer.
    const response: KubeResponse = await this.api.request({ method: 'PUT', path: `${CSR_COLLECTION}/${encodeURIComponent(csr.metadata.name)}/approval`, body });
    const fields = { csr: csr.metadata.name, username: csr.spec.username, reason: review.reason, message: review.message };
    if (response.status === 409) {
      this.logger.info('kubelet serving CSR changed meanwhile (another master decided it)', fields);
      return 'conflicted';
    }
    if (response.status !== 200) throw responseError(`${condition.type} of CSR ${csr.metadata.name}`, response);
    this.logger.info(`kubelet serving CSR ${condition.type.toLowerCase()}`, fields);
    return review.decision === 'approve' ? 'approved' : 'denied';
  }

  /** The one node instance of this cluster named `nodeName`, or why there is none, or that EC2 could not say. */
  private async findInstance(nodeName: string): Promise<InstanceLookup> {
    let instances: Instance[];
    try {
      instances = await this.describeByPrivateDnsName(nodeName);
    } catch (error) {
      // Throttling, timeouts, missing permissions: none says anything about the request.
      const name = (error as { name?: unknown })?.name;
      return { kind: 'unavailable', reason: `EC2 DescribeInstances failed: ${typeof name === 'string' ? name : 'unknown error'}` };
    }
    // The filter matches wildcards too (EC2 API Reference, "Filtering"): keep exact names only.
    const named = instances.filter((instance) => (instance.PrivateDnsName ?? '').toLowerCase() === nodeName);
    const reasons: string[] = [];
    const nodes: Instance[] = [];
    for (const instance of named) {
      const verdict = judgeNodeInstance(instance, this.options.clusterName);
      if (verdict.kind === 'not-a-node') reasons.push(verdict.reason);
      else if (!this.profiles.has(verdict.instanceProfileArn)) reasons.push(`instance ${instance.InstanceId} was not launched with a node role's instance profile`);
      else nodes.push(instance);
    }
    // Overlapping VPCs may reuse a private DNS name; only one can be this cluster's node.
    if (nodes.length === 1) return { kind: 'node', instanceId: nodes[0].InstanceId ?? '', nodeName, addresses: nodeAddressesOf(nodes[0]) };
    if (nodes.length > 1) return { kind: 'not-a-node', reason: `${nodes.length} node instances have this private DNS name` };
    if (named.length === 0) return { kind: 'not-a-node', reason: 'no EC2 instance has this private DNS name', noInstance: true };
    return { kind: 'not-a-node', reason: reasons.join('; ') };
  }

  private async describeByPrivateDnsName(nodeName: string): Promise<Instance[]> {
    const abortSignal = AbortSignal.timeout(this.ec2TimeoutMs);
    const instances: Instance[] = [];
    let nextToken: string | undefined;
    do {
      // With Filters, answers may come in pages (DescribeInstancesRequest NextToken, @aws-sdk/client-ec2 3.1169.0).
      const request = this.ec2.send(
        new DescribeInstancesCommand({ Filters: [{ Name: 'private-dns-name', Values: [nodeName] }], NextToken: nextToken }),
        { abortSignal },
      );
      const response: DescribeInstancesCommandOutput = await Promise.race([request, whenAborted(abortSignal)]);
      instances.push(...(response.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []));
      nextToken = response.NextToken;
    } while (nextToken);
    return instances;
  }
}
