/**
 * Kubeconfig files as data. Credentials are never in them: the user's token is read from a
 * file (`tokenFile`) that fetch-secrets or a boot script writes on the node.
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
  /** File holding the bearer token, read by the client at start. */
  readonly tokenFile: string;
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
    users: [{ name: options.user, user: { tokenFile: options.tokenFile } }],
    contexts: [{ name: options.user, context: { cluster: options.cluster, user: options.user } }],
    'current-context': options.user,
  };
}

/** A kubeconfig file (0600: it names where the token is, and that is enough to keep it private). */
export function kubeconfigFile(path: string, options: KubeconfigOptions): IgnitionFile {
  return file(path, yaml(kubeconfig(options)), { mode: MODE_PRIVATE });
}
