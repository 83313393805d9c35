/**
 * Private ECR pulls: the kubelet's credential provider config is one the 1.35 kubelet accepts,
 * its globs match ECR registries and nothing else, the kubelet is told where both are, and the
 * provider binary is the pinned release checked by sha256.
 */
import { load } from 'js-yaml';
import {
  CREDENTIAL_PROVIDER_BIN_DIR,
  CREDENTIAL_PROVIDER_CONFIG,
  credentialProviderConfig,
  ECR_MATCH_IMAGES,
  ECR_PROVIDER_NAME,
} from '../../userdata/image-credential-provider';
import { IgnitionConfig } from '../../userdata/ignition';
import { masterConfig } from '../../userdata/master';
import { ECR_CREDENTIAL_PROVIDER } from '../../userdata/versions';
import { workerConfig } from '../../userdata/worker';
import { fileText, findFile, unitText } from './config-files';
import { masterInput, workerInput } from './fixtures';

/**
 * Field names of kubelet.config.k8s.io/v1 CredentialProviderConfig and CredentialProvider
 * (json tags in kubernetes/kubelet v0.35.1 config/v1/types.go). The kubelet decodes the file
 * strictly (pkg/credentialprovider/plugin/plugin.go: serializer.EnableStrict), so an unknown
 * field is an error, not a silent no-op.
 */
const CONFIG_FIELDS = ['apiVersion', 'kind', 'providers'];
const PROVIDER_FIELDS = ['name', 'matchImages', 'defaultCacheDuration', 'apiVersion', 'args', 'env', 'tokenAttributes'];
/** The exec API versions the 1.35 kubelet speaks (pkg/credentialprovider/plugin/plugin.go apiVersions). */
const PROVIDER_API_VERSIONS = ['credentialprovider.kubelet.k8s.io/v1alpha1', 'credentialprovider.kubelet.k8s.io/v1beta1', 'credentialprovider.kubelet.k8s.io/v1'];
/** Go's time.ParseDuration syntax (metav1.Duration). */
const GO_DURATION = /^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$/;

/**
 * The kubelet's checks, rule for rule, from kubernetes/kubernetes pkg/credentialprovider/plugin/
 * config.go (decode: kind and group; validateCredentialProviderConfig: at least one provider;
 * name without '/' or ' ', not '.' or '..', unique; apiVersion required and supported;
 * matchImages non-empty and each parses as a schemeless URL; defaultCacheDuration required and
 * >= 0; tokenAttributes needs a feature gate we do not set), plus strict decoding.
 */
function kubeletValidationErrors(config: any): string[] {
  const errors: string[] = [];
  for (const key of Object.keys(config)) if (!CONFIG_FIELDS.includes(key)) errors.push(`unknown field ${key}`);
  if (config.kind !== 'CredentialProviderConfig') errors.push(`wrong kind ${config.kind}`);
  if (config.apiVersion?.split('/')[0] !== 'kubelet.config.k8s.io') errors.push(`unexpected group in ${config.apiVersion}`);
  const providers: any[] = config.providers ?? [];
  if (providers.length === 0) errors.push('providers: at least 1 item is required');
  const seen = new Set<string>();
  providers.forEach((p, i) => {
    const at = `providers[${i}]`;
    for (const key of Object.keys(p)) if (!PROVIDER_FIELDS.includes(key)) errors.push(`${at}: unknown field ${key}`);
    if (typeof p.name !== 'string' || p.name.includes('/') || p.name.includes(' ') || p.name === '.' || p.name === '..') errors.push(`${at}.name: invalid '${p.name}'`);
    if (seen.has(p.name)) errors.push(`${at}.name: duplicate '${p.name}'`);
    seen.add(p.name);
    if (!PROVIDER_API_VERSIONS.includes(p.apiVersion)) errors.push(`${at}.apiVersion: not supported '${p.apiVersion}'`);
    if (!Array.isArray(p.matchImages) || p.matchImages.length === 0) errors.push(`${at}.matchImages: at least 1 item is required`);
    for (const m of p.matchImages ?? []) {
      try {
        new URL(`https://${m}`);
      } catch {
        errors.push(`${at}.matchImages: invalid '${m}'`);
      }
    }
    if (p.defaultCacheDuration === undefined) errors.push(`${at}.defaultCacheDuration: required`);
    else if (!GO_DURATION.test(String(p.defaultCacheDuration))) errors.push(`${at}.defaultCacheDuration: not a non-negative duration '${p.defaultCacheDuration}'`);
    if (p.tokenAttributes !== undefined) errors.push(`${at}.tokenAttributes: needs the KubeletServiceAccountTokenForCredentialProviders feature gate`);
  });
  return errors;
}

/**
 * Whether a matchImages glob matches an image, as the kubelet decides it (kubernetes/kubernetes
 * pkg/credentialprovider/keyring.go URLsMatch): same port, the same number of host labels, each
 * label matched by filepath.Match (only `*` is used here), and the glob's path a prefix of the
 * image's path.
 */
