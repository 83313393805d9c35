import { ENCRYPTION_CONFIG_FILE } from '../../userdata/secret-names';
import { rotatedEncryptionConfig } from './encryption-config';
import { ClusterSecretsInput } from './inputs';
import {
  CertificateAndKeyPem,
  CertificateAuthority,
  createCertificateAuthority,
  generateRsaKeyPair,
  issueCertificate,
  loadCertificateAuthority,
} from './pki';
import { apiServerSans, etcdMemberSans } from './sans';
import { generateToken } from './tokens';

// Each bundle is the SecretString of one secret: keys are file names that a node writes
// (mode 0600) under its PKI directory, values are PEM or tokens. The key sets are a
// contract with user data: change them only together.

/**
 * A CA with its key, kept for the secrets Lambda only (no node role reads it), to sign the
 * leaves added or renewed later: `etcd-ca` (etcd members, the API server's etcd client) and
 * `front-proxy-ca` (the front-proxy client).
 */
export interface CaBundle {
  readonly 'ca.crt': string;
  readonly 'ca.key': string;
}

/** `etcd-member-<N>`: member N's server+peer certificate. */
export interface EtcdMemberBundle {
  readonly 'ca.crt': string;
  readonly 'member.crt': string;
  readonly 'member.key': string;
}

/** `apiserver-etcd-client`: the API server's client certificate for etcd. */
export interface ApiServerEtcdClientBundle {
  readonly 'etcd-ca.crt': string;
  readonly 'apiserver-etcd-client.crt': string;
  readonly 'apiserver-etcd-client.key': string;
}

/** `control-plane`: everything a master needs. */
export interface ControlPlaneBundle {
  readonly 'ca.crt': string;
  readonly 'ca.key': string;
  readonly 'apiserver.crt': string;
  readonly 'apiserver.key': string;
  readonly 'sa.key': string;
  readonly 'sa.pub': string;
  readonly 'front-proxy-ca.crt': string;
  readonly 'front-proxy-client.crt': string;
  readonly 'front-proxy-client.key': string;
  readonly 'admin-token': string;
  /** The API server's EncryptionConfiguration (`encryption-config.ts`); masters only. */
  readonly [ENCRYPTION_CONFIG_FILE]: string;
}

/** `worker`: what a worker needs (its credential is its instance role). */
export interface WorkerBundle {
  readonly 'ca.crt': string;
}

/** `admin`: what a human needs (get-api-token, kubeconfig). */
export interface AdminBundle {
  readonly 'ca.crt': string;
  readonly 'admin-token': string;
}

/** Common names: what the certificates call themselves (and what API server logs show). */
export const COMMON_NAMES = {
  etcdCa: 'etcd-ca',
  clusterCa: 'kubernetes',
  frontProxyCa: 'front-proxy-ca',
  apiServer: 'kube-apiserver',
  apiServerEtcdClient: 'kube-apiserver-etcd-client',
  frontProxyClient: 'front-proxy-client',
} as const;

type ClusterDns = Pick<ClusterSecretsInput, 'clusterName' | 'zoneName'>;

/** The control-plane bundle's front-proxy files: the CA certificate (which masters trust) and its client. */
export type FrontProxyFiles = Pick<ControlPlaneBundle, 'front-proxy-ca.crt' | 'front-proxy-client.crt' | 'front-proxy-client.key'>;

async function createCa(commonName: string): Promise<{ ca: CertificateAuthority; bundle: CaBundle }> {
  const ca = await createCertificateAuthority(commonName);
  return { ca, bundle: { 'ca.crt': ca.certificatePem, 'ca.key': ca.privateKeyPem } };
}

/** A new etcd CA. */
export function createEtcdCa(): Promise<{ ca: CertificateAuthority; bundle: CaBundle }> {
  return createCa(COMMON_NAMES.etcdCa);
}

/**
 * A new front-proxy CA. A CA of its own: the API server trusts any client certificate of
 * this CA to assert user headers, so it must not be the cluster CA (Kubernetes
 * aggregation-layer docs). Its key lives in the `front-proxy-ca` secret, not in the
 * control-plane bundle: masters never need to sign as it.
 */
export function createFrontProxyCa(): Promise<{ ca: CertificateAuthority; bundle: CaBundle }> {
  return createCa(COMMON_NAMES.frontProxyCa);
}

/** A CA back from its bundle. */
export function loadCaBundle(bundle: CaBundle): Promise<CertificateAuthority> {
  return loadCertificateAuthority({ certificatePem: bundle['ca.crt'], privateKeyPem: bundle['ca.key'] });
}

