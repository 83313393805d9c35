import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  CA_CERTIFICATE_WARNING_DAYS,
  CERTIFICATE_DAYS_LEFT_METRIC,
  CERTIFICATE_METRIC_DIMENSIONS,
  CERTIFICATE_METRIC_NAMESPACE,
  CERTIFICATE_WARNING_DAYS,
} from '../../lib/certificate-expiry';
import { CertificateRenewal } from '../../lib/constructs/certificate-renewal';
import { ClusterSecrets } from '../../lib/constructs/cluster-secrets';
import { RENEWAL_EVENT_KEY, setCertificates } from '../../lib/secrets/certificate-metric';
import { classifyEvent } from '../../lib/secrets/handler';

const ENV = { account: '123456789012', region: 'eu-central-1' };
const BASE = { clusterName: 'kube-aws-test-1', zoneName: 'team.example.org' };

/** Both sets in one stack, as the etcd and master stacks make them (no cdk-nag: cluster-secrets.test.ts runs it). */
function fixture(etcdMemberCount = 3) {
  const stack = new Stack(new App(), 'Test', { env: ENV });
  const etcd = new ClusterSecrets(stack, 'EtcdSecrets', { ...BASE, set: 'etcd', etcdMemberCount });
  const controlPlane = new ClusterSecrets(stack, 'ControlPlaneSecrets', { ...BASE, set: 'control-plane' });
  return { stack, etcd, controlPlane, template: Template.fromStack(stack) };
}

