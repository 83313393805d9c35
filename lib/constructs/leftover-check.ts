import * as path from 'node:path';
import { ArnFormat, CustomResource, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { customResourceProvider, nagResourcePrint } from './custom-resource-provider';
import type { LeftoverCheckProperties } from '../leftovers/handler';
import { ClusterSecretNames } from '../../userdata/secret-names';

/** A few DescribeSecret calls and one HEAD request; the rest is headroom for a slow API. */
export const LEFTOVER_CHECK_TIMEOUT = Duration.minutes(1);

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** S3 bucket names without dots: the check reaches the bucket at `https://<bucket>.s3...`. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
/** One `--filters` argument, safe to print unquoted in a shell command. */
const VOLUME_FILTER = /^Name=[A-Za-z0-9:/._-]+,Values=[A-Za-z0-9:/._*-]+$/;

/** Properties of {@link LeftoverCheck}. */
export interface LeftoverCheckProps {
  /** The cluster's name, `<stack>-<version>`, e.g. `kube-aws-test-1`. */
  readonly clusterName: string;

  /**
   * The Secrets Manager secrets the stack creates (ClusterSecretNames.ofSet): each must be
   * under `kubernetes-on-aws/<clusterName>/`, the only names the check may describe.
   */
  readonly secretNames: readonly string[];

  /**
   * The S3 bucket the stack creates under a fixed name, if any.
   * @default no bucket is checked
   */
  readonly bucketName?: string;

  /**
   * EC2 `--filters` (e.g. `Name=tag:<key>,Values=<value>`) that find the volumes the stack
   * creates and retains. They hold no name that CloudFormation refuses, so they are not
   * checked (the project has no EC2 client); a failing check's message says how to find
   * and delete them, since new members would take them for their own.
   * @default no volumes
   */
  readonly retainedVolumeFilters?: readonly string[];
}

/**
 * Stops a cluster's stack from being created while a destroyed cluster of the same name
 * still holds the names it needs (retained secrets, snapshot bucket), with a message that
 * names each leftover and the commands that delete it. Runs on Create only, in a stack
 * being created: an update, or a living stack that gains the check, finds its own resources.
 * Call {@link guard} with whatever creates those names, so that none of it starts first.
 */
export class LeftoverCheck extends Construct {
  /** The check; whatever depends on it is created only after it passed. */
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: LeftoverCheckProps) {
    super(scope, id);
    validate(props);
    const stack = Stack.of(this);
    const folder = new ClusterSecretNames(props.clusterName).folder;

    const { handler, provider } = customResourceProvider(this, {
      description: `Stops the creation of a ${props.clusterName} stack while a destroyed cluster's resources hold its names`,
      entry: path.join(__dirname, '..', 'leftovers', 'handler.ts'),
      timeout: LEFTOVER_CHECK_TIMEOUT,
    });
    // A secret's ARN ends in a random suffix, unknown before it exists; for a name that does
    // not exist IAM sees `secret:<name>`. `<folder>*` covers both, and only this cluster.
    const secretsArn = stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${folder}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    handler.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:DescribeSecret'], resources: [secretsArn] }));
    handler.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks'], resources: [stack.stackId] }));

    const properties: LeftoverCheckProperties = {
      ClusterName: props.clusterName,
      Account: stack.account,
      Region: stack.region,
      SecretNames: [...props.secretNames],
      BucketName: props.bucketName ?? '',
      BucketUrl: props.bucketName === undefined ? '' : `https://${props.bucketName}.s3.${stack.region}.${stack.urlSuffix}/`,
      VolumeFilters: [...(props.retainedVolumeFilters ?? [])],
    };
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::LeftoverCheck',
      properties,
    });

    Validations.of(handler).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResourcePrint(stack, secretsArn)}]`,
      reason:
        "DescribeSecret (metadata, never a value) on this cluster's secret folder: the secrets it looks for belong to a " +
        'destroyed cluster, so their ARNs (with a random suffix) are unknown.',
    });
  }

  /** Makes `constructs`, and every resource in them, wait until the check has passed. */
  public guard(...constructs: IConstruct[]): void {
    for (const construct of constructs) {
      construct.node.addDependency(this.resource);
    }
  }
}

/** Errors name the prop, the bad value and what would be valid. */
function validate(props: LeftoverCheckProps): void {
  const fail = (message: string): never => {
    throw new Error(`LeftoverCheck: ${message}`);
  };
  const literals: [string, string | undefined][] = [
    ['clusterName', props.clusterName],
    ['bucketName', props.bucketName],
    ...props.secretNames.map((name): [string, string] => ['secretNames', name]),
    ...(props.retainedVolumeFilters ?? []).map((filter): [string, string] => ['retainedVolumeFilters', filter]),
  ];
  for (const [key, value] of literals) {
    if (value !== undefined && Token.isUnresolved(value)) {
      fail(`${key} must be literal strings known at synth time, not tokens; got ${value}`);
    }
  }
  if (!DNS_LABEL.test(props.clusterName)) {
    fail(`clusterName must be a DNS label, e.g. 'kube-aws-test-1'; got '${props.clusterName}'`);
  }
  const folder = new ClusterSecretNames(props.clusterName).folder;
  const outside = props.secretNames.filter((name) => !name.startsWith(folder) || name.length === folder.length);
  if (outside.length > 0) {
    fail(`secretNames must be under '${folder}' (the check may describe nothing else); got '${outside.join("', '")}'`);
  }
  const badFilters = (props.retainedVolumeFilters ?? []).filter((filter) => !VOLUME_FILTER.test(filter));
  if (badFilters.length > 0) {
    fail(`retainedVolumeFilters must be EC2 filters like 'Name=tag-key,Values=<key>' (no spaces or quotes); got '${badFilters.join("', '")}'`);
  }
  if (props.bucketName !== undefined && !BUCKET_NAME.test(props.bucketName)) {
    fail(
      `bucketName must be 3 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit ` +
        `(no dots); got '${props.bucketName}'`,
    );
  }
}