function globMatches(glob: string, image: string): boolean {
  if (/[[\\]/.test(glob)) throw new Error(`glob '${glob}' uses syntax this model does not cover`);
  const g = new URL(`https://${glob}`);
  const t = new URL(`https://${image}`);
  if (g.port !== t.port) return false;
  const gl = g.hostname.split('.');
  const tl = t.hostname.split('.');
  if (gl.length !== tl.length || !t.pathname.startsWith(g.pathname)) return false;
  return gl.every((label, i) => new RegExp(`^${label.replace(/[.+^${}()|]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`).test(tl[i]));
}

const matchedBy = (image: string) => ECR_MATCH_IMAGES.filter((glob) => globMatches(glob, image));

describe('ECR credential provider', () => {
  test('its config passes the 1.35 kubelet validation, rule for rule', () => {
    expect(kubeletValidationErrors(credentialProviderConfig())).toEqual([]);
    // The provider answers only credentialprovider.kubelet.k8s.io/v1 requests
    // (kubernetes/cloud-provider-aws v1.31.7 cmd/ecr-credential-provider/plugin.go).
    expect((credentialProviderConfig().providers as any[]).map((p) => p.apiVersion)).toEqual(['credentialprovider.kubelet.k8s.io/v1']);
  });

  test('the validation model rejects what the kubelet rejects (it is not a no-op)', () => {
    const provider = (credentialProviderConfig().providers as any[])[0];
    const broken = (change: Record<string, unknown>) => kubeletValidationErrors({ ...credentialProviderConfig(), providers: [{ ...provider, ...change }] });
    expect(broken({ defaultCacheDuration: undefined })).toEqual(['providers[0].defaultCacheDuration: required']);
    expect(broken({ defaultCacheDuration: '-1h' })).toHaveLength(1);
    expect(broken({ apiVersion: 'credentialprovider.kubelet.k8s.io/v2' })).toHaveLength(1);
    expect(broken({ name: 'bin/ecr' })).toHaveLength(1);
    expect(broken({ matchImages: [] })).toHaveLength(1);
    expect(broken({ cacheDuration: '1h' })).toEqual(['providers[0]: unknown field cacheDuration']);
    expect(kubeletValidationErrors({ ...credentialProviderConfig(), providers: [provider, provider] })).toEqual(["providers[1].name: duplicate 'ecr-credential-provider'"]);
  });

  test('matches private ECR registries (commercial, China, FIPS) and no look-alike', () => {
    for (const image of [
      '123456789012.dkr.ecr.eu-central-1.amazonaws.com/team/app:1.0',
      '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app@sha256:abc',
      '123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/app:1',
    ]) {
      expect({ image, matched: matchedBy(image).length > 0 }).toEqual({ image, matched: true });
    }
    // An ECR token is good for every repository the node role can read: it must never go to a
    // host that merely looks like ECR, nor to public registries (anonymous pulls).
    for (const image of [
      '123456789012.dkr.ecr.eu-central-1.amazonaws.com.evil.example/app:1',
      'evil.example/123456789012.dkr.ecr.eu-central-1.amazonaws.com/app:1',
      'dkr.ecr.eu-central-1.amazonaws.com/app:1',
      '123456789012.dkr.ecr.eu-central-1.amazonaws.com:8443/app:1',
      'public.ecr.aws/aws-cli/aws-cli:2.31.23',
      'registry.k8s.io/kube-proxy:v1.35.1',
    ]) {
      expect({ image, matchedBy: matchedBy(image) }).toEqual({ image, matchedBy: [] });
    }
  });

  describe.each<[string, () => IgnitionConfig]>([
    ['worker', () => workerConfig(workerInput)],
    ['master', () => masterConfig(masterInput)],
  ])('on a %s', (_, render) => {
    const config = render();

    test('the kubelet gets the config file and the directory holding the provider binary', () => {
      const kubelet = unitText(config, 'kubelet.service');
      expect(kubelet).toContain(` --image-credential-provider-config=${CREDENTIAL_PROVIDER_CONFIG}`);
      expect(kubelet).toContain(` --image-credential-provider-bin-dir=${CREDENTIAL_PROVIDER_BIN_DIR}`);
      // The kubelet execs <bin dir>/<provider name>: that file exists, and the written config is ours.
      const providers = (load(fileText(config, CREDENTIAL_PROVIDER_CONFIG)) as any).providers;
      expect(providers.map((p: any) => `${CREDENTIAL_PROVIDER_BIN_DIR}/${p.name}`)).toEqual([`${CREDENTIAL_PROVIDER_BIN_DIR}/${ECR_PROVIDER_NAME}`]);
      expect(kubeletValidationErrors(load(fileText(config, CREDENTIAL_PROVIDER_CONFIG)))).toEqual([]);
    });

    test('the provider binary is the pinned release, checked by sha256 before it is written', () => {
      const binary = findFile(config, `${CREDENTIAL_PROVIDER_BIN_DIR}/${ECR_PROVIDER_NAME}`);
      expect(binary.contents).toEqual({ source: ECR_CREDENTIAL_PROVIDER.url, verification: { hash: ECR_CREDENTIAL_PROVIDER.hash } });
      expect(binary.mode).toBe(0o755);
      expect(binary.user).toEqual({ name: 'root' });
    });
  });

  test('the pin is a release of the cited checksum list, on the official artifact host', () => {
    // versions.ts cites kOps' assetdata/ecr.yaml and the k8s.io promotion manifest for v1.31.7.
    expect(ECR_CREDENTIAL_PROVIDER.url).toBe('https://artifacts.k8s.io/binaries/cloud-provider-aws/v1.31.7/linux/amd64/ecr-credential-provider-linux-amd64');
    expect(ECR_CREDENTIAL_PROVIDER.hash).toMatch(/^sha256-[0-9a-f]{64}$/);
  });
});
