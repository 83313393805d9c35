/**
 * The API server's admission: Pod Security Standards enforced through the admission
 * configuration file, DenyServiceExternalIPs and NodeRestriction on, privileged pods allowed
 * only because (and only where) a pod of ours needs them.
 *
 * Upstream: kubernetes/pod-security-admission v0.35.1 admission/api/v1/defaults.go
 * (SetDefaults_PodSecurityDefaults: a level left empty becomes `privileged`, a version
 * `latest`; load/load.go LoadFromData: no configuration at all is the defaulted empty one,
 * i.e. privileged everywhere), admission/admission.go (exemptNamespace short-circuits pods
 * in an exempt namespace before any label is read). kubernetes/kubernetes
 * plugin/pkg/admission/security/podsecurity/admission.go (PluginName "PodSecurity", read
 * from the AdmissionConfiguration) and plugin/pkg/admission/network/denyserviceexternalips
 * (PluginName "DenyServiceExternalIPs"; refuses new spec.externalIPs on Services) as stored
 * in the index (the v1.35.1 tag itself is not stored; the names are the same in every stored
 * version from v1.21 on), and pkg/kubeapiserver/options/plugins.go (PodSecurity default-on;
 * NodeRestriction and DenyServiceExternalIPs default-off).
 */
import { load } from 'js-yaml';
import { ADMISSION_CONFIGURATION, ENABLED_ADMISSION_PLUGINS, POD_SECURITY_CONFIGURATION } from '../../userdata/apiserver-admission';
import { ADMISSION_CONFIG, masterConfig } from '../../userdata/master';
import { ADDONS } from '../../manifests/addons/registry';
import { rendered } from '../manifests/addons/addon-fixtures';
import { workerConfig } from '../../userdata/worker';
import { fileText } from './config-files';
import { masterInput, workerInput } from './fixtures';
import { hostMounts, staticPod, staticPods } from './static-pod-manifests';
import { ADMISSION_CONFIGURATION_V1, POD_SECURITY_CONFIGURATION_V1, schemaErrors } from './upstream-schemas';

const config = masterConfig(masterInput);
const apiServer = staticPod(config, 'kube-apiserver');
const command = apiServer.spec.containers[0].command;
const flag = (name: string) => command.find((f) => f.startsWith(`--${name}=`))?.slice(name.length + 3);

interface PodSecurityFile {
  defaults?: Record<string, string>;
  exemptions?: { usernames?: string[]; namespaces?: string[]; runtimeClasses?: string[] };
}

/** The levels Pod Security admission applies to an unlabelled namespace, after upstream's defaulting. */
function effectiveDefaults(podSecurity: PodSecurityFile | undefined): Record<string, string> {
  const d = podSecurity?.defaults ?? {};
  return {
    enforce: d.enforce || 'privileged',
    'enforce-version': d['enforce-version'] || 'latest',
    audit: d.audit || 'privileged',
    'audit-version': d['audit-version'] || 'latest',
    warn: d.warn || 'privileged',
    'warn-version': d['warn-version'] || 'latest',
  };
}

/** The PodSecurity configuration the API server reads, or undefined when it reads none (the old config). */
function podSecurityOf(apiServerFlag: string | undefined): PodSecurityFile | undefined {
  if (!apiServerFlag) return undefined;
  const admission = load(fileText(config, apiServerFlag)) as { plugins: { name: string; configuration: PodSecurityFile }[] };
  return admission.plugins.find((p) => p.name === 'PodSecurity')?.configuration;
}