describe('CertificateRenewal (inside ClusterSecrets)', () => {
  const { stack, etcd, controlPlane, template } = fixture();
  const logicalId = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);
  const handlerOf = (secrets: ClusterSecrets) => secrets.node.findChild('Handler') as lambda.Function;

  test.each(['etcd', 'control-plane'] as const)('%s: a daily rule sends the set\'s own secrets function the renewal event, with the custom resource\'s properties', (set) => {
    const secrets = set === 'etcd' ? etcd : controlPlane;
    const rule = template.findResources('AWS::Events::Rule')[logicalId(secrets.renewal.rule)];
    const [resource] = Object.values(template.findResources('Custom::ClusterSecrets', { Properties: { Set: set } }));
    const { ServiceToken: _token, ...properties } = resource.Properties;

    expect(rule.Properties.ScheduleExpression).toBe('cron(0 6 * * ? *)');
    expect(rule.Properties.Targets).toHaveLength(1);
    const [target] = rule.Properties.Targets;
    expect(target.Arn).toEqual(stack.resolve(handlerOf(secrets).functionArn));
    expect(JSON.parse(target.Input)).toEqual({ [RENEWAL_EVENT_KEY]: properties });
    // What the rule sends is taken for a renewal, never for a Provider request.
    expect(classifyEvent(JSON.parse(target.Input)).kind).toBe('renewal');
    expect(target.RoleArn).toBeUndefined(); // a Lambda target needs no role: the function's resource policy below
    // Created once the custom resource accepted these properties.
    expect(rule.DependsOn).toContain(stack.getLogicalId(secrets.resource.node.defaultChild as never));
  });

  test('only that rule may invoke the function through EventBridge', () => {
    for (const secrets of [etcd, controlPlane]) {
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        FunctionName: stack.resolve(handlerOf(secrets).functionArn),
        Principal: 'events.amazonaws.com',
        SourceArn: stack.resolve(secrets.renewal.rule.ruleArn),
      });
    }
    expect(Object.values(template.findResources('AWS::Lambda::Permission', { Properties: { Principal: 'events.amazonaws.com' } }))).toHaveLength(2);
  });

  test.each([
    ['etcd', 3, 5],
    ['etcd', 5, 7],
    ['control-plane', 3, 4],
  ] as const)('%s with %d members: one alarm per certificate, CAs included (%d), below the warning days of its kind', (set, members, count) => {
    const { etcd: e, controlPlane: c, template: t } = fixture(members);
    const secrets = set === 'etcd' ? e : c;
    const certificates = setCertificates(set, BASE.clusterName, members);
    const ids = certificates.map((certificate) => certificate.id);
    expect(ids).toHaveLength(count);
    expect([...secrets.renewal.alarms.keys()]).toEqual(ids);

    for (const { id, kind } of certificates) {
      const threshold = kind === 'ca' ? CA_CERTIFICATE_WARNING_DAYS : CERTIFICATE_WARNING_DAYS;
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: CERTIFICATE_METRIC_NAMESPACE,
        MetricName: CERTIFICATE_DAYS_LEFT_METRIC,
        // CDK lists dimensions by name.
        Dimensions: [
          { Name: CERTIFICATE_METRIC_DIMENSIONS.certificate, Value: id },
          { Name: CERTIFICATE_METRIC_DIMENSIONS.cluster, Value: BASE.clusterName },
        ],
        Statistic: 'Minimum',
        Period: 86_400,
        Threshold: threshold,
        ComparisonOperator: 'LessThanThreshold',
        EvaluationPeriods: 2,
        DatapointsToAlarm: 2,
        TreatMissingData: 'breaching',
        AlarmDescription: Match.stringLikeRegexp(`^${id.replace(/\./g, '\\.')} of Kubernetes cluster kube-aws-test-1 has fewer than ${threshold} days left`),
      });
    }
  });

  test('a CA warns a year ahead, a leaf a month: rotating a CA replaces every node of its set', () => {
    expect([CA_CERTIFICATE_WARNING_DAYS, CERTIFICATE_WARNING_DAYS]).toEqual([365, 30]);
    const thresholds = (secrets: ClusterSecrets) =>
      Object.fromEntries(
        [...secrets.renewal.alarms].map(([id, alarm]) => [id, template.findResources('AWS::CloudWatch::Alarm')[logicalId(alarm)].Properties.Threshold]),
      );
    expect(thresholds(controlPlane)).toEqual({
      'control-plane/control-plane/ca.crt': 365,
      'control-plane/front-proxy-ca/ca.crt': 365,
      'control-plane/control-plane/apiserver.crt': 30,
      'control-plane/control-plane/front-proxy-client.crt': 30,
    });
    expect(thresholds(etcd)).toEqual({
      'etcd/etcd-ca/ca.crt': 365,
      'etcd/etcd-member-0/member.crt': 30,
      'etcd/etcd-member-1/member.crt': 30,
      'etcd/etcd-member-2/member.crt': 30,
      'etcd/apiserver-etcd-client/apiserver-etcd-client.crt': 30,
    });
  });

  test('every alarm waits for the custom resource (its first datapoint is published at create)', () => {
    const resourceIds = [etcd, controlPlane].map((s) => stack.getLogicalId(s.resource.node.defaultChild as never));
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(9);
    for (const alarm of alarms) expect(resourceIds.some((id) => alarm.DependsOn?.includes(id))).toBe(true);
  });

  test('the function keeps its read/write on the set (plus moving AWSCURRENT, for the renewal\'s compare-and-swap) and KMS through Secrets Manager', () => {
    for (const secrets of [etcd, controlPlane]) {
      const role = handlerOf(secrets).role!;
      const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [stack.resolve(role.roleName)] } });
      const statements = Object.values(policies).flatMap((policy) => policy.Properties.PolicyDocument.Statement);
      expect(statements.map((s: { Action: unknown }) => s.Action)).toEqual([
        ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
        ['kms:Decrypt', 'kms:GenerateDataKey'],
      ]);
    }
    // EMF needs no cloudwatch:PutMetricData, and the rule no role of its own.
    const everyAction = JSON.stringify(Object.values(template.findResources('AWS::IAM::Policy')).map((p) => p.Properties.PolicyDocument));
    expect(everyAction).not.toMatch(/cloudwatch:|events:|logs:/);
    template.resourceCountIs('AWS::IAM::Role', 4); // each set: its function's role and the Provider framework's, as before
  });

  test('a custom schedule can be given to the construct', () => {
    const s = new Stack(new App(), 'Custom', { env: ENV });
    const secrets = new ClusterSecrets(s, 'Secrets', { ...BASE, set: 'etcd' });
    const handler = secrets.node.findChild('Handler') as lambda.Function;
    const properties = {
      Set: 'etcd', ClusterName: BASE.clusterName, ZoneName: BASE.zoneName, EtcdMemberCount: '3',
      ServiceCidr: '10.3.0.0/24', ClusterDomain: 'cluster.local', Regenerate: '0', BundleFiles: 'ca.crt', SecretNames: 'kubernetes-on-aws/kube-aws-test-1/etcd-ca',
    };

    const hourly = new CertificateRenewal(secrets, 'Hourly', { handler, properties, after: secrets.resource, schedule: events.Schedule.expression('rate(1 hour)') });

    Template.fromStack(s).hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [Match.objectLike({ Arn: s.resolve(handler.functionArn) })],
    });
    expect(hourly.alarms.size).toBe(5);
  });
});
