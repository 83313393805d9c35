import { KeyObject, sign, webcrypto } from 'node:crypto';
import * as https from 'node:https';
import { AddressInfo } from 'node:net';
import { DescribeInstancesCommand, DescribeInstancesCommandOutput, EC2Client, EC2ServiceException, Instance } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { AsnConvert } from '@peculiar/asn1-schema';
import { KubeApi } from '../../lib/addons/kube-api';
import { createCertificateAuthority, issueCertificate } from '../../lib/secrets/pki';
import * as x509 from '../../lib/secrets/x509';
import {
  CertificateSigningRequest, InstanceFinding, KubeletServingApprover, KubeletServingApproverOptions, nodeAddressesOf, reviewKubeletServingCsr,
} from '../../webhook/kubelet-serving-approver';
import { Logger } from '../../webhook/logger';

const ec2 = mockClient(EC2Client);

const CLUSTER = 'kube-1-35';
const NODE = 'ip-10-0-1-23.eu-central-1.compute.internal';
const OTHER_NODE = 'ip-10-0-2-99.eu-central-1.compute.internal';
const INSTANCE_ID = 'i-0123456789abcdef0';
const WORKER_PROFILE = 'arn:aws:iam::123456789012:instance-profile/kube-1-35-worker';
const MASTER_PROFILE = 'arn:aws:iam::123456789012:instance-profile/kube-1-35-master';
const SIGNER = 'kubernetes.io/kubelet-serving';
// The usages a kubelet asks for with an ECDSA key and with an RSA key (client-go util/certificate
// certificate_manager.go DefaultKubeletServingGetUsages).
const ECDSA_USAGES = ['digital signature', 'server auth'];
const RSA_USAGES = ['digital signature', 'key encipherment', 'server auth'];

// ---------------------------------------------------------------------------------------------
// Real PKCS#10 requests, as a kubelet makes them (kubernetes/kubernetes v1.35
// pkg/kubelet/certificate/kubelet.go newGetTemplateFn): CN=system:node:<name>, O=system:nodes,
// DNS and IP subject alternative names.

interface RequestShape {
  subject?: string;
  dns?: string[];
  ips?: string[];
  emails?: string[];
  uris?: string[];
  rsa?: boolean;
}

