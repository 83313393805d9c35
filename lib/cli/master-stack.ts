import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { API_URL_OUTPUT, BREAK_GLASS_OUTPUT } from '../stack-outputs';
import { CliError, explainAwsError } from './errors';


/** What the master stack tells about its cluster. */
export interface MasterStackFacts {
  /** From the `ApiUrl` output. */
  readonly apiUrl: string;
  /** `aws:<account>:<region>:<cluster>`, from the stack's own ARN. */
  readonly clusterGroup: string;
  readonly region: string;
  /**
   * From the `BreakGlassAdminToken` output (`enabled`/`disabled`); a stack without it is of a
   * release whose API servers always accepted the token.
   */
  readonly breakGlassAdminToken: boolean;
}

/** The API URL, the cluster group and the break-glass setting of stack `<cluster>-master`. */
export async function readMasterStack(client: CloudFormationClient, cluster: string): Promise<MasterStackFacts> {
  const stackName = `${cluster}-master`;
  let stack;
  try {
    stack = (await client.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
  } catch (error) {
    throw explainAwsError(error, { cluster, resource: `stack ${stackName}` });
  }
  const output = (key: string) => stack?.Outputs?.find((o) => o.OutputKey === key)?.OutputValue;
  const apiUrl = output(API_URL_OUTPUT);
  if (!apiUrl) {
    throw new CliError(`Stack ${stackName} has no ${API_URL_OUTPUT} output: is its deployment finished?`);
  }
  // arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<id>
  const [, , , region, account] = (stack?.StackId ?? '').split(':');
  if (!/^\d{12}$/.test(account ?? '') || !region) throw new CliError(`Stack ${stackName} has no usable StackId (${stack?.StackId ?? 'none'})`);
  return { apiUrl, clusterGroup: `aws:${account}:${region}:${cluster}`, region, breakGlassAdminToken: output(BREAK_GLASS_OUTPUT) !== 'disabled' };
}
