/**
 * The contract of one add-on: what it is, where it runs, what it needs to come up, what AWS
 * permissions it needs and for which service account, and its Kubernetes objects. One file per
 * add-on under `manifests/addons/`; `registry.ts` lists them. Pure: no CDK, no AWS SDK (lib/
 * turns the permissions into the add-on's own IAM role and the objects into deliveries).
 */
import type { Taint } from '../../userdata/kubelet';

/** A Kubernetes object from kubernetes-models: it checks itself against its API schema. */
export interface AddonObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  validate(): void;
  toJSON(): unknown;
}

/**
 * What an admission webhook configuration's `clientConfig.caBundle` holds to mean "the cluster
 * CA": the CA is made at deploy time, after synth, and the add-on applier, which reads it to
 * reach the API server, puts it in (lib/addons/cluster-ca-bundle.ts). Base64, as the field is
 * (`[]byte`), so that the object validates as it is.
 */
export const CLUSTER_CA_BUNDLE = Buffer.from('kubernetes-on-aws: the cluster CA, filled in by the add-on applier').toString('base64');

/**
 * `kubernetes.io/cluster/<cluster>`: the ownership tag of everything the cluster owns in AWS
 * (nodes and their groups, volumes, the termination queue), value `owned`; what the AWS cloud
 * controller manager, cluster-autoscaler and the add-ons' IAM conditions look for. The one
 * definition: lib/constructs/node-tags.ts re-exports it for the stacks.
 */
export function clusterTagKey(clusterName: string): string {
  return `kubernetes.io/cluster/${clusterName}`;
}

/** Where an add-on's pods run. */
export type AddonPlacement =
  /** No pods: objects the API server acts on itself (RBAC, admission policies). */
  | 'api'
  /** On masters only (the AWS writers among them: only masters' kubelets get their role's tokens). */
  | 'masters'
  /** A DaemonSet on every node, masters included. */
  | 'every-node'
  /** On workers (scheduled like any workload). */
  | 'workers';

/**
 * What add-ons may need up: components of the nodes, and the capabilities of the add-ons
 * every other one builds on. An add-on may also need, or provide, another add-on's
 * capability (e.g. `cluster-dns`).
 */
export const NODE_COMPONENTS = {
  apiServer: 'api-server',
  /** The cluster's own RBAC and admission policies are in place (add-on cluster-bootstrap): add-ons with pods come after. */
  clusterBootstrapped: 'cluster-bootstrapped',
  /** flannel on the node: pod-to-pod traffic (add-on flannel). */
  podNetwork: 'pod-network',
  /** Service addresses programmed, 10.3.0.1 and the rest (add-on kube-proxy: its name). */
  kubeProxy: 'kube-proxy',
  /** The cloud provider's taint removed: ordinary pods may be scheduled. */
  nodeInitialized: 'node-initialized',
  /** At least one worker has joined (the master stack deploys before the worker stack). */
  workers: 'workers',
} as const;

/** One IAM policy statement, as in a policy document (lib/ makes it an iam.PolicyStatement). */
export interface IamStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: readonly string[];
  readonly Resource: readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

/** What an add-on's objects and permissions depend on in the cluster's configuration. */
export interface AddonContext {
  /** `<stack>-<version>`: tags (`kubernetes.io/cluster/<cluster>`), owner ids, add-on role names. */
  readonly clusterName: string;
  readonly region: string;
  readonly account: string;
  /** The AWS partition of the region (`aws`, `aws-cn`, `aws-us-gov`): the ARNs of roles and resources. */
  readonly partition: string;
  /** The hosted zone of the cluster (external-dns writes only there). */
  readonly hostedZoneId: string;
  readonly hostedZoneName: string;
  /** The Kubernetes release of the cluster, `v1.35.1`. */
  readonly kubernetesVersion: string;
  /** `aws:<account>:<region>:<cluster>`: the group every person of this cluster is in (webhook). */
  readonly clusterGroup: string;
  /** The groups of the Administrator role (the only ones who may relax a namespace's Pod Security). */
  readonly administratorGroups: readonly string[];
  /** The taints of the worker pools, each once: what a DaemonSet for every node must tolerate besides ours. */
  readonly workerPoolTaints: readonly Taint[];
}

/** A Kubernetes service account, by namespace and name. */
export interface AddonServiceAccount {
  readonly namespace: string;
  readonly name: string;
}

export interface Addon {
  /** DNS-label name, e.g. `coredns`; also the delivery's name. */
  readonly name: string;
  /** The upstream release, e.g. `v1.12.4`, cited in the add-on's file. */
  readonly version: string;
  /** One line for the README's table: what it is for. */
  readonly description: string;
  /** What it replaces of the 2016 system, if anything. */
  readonly replaces?: string;
  /** Optional add-ons can be turned off with the `disabledAddons` setting. */
  readonly optional: boolean;
  readonly placement: AddonPlacement;
  /** What must be up before it becomes ready: {@link NODE_COMPONENTS} or what an add-on provides. */
  readonly needs: readonly string[];
  /** What it provides to others, e.g. `cluster-dns` for CoreDNS, `node-initialized` for the CCM. */
  readonly provides: readonly string[];
  /**
   * The taints it tolerates, each with why (the bootstrap table in the README shows them):
   * key -> reason.
   */
  readonly toleratedTaints: Readonly<Record<string, string>>;
  /**
   * The service account whose pods call AWS: the add-on's own IAM role trusts its tokens, and
   * only its. Required when {@link permissions} lists any (the registry test holds every
   * add-on to it); its pods get the role through aws-identity.ts `withAddonRole`.
   */
  readonly awsServiceAccount?: AddonServiceAccount;
  /**
   * The IAM statements of the add-on's own role (aws-identity.ts names it), never the nodes':
   * empty for add-ons that never call AWS.
   */
  permissions(context: AddonContext): readonly IamStatement[];
  /** Its objects, namespaces and CRDs among them. */
  objects(context: AddonContext): readonly AddonObject[];
}