const keyPairs = new Map<string, Promise<webcrypto.CryptoKeyPair>>();
function keyPair(rsa: boolean): Promise<webcrypto.CryptoKeyPair> {
  const kind = rsa ? 'rsa' : 'ec';
  if (!keyPairs.has(kind)) {
    keyPairs.set(kind, rsa
      ? webcrypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify'])
      : webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']));
  }
  return keyPairs.get(kind)!;
}

/** base64 of the PEM of a signed certificate request, as spec.request holds it. */
async function csrRequest(shape: RequestShape = {}): Promise<string> {
  const names = [
    ...(shape.dns ?? [NODE]).map((value) => ({ type: 'dns' as const, value })),
    ...(shape.ips ?? ['10.0.1.23']).map((value) => ({ type: 'ip' as const, value })),
    ...(shape.emails ?? []).map((value) => ({ type: 'email' as const, value })),
    ...(shape.uris ?? []).map((value) => ({ type: 'url' as const, value })),
  ];
  const request = await x509.Pkcs10CertificateRequestGenerator.create({
    name: shape.subject ?? `CN=system:node:${NODE}, O=system:nodes`,
    keys: await keyPair(shape.rsa ?? false),
    signingAlgorithm: shape.rsa ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : { name: 'ECDSA', hash: 'SHA-256' },
    extensions: names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : [],
  });
  return Buffer.from(request.toString('pem')).toString('base64');
}

let csrCount = 0;
/** A pending kubelet serving CSR of NODE; overrides replace spec fields. */
async function csr(shape: RequestShape = {}, spec: Partial<CertificateSigningRequest['spec']> = {}, status?: CertificateSigningRequest['status'], createdMsAgo?: number): Promise<CertificateSigningRequest> {
  csrCount += 1;
  return {
    metadata: {
      name: `csr-${csrCount}`, resourceVersion: '100', uid: `uid-${csrCount}`,
      ...(createdMsAgo === undefined ? {} : { creationTimestamp: new Date(Date.now() - createdMsAgo).toISOString() }),
    },
    spec: {
      request: await csrRequest(shape),
      signerName: SIGNER,
      usages: ECDSA_USAGES,
      username: `system:node:${NODE}`,
      groups: ['system:nodes', 'system:authenticated'],
      expirationSeconds: 31536000,
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// EC2: instances as DescribeInstances describes them.

function instance(overrides: Partial<Instance> = {}): Instance {
  return {
    InstanceId: INSTANCE_ID,
    State: { Code: 16, Name: 'running' },
    PrivateDnsName: NODE,
    PrivateIpAddress: '10.0.1.23',
    IamInstanceProfile: { Arn: WORKER_PROFILE, Id: 'AIPAEXAMPLE' },
    Tags: [{ Key: `kubernetes.io/cluster/${CLUSTER}`, Value: 'owned' }],
    NetworkInterfaces: [
      { Status: 'in-use', Attachment: { DeviceIndex: 0 }, PrivateIpAddresses: [{ PrivateIpAddress: '10.0.1.23', Primary: true }, { PrivateIpAddress: '10.0.1.24' }] },
      { Status: 'in-use', Attachment: { DeviceIndex: 1 }, PrivateIpAddresses: [{ PrivateIpAddress: '10.0.3.7' }] },
      // Detached: the cloud-controller-manager skips interfaces not in use.
      { Status: 'available', PrivateIpAddresses: [{ PrivateIpAddress: '10.0.1.99' }] },
    ],
    ...overrides,
  };
}

function answer(...instances: Instance[]): DescribeInstancesCommandOutput {
  return { $metadata: {}, Reservations: instances.length > 0 ? [{ ReservationId: 'r-0123456789abcdef0', Instances: instances }] : [] };
}

function ec2Error(name: string): EC2ServiceException {
  return new EC2ServiceException({ name, $fault: 'client', $metadata: {}, message: name });
}

/** The finding of a node of this cluster for `found`. */
function nodeFinding(found: Instance = instance()): InstanceFinding {
  return { kind: 'node', instanceId: found.InstanceId!, nodeName: found.PrivateDnsName!.toLowerCase(), addresses: nodeAddressesOf(found) };
}

// ---------------------------------------------------------------------------------------------
// A fake certificates.k8s.io API over HTTPS: list with the signerName field selector, and PUT to
// /approval with the API server's optimistic concurrency (409 on a stale resourceVersion).

interface Recorded { method: string; path: string; query: Record<string, string>; body?: any }

interface FakeCsrApi {
  readonly api: KubeApi;
  readonly requests: Recorded[];
  readonly store: Map<string, any>;
  /** Answers the next request to `method path` with `status`. */
  failNext(method: string, path: string, status: number): void;
  /** Resolves at the next request matching `method`. */
  nextRequest(method: string): Promise<Recorded>;
  close(): Promise<void>;
}

const COLLECTION = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

async function startFakeCsrApi(objects: CertificateSigningRequest[]): Promise<FakeCsrApi> {
  const ca = await createCertificateAuthority('fake-csr-api-ca');
  const serving = await issueCertificate(ca, { commonName: 'fake-csr-api', ipAddresses: ['127.0.0.1'], usages: ['serverAuth'] });
  const store = new Map<string, any>(objects.map((object) => [object.metadata.name, structuredClone(object)]));
  const requests: Recorded[] = [];
  const failures: Array<{ method: string; path: string; status: number }> = [];
  const waiters: Array<{ method: string; resolve: (request: Recorded) => void }> = [];
  let resourceVersion = 1000;

  const server = https.createServer({ cert: serving.certificatePem, key: serving.privateKeyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url!, 'https://127.0.0.1');
      const text = Buffer.concat(chunks).toString('utf8');
      const recorded: Recorded = { method: req.method!, path: url.pathname, query: Object.fromEntries(url.searchParams), body: text ? JSON.parse(text) : undefined };
      requests.push(recorded);
      for (const waiter of waiters.filter((w) => w.method === recorded.method)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(recorded);
      }
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const failure = failures.find((f) => f.method === req.method && f.path === url.pathname);
      if (failure) {
        failures.splice(failures.indexOf(failure), 1);
        return send(failure.status, { kind: 'Status', status: 'Failure', code: failure.status, message: `scripted ${failure.status}` });
      }
      if (req.method === 'GET' && url.pathname === COLLECTION) {
        const [field, value] = (url.searchParams.get('fieldSelector') ?? '').split('=');
        const items = [...store.values()].filter((object) => field !== 'spec.signerName' || object.spec.signerName === value);
        return send(200, { kind: 'CertificateSigningRequestList', apiVersion: 'certificates.k8s.io/v1', items });
      }
      const approval = new RegExp(`^${COLLECTION}/([^/]+)/approval$`).exec(url.pathname);
      if (req.method === 'PUT' && approval) {
        const existing = store.get(decodeURIComponent(approval[1]));
        if (!existing) return send(404, { kind: 'Status', code: 404, message: 'not found' });
        if (recorded.body.metadata.resourceVersion !== existing.metadata.resourceVersion) {
          return send(409, { kind: 'Status', code: 409, reason: 'Conflict', message: 'the object has been modified; please apply your changes to the latest version and try again' });
        }
        const updated = { ...existing, status: recorded.body.status, metadata: { ...existing.metadata, resourceVersion: String(++resourceVersion) } };
        store.set(existing.metadata.name, updated);
        return send(200, updated);
      }
      return send(404, { kind: 'Status', code: 404, message: `no route ${req.method} ${url.pathname}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  // Short retries: a 5xx must fail the decision within the test, not after two minutes.
  const api = new KubeApi({ server: `https://127.0.0.1:${port}`, caPem: ca.certificatePem, token: 'approver-token' }, { retryForMs: 0, initialBackoffMs: 1 });
  return {
    api,
    requests,
    store,
    failNext: (method, path, status) => failures.push({ method, path, status }),
    nextRequest: (method) => new Promise((resolve) => waiters.push({ method, resolve })),
    close: () => new Promise<void>((resolve) => {
      api.close();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

// ---------------------------------------------------------------------------------------------

function approver(api: KubeApi, overrides: Partial<KubeletServingApproverOptions> = {}): KubeletServingApprover {
  return new KubeletServingApprover({
    api,
    clusterName: CLUSTER,
    nodeInstanceProfileArns: [WORKER_PROFILE],
    region: 'eu-central-1',
    ec2: new EC2Client({ region: 'eu-central-1' }),
    ...overrides,
  });
}

const puts = (fake: FakeCsrApi) => fake.requests.filter((request) => request.method === 'PUT');
const conditionsOf = (fake: FakeCsrApi, name: string) => fake.store.get(name).status?.conditions ?? [];

let fakes: FakeCsrApi[] = [];
async function fakeApi(...objects: CertificateSigningRequest[]): Promise<FakeCsrApi> {
  const fake = await startFakeCsrApi(objects);
  fakes.push(fake);
  return fake;
}

beforeEach(() => ec2.reset());
afterEach(async () => {
  await Promise.all(fakes.map((fake) => fake.close()));
  fakes = [];
});

describe('reviewKubeletServingCsr: requests whose names are all the node instance\'s', () => {
  test('the private DNS name and private IP of the node\'s own instance are approved', async () => {
    const review = await reviewKubeletServingCsr(await csr(), nodeFinding());
    expect(review).toEqual({ decision: 'approve', reason: 'KubeletServingNamesMatchInstance', message: expect.stringContaining(INSTANCE_ID) });
  });

  test('every in-use interface\'s private IPs, the public IP and the public DNS name count, as the cloud-controller-manager reports them', async () => {
    const found = instance({ PublicIpAddress: '3.120.0.9', PublicDnsName: 'ec2-3-120-0-9.eu-central-1.compute.amazonaws.com' });
    const request = await csr({ dns: [NODE, 'ec2-3-120-0-9.eu-central-1.compute.amazonaws.com'], ips: ['10.0.1.23', '10.0.1.24', '10.0.3.7', '3.120.0.9'] });
    expect((await reviewKubeletServingCsr(request, nodeFinding(found))).decision).toBe('approve');
  });

  test('an RSA key\'s usages (with key encipherment) are approved too', async () => {
    expect((await reviewKubeletServingCsr(await csr({ rsa: true }, { usages: RSA_USAGES }), nodeFinding())).decision).toBe('approve');
  });

  test('a DNS name in other case is the same name', async () => {
    expect((await reviewKubeletServingCsr(await csr({ dns: [NODE.toUpperCase()] }), nodeFinding())).decision).toBe('approve');
  });
});

describe('reviewKubeletServingCsr: denied, with a message naming what did not match', () => {
  test.each<[string, RequestShape, RegExp]>([
    ['another node\'s IP', { ips: ['10.0.1.23', '10.0.2.99'] }, /IP address 10\.0\.2\.99/],
    ['the IP of a detached interface', { ips: ['10.0.1.99'] }, /IP address 10\.0\.1\.99/],
    ['an extra DNS name', { dns: [NODE, 'kubernetes.default.svc'] }, /DNS name kubernetes\.default\.svc/],
    ['another node\'s DNS name', { dns: [OTHER_NODE] }, new RegExp(`DNS name ${OTHER_NODE.replace(/\./g, '\\.')}`)],
    ['a public IP the instance does not have', { ips: ['3.120.0.9'] }, /IP address 3\.120\.0\.9/],
  ])('%s', async (_case, shape, message) => {
    const review = await reviewKubeletServingCsr(await csr(shape), nodeFinding());
    expect(review).toMatchObject({ decision: 'deny', reason: 'NamesNotOfInstance', message: expect.stringMatching(message) });
    // The instance's own addresses stay out of the message (anyone who can read CSRs reads it).
    expect((review as { message: string }).message).not.toContain('10.0.3.7');
  });

  test.each<[string, RequestShape, Partial<CertificateSigningRequest['spec']>, string]>([
    ['a CN of another node', { subject: `CN=system:node:${OTHER_NODE}, O=system:nodes` }, {}, 'SubjectNotTheNode'],
    ['a CN that is no node', { subject: 'CN=kube-apiserver, O=system:nodes' }, {}, 'SubjectNotTheNode'],
    ['O=system:masters', { subject: `CN=system:node:${NODE}, O=system:masters` }, {}, 'SubjectNotTheNode'],
    ['a second O', { subject: `CN=system:node:${NODE}, O=system:nodes, O=system:masters` }, {}, 'SubjectNotTheNode'],
    ['an extra OU', { subject: `CN=system:node:${NODE}, O=system:nodes, OU=extra` }, {}, 'SubjectNotTheNode'],
    ['a requestor that is no node', {}, { username: 'kubernetes-admin', groups: ['system:masters'] }, 'RequestorNotANode'],
    ['a requestor that is another node', {}, { username: `system:node:${OTHER_NODE}` }, 'SubjectNotTheNode'],
    ['a node requestor outside system:nodes', {}, { groups: ['system:authenticated'] }, 'RequestorNotANode'],
    ['a node name with a wildcard', { subject: 'CN=system:node:ip-10-*, O=system:nodes' }, { username: 'system:node:ip-10-*' }, 'RequestorNotANode'],
    ['client auth among the usages', {}, { usages: [...ECDSA_USAGES, 'client auth'] }, 'UsagesNotKubeletServing'],
    ['client usages only', {}, { usages: ['digital signature', 'client auth'] }, 'UsagesNotKubeletServing'],
    ['no server auth', {}, { usages: ['digital signature'] }, 'UsagesNotKubeletServing'],
    ['cert sign', {}, { usages: [...ECDSA_USAGES, 'cert sign'] }, 'UsagesNotKubeletServing'],
    ['an email SAN', { emails: ['root@example.org'] }, {}, 'NamesNotAllowed'],
    ['a URI SAN', { uris: ['spiffe://cluster.local/ns/kube-system/sa/x'] }, {}, 'NamesNotAllowed'],
    ['no SAN at all', { dns: [], ips: [] }, {}, 'NamesNotAllowed'],
  ])('%s', async (_case, shape, spec, reason) => {
    const review = await reviewKubeletServingCsr(await csr(shape, spec), nodeFinding());
    expect(review).toMatchObject({ decision: 'deny', reason });
    expect((review as { message: string }).message).not.toBe('');
  });

  test('a request that is no PEM certificate request', async () => {
    const review = await reviewKubeletServingCsr(await csr({}, { request: Buffer.from('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n').toString('base64') }), nodeFinding());
    expect(review).toMatchObject({ decision: 'deny', reason: 'RequestUnreadable' });
  });

  test('a node that EC2 does not confirm is denied with EC2\'s reason', async () => {
    const review = await reviewKubeletServingCsr(await csr(), { kind: 'not-a-node', reason: `instance ${INSTANCE_ID} is not owned by cluster ${CLUSTER}` });
    expect(review).toMatchObject({ decision: 'deny', reason: 'NodeNotAnInstance', message: expect.stringContaining(`not owned by cluster ${CLUSTER}`) });
  });

  test('an instance found for another node name is denied', async () => {
    const review = await reviewKubeletServingCsr(await csr(), nodeFinding(instance({ PrivateDnsName: OTHER_NODE })));
    expect(review).toMatchObject({ decision: 'deny', reason: 'NodeNotAnInstance' });
  });
});

describe('reviewKubeletServingCsr: not this controller\'s to decide', () => {
  test.each(['kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kube-apiserver-client', 'example.com/kubelet-serving'])('signer %s is ignored', async (signerName) => {
    expect(await reviewKubeletServingCsr(await csr({}, { signerName }), nodeFinding())).toMatchObject({ decision: 'ignore' });
  });

  test.each(['Approved', 'Denied', 'Failed'])('a request already %s is ignored, even a bad one', async (type) => {
    const decided = await csr({ ips: ['10.0.2.99'] }, {}, { conditions: [{ type, status: 'True', reason: 'Earlier' }] });
    expect(await reviewKubeletServingCsr(decided, nodeFinding())).toMatchObject({ decision: 'ignore' });
  });
});

// ---------------------------------------------------------------------------------------------
// Hand-built DER: requests a node's root could craft. Go's crypto/x509 (the API server, the
// signer) rejects non-minimal DER lengths and its parseCSRExtensions skips an attribute it cannot
// parse and reads every extensionRequest attribute (go1.25 crypto/x509 x509.go); asn1js reads
// both forms and @peculiar/x509 getExtensions reads only the first attribute.

/** A DER TLV with minimal length. */
function tlv(tag: number, ...contents: Uint8Array[]): Buffer {
  const content = Buffer.concat(contents);
  const length = content.length < 0x80 ? Buffer.from([content.length])
    : content.length < 0x100 ? Buffer.from([0x81, content.length]) : Buffer.from([0x82, content.length >> 8, content.length & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, content]);
}
/** The same TLV with its length in long form though it fits in one byte: BER, not DER. */
function tlvNonMinimal(tag: number, ...contents: Uint8Array[]): Buffer {
  const content = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag, 0x81, content.length]), content]);
}
const oid = (hex: string) => tlv(0x06, Buffer.from(hex, 'hex'));
const EXTENSION_REQUEST = oid('2a864886f70d01090e');
const CHALLENGE_PASSWORD = oid('2a864886f70d010907');
const ECDSA_WITH_SHA256 = tlv(0x30, oid('2a8648ce3d040302'));

/** One Extension: subjectAltName with these names. */
function sanExtension(dns: string[], ips: string[]): Buffer {
  return Buffer.from(new x509.SubjectAlternativeNameExtension([...dns.map((value) => ({ type: 'dns' as const, value })), ...ips.map((value) => ({ type: 'ip' as const, value }))]).rawData);
}
const extensionRequest = (...values: Buffer[]) => tlv(0x30, EXTENSION_REQUEST, tlv(0x31, ...values));

interface HandBuilt {
  /** The DER of each attribute, in order. */
  attributes: Buffer[];
  /** Wraps the CertificationRequestInfo: minimal by default. */
  infoTlv?: typeof tlv;
  /** Spoils the signature. */
  badSignature?: boolean;
}

/** base64 of a PEM request with NODE's subject and the test's ECDSA key, signed over the hand-built info. */
async function handBuiltRequest(build: HandBuilt): Promise<string> {
  const template = AsnConvert.parse(Buffer.from(x509.PemConverter.decodeFirst(Buffer.from(await csrRequest(), 'base64').toString('utf8'))), CertificationRequest);
  const info = (build.infoTlv ?? tlv)(0x30,
    tlv(0x02, Buffer.from([0])),
    Buffer.from(AsnConvert.serialize(template.certificationRequestInfo.subject)),
    Buffer.from(AsnConvert.serialize(template.certificationRequestInfo.subjectPKInfo)),
    tlv(0xa0, ...build.attributes));
  const signature = sign('sha256', info, { key: KeyObject.from((await keyPair(false)).privateKey), dsaEncoding: 'der' });
  if (build.badSignature) signature[signature.length - 1] ^= 0x01;
  const der = tlv(0x30, info, ECDSA_WITH_SHA256, tlv(0x03, Buffer.from([0]), signature));
  return Buffer.from(x509.PemConverter.encode(new Uint8Array(der).buffer, 'CERTIFICATE REQUEST')).toString('base64');
}

const OWN_NAMES = sanExtension([NODE], ['10.0.1.23']);
const FOREIGN_NAMES = sanExtension([NODE], ['10.0.2.99']);

describe('reviewKubeletServingCsr: only a request shaped as the kubelet makes it', () => {
  test('the hand-built request with one extensionRequest of one subjectAltName is approved', async () => {
    const request = await csr({}, { request: await handBuiltRequest({ attributes: [extensionRequest(tlv(0x30, OWN_NAMES))] }) });
    expect(await reviewKubeletServingCsr(request, nodeFinding())).toMatchObject({ decision: 'approve' });
  });

  test.each<[string, () => Promise<string>, string, RegExp]>([
    ['a second extensionRequest attribute with another IP (the signer reads both)',
      () => handBuiltRequest({ attributes: [extensionRequest(tlv(0x30, OWN_NAMES)), extensionRequest(tlv(0x30, FOREIGN_NAMES))] }),
      'RequestNotAsKubeletMakesIt', /2 attributes/],
    ['a first attribute Go cannot parse (non-minimal length) before one with another IP',
      () => handBuiltRequest({ attributes: [tlvNonMinimal(0x30, EXTENSION_REQUEST, tlv(0x31, tlv(0x30, OWN_NAMES))), extensionRequest(tlv(0x30, FOREIGN_NAMES))] }),
      'RequestUnreadable', /canonical DER/],
    ['the one attribute with a non-minimal length inside its extensions',
      () => handBuiltRequest({ attributes: [extensionRequest(tlvNonMinimal(0x30, OWN_NAMES))] }),
      'RequestUnreadable', /extensionRequest attribute is not a list of extensions in canonical DER/],
    ['a non-minimal length of the CertificationRequestInfo',
      () => handBuiltRequest({ attributes: [extensionRequest(tlv(0x30, OWN_NAMES))], infoTlv: tlvNonMinimal }),
      'RequestUnreadable', /canonical DER/],
    ['an extensionRequest with a second value',
      () => handBuiltRequest({ attributes: [extensionRequest(tlv(0x30, OWN_NAMES), tlv(0x30, FOREIGN_NAMES))] }),
      'RequestNotAsKubeletMakesIt', /2 values/],
    ['a challengePassword attribute before the extensionRequest',
      () => handBuiltRequest({ attributes: [tlv(0x30, CHALLENGE_PASSWORD, tlv(0x31, tlv(0x13, Buffer.from('secret')))), extensionRequest(tlv(0x30, OWN_NAMES))] }),
      'RequestNotAsKubeletMakesIt', /2 attributes \(1\.2\.840\.113549\.1\.9\.7, 1\.2\.840\.113549\.1\.9\.14\)/],
    ['only a challengePassword attribute',
      () => handBuiltRequest({ attributes: [tlv(0x30, CHALLENGE_PASSWORD, tlv(0x31, tlv(0x13, Buffer.from('secret'))))] }),
      'RequestNotAsKubeletMakesIt', /is 1\.2\.840\.113549\.1\.9\.7, not extensionRequest/],
    ['a second subjectAltName extension in the one attribute',
      () => handBuiltRequest({ attributes: [extensionRequest(tlv(0x30, OWN_NAMES, FOREIGN_NAMES))] }),
      'RequestNotAsKubeletMakesIt', /extensions \[2\.5\.29\.17, 2\.5\.29\.17\]/],
    ['a basicConstraints extension beside the names',
      () => handBuiltRequest({ attributes: [extensionRequest(tlv(0x30, OWN_NAMES, Buffer.from(new x509.BasicConstraintsExtension(true).rawData)))] }),
      'RequestNotAsKubeletMakesIt', /extensions \[2\.5\.29\.17, 2\.5\.29\.19\]/],
    ['a signature that does not verify',
      () => handBuiltRequest({ attributes: [extensionRequest(tlv(0x30, OWN_NAMES))], badSignature: true }),
      'RequestSignatureInvalid', /does not verify/],
    ['a second PEM block',
      async () => Buffer.from(Buffer.from(await csrRequest(), 'base64').toString('utf8') + Buffer.from(await csrRequest({ ips: ['10.0.2.99'] }), 'base64').toString('utf8')).toString('base64'),
      'RequestUnreadable', /exactly one PEM "CERTIFICATE REQUEST" block/],
    ['text before the PEM block',
      async () => Buffer.from(`junk\n${Buffer.from(await csrRequest(), 'base64').toString('utf8')}`).toString('base64'),
      'RequestUnreadable', /text besides its one PEM block/],
  ])('%s is denied', async (_case, request, reason, message) => {
    const review = await reviewKubeletServingCsr(await csr({}, { request: await request() }), nodeFinding());
    expect(review).toMatchObject({ decision: 'deny', reason, message: expect.stringMatching(message) });
  });
});

describe('nodeAddressesOf', () => {
  test('what the AWS cloud-controller-manager reports: in-use interfaces\' private IPs, public IP, DNS names lowercased', () => {
    const addresses = nodeAddressesOf(instance({ PublicIpAddress: '3.120.0.9', PublicDnsName: 'EC2-3-120-0-9.eu-central-1.compute.amazonaws.com' }));
    expect([...addresses.ips].sort()).toEqual(['10.0.1.23', '10.0.1.24', '10.0.3.7', '3.120.0.9']);
    expect([...addresses.dnsNames].sort()).toEqual(['ec2-3-120-0-9.eu-central-1.compute.amazonaws.com', NODE]);
  });

  test('an instance without interfaces or names has no addresses', () => {
    const addresses = nodeAddressesOf({ InstanceId: INSTANCE_ID });
    expect(addresses.ips.size + addresses.dnsNames.size).toBe(0);
  });
});

describe('KubeletServingApprover.reconcileOnce against EC2 and the API server', () => {
  test('approves a matching CSR: one DescribeInstances by private DNS name, one PUT to /approval with the object plus the Approved condition', async () => {
    const request = await csr();
    const fake = await fakeApi(request);
    ec2.on(DescribeInstancesCommand).resolves(answer(instance()));

    const summary = await approver(fake.api).reconcileOnce();

    expect(summary).toEqual({ approved: [request.metadata.name], denied: [], pending: [], conflicted: [], failed: [] });
    expect(fake.requests[0]).toMatchObject({ method: 'GET', path: COLLECTION, query: { fieldSelector: 'spec.signerName=kubernetes.io/kubelet-serving' } });
    expect(ec2.commandCalls(DescribeInstancesCommand).map((call) => call.args[0].input)).toEqual([
      { Filters: [{ Name: 'private-dns-name', Values: [NODE] }], NextToken: undefined },
    ]);
    expect(puts(fake)).toHaveLength(1);
    expect(puts(fake)[0].path).toBe(`${COLLECTION}/${request.metadata.name}/approval`);
    expect(puts(fake)[0].body).toEqual({
      ...request,
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      status: {
        conditions: [{
          type: 'Approved',
          status: 'True',
          reason: 'KubeletServingNamesMatchInstance',
          message: `every name is an address of EC2 instance ${INSTANCE_ID} (node ${NODE}): ${NODE}, 10.0.1.23`,
        }],
      },
    });
    expect(conditionsOf(fake, request.metadata.name)).toEqual([expect.objectContaining({ type: 'Approved' })]);
  });

  test.each<[string, Instance[], RegExp]>([
    ['an instance of another cluster', [instance({ Tags: [{ Key: 'kubernetes.io/cluster/kube-1-34', Value: 'owned' }] })], /not owned by cluster kube-1-35/],
    ['a stopped instance', [instance({ State: { Name: 'stopped' } })], /neither pending nor running/],
    ['an instance launched with the master profile', [instance({ IamInstanceProfile: { Arn: MASTER_PROFILE } })], /not launched with a node role's instance profile/],
    ['no instance at all', [], /no EC2 instance has this private DNS name/],
    ['only an instance whose name merely matches the filter', [instance({ PrivateDnsName: `x${NODE}` })], /no EC2 instance has this private DNS name/],
  ])('denies a CSR whose node is %s, with the reason in the Denied condition', async (_case, instances, message) => {
    const request = await csr();
    const fake = await fakeApi(request);
    ec2.on(DescribeInstancesCommand).resolves(answer(...instances));

    const summary = await approver(fake.api).reconcileOnce();

    expect(summary.denied).toEqual([request.metadata.name]);
    expect(puts(fake)[0].body.status.conditions).toEqual([{ type: 'Denied', status: 'True', reason: 'NodeNotAnInstance', message: expect.stringMatching(message) }]);
  });

  test('of two instances with the name (overlapping VPCs), the one node of this cluster is used', async () => {
    const request = await csr();
    const fake = await fakeApi(request);
    const elsewhere = instance({ InstanceId: 'i-0fedcba9876543210', Tags: [], IamInstanceProfile: { Arn: 'arn:aws:iam::123456789012:instance-profile/other' } });
    ec2.on(DescribeInstancesCommand).resolves(answer(elsewhere, instance()));
    expect((await approver(fake.api).reconcileOnce()).approved).toEqual([request.metadata.name]);
  });

  test('pages of DescribeInstances are all read', async () => {
    const request = await csr();
    const fake = await fakeApi(request);
    ec2.on(DescribeInstancesCommand)
      .resolvesOnce({ ...answer(), NextToken: 'page-2' })
      .resolvesOnce(answer(instance()));
    expect((await approver(fake.api).reconcileOnce()).approved).toEqual([request.metadata.name]);
    expect(ec2.commandCalls(DescribeInstancesCommand)[1].args[0].input.NextToken).toBe('page-2');
  });

  test('a mismatching CSR is denied, naming the foreign IP', async () => {
    const request = await csr({ ips: ['10.0.1.23', '10.0.2.99'] });
    const fake = await fakeApi(request);
    ec2.on(DescribeInstancesCommand).resolves(answer(instance()));
    await approver(fake.api).reconcileOnce();
    expect(conditionsOf(fake, request.metadata.name)).toEqual([
      { type: 'Denied', status: 'True', reason: 'NamesNotOfInstance', message: expect.stringContaining('IP address 10.0.2.99') },
    ]);
  });

  test('a CSR failing a check that needs no EC2 is denied without asking EC2', async () => {
    const request = await csr({}, { usages: [...ECDSA_USAGES, 'client auth'] });
    const fake = await fakeApi(request);
    await approver(fake.api).reconcileOnce();
    expect(ec2.commandCalls(DescribeInstancesCommand)).toHaveLength(0);
    expect(conditionsOf(fake, request.metadata.name)).toEqual([expect.objectContaining({ type: 'Denied', reason: 'UsagesNotKubeletServing' })]);
  });

  test.each(['RequestLimitExceeded', 'InternalError', 'UnauthorizedOperation'])('EC2 answering %s leaves the CSR pending, and the next pass approves it', async (code) => {
    const request = await csr();
    const fake = await fakeApi(request);
    ec2.on(DescribeInstancesCommand).rejectsOnce(ec2Error(code)).resolves(answer(instance()));
    const logged: Array<Record<string, unknown> | undefined> = [];
    const logger: Logger = { info: () => undefined, warn: (_message, fields) => logged.push(fields) };
    const controller = approver(fake.api, { logger });

    expect(await controller.reconcileOnce()).toEqual({ approved: [], denied: [], pending: [request.metadata.name], conflicted: [], failed: [] });
    expect(puts(fake)).toHaveLength(0);
    expect(conditionsOf(fake, request.metadata.name)).toEqual([]);
    expect(logged).toEqual([expect.objectContaining({ csr: request.metadata.name, reason: expect.stringContaining(code) })]);

    expect((await controller.reconcileOnce()).approved).toEqual([request.metadata.name]);
  });

  test('an EC2 call slower than ec2TimeoutMs leaves the CSR pending', async () => {
    const request = await csr();
    const fake = await fakeApi(request);
    ec2.on(DescribeInstancesCommand).callsFake(() => new Promise(() => undefined));
    const summary = await approver(fake.api, { ec2TimeoutMs: 20 }).reconcileOnce();
    expect(summary.pending).toEqual([request.metadata.name]);
    expect(puts(fake)).toHaveLength(0);
  });

  test('a 409 Conflict on approval (another master decided first) is no failure, and the other CSRs are still decided', async () => {
    const first = await csr();
    const second = await csr();
    const fake = await fakeApi(first, second);
    // Another master approves the first CSR between this one's list and its PUT.
    const approvedElsewhere = { ...fake.store.get(first.metadata.name), metadata: { ...first.metadata, resourceVersion: '101' }, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'KubeletServingNamesMatchInstance' }] } };
    const controller = approver(fake.api);
    ec2.on(DescribeInstancesCommand)
      .callsFakeOnce(async () => {
        fake.store.set(first.metadata.name, approvedElsewhere);
        return answer(instance());
      })
      .resolves(answer(instance()));

    const summary = await controller.reconcileOnce();

    expect(summary).toEqual({ approved: [second.metadata.name], denied: [], pending: [], conflicted: [first.metadata.name], failed: [] });
    expect(conditionsOf(fake, first.metadata.name)).toEqual(approvedElsewhere.status.conditions);
    // Next pass: the first is decided and left alone.
    expect(await controller.reconcileOnce()).toEqual({ approved: [], denied: [], pending: [], conflicted: [], failed: [] });
  });

  test('a CSR whose approval the API server refuses fails alone; the others are approved', async () => {
    const [first, second, third] = [await csr(), await csr(), await csr()];
    const fake = await fakeApi(first, second, third);
    ec2.on(DescribeInstancesCommand).resolves(answer(instance()));
    fake.failNext('PUT', `${COLLECTION}/${second.metadata.name}/approval`, 403);
    const summary = await approver(fake.api).reconcileOnce();
    expect(summary).toEqual({ approved: [first.metadata.name, third.metadata.name], denied: [], pending: [], conflicted: [], failed: [second.metadata.name] });
  });

  test('other signers\' CSRs and decided CSRs are never touched', async () => {
    const client = await csr({}, { signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] });
    const decided = await csr({}, {}, { conditions: [{ type: 'Denied', status: 'True', reason: 'Earlier' }] });
    const fake = await fakeApi(client, decided);
    const summary = await approver(fake.api).reconcileOnce();
    expect(summary).toEqual({ approved: [], denied: [], pending: [], conflicted: [], failed: [] });
    expect(fake.requests.map((request) => request.method)).toEqual(['GET']);
    expect(ec2.commandCalls(DescribeInstancesCommand)).toHaveLength(0);
  });

  test('a list the API server refuses throws, naming the HTTP status', async () => {
    const fake = await fakeApi();
    fake.failNext('GET', COLLECTION, 403);
    await expect(approver(fake.api).reconcileOnce()).rejects.toThrow(/listing kubelet serving CertificateSigningRequests: HTTP 403/);
  });
});

describe('KubeletServingApprover.reconcileOnce: bounded passes', () => {
  test('many CSRs of one node cost one DescribeInstances per pass', async () => {
    const requests = [await csr(), await csr(), await csr()];
    const fake = await fakeApi(...requests);
    ec2.on(DescribeInstancesCommand).resolves(answer(instance()));
    expect((await approver(fake.api).reconcileOnce()).approved).toEqual(requests.map((request) => request.metadata.name));
    expect(ec2.commandCalls(DescribeInstancesCommand)).toHaveLength(1);
  });

  test('a CSR younger than 5 minutes whose node EC2 does not know yet stays pending; an older one is denied', async () => {
    const young = await csr({}, {}, undefined, 60_000);
    const old = await csr({}, {}, undefined, 6 * 60_000);
    const fake = await fakeApi(young, old);
    ec2.on(DescribeInstancesCommand).resolves(answer());
    const summary = await approver(fake.api).reconcileOnce();
    expect(summary).toEqual({ approved: [], denied: [old.metadata.name], pending: [young.metadata.name], conflicted: [], failed: [] });
    expect(conditionsOf(fake, young.metadata.name)).toEqual([]);
  });

  test('a young CSR whose node EC2 knows as no node is denied at once', async () => {
    const young = await csr({}, {}, undefined, 60_000);
    const fake = await fakeApi(young);
    ec2.on(DescribeInstancesCommand).resolves(answer(instance({ IamInstanceProfile: { Arn: MASTER_PROFILE } })));
    expect((await approver(fake.api).reconcileOnce()).denied).toEqual([young.metadata.name]);
  });

  test('a pass decides at most maxRequestsPerPass undecided CSRs, oldest first; the next pass the rest', async () => {
    const newest = await csr({}, {}, undefined, 1_000);
    const oldest = await csr({}, {}, undefined, 3_000);
    const middle = await csr({}, {}, undefined, 2_000);
    const decided = await csr({}, {}, { conditions: [{ type: 'Approved', status: 'True' }] }, 10_000);
    const fake = await fakeApi(newest, decided, oldest, middle);
    ec2.on(DescribeInstancesCommand).resolves(answer(instance()));
    const controller = approver(fake.api, { maxRequestsPerPass: 2 });
    expect((await controller.reconcileOnce()).approved).toEqual([oldest.metadata.name, middle.metadata.name]);
    expect((await controller.reconcileOnce()).approved).toEqual([newest.metadata.name]);
  });
});

/** An HTTPS server that takes requests and never answers: an API server stuck. */
async function silentApiServer(): Promise<{ server: string; caPem: string; requested: Promise<void>; close(): Promise<void> }> {
  const ca = await createCertificateAuthority('silent-api-ca');
  const serving = await issueCertificate(ca, { commonName: 'silent-api', ipAddresses: ['127.0.0.1'], usages: ['serverAuth'] });
  let onRequest: () => void = () => undefined;
  const requested = new Promise<void>((resolve) => { onRequest = resolve; });
  const server = https.createServer({ cert: serving.certificatePem, key: serving.privateKeyPem }, () => onRequest());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    caPem: ca.certificatePem,
    requested,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

describe('KubeletServingApprover.start and stop', () => {
  test('the loop survives a failed pass, approves on a later one, and stop() ends it: no request after', async () => {
    const request = await csr();
    const fake = await fakeApi(request);
    ec2.on(DescribeInstancesCommand).resolves(answer(instance()));
    fake.failNext('GET', COLLECTION, 500);
    const warnings: string[] = [];
    const controller = approver(fake.api, { intervalSeconds: 0.01, logger: { info: () => undefined, warn: (message) => warnings.push(message) } });
    const approval = fake.nextRequest('PUT');

    controller.start();
    controller.start(); // a second start is no second loop
    await approval;
    await controller.stop();
    const seen = fake.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(fake.requests.length).toBe(seen);
    expect(warnings).toContain('kubelet serving CSRs: pass failed, retried next interval');
    expect(conditionsOf(fake, request.metadata.name)).toEqual([expect.objectContaining({ type: 'Approved' })]);
  });
});

test('stop() ends a pass waiting on an API server that does not answer, by closing the client it made', async () => {
  const silent = await silentApiServer();
  const warnings: string[] = [];
  const controller = approver(new KubeApi({ server: silent.server, caPem: silent.caPem, token: 't' }), {
    api: { server: silent.server, caPem: silent.caPem, token: 't' },
    logger: { info: () => undefined, warn: (message) => warnings.push(message) },
  });
  try {
    controller.start();
    await silent.requested;
    await controller.stop();
    // The pass ended with the failed list (the closed client), not by outliving stop().
    expect(warnings).toEqual(['kubelet serving CSRs: pass failed, retried next interval']);
  } finally {
    await silent.close();
  }
});

describe('KubeletServingApprover options', () => {
  const api = new KubeApi({ server: 'https://127.0.0.1:1', caPem: '', token: 't' });
  afterAll(() => api.close());
  test.each<[Partial<KubeletServingApproverOptions>, RegExp]>([
    [{ clusterName: '' }, /clusterName: must not be empty/],
    [{ nodeInstanceProfileArns: [] }, /nodeInstanceProfileArns: must name at least one/],
    [{ nodeInstanceProfileArns: ['kube-1-35-worker'] }, /nodeInstanceProfileArns: must be arn:<partition>:iam::<account>:instance-profile\/<name>, got "kube-1-35-worker"/],
    [{ intervalSeconds: 0 }, /intervalSeconds: must be a positive number, got 0/],
    [{ ec2TimeoutMs: -1 }, /ec2TimeoutMs: must be a positive number, got -1/],
    [{ maxRequestsPerPass: 0 }, /maxRequestsPerPass: must be a positive integer, got 0/],
    [{ ec2: undefined, region: '' }, /region: must not be empty when no EC2 client is given/],
  ])('refuses %p', (override, message) => {
    expect(() => approver(api, override)).toThrow(message);
  });

  test('a plain http:// API server is refused by the client it builds', () => {
    expect(() => approver(api, { api: { server: 'http://127.0.0.1:6443', caPem: '', token: 't' } })).toThrow(/must be https:\/\//);
  });
});
