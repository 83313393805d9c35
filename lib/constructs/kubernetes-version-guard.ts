import * as path from 'node:path';
import { CfnOutput, CustomResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { customResourceProvider, nagResourcePrint } from './custom-resource-provider';
import type { KubernetesVersionGuardProperties } from '../version-guard/handler';
import { KUBERNETES_VERSION_OUTPUT } from '../stack-outputs';

/** One DescribeStacks call; the rest is headroom for a slow API. */
const GUARD_TIMEOUT = Duration.minutes(1);
const KUBERNETES_RELEASE = /^v\d+\.\d+\.\d+$/;

/** Properties of {@link KubernetesVersionGuard}. */
export interface KubernetesVersionGuardProps {
  /** The Kubernetes release this stack's nodes run, e.g. `v1.35.1`. */
  readonly version: string;
  /**
   * The master stack, whose `KubernetesVersion` output says what the API servers run: this
   * stack's kubelets may not be newer (the worker stack's guard).
   * @default - this stack runs the API servers
   */
  readonly apiServerStackName?: string;
  /**
   * The worker stack, whose `KubernetesVersion` output says what its kubelets run: the API
   * servers may not get more than three minors ahead of them (the master stack's guard).
   * @default - no kubelets of another stack to consider
   */
  readonly kubeletStackName?: string;
}

/**
 * Refuses, before any node of the stack changes, a Kubernetes version the cluster cannot move
 * to: a skipped minor version, a downgrade, or kubelets ahead of the API servers
 * (lib/version-guard/handler.ts has the rules and their source). The refusal fails the deploy
 * with a message naming both versions and the allowed next one; CloudFormation rolls back.
 * Call {@link guard} with the node groups.
 */
export class KubernetesVersionGuard extends Construct {
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: KubernetesVersionGuardProps) {
    super(scope, id);
    if (props.apiServerStackName !== undefined && props.kubeletStackName !== undefined) {
      throw new Error('KubernetesVersionGuard: give apiServerStackName (the worker stack) or kubeletStackName (the master stack), not both');
    }
    if (!KUBERNETES_RELEASE.test(props.version)) {
      throw new Error(`KubernetesVersionGuard: version must be a Kubernetes release such as v1.35.1; got '${props.version}'`);
    }
    const stack = Stack.of(this);
    const { handler, provider } = customResourceProvider(this, {
      description: `Refuses a Kubernetes version ${stack.stackName} cannot move to (a skipped minor, a downgrade, kubelets ahead of the API servers)`,
      entry: path.join(__dirname, '..', 'version-guard', 'handler.ts'),
      timeout: GUARD_TIMEOUT,
    });
    // Its own stack (status and output) and the other stack it compares with, by name: a
    // stack's ARN ends in an id made when it is created.
    const otherStack = props.apiServerStackName ?? props.kubeletStackName;
    const readable = [stack.stackId, ...(otherStack !== undefined ? [stack.formatArn({ service: 'cloudformation', resource: 'stack', resourceName: `${otherStack}/*` })] : [])];
    handler.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks'], resources: readable }));
    if (otherStack !== undefined) {
      Validations.of(handler).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagResourcePrint(stack, readable[1])}]`,
        reason: `DescribeStacks on the ${otherStack} stack alone, by name: a stack's ARN ends in an id made when it is created.`,
      });
    }
    const properties: KubernetesVersionGuardProperties = {
      Version: props.version,
      ...(props.apiServerStackName !== undefined ? { ApiServerStack: props.apiServerStackName } : {}),
      ...(props.kubeletStackName !== undefined ? { KubeletStack: props.kubeletStackName } : {}),
    };
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::KubernetesVersionGuard',
      properties: { ...properties },
    });
    // Written when the stack's deploy succeeds: what its next deploy, and the other stack's guard, compare with.
    new CfnOutput(stack, KUBERNETES_VERSION_OUTPUT, {
      value: props.version,
      description: "The Kubernetes release this stack's nodes run (the version guards compare with it)",
    });
  }

  /** Makes `constructs` (the node groups) change only after the guard has allowed the version. */
  public guard(...constructs: IConstruct[]): void {
    for (const construct of constructs) construct.node.addDependency(this.resource);
  }
}
