/**
 * Strict schemas of the Kubernetes config files the masters get, written down from the
 * upstream Go types and validation at the pinned release (each schema cites its source), and
 * a checker that reports every unknown field, wrong type or disallowed value with its path.
 *
 * Why strict: the API server decodes AdmissionConfiguration and the PodSecurity configuration
 * strictly (an unknown field stops it), but an audit policy with an unknown field is decoded
 * leniently with only a log warning (kubernetes/apiserver v0.35.1 pkg/audit/policy/reader.go,
 * LoadPolicyFromBytes): a misspelt rule field would silently widen the rule. So every field is
 * checked here, not only where upstream would fail.
 */

export type Schema =
  | { readonly type: 'const'; readonly value: string }
  | { readonly type: 'string'; readonly oneOf?: readonly string[]; readonly pattern?: RegExp; readonly rule?: string }
  | { readonly type: 'boolean' }
  | { readonly type: 'number' }
  | { readonly type: 'array'; readonly items: Schema; readonly unique?: boolean }
  | {
      readonly type: 'object';
      readonly fields: Readonly<Record<string, Schema>>;
      readonly required?: readonly string[];
      /** A cross-field rule; returns an error message or undefined. */
      readonly check?: (value: Record<string, unknown>) => string | undefined;
    }
  /** Valid upstream, but not modelled here: using it is an error until the schema grows. */
  | { readonly type: 'unmodelled' };

/** Every problem of `value` against `schema`, as `path: message`; empty when valid. */
export function schemaErrors(value: unknown, schema: Schema, path = '$'): string[] {
  switch (schema.type) {
    case 'const':
      return value === schema.value ? [] : [`${path}: must be '${schema.value}', got ${JSON.stringify(value)}`];
    case 'string': {
      if (typeof value !== 'string') return [`${path}: must be a string, got ${JSON.stringify(value)}`];
      if (schema.oneOf && !schema.oneOf.includes(value)) return [`${path}: must be one of ${schema.oneOf.join(', ')}, got '${value}'`];
      if (schema.pattern && !schema.pattern.test(value)) return [`${path}: '${value}' is not ${schema.rule ?? schema.pattern}`];
      return [];
    }
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${path}: must be a boolean, got ${JSON.stringify(value)}`];
    case 'number':
      return typeof value === 'number' ? [] : [`${path}: must be a number, got ${JSON.stringify(value)}`];
    case 'array': {
      if (!Array.isArray(value)) return [`${path}: must be a list, got ${JSON.stringify(value)}`];
      const errors = value.flatMap((item, i) => schemaErrors(item, schema.items, `${path}[${i}]`));
      if (schema.unique) {
        value.forEach((item, i) => {
          if (value.indexOf(item) !== i) errors.push(`${path}[${i}]: duplicate '${String(item)}'`);
        });
      }
      return errors;
    }
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: must be an object, got ${JSON.stringify(value)}`];
      const record = value as Record<string, unknown>;
      const errors: string[] = [];
      for (const [key, field] of Object.entries(record)) {
        const fieldSchema = schema.fields[key];
        if (!fieldSchema) errors.push(`${path}.${key}: unknown field (known: ${Object.keys(schema.fields).join(', ')})`);
        else errors.push(...schemaErrors(field, fieldSchema, `${path}.${key}`));
      }
      for (const key of schema.required ?? []) {
        if (!(key in record)) errors.push(`${path}.${key}: required`);
      }
      const crossField = schema.check?.(record);
      if (crossField) errors.push(`${path}: ${crossField}`);
      return errors;
    }
    case 'unmodelled':
      return [`${path}: valid upstream but not modelled in test/userdata/upstream-schemas.ts; add it there before using it`];
  }
}

