import { setTimeout as sleepFor } from 'node:timers/promises';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { partitionOfRegion } from '../../../webhook/config';
import { clusterTagKey } from '../../constructs/node-tags';
import { parseClusterArgs } from '../args';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../aws-request-handler';
import { EXIT_FAILURE, explainAwsError, reportFailure } from '../errors';
import { MasterStackFacts, readMasterStack } from '../master-stack';
import { CliOutput } from '../output';
import { checkAddons } from './addon-check';
import { checkApiServer } from './api-server-check';
import { readCertificateSeries, readNodeGroups } from './aws-inventory';
import { certificateAuthorities, checkCertificates, expectedCertificates } from './certificate-check';
import { CheckResult, allPassed, fail, formatResult } from './check-result';
import { ClusterReader } from './cluster-reader';
import { durationOption } from './duration';
import { addonNamespaces, ExpectedObject, expectedObjects } from './expected-objects';
import { ETCD_ROLE, checkNodeGroups } from './node-group-check';

export const VALIDATE_USAGE =
  'Usage: kube-aws validate <stack> <version> [--wait DURATION] [--strict] [--request-timeout DURATION] [--interval DURATION]\n' +
  '  Checks cluster <stack>-<version> as your AWS identity (its role or user in one of the cluster\'s\n' +
  '  *RoleArns settings): API server and etcd ready, every Auto Scaling group\'s instances running\n' +
  '  and Ready as nodes, the add-ons\' DaemonSets, Deployments and APIServices available, and\n' +
  '  certificates far from expiry. One line per check; exit 0 when none FAILs (with --strict: and\n' +
  '  none WARNs). --wait 10m repeats the checks every --interval (default 10s) until they pass or\n' +
  '  the time is up; each request gives up after --request-timeout (default 10s).';

/** Between rounds of --wait: nodes and rollouts change over tens of seconds. */
export const DEFAULT_INTERVAL_MS = 10_000;

/** What validate uses (bin/kube-aws.ts wires the real ones; tests inject them). */
export interface ValidateDeps {
  readonly cloudFormation: CloudFormationClient;
  readonly autoScaling: AutoScalingClient;
  readonly cloudWatch: CloudWatchClient;
  /** A bearer token for the cluster, signed in as the caller. Called once per round: tokens expire. */
  readonly signIn: (facts: MasterStackFacts) => Promise<string>;
  /** A reader of the cluster's API with this token and request timeout. */
  readonly connect: (apiUrl: string, token: string, requestTimeoutMs: number) => ClusterReader;
  readonly out: CliOutput;
  /** @default real time */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default real time */
  readonly now?: () => Date;
}

/** `kube-aws validate <stack> <version> ...`; returns the exit code. */
export async function validate(argv: readonly string[], deps: ValidateDeps): Promise<number> {
  const now = deps.now ?? (() => new Date());
  const sleep = deps.sleep ?? ((ms: number) => sleepFor(ms));
  try {
    const args = parseClusterArgs(argv, VALIDATE_USAGE, false, ['strict'], ['wait', 'request-timeout', 'interval']);
    if (args.help) {
      deps.out.stdout(`${VALIDATE_USAGE}\n`);
      return 0;
    }
    const duration = (option: string, fallback: number) => durationOption(args.options, option, fallback, VALIDATE_USAGE);
    const waitMs = duration('wait', 0);
    const requestTimeoutMs = duration('request-timeout', DEFAULT_REQUEST_TIMEOUT_MS);
    const intervalMs = duration('interval', DEFAULT_INTERVAL_MS);
    const strict = args.flags.has('strict');

    const facts = await readMasterStack(deps.cloudFormation, args.cluster);
    const [, account] = facts.clusterGroup.split(':');
    const expected = expectedObjects({ clusterName: args.cluster, region: facts.region, account, partition: partitionOfRegion(facts.region), clusterGroup: facts.clusterGroup });
    const deadline = now().getTime() + waitMs;
    for (let round = 1; ; round++) {
      let token: string;
      try {
        token = await deps.signIn(facts);
      } catch (error) {
        throw explainAwsError(error, { cluster: args.cluster, resource: 'your AWS credentials' });
      }
      const results = await runChecks(args.cluster, expected, deps.connect(facts.apiUrl, token, requestTimeoutMs), deps, now());
      const passed = allPassed(results, strict);
      const left = deadline - now().getTime();
      if (passed || left <= 0) {
        for (const result of results) deps.out.stdout(`${formatResult(result)}\n`);
        deps.out.stderr(`${summary(args.cluster, results, strict, round)}\n`);
        return passed ? 0 : EXIT_FAILURE;
      }
      const failing = results.filter((r) => !allPassed([r], strict));
      deps.out.stderr(`round ${round}: ${failing.length} not passing (${[...new Set(failing.map((r) => r.check))].join(', ')}); again in ${Math.min(intervalMs, left) / 1000}s\n`);
      await sleep(Math.min(intervalMs, left));
    }
  } catch (error) {
    return reportFailure(error, deps.out.stderr);
  }
}

