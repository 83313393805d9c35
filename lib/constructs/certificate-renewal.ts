import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct, IDependable } from 'constructs';
import {
  CA_CERTIFICATE_WARNING_DAYS,
  CERTIFICATE_DAYS_LEFT_METRIC,
  CERTIFICATE_METRIC_DIMENSIONS,
  CERTIFICATE_METRIC_NAMESPACE,
  CERTIFICATE_WARNING_DAYS,
} from '../certificate-expiry';
import { RENEWAL_EVENT_KEY, RenewalEvent, setCertificates } from '../secrets/certificate-metric';
import type { ClusterSecretsProperties } from '../secrets/handler';
import { SecretSet } from '../../userdata/secret-names';

/**
 * Once a day, at a fixed time: one datapoint per certificate in each daily alarm period. Not
 * midnight, so that a late run does not land in the next period. Scheduled rules run in UTC
 * (EventBridge user guide, "Creating a scheduled rule (legacy)"); EventBridge Scheduler, which
 * AWS now recommends, would need an execution role allowed to invoke the function, while a
 * rule invokes it through the function's resource policy, limited to this rule's ARN.
 */
export const DEFAULT_RENEWAL_SCHEDULE = events.Schedule.cron({ hour: '6', minute: '0' });

/**
 * Periods the alarm looks at, and how many must breach: the metric comes once a day, so one
 * late or failed run (retried by the next) is tolerated, two are not.
 */
const ALARM_EVALUATION_PERIODS = 2;

/** Properties of {@link CertificateRenewal}. */
export interface CertificateRenewalProps {
  /** The secrets function of the set (lib/secrets/handler.ts): it renews when sent the renewal event. */
  readonly handler: lambda.IFunction;

  /** The set's custom resource properties: sent as the renewal event, and what the certificates are named from. */
  readonly properties: ClusterSecretsProperties;

  /**
   * What the schedule and alarms wait for: the custom resource, so that the rule's inputs
   * are ones the handler accepted, and each alarm's first datapoint is already published.
   */
  readonly after: IDependable;

  /**
   * When the function renews.
   * @default daily at 06:00 UTC ({@link DEFAULT_RENEWAL_SCHEDULE})
   */
  readonly schedule?: events.Schedule;
}

/**
 * The daily renewal of one secret set's leaf certificates (an EventBridge rule sending the
 * secrets function its renewal event) and one CloudWatch alarm per certificate of the set,
 * CAs included, on how many days it has left: below CERTIFICATE_WARNING_DAYS for a leaf,
 * CA_CERTIFICATE_WARNING_DAYS for a CA.
 */
export class CertificateRenewal extends Construct {
  /** The schedule. */
  public readonly rule: events.Rule;
  /** One alarm per certificate, by its metric dimension (`<set>/<secret>/<file>`): add actions to be told. */
  public readonly alarms: ReadonlyMap<string, cloudwatch.Alarm>;

  constructor(scope: Construct, id: string, props: CertificateRenewalProps) {
    super(scope, id);
    const { ClusterName: cluster, Set: set, EtcdMemberCount: count } = props.properties;
    const event: RenewalEvent = { [RENEWAL_EVENT_KEY]: props.properties };
    this.rule = new events.Rule(this, 'Schedule', {
      description: `Renews the ${set} leaf certificates of Kubernetes cluster ${cluster} before they expire`,
      schedule: props.schedule ?? DEFAULT_RENEWAL_SCHEDULE,
      // The fixed input is the whole event: nothing of the scheduled event itself reaches the function.
      targets: [new targets.LambdaFunction(props.handler, { event: events.RuleTargetInput.fromObject(event) })],
    });
    this.rule.node.addDependency(props.after);

    const alarms = new Map<string, cloudwatch.Alarm>();
    for (const certificate of setCertificates(set as SecretSet, cluster, Number(count))) {
      // A CA is rotated by hand (every node of its set replaced), so its alarm comes a year ahead.
      const threshold = certificate.kind === 'ca' ? CA_CERTIFICATE_WARNING_DAYS : CERTIFICATE_WARNING_DAYS;
      const cause =
        certificate.kind === 'ca'
          ? 'the daily renewal is failing, or the CA is due for rotation (lib/secrets/README.md, "Rotation").'
          : 'the daily renewal is failing or cannot renew it. See lib/secrets/README.md, "Lifetimes and renewal".';
      const alarm = new cloudwatch.Alarm(this, `${constructIdOf(certificate.id)}Expiry`, {
        alarmDescription:
          `${certificate.id} of Kubernetes cluster ${cluster} has fewer than ${threshold} days left, ` +
          `or its days left were not published for ${ALARM_EVALUATION_PERIODS} days: ${cause}`,
        metric: new cloudwatch.Metric({
          namespace: CERTIFICATE_METRIC_NAMESPACE,
          metricName: CERTIFICATE_DAYS_LEFT_METRIC,
          dimensionsMap: {
            [CERTIFICATE_METRIC_DIMENSIONS.cluster]: cluster,
            [CERTIFICATE_METRIC_DIMENSIONS.certificate]: certificate.id,
          },
          statistic: cloudwatch.Stats.MINIMUM,
          period: Duration.days(1),
        }),
        threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: ALARM_EVALUATION_PERIODS,
        datapointsToAlarm: ALARM_EVALUATION_PERIODS,
        // No datapoint means no run published one: renewal has stopped, which is what this
        // alarm is for. Missing data treated as missing would leave it INSUFFICIENT_DATA while
        // the certificate ran out.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      alarm.node.addDependency(props.after);
      alarms.set(certificate.id, alarm);
    }
    this.alarms = alarms;
  }
}

/** `etcd/etcd-member-0/member.crt` -> `EtcdEtcdMember0MemberCrt`: a readable construct id. */
function constructIdOf(certificate: string): string {
  return certificate
    .split(/[/.-]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
