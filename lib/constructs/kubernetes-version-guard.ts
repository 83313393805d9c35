import * as path from 'node:path';
import { CfnOutput, CustomResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { customResourceProvider, nagResourcePrint } from './custom-resource-provider';
import { KUBERNETES_VERSION_OUTPUT, KubernetesVersionGuardProperties } from '../version-guard/handler';

/** One DescribeStacks call; the rest is headroom for a slow API. */
const GUARD_TIMEOUT = Duration.minutes(1);
const KUBERNETES_RELEASE = /^v\d+\.\d+\.\d+$/;

/** Properties of {@link KubernetesVersionGuard}. */
export interface KubernetesVersionGuardProps {
  /** The Kubernetes release this stack's nodes run, e.g. `v1.35.1`. */
  readonly version: string;
  /**
   * The master stack, whose `KubernetesVersion` output says what the API servers run: this
   * stack's kubelets may not be newer. Without it (the master stack itself), the guard records
   * the version in that output.
   * @default - this stack runs the API servers
   */
  readonly apiServerStackName?: string;
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
    if (!KUBERNETES_RELEASE.test(props.version)) {
      throw new Error(`KubernetesVersionGuard: version must be a Kubernetes release such as v1.35.1; got '${props.version}'`);
    }
    const stack = Stack.of(this);
    const { handler, provider } = customResourceProvider(this, {
      description: `Refuses a Kubernetes version ${stack.stackName} cannot move to (a skipped minor, a downgrade, kubelets ahead of the API servers)`,
      entry: path.join(__dirname, '..', 'version-guard', 'handler.ts'),
      timeout: GUARD_TIMEOUT,
    });
    if (props.apiServerStackName !== undefined) {
      const masterStackArn = stack.formatArn({ service: 'cloudformation', resource: 'stack', resourceName: `${props.apiServerStackName}/*` });
      handler.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks'], resources: [masterStackArn] }));
      Validations.of(handler).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagResourcePrint(stack, masterStackArn)}]`,
        reason: "DescribeStacks on the master stack alone, by name: a stack's ARN ends in an id made when it is created.",
      });
    }
    const properties: KubernetesVersionGuardProperties = {
      Version: props.version,
      ...(props.apiServerStackName !== undefined ? { ApiServerStack: props.apiServerStackName } : {}),
    };
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::KubernetesVersionGuard',
      properties: { ...properties },
    });
    if (props.apiServerStackName === undefined) {
      // Written when the stack's deploy succeeds: what the worker stack's guard compares with.
      new CfnOutput(stack, KUBERNETES_VERSION_OUTPUT, {
        value: props.version,
        description: 'The Kubernetes release the API servers run (the worker stack refuses kubelets newer than it)',
      });
    }
  }

  /** Makes `constructs` (the node groups) change only after the guard has allowed the version. */
  public guard(...constructs: IConstruct[]): void {
    for (const construct of constructs) construct.node.addDependency(this.resource);
  }
}
