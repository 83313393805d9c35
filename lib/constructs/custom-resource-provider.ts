import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { bundledHandlerCode } from './lambda-bundle';

/** Properties of {@link customResourceProvider}. */
export interface CustomResourceProviderProps {
  /** What the function does: its Lambda description. */
  readonly description: string;
  /** The TypeScript file whose `handler` export answers the Provider framework's onEvent. */
  readonly entry: string;
  /** How long one event may take. */
  readonly timeout: Duration;
  /**
   * The function's memory; more buys more CPU.
   * @default 128 MB (Lambda's default)
   */
  readonly memorySize?: number;
  /**
   * Run the function in this VPC (to reach something only the VPC reaches).
   * @default outside any VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * The subnets in {@link vpc}; they need a route to the AWS APIs the function calls.
   * @default the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Security groups of the function in {@link vpc}.
   * @default one that allows all outbound traffic
   */
  readonly securityGroups?: readonly ec2.ISecurityGroup[];
  /**
   * Environment variables of the function.
   * @default none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * The name of the function's execution role, for when something outside the stack names it
   * (the cluster's auth webhook maps a role by its ARN).
   * @default a name CloudFormation generates
   */
  readonly roleName?: string;
}

/** A custom resource's onEvent function and the CDK Provider framework in front of it. */
export interface CustomResourceProvider {
  /** The function: grant it what its events need. */
  readonly handler: lambda.Function;
  /** The `serviceToken` of the custom resources it serves. */
  readonly provider: cr.Provider;
}

/**
 * The onEvent function of one of our custom resources (`Handler`, bundled by esbuild once per content,
 * Node.js 22) behind the Provider framework (`Provider`), both created in `scope` under those
 * ids, with the cdk-nag findings every such pair has acknowledged with their reasons.
 */
export function customResourceProvider(scope: Construct, props: CustomResourceProviderProps): CustomResourceProvider {
  // What Lambda would give the function's own role: logs, and network interfaces in a VPC.
  const role = props.roleName
    ? new iam.Role(scope, 'HandlerRole', {
      roleName: props.roleName,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole'),
        ...(props.vpc ? [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole')] : []),
      ],
    })
    : undefined;
  const handler = new lambda.Function(scope, 'Handler', {
    role,
    description: props.description,
    // Bundled once per content (lambda-bundle.ts): its `handler` export.
    code: bundledHandlerCode(props.entry),
    handler: 'index.handler',
    runtime: lambda.Runtime.NODEJS_22_X,
    timeout: props.timeout,
    memorySize: props.memorySize,
    vpc: props.vpc,
    vpcSubnets: props.vpcSubnets,
    securityGroups: props.securityGroups ? [...props.securityGroups] : undefined,
    environment: props.environment ? { ...props.environment } : undefined,
  });
  const provider = new cr.Provider(scope, 'Provider', { onEventHandler: handler });

  const basicExecution = {
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason: "AWSLambdaBasicExecutionRole only allows writing the function's own CloudWatch logs.",
  };
  Validations.of(role ?? handler).acknowledge(basicExecution);
  Validations.of(handler).acknowledge({
    id: 'AwsSolutions-L1',
    reason: 'Runtime pinned to nodejs22.x, the Node.js line this handler is built and tested for; upgrade deliberately.',
  });
  if (props.vpc) {
    Validations.of(role ?? handler).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      reason: "AWSLambdaVPCAccessExecutionRole only lets the function manage its own network interfaces in the VPC and write its logs.",
    });
  }
  const handlerLogicalId = Stack.of(handler).getLogicalId(handler.node.defaultChild as lambda.CfnFunction);
  Validations.of(provider).acknowledge(basicExecution, {
    id: `AwsSolutions-IAM5[Resource::<${handlerLogicalId}.Arn>:*]`,
    reason: 'The CDK Provider framework may invoke any version of its onEvent function (`<arn>:*`), and nothing else.',
  });
  return { handler, provider };
}

/** An ARN as cdk-nag prints it in a finding: pseudo parameters as `<AWS::Partition>`. */
export function nagResourcePrint(stack: Stack, arn: string): string {
  const resolved: unknown = stack.resolve(arn);
  if (typeof resolved === 'string') return resolved;
  const [, parts] = (resolved as { 'Fn::Join': [string, (string | { Ref: string })[]] })['Fn::Join'];
  return parts.map((part) => (typeof part === 'string' ? part : `<${part.Ref}>`)).join('');
}