const strings: Schema = { type: 'array', items: { type: 'string' } };
/** RFC 1123 label (apimachinery IsDNS1123Label): namespace names. */
const DNS_LABEL: Schema = { type: 'string', pattern: /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, rule: 'an RFC 1123 label' };
/** RFC 1123 subdomain (apimachinery IsDNS1123Subdomain): API groups, runtime class names. */
const DNS_SUBDOMAIN: Schema = {
  type: 'string',
  pattern: /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
  rule: 'an RFC 1123 subdomain',
};

/**
 * pod-security.admission.config.k8s.io/v1 PodSecurityConfiguration.
 * Fields: kubernetes/pod-security-admission v0.35.1 admission/api/v1/types.go (json tags).
 * Values: admission/api/validation/validation.go ValidatePodSecurityConfiguration, using
 * api/helpers.go ParseLevel (privileged, baseline, restricted) and ParseVersion ("latest" or
 * "v1.<minor>"); namespaces must be valid namespace names, runtime classes DNS subdomains,
 * usernames non-empty, each list without duplicates.
 */
const LEVEL: Schema = { type: 'string', oneOf: ['privileged', 'baseline', 'restricted'] };
const VERSION: Schema = { type: 'string', pattern: /^(latest|v1\.(0|[1-9][0-9]*))$/, rule: "'latest' or 'v1.<minor>'" };
export const POD_SECURITY_CONFIGURATION_V1: Schema = {
  type: 'object',
  required: ['apiVersion', 'kind'],
  fields: {
    apiVersion: { type: 'const', value: 'pod-security.admission.config.k8s.io/v1' },
    kind: { type: 'const', value: 'PodSecurityConfiguration' },
    defaults: {
      type: 'object',
      fields: { enforce: LEVEL, 'enforce-version': VERSION, audit: LEVEL, 'audit-version': VERSION, warn: LEVEL, 'warn-version': VERSION },
    },
    exemptions: {
      type: 'object',
      fields: {
        usernames: { type: 'array', items: { type: 'string', pattern: /./, rule: 'a non-empty user name' }, unique: true },
        namespaces: { type: 'array', items: DNS_LABEL, unique: true },
        runtimeClasses: { type: 'array', items: DNS_SUBDOMAIN, unique: true },
      },
    },
  },
};

/**
 * apiserver.config.k8s.io/v1 AdmissionConfiguration: kubernetes/apiserver v0.35.1
 * pkg/apis/apiserver/v1/types.go (plugins[].name, path, configuration), decoded strictly by
 * pkg/admission/config.go ReadAdmissionConfiguration. The embedded configuration is checked
 * with the schema of the plugin it configures (only PodSecurity is modelled).
 */
export const ADMISSION_CONFIGURATION_V1: Schema = {
  type: 'object',
  required: ['apiVersion', 'kind'],
  fields: {
    apiVersion: { type: 'const', value: 'apiserver.config.k8s.io/v1' },
    kind: { type: 'const', value: 'AdmissionConfiguration' },
    plugins: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name'],
        fields: { name: { type: 'const', value: 'PodSecurity' }, path: { type: 'string', pattern: /^\//, rule: 'an absolute path' }, configuration: POD_SECURITY_CONFIGURATION_V1 },
      },
    },
  },
};

/**
 * audit.k8s.io/v1 Policy: fields from kubernetes/apiserver v0.35.1 pkg/apis/audit/v1/types.go
 * (Policy, PolicyRule, GroupResources); values from pkg/apis/audit/validation/validation.go
 * ValidatePolicy: levels None/Metadata/Request/RequestResponse, the four stages, non-resource
 * URLs '*' or starting with '/' with '*' only as the last character, API groups DNS
 * subdomains, resourceNames only with resources, and no rule for both resources and
 * non-resource URLs; reader.go refuses a policy with no rules.
 */
