'use strict';
// Test-only preload for `kube-aws validate` run as a child process (node -r <this> bin/kube-aws.js):
// mocks the AWS SDK at its boundary (aws-sdk-client-mock, every client of the class) with the
// scenario in the JSON file $KUBE_AWS_TEST_SCENARIO (test/cli/validate-cli.test.ts writes it):
//   describeStacks     DescribeStacks' answer
//   autoScalingGroups  DescribeAutoScalingGroups' groups; autoScalingError: {name, message} instead
//   certificates       [{certificate, values}]: ListMetrics lists each, GetMetricData answers each query
//                      for it with `values`
// Plain CommonJS (.cjs: the repository ignores *.js outside bin/): it runs before bin/run-ts.js
// registers ts-node.
const { readFileSync } = require('node:fs');
const { mockClient } = require('aws-sdk-client-mock');
const { CloudFormationClient, DescribeStacksCommand } = require('@aws-sdk/client-cloudformation');
const { AutoScalingClient, DescribeAutoScalingGroupsCommand } = require('@aws-sdk/client-auto-scaling');
const { CloudWatchClient, ListMetricsCommand, GetMetricDataCommand } = require('@aws-sdk/client-cloudwatch');

const scenario = JSON.parse(readFileSync(process.env.KUBE_AWS_TEST_SCENARIO, 'utf8'));

mockClient(CloudFormationClient).on(DescribeStacksCommand).resolves(scenario.describeStacks);

const autoScaling = mockClient(AutoScalingClient).on(DescribeAutoScalingGroupsCommand);
if (scenario.autoScalingError) {
  autoScaling.rejects(Object.assign(new Error(scenario.autoScalingError.message), { name: scenario.autoScalingError.name, $metadata: {} }));
} else {
  autoScaling.resolves({ AutoScalingGroups: scenario.autoScalingGroups });
}

const certificates = scenario.certificates ?? [];
const dimension = (dimensions, name) => (dimensions ?? []).find((d) => d.Name === name)?.Value;
mockClient(CloudWatchClient)
  .on(ListMetricsCommand)
  .callsFake((input) => ({
    Metrics: certificates.map((c) => ({
      Namespace: input.Namespace,
      MetricName: input.MetricName,
      Dimensions: [...input.Dimensions, { Name: 'Certificate', Value: c.certificate }],
    })),
  }))
  .on(GetMetricDataCommand)
  .callsFake((input) => ({
    MetricDataResults: input.MetricDataQueries.map((query) => {
      const wanted = dimension(query.MetricStat.Metric.Dimensions, 'Certificate');
      const values = certificates.find((c) => c.certificate === wanted)?.values ?? [];
      return { Id: query.Id, Label: wanted, StatusCode: 'Complete', Values: values, Timestamps: values.map(() => new Date(input.EndTime)) };
    }),
  }));
