/**
 * The Kubernetes version guard (the onEvent of `Custom::KubernetesVersionGuard`,
 * lib/constructs/kubernetes-version-guard.ts). It runs before a stack's nodes change and fails
 * the deploy (CloudFormation then rolls the stack back, no node replaced) when the new version
 * would break Kubernetes' version skew policy (kubernetes.io/releases/version-skew-policy):
 * - an upgrade goes one minor version at a time (the API server's storage and the
 *   controllers migrate between adjacent minors only); patch releases move freely;
 * - no downgrade of a minor version;
 * - a kubelet is never newer than the API servers, nor more than three minors older.
 * What a stack runs is its own `KubernetesVersion` output (written by its last successful
 * deploy; the guard's old properties where a stack has none yet). What the API servers run, for
 * the worker stack, is the master stack's output; what the kubelets run, for the master stack,
 * the worker stack's. A rollback (the stack in UPDATE_ROLLBACK_IN_PROGRESS, going back to what
 * it ran) is never refused: a refusal there would leave the stack in UPDATE_ROLLBACK_FAILED.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { KUBERNETES_VERSION_OUTPUT } from '../stack-outputs';

/** How far a kubelet may trail the API server (version skew policy, since Kubernetes 1.28). */
export const KUBELET_MAX_MINORS_BEHIND = 3;

/** The custom resource's properties. */
export interface KubernetesVersionGuardProperties {
  /** The version this deploy gives the stack's nodes, `v1.35.1`. */
  readonly Version: string;
  /** The master stack, whose KubernetesVersion output says what the API servers run (worker stack only). */
  readonly ApiServerStack?: string;
  /** The worker stack, whose KubernetesVersion output says what its kubelets run (master stack only). */
  readonly KubeletStack?: string;
}

export interface OnEventRequest {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  /** The stack the guard is in (the Provider framework passes CloudFormation's). */
  readonly StackId: string;
  readonly ResourceProperties: KubernetesVersionGuardProperties;
  readonly OldResourceProperties?: KubernetesVersionGuardProperties;
}

/** What the guard reads of a stack; undefined when the stack does not exist (yet). */
export interface StackState {
  readonly status: string;
  readonly outputs: Readonly<Record<string, string>>;
}

interface Version {
  readonly text: string;
  readonly major: number;
  readonly minor: number;
}

function parse(text: string, what: string): Version {
  const match = /^v(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (!match) throw new Error(`${what} '${text}' is not a Kubernetes release such as v1.35.1`);
  return { text, major: Number(match[1]), minor: Number(match[2]) };
}

const nextMinor = (v: Version) => `v${v.major}.${v.minor + 1}.x`;

/** Why the stack's nodes may not go from `deployed` to `next`, or undefined when they may. */
export function upgradeProblem(deployed: string, next: string): string | undefined {
  const [from, to] = [parse(deployed, 'the deployed version'), parse(next, 'kubernetesVersion')];
  if (to.major !== from.major) {
    return `kubernetesVersion ${to.text} changes the major version of the cluster, which runs ${from.text}: no upgrade path; deploy a new cluster version`;
  }
  if (to.minor > from.minor + 1) {
    return `kubernetesVersion ${to.text} skips a minor version: the cluster runs ${from.text}, and Kubernetes upgrades one minor at a time; deploy ${nextMinor(from)} first, then ${to.text}`;
  }
  if (to.minor < from.minor) {
    return `kubernetesVersion ${to.text} is older than ${from.text}, which the cluster runs: Kubernetes does not downgrade a minor version (etcd holds objects of the newer API); deploy a new cluster version to go back`;
  }
  return undefined;
}

/** Why kubelets of `kubelet` may not serve API servers of `apiServer`, or undefined. */
export function kubeletSkewProblem(kubelet: string, apiServer: string): string | undefined {
  const [node, api] = [parse(kubelet, 'kubernetesVersion'), parse(apiServer, `the API servers' version`)];
  if (node.major !== api.major || node.minor > api.minor) {
    return `the workers' kubelets would run ${node.text}, newer than the API servers' ${api.text}: a kubelet may never lead the API server; deploy the master stack first (cdk deploy --all deploys it before the workers)`;
  }
  if (api.minor - node.minor > KUBELET_MAX_MINORS_BEHIND) {
    return `the workers' kubelets would run ${node.text}, more than ${KUBELET_MAX_MINORS_BEHIND} minor versions behind the API servers' ${api.text}; deploy ${api.text} to the workers too`;
  }
  return undefined;
}

export interface GuardDependencies {
  /** A stack's status and outputs, by name or id; undefined when it does not exist. */
  readonly describeStack: (stack: string) => Promise<StackState | undefined>;
}

export function createOnEventHandler(dependencies: GuardDependencies) {
  return async (event: OnEventRequest): Promise<{ PhysicalResourceId: string; Data: { Version: string } }> => {
    const props = event.ResourceProperties;
    const answer = { PhysicalResourceId: 'kubernetes-version', Data: { Version: props.Version } };
    if (event.RequestType === 'Delete') return answer;
    const own = await dependencies.describeStack(event.StackId);
    if (own?.status === 'UPDATE_ROLLBACK_IN_PROGRESS') {
      console.log(`rolling back to Kubernetes ${props.Version}: allowed`);
      return answer;
    }
    const versionOf = async (stack: string | undefined) => (stack === undefined ? undefined : (await dependencies.describeStack(stack))?.outputs[KUBERNETES_VERSION_OUTPUT]);
    const deployed = own?.outputs[KUBERNETES_VERSION_OUTPUT] ?? event.OldResourceProperties?.Version;
    const apiServers = await versionOf(props.ApiServerStack);
    const kubelets = await versionOf(props.KubeletStack);
    const problems = [
      deployed !== undefined ? upgradeProblem(deployed, props.Version) : undefined,
      // The workers against the API servers they would join; the API servers against the workers already there.
      apiServers !== undefined ? kubeletSkewProblem(props.Version, apiServers) : undefined,
      kubelets !== undefined ? kubeletSkewProblem(kubelets, props.Version) : undefined,
    ].filter((problem): problem is string => problem !== undefined);
    if (problems.length > 0) throw new Error(problems.join('; '));
    console.log(`Kubernetes ${deployed ?? '(new)'} -> ${props.Version} (API servers ${apiServers ?? '-'}, kubelets ${kubelets ?? '-'}): allowed`);
    return answer;
  };
}

const cloudFormation = new CloudFormationClient({});

/** The Lambda entry point (`index.handler` of the bundle: lib/constructs/lambda-bundle.ts). */
export const handler = createOnEventHandler({
  describeStack: async (stack) => {
    try {
      const [found] = (await cloudFormation.send(new DescribeStacksCommand({ StackName: stack }))).Stacks ?? [];
      if (!found) return undefined;
      const outputs = (found.Outputs ?? []).filter((o) => o.OutputKey && o.OutputValue !== undefined).map((o) => [o.OutputKey!, o.OutputValue!]);
      return { status: found.StackStatus ?? '', outputs: Object.fromEntries(outputs) };
    } catch (error) {
      // CloudFormation's answer for a stack that does not exist (the worker stack of a new cluster).
      if ((error as Error).name === 'ValidationError' && /does not exist/.test((error as Error).message)) return undefined;
      throw error;
    }
  },
});