const STAGES: Schema = { type: 'array', items: { type: 'string', oneOf: ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'] } };
const NON_RESOURCE_URL: Schema = { type: 'string', pattern: /^(\*|\/[^*]*\*?)$/, rule: "'*' or a path starting with '/' whose only '*' is the last character" };
const GROUP_RESOURCES: Schema = {
  type: 'object',
  fields: {
    group: { type: 'string', pattern: /^$|^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, rule: "'' (core) or an RFC 1123 subdomain" },
    resources: strings,
    resourceNames: strings,
  },
  check: (g) => (Array.isArray(g.resourceNames) && g.resourceNames.length > 0 && !(Array.isArray(g.resources) && g.resources.length > 0) ? 'resourceNames needs at least one resource' : undefined),
};
export const AUDIT_POLICY_V1: Schema = {
  type: 'object',
  required: ['apiVersion', 'kind', 'rules'],
  fields: {
    apiVersion: { type: 'const', value: 'audit.k8s.io/v1' },
    kind: { type: 'const', value: 'Policy' },
    metadata: { type: 'unmodelled' },
    omitStages: STAGES,
    omitManagedFields: { type: 'boolean' },
    rules: {
      type: 'array',
      items: {
        type: 'object',
        required: ['level'],
        fields: {
          level: { type: 'string', oneOf: ['None', 'Metadata', 'Request', 'RequestResponse'] },
          users: strings,
          userGroups: strings,
          verbs: strings,
          resources: { type: 'array', items: GROUP_RESOURCES },
          namespaces: strings,
          nonResourceURLs: { type: 'array', items: NON_RESOURCE_URL },
          omitStages: STAGES,
          omitManagedFields: { type: 'boolean' },
        },
        check: (r) =>
          Array.isArray(r.nonResourceURLs) && r.nonResourceURLs.length > 0 && ((Array.isArray(r.resources) && r.resources.length > 0) || (Array.isArray(r.namespaces) && r.namespaces.length > 0))
            ? 'a rule cannot apply to both resources and non-resource URLs'
            : undefined,
      },
    },
  },
  check: (p) => (Array.isArray(p.rules) && p.rules.length > 0 ? undefined : 'a policy needs at least one rule'),
};

/**
 * kubescheduler.config.k8s.io/v1 KubeSchedulerConfiguration: kubernetes/kube-scheduler
 * v0.35.1 config/v1/types.go; leaderElection, clientConnection and the inlined
 * enableProfiling/enableContentionProfiling from kubernetes/component-base v0.35.1
 * config/v1alpha1/types.go (LeaderElectionConfiguration, ClientConnectionConfiguration,
 * DebuggingConfiguration). Durations are strings such as "15s"; profiles and extenders
 * are not modelled (we use the default profile).
 */
export const KUBE_SCHEDULER_CONFIGURATION_V1: Schema = {
  type: 'object',
  required: ['apiVersion', 'kind'],
  fields: {
    apiVersion: { type: 'const', value: 'kubescheduler.config.k8s.io/v1' },
    kind: { type: 'const', value: 'KubeSchedulerConfiguration' },
    parallelism: { type: 'number' },
    leaderElection: {
      type: 'object',
      fields: {
        leaderElect: { type: 'boolean' },
        leaseDuration: { type: 'string' },
        renewDeadline: { type: 'string' },
        retryPeriod: { type: 'string' },
        resourceLock: { type: 'string' },
        resourceName: { type: 'string' },
        resourceNamespace: { type: 'string' },
      },
    },
    clientConnection: {
      type: 'object',
      fields: {
        kubeconfig: { type: 'string', pattern: /^\//, rule: 'an absolute path' },
        acceptContentTypes: { type: 'string' },
        contentType: { type: 'string' },
        qps: { type: 'number' },
        burst: { type: 'number' },
      },
    },
    enableProfiling: { type: 'boolean' },
    enableContentionProfiling: { type: 'boolean' },
    percentageOfNodesToScore: { type: 'number' },
    podInitialBackoffSeconds: { type: 'number' },
    podMaxBackoffSeconds: { type: 'number' },
    profiles: { type: 'unmodelled' },
    extenders: { type: 'unmodelled' },
    delayCacheUntilActive: { type: 'boolean' },
  },
};