/**
 * Member `index`'s certificate: server and client (peer) auth, named as in {@link etcdMemberSans}.
 * Also what renewal.ts re-issues it with, so both issue the same certificate.
 */
export async function etcdMemberBundle(
  ca: CertificateAuthority,
  input: ClusterDns,
  index: number,
  now = new Date(),
): Promise<EtcdMemberBundle> {
  const sans = etcdMemberSans(input, index);
  const leaf = await issueCertificate(ca, {
    commonName: sans.dnsNames[0],
    ...sans,
    usages: ['serverAuth', 'clientAuth'],
  }, now);
  return { 'ca.crt': ca.certificatePem, 'member.crt': leaf.certificatePem, 'member.key': leaf.privateKeyPem };
}

/** The API server's etcd client certificate (also what renewal.ts re-issues it with). */
export async function apiServerEtcdClientBundle(ca: CertificateAuthority, now = new Date()): Promise<ApiServerEtcdClientBundle> {
  const leaf = await issueCertificate(ca, { commonName: COMMON_NAMES.apiServerEtcdClient, usages: ['clientAuth'] }, now);
  return {
    'etcd-ca.crt': ca.certificatePem,
    'apiserver-etcd-client.crt': leaf.certificatePem,
    'apiserver-etcd-client.key': leaf.privateKeyPem,
  };
}

/**
 * A complete new control plane: cluster CA, API server cert, the front-proxy chain of
 * `frontProxyCa` (whose key stays out of the bundle: {@link createFrontProxyCa}), SA keys,
 * tokens, and a new Secrets encryption key placed before the keys of
 * `previousEncryptionConfig` (the config of the control plane this one replaces, if any).
 */
export async function createControlPlaneBundle(
  input: ClusterSecretsInput,
  frontProxyCa: CertificateAuthority,
  previousEncryptionConfig?: string,
): Promise<ControlPlaneBundle> {
  const ca = await createCertificateAuthority(COMMON_NAMES.clusterCa);
  const apiServer = await issueApiServerCertificate(ca, input);
  const frontProxy = await frontProxyFiles(frontProxyCa);
  const serviceAccount = await generateRsaKeyPair();
  return {
    'ca.crt': ca.certificatePem,
    'ca.key': ca.privateKeyPem,
    'apiserver.crt': apiServer.certificatePem,
    'apiserver.key': apiServer.privateKeyPem,
    'sa.key': serviceAccount.privateKeyPem,
    'sa.pub': serviceAccount.publicKeyPem,
    ...frontProxy,
    'admin-token': generateToken(),
    [ENCRYPTION_CONFIG_FILE]: rotatedEncryptionConfig(previousEncryptionConfig),
  };
}

/**
 * The API server's serving certificate, named as in {@link apiServerSans}. Also what an
 * existing bundle's certificate is re-issued with when a release adds a name
 * (control-plane-upgrades.ts) or when it is renewed (renewal.ts), so every path issues the
 * same certificate.
 */
export function issueApiServerCertificate(
  ca: CertificateAuthority,
  input: ClusterSecretsInput,
  now = new Date(),
): Promise<CertificateAndKeyPem> {
  return issueCertificate(ca, { commonName: COMMON_NAMES.apiServer, ...apiServerSans(input), usages: ['serverAuth'] }, now);
}

/**
 * The API server's client certificate towards aggregated API servers. Also what renewal.ts
 * re-issues it with.
 */
export function issueFrontProxyClientCertificate(frontProxyCa: CertificateAuthority, now = new Date()): Promise<CertificateAndKeyPem> {
  return issueCertificate(frontProxyCa, { commonName: COMMON_NAMES.frontProxyClient, usages: ['clientAuth'] }, now);
}

/**
 * The front-proxy files of a control-plane bundle, of `frontProxyCa`: its certificate and a
 * new client. Also what an existing bundle's chain is replaced with when its CA's key was
 * never stored (control-plane-upgrades.ts).
 */
export async function frontProxyFiles(frontProxyCa: CertificateAuthority): Promise<FrontProxyFiles> {
  const client = await issueFrontProxyClientCertificate(frontProxyCa);
  return {
    'front-proxy-ca.crt': frontProxyCa.certificatePem,
    'front-proxy-client.crt': client.certificatePem,
    'front-proxy-client.key': client.privateKeyPem,
  };
}

/** The worker's share of the control plane. */
export function workerBundle(controlPlane: ControlPlaneBundle): WorkerBundle {
  return { 'ca.crt': controlPlane['ca.crt'] };
}

/** The admin's share of the control plane. */
export function adminBundle(controlPlane: ControlPlaneBundle): AdminBundle {
  return { 'ca.crt': controlPlane['ca.crt'], 'admin-token': controlPlane['admin-token'] };
}
