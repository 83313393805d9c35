/**
 * Kubeconfig files as data. Credentials are never in them: the user's token is read from a
 * file (`tokenFile`) that a boot script writes on the node, or made on demand by an exec
 * credential plugin (`exec`).
 */
import { file, MODE_PRIVATE } from './files';
import { IgnitionFile } from './ignition';
import { yaml } from './static-pod';

export interface KubeconfigOptions {
  /** Cluster entry name. */
  readonly cluster: string;
  /** API server URL. */
  readonly server: string;
  /** CA bundle to check the server with. @default the system trust store (public certificates) */
  readonly certificateAuthority?: string;
  /** User entry name. */
  readonly user: string;
  /** How the user signs in: a file holding a bearer token, or an exec credential plugin. */
  readonly credential: KubeconfigCredential;
}

/** A kubeconfig user's credential: a token file written at boot, or a plugin run on demand. */
export type KubeconfigCredential = { readonly tokenFile: string } | { readonly exec: Record<string, unknown> };

/**
 * The exec credential plugin that signs in with an AWS identity: `aws eks get-token` presigns
 * an STS GetCallerIdentity request for `clusterGroup` (aws-iam-authenticator's token format,
 * which the auth webhook verifies; no EKS cluster is involved). Its output is an
 * ExecCredential of client.authentication.k8s.io/v1beta1 unless the KUBERNETES_EXEC_INFO
 * environment variable asks for another version (aws-cli 2.x
 * awscli/customizations/eks/get_token.py), so the entry asks for v1beta1: the nodes' CLI runs
 * in a container that does not see that variable.
 */
export function awsGetTokenExec(command: string, clusterGroup: string, region: string): Record<string, unknown> {
  return {
    apiVersion: 'client.authentication.k8s.io/v1beta1',
    command,
    // The cluster group, not the bare name: the webhook wants a token signed for this cluster
    // in this account and region, so one made for a namesake elsewhere is refused.
    args: ['eks', 'get-token', '--cluster-name', clusterGroup, '--region', region, '--output', 'json'],
    interactiveMode: 'Never',
  };
}

export function kubeconfig(options: KubeconfigOptions): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: options.cluster,
        cluster: {
          server: options.server,
          ...(options.certificateAuthority ? { 'certificate-authority': options.certificateAuthority } : {}),
        },
      },
    ],
    users: [{ name: options.user, user: { ...options.credential } }],
    contexts: [{ name: options.user, context: { cluster: options.cluster, user: options.user } }],
    'current-context': options.user,
  };
}

/** A kubeconfig file (0600: it names where the credential comes from, and that is enough to keep it private). */
export function kubeconfigFile(path: string, options: KubeconfigOptions): IgnitionFile {
  return file(path, yaml(kubeconfig(options)), { mode: MODE_PRIVATE });
}