function summary(cluster: string, results: readonly CheckResult[], strict: boolean, rounds: number): string {
  const count = (status: string) => results.filter((r) => r.status === status).length;
  const verdict = allPassed(results, strict) ? 'valid' : 'NOT valid';
  const warnings = count('WARN') > 0 ? `, ${count('WARN')} warnings${strict ? ' (--strict: they fail)' : ' (not failing; --strict makes them fail)'}` : '';
  return `${cluster}: ${verdict}: ${count('PASS')} passed, ${count('FAIL')} failed${warnings}${rounds > 1 ? ` after ${rounds} rounds` : ''}`;
}

/** Every check once, all reads at the same time, so one round takes about one request timeout at worst. */
export async function runChecks(cluster: string, expected: readonly ExpectedObject[], reader: ClusterReader, deps: Pick<ValidateDeps, 'autoScaling' | 'cloudWatch'>, now: Date): Promise<CheckResult[]> {
  const namespaces = addonNamespaces(expected);
  const apiServiceNames = expected.filter((o) => o.kind === 'APIService').map((o) => o.name);
  const [readyz, nodes, groups, addons, certificates] = await Promise.all([
    reader.readyz(),
    settle(reader.listNodes()),
    settle(readNodeGroups(deps.autoScaling, cluster)),
    settle(
      Promise.all([
        Promise.all(namespaces.map((ns) => reader.listDaemonSets(ns))),
        Promise.all(namespaces.map((ns) => reader.listDeployments(ns))),
        Promise.all(apiServiceNames.map((name) => reader.readApiService(name))),
      ]),
    ),
    settle(readCertificateSeries(deps.cloudWatch, cluster, now)),
  ]);
  return [
    checkApiServer(readyz),
    ...('error' in nodes ? [fail('nodes', nodes.error)] : 'error' in groups ? [fail('nodes', `reading Auto Scaling groups: ${groups.error}`)] : checkNodeGroups(groups.value, nodes.value, clusterTagKey(cluster))),
    ...('error' in addons
      ? [fail('add-ons', addons.error)]
      : checkAddons(expected, {
          daemonSets: addons.value[0].flat(),
          deployments: addons.value[1].flat(),
          apiServices: new Map(addons.value[2].flatMap((service) => (service ? [[service.metadata?.name ?? '', service] as const] : []))),
        })),
    ...('error' in certificates
      ? [fail('certificates', `reading CloudWatch metrics: ${certificates.error}`)]
      : // One etcd Auto Scaling group per member (lib/constructs/node-group.ts createMembers).
        checkCertificates(
          certificates.value,
          'error' in groups ? undefined : expectedCertificates(cluster, groups.value.filter((g) => g.role === ETCD_ROLE).length),
          certificateAuthorities(cluster),
        )),
  ];
}

async function settle<T>(promise: Promise<T>): Promise<{ value: T } | { error: string }> {
  try {
    return { value: await promise };
  } catch (error) {
    const e = error as { name?: string; message?: string };
    return { error: e.name && e.name !== 'Error' && e.name !== 'ClusterReadError' ? `${e.name}: ${e.message}` : (e.message ?? String(error)) };
  }
}
