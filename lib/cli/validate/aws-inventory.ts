import { AutoScalingClient, paginateDescribeAutoScalingGroups } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient, MetricDataQuery, paginateGetMetricData, paginateListMetrics } from '@aws-sdk/client-cloudwatch';
import { CERTIFICATE_DAYS_LEFT_METRIC, CERTIFICATE_METRIC_DIMENSIONS, CERTIFICATE_METRIC_NAMESPACE } from '../../certificate-expiry';
import { NODE_TAGS, clusterTagKey } from '../../constructs/node-tags';
import { CERTIFICATE_WINDOW_DAYS, CertificateSeries } from './certificate-check';
import type { NodeGroupInventory } from './node-group-check';

/**
 * The cluster's Auto Scaling groups: NodeGroup tags every group of every stack (etcd, master,
 * worker pools) `kubernetes.io/cluster/<cluster>=owned` and `kubernetes-on-aws:role=<role>`
 * (lib/constructs/node-group.ts createGroup). DescribeAutoScalingGroups filters on
 * `tag:<key>` with the tag's values (@aws-sdk/client-auto-scaling Filter).
 */
export async function readNodeGroups(client: AutoScalingClient, cluster: string): Promise<NodeGroupInventory[]> {
  const groups: NodeGroupInventory[] = [];
  const pages = paginateDescribeAutoScalingGroups({ client }, { Filters: [{ Name: `tag:${clusterTagKey(cluster)}`, Values: ['owned'] }] });
  for await (const page of pages) {
    for (const group of page.AutoScalingGroups ?? []) {
      groups.push({
        name: group.AutoScalingGroupName ?? '',
        role: group.Tags?.find((tag) => tag.Key === NODE_TAGS.role)?.Value,
        desiredCapacity: group.DesiredCapacity ?? 0,
        instances: (group.Instances ?? []).map((i) => ({ instanceId: i.InstanceId ?? '', lifecycleState: i.LifecycleState ?? '', healthStatus: i.HealthStatus ?? '' })),
      });
    }
  }
  return groups;
}

/** A GetMetricData call takes at most 500 queries (CloudWatch's limit, MetricDataQueries). */
const QUERIES_PER_CALL = 500;
const DAY_SECONDS = 86_400;

/**
 * The minimum of CertificateDaysLeft over the last CERTIFICATE_WINDOW_DAYS for each certificate
 * of the cluster (lib/certificate-expiry.ts names the metric and its dimensions). ListMetrics
 * finds the certificates (it lists metrics with data in the past two weeks, so one that stopped
 * being published still shows, without data); one GetMetricData query per certificate with a
 * period of the whole window gives its minimum.
 */
export async function readCertificateSeries(client: CloudWatchClient, cluster: string, now: Date): Promise<CertificateSeries[]> {
  const certificates: string[] = [];
  const listed = paginateListMetrics(
    { client },
    { Namespace: CERTIFICATE_METRIC_NAMESPACE, MetricName: CERTIFICATE_DAYS_LEFT_METRIC, Dimensions: [{ Name: CERTIFICATE_METRIC_DIMENSIONS.cluster, Value: cluster }] },
  );
  for await (const page of listed) {
    for (const metric of page.Metrics ?? []) {
      const certificate = metric.Dimensions?.find((d) => d.Name === CERTIFICATE_METRIC_DIMENSIONS.certificate)?.Value;
      if (certificate !== undefined && !certificates.includes(certificate)) certificates.push(certificate);
    }
  }
  const minimum = new Map<string, number>();
  for (let start = 0; start < certificates.length; start += QUERIES_PER_CALL) {
    const batch = certificates.slice(start, start + QUERIES_PER_CALL);
    const queries: MetricDataQuery[] = batch.map((certificate, index) => ({
      Id: `c${index}`,
      MetricStat: {
        Metric: {
          Namespace: CERTIFICATE_METRIC_NAMESPACE,
          MetricName: CERTIFICATE_DAYS_LEFT_METRIC,
          Dimensions: [
            { Name: CERTIFICATE_METRIC_DIMENSIONS.cluster, Value: cluster },
            { Name: CERTIFICATE_METRIC_DIMENSIONS.certificate, Value: certificate },
          ],
        },
        Period: CERTIFICATE_WINDOW_DAYS * DAY_SECONDS,
        Stat: 'Minimum',
      },
    }));
    const startTime = new Date(now.getTime() - CERTIFICATE_WINDOW_DAYS * DAY_SECONDS * 1000);
    for await (const page of paginateGetMetricData({ client }, { MetricDataQueries: queries, StartTime: startTime, EndTime: now })) {
      for (const result of page.MetricDataResults ?? []) {
        const certificate = batch[Number(result.Id?.slice(1))];
        for (const value of result.Values ?? []) minimum.set(certificate, Math.min(value, minimum.get(certificate) ?? Infinity));
      }
    }
  }
  return certificates.map((certificate) => ({ certificate, minimumDaysLeft: minimum.get(certificate) }));
}
