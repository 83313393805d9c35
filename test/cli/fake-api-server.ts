import { mkdtempSync, writeFileSync } from 'node:fs';
import * as https from 'node:https';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { V1APIService, V1DaemonSet, V1Deployment, V1Node } from '@kubernetes/client-node';
import { createCertificateAuthority, issueCertificate } from '../../lib/secrets/pki';

// A fake Kubernetes API server over real HTTPS on 127.0.0.1 for `kube-aws validate` run as a
// child process: the few reads validate makes, answered from a script of cluster states, and
// a record of every request. Its CA goes to the child through NODE_EXTRA_CA_CERTS, as a public
// CA would be in the system trust store.

/** What the cluster looks like at one moment. */
export interface FakeClusterState {
  /** The answer to GET /readyz?verbose. */
  readonly readyz: { readonly status: number; readonly body: string };
  readonly nodes: readonly V1Node[];
  readonly daemonSets: readonly V1DaemonSet[];
  readonly deployments: readonly V1Deployment[];
  readonly apiServices: readonly V1APIService[];
  /** Accept no request: answer nothing, keep the connection open (a hung API server). */
  readonly hang?: boolean;
  /** Refuse every token: 401 with the Status the API server sends (its authenticator said no). */
  readonly unauthorized?: boolean;
}

/** A request as the fake received it. */
export interface ReceivedRequest {
  readonly path: string;
  readonly authorization?: string;
}

export interface FakeApiServer {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** A file with the CA's certificate, for NODE_EXTRA_CA_CERTS. */
  readonly caFile: string;
  readonly requests: ReceivedRequest[];
  close(): Promise<void>;
}

/** A serving certificate for 127.0.0.1 from a CA of its own, and the CA in a file for NODE_EXTRA_CA_CERTS. */
export async function fakeServingTls(name: string): Promise<{ tls: https.ServerOptions; caFile: string }> {
  const ca = await createCertificateAuthority(`${name}-ca`);
  const serving = await issueCertificate(ca, { commonName: name, ipAddresses: ['127.0.0.1'], usages: ['serverAuth'] });
  const caFile = path.join(mkdtempSync(path.join(tmpdir(), `${name}-`)), 'ca.crt');
  writeFileSync(caFile, ca.certificatePem);
  return { tls: { cert: serving.certificatePem, key: serving.privateKeyPem }, caFile };
}

/**
 * Serves `states`: the Nth request to a path gets the answer of state N (the last state once
 * past the end), so each round of validate, which reads every path once, sees the next state
 * whatever order its parallel reads arrive in.
 */
export async function startFakeApiServer(states: readonly FakeClusterState[]): Promise<FakeApiServer> {
  const { tls, caFile } = await fakeServingTls('fake-validate-api');
  const requests: ReceivedRequest[] = [];
  const served = new Map<string, number>();
  const server = https.createServer(tls, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    requests.push({ path: url.pathname, authorization: req.headers.authorization });
    const count = served.get(url.pathname) ?? 0;
    served.set(url.pathname, count + 1);
    const state = states[Math.min(count, states.length - 1)];
    if (state.hang) return; // never answered: the client's timeout must end it
    const answer = state.unauthorized ? status(401, 'Unauthorized', 'Unauthorized') : route(state, url);
    res.writeHead(answer.status, { 'content-type': answer.status === 200 && url.pathname === '/readyz' ? 'text/plain' : 'application/json' });
    res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    caFile,
    requests,
    close: () => {
      server.closeAllConnections(); // hung requests included
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function route(state: FakeClusterState, url: URL): { status: number; body: unknown } {
  const p = url.pathname;
  if (p === '/readyz') return state.readyz;
  if (p === '/api/v1/nodes') return list('NodeList', 'v1', state.nodes);
  const workloads = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/(daemonsets|deployments)$/.exec(p);
  if (workloads) {
    const [, namespace, resource] = workloads;
    const items: readonly { metadata?: { namespace?: string } }[] = resource === 'daemonsets' ? state.daemonSets : state.deployments;
    return list(resource === 'daemonsets' ? 'DaemonSetList' : 'DeploymentList', 'apps/v1', items.filter((o) => o.metadata?.namespace === namespace));
  }
  const apiService = /^\/apis\/apiregistration\.k8s\.io\/v1\/apiservices\/([^/]+)$/.exec(p);
  if (apiService) {
    const found = state.apiServices.find((s) => s.metadata?.name === apiService[1]);
    return found ? { status: 200, body: found } : status(404, 'NotFound', `apiservices.apiregistration.k8s.io "${apiService[1]}" not found`);
  }
  return status(404, 'NotFound', `the server could not find the requested resource (${p})`);
}

function list(kind: string, apiVersion: string, items: readonly unknown[]): { status: number; body: unknown } {
  return { status: 200, body: { kind, apiVersion, metadata: { resourceVersion: '1' }, items } };
}

/** A failure Status as the API server sends it (kubernetes/apimachinery metav1.Status). */
function status(code: number, reason: string, message: string): { status: number; body: unknown } {
  return { status: code, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code } };
}