describe('Pod Security admission', () => {
  test('unconfigured, it would enforce privileged (what the masters had before)', () => {
    expect(effectiveDefaults(undefined)).toMatchObject({ enforce: 'privileged', audit: 'privileged', warn: 'privileged' });
  });

  test('the API server reads an admission configuration that enforces baseline and warns and audits restricted, at the release it runs', () => {
    const podSecurity = podSecurityOf(flag('admission-control-config-file'));
    expect(effectiveDefaults(podSecurity)).toEqual({
      enforce: 'baseline',
      'enforce-version': 'latest',
      audit: 'restricted',
      'audit-version': 'latest',
      warn: 'restricted',
      'warn-version': 'latest',
    });
  });

  test('only kube-system is exempt: no user, no runtime class, no other namespace', () => {
    const podSecurity = podSecurityOf(flag('admission-control-config-file'));
    expect(podSecurity?.exemptions?.namespaces).toEqual(['kube-system']);
    expect(podSecurity?.exemptions?.usernames ?? []).toEqual([]);
    expect(podSecurity?.exemptions?.runtimeClasses ?? []).toEqual([]);
  });

  test('the file is the one rendered from apiserver-admission.ts, mounted read-only, and schema-valid for v0.35.1', () => {
    expect(flag('admission-control-config-file')).toBe(ADMISSION_CONFIG);
    expect(load(fileText(config, ADMISSION_CONFIG))).toEqual(ADMISSION_CONFIGURATION);
    expect(hostMounts(apiServer)).toContainEqual({ path: ADMISSION_CONFIG, readOnly: true });
    expect(schemaErrors(ADMISSION_CONFIGURATION, ADMISSION_CONFIGURATION_V1)).toEqual([]);
    expect(schemaErrors(POD_SECURITY_CONFIGURATION, POD_SECURITY_CONFIGURATION_V1)).toEqual([]);
  });

  test('PodSecurity is not disabled', () => {
    expect(flag('disable-admission-plugins') ?? '').not.toMatch(/PodSecurity/);
  });

  test('the schema check refuses what the API server would refuse at start', () => {
    const withDefaults = (defaults: Record<string, string>) => ({ ...POD_SECURITY_CONFIGURATION, defaults: { ...POD_SECURITY_CONFIGURATION.defaults, ...defaults } });
    expect(schemaErrors(withDefaults({ enforce: 'strict' }), POD_SECURITY_CONFIGURATION_V1)).toEqual([expect.stringMatching(/defaults\.enforce: must be one of privileged, baseline, restricted/)]);
    // A patch version is not a policy version: only "latest" or "v1.<minor>".
    expect(schemaErrors(withDefaults({ 'enforce-version': 'v1.35.1' }), POD_SECURITY_CONFIGURATION_V1)).toEqual([expect.stringMatching(/enforce-version: 'v1\.35\.1' is not/)]);
    expect(schemaErrors({ ...POD_SECURITY_CONFIGURATION, exemptions: { namespaces: ['kube-system', 'kube-system'] } }, POD_SECURITY_CONFIGURATION_V1)).toEqual([
      expect.stringMatching(/namespaces\[1\]: duplicate/),
    ]);
    expect(schemaErrors({ ...ADMISSION_CONFIGURATION, plugins: [{ name: 'PodSecurity', config: {} }] }, ADMISSION_CONFIGURATION_V1)).toEqual([expect.stringMatching(/plugins\[0\]\.config: unknown field/)]);
  });
});

describe('other admission plugins', () => {
  test('NodeRestriction and DenyServiceExternalIPs (CVE-2020-8554) are enabled', () => {
    expect(flag('enable-admission-plugins')?.split(',')).toEqual(expect.arrayContaining(['NodeRestriction', 'DenyServiceExternalIPs']));
    expect(ENABLED_ADMISSION_PLUGINS).toEqual(['NodeRestriction', 'DenyServiceExternalIPs']);
  });
});

describe('privileged pods', () => {
  // Static pods and the add-ons' pods: everything of ours that runs in the cluster.
  const pods = [
    ...staticPods(config),
    ...staticPods(workerConfig(workerInput)),
    ...ADDONS.flatMap((addon) => rendered(addon)).filter((o) => ['DaemonSet', 'Deployment', 'StatefulSet'].includes(o.kind))
      .map((o) => ({ metadata: { name: `${o.kind}/${o.metadata.name}`, namespace: o.metadata.namespace }, spec: o.spec.template.spec })),
  ];
  const privileged = pods.filter((p) => [...(p.spec.initContainers ?? []), ...p.spec.containers].some((c: { securityContext?: { privileged?: boolean } }) => c.securityContext?.privileged === true));

  test('--allow-privileged=true exactly when a pod of ours runs privileged (kube-proxy today)', () => {
    expect(privileged.map((p) => p.metadata.name)).toContain('DaemonSet/kube-proxy');
    expect(flag('allow-privileged')).toBe(String(privileged.length > 0));
  });

  test('every privileged pod of ours is in a namespace Pod Security exempts', () => {
    const exempt: string[] = POD_SECURITY_CONFIGURATION.exemptions.namespaces;
    for (const pod of privileged) expect({ pod: pod.metadata.name, exempt: exempt.includes(pod.metadata.namespace) }).toEqual({ pod: pod.metadata.name, exempt: true });
  });
});
