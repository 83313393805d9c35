/**
 * Private ECR pulls: the kubelet's exec credential provider. The in-tree ECR keyring left the
 * kubelet in 1.27, so an instance role with ECR read permissions alone pulls nothing; the
 * kubelet asks `ecr-credential-provider` (run on the host, with the instance role from IMDS)
 * for a registry token whenever an image matches one of the provider's matchImages.
 */
import { directory, file, MODE_EXECUTABLE, remoteFile } from './files';
import { NodeParts } from './ignition';
import { BIN_DIR, KUBERNETES_DIR } from './paths';
import { yaml } from './static-pod';
import { ECR_CREDENTIAL_PROVIDER } from './versions';

/** The kubelet execs `<bin dir>/<provider name>`: a directory that holds providers only. */
export const CREDENTIAL_PROVIDER_BIN_DIR = `${BIN_DIR}/credential-providers`;
export const CREDENTIAL_PROVIDER_CONFIG = `${KUBERNETES_DIR}/credential-providers.yaml`;
/** The provider's name is the executable's file name (CredentialProvider.name). */
export const ECR_PROVIDER_NAME = 'ecr-credential-provider';

/**
 * Private ECR registry hosts, `<account>.dkr.ecr[-fips].<region>.<AWS domain>`, as
 * cloud-provider-aws documents them (docs/credential_provider.md) plus FIPS endpoints, the
 * host forms the provider itself parses (cmd/ecr-credential-provider/main.go
 * ecrPrivateHostPattern at v1.31.7). Each glob matches exactly one DNS label and the label
 * count must be equal, so look-alike hosts such as `<account>.dkr.ecr.<region>.amazonaws.com.evil.example`
 * never receive an ECR token. ECR Public (public.ecr.aws) is left out: anonymous pulls work.
 */
export const ECR_MATCH_IMAGES: readonly string[] = [
  '*.dkr.ecr.*.amazonaws.com',
  '*.dkr.ecr.*.amazonaws.com.cn',
  '*.dkr.ecr-fips.*.amazonaws.com',
];

/**
 * ECR authorization tokens live 12 hours; the provider reports each token's own expiry, so
 * this default applies only to a reply without one.
 */
const DEFAULT_CACHE_DURATION = '12h';

/** The kubelet's CredentialProviderConfig (kubelet.config.k8s.io/v1, kubernetes/kubelet v0.35.1 config/v1/types.go). */
export function credentialProviderConfig(): Record<string, unknown> {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1',
    kind: 'CredentialProviderConfig',
    providers: [
      {
        name: ECR_PROVIDER_NAME,
        matchImages: ECR_MATCH_IMAGES,
        defaultCacheDuration: DEFAULT_CACHE_DURATION,
        apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
      },
    ],
  };
}

/** The kubelet flags that enable the providers (flags only: KubeletConfiguration has no such fields). */
export const CREDENTIAL_PROVIDER_FLAGS: readonly string[] = [
  `--image-credential-provider-config=${CREDENTIAL_PROVIDER_CONFIG}`,
  `--image-credential-provider-bin-dir=${CREDENTIAL_PROVIDER_BIN_DIR}`,
];

/** The provider binary (Ignition checks its sha256) and its config. */
export function imageCredentialProviderParts(): NodeParts {
  return {
    directories: [directory(CREDENTIAL_PROVIDER_BIN_DIR)],
    files: [
      remoteFile(`${CREDENTIAL_PROVIDER_BIN_DIR}/${ECR_PROVIDER_NAME}`, ECR_CREDENTIAL_PROVIDER.url, ECR_CREDENTIAL_PROVIDER.hash, {
        mode: MODE_EXECUTABLE,
      }),
      file(CREDENTIAL_PROVIDER_CONFIG, yaml(credentialProviderConfig())),
    ],
    units: [],
  };
}
