import * as fs from 'fs';
import * as path from 'path';
import { load } from 'js-yaml';
import { Match } from 'aws-cdk-lib/assertions';
import { fileText } from '../userdata/config-files';
import { templateSnapshot } from '../template-snapshot';
import { SynthesizedCluster, resourcesOfType, synthesizeCluster } from '../util';

describe('WorkerStack', () => {
  let cluster: SynthesizedCluster;
  beforeAll(() => {
    cluster = synthesizeCluster();
  });
  const worker = () => cluster.templates.worker;

  test('tags the group for cluster-autoscaler auto-discovery and the cluster', () => {
    const [group] = Object.values(resourcesOfType(worker(), 'AWS::AutoScaling::AutoScalingGroup'));
    expect(group.Properties.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'k8s.io/cluster-autoscaler/enabled', Value: 'true', PropagateAtLaunch: false },
        { Key: 'k8s.io/cluster-autoscaler/kube-aws-test-1', Value: 'owned', PropagateAtLaunch: false },
        { Key: 'kubernetes.io/cluster/kube-aws-test-1', Value: 'owned', PropagateAtLaunch: true },
        { Key: 'kubernetes-on-aws:role', Value: 'worker', PropagateAtLaunch: true },
      ]),
    );
  });

  test('sizes 1 to 10 and leaves the desired size to the group unless set', () => {
    const [group] = Object.values(resourcesOfType(worker(), 'AWS::AutoScaling::AutoScalingGroup'));
    expect(group.Properties).toMatchObject({ MinSize: '1', MaxSize: '10' });
    expect(group.Properties.DesiredCapacity).toBeUndefined();
    const set = synthesizeCluster({ workerDesiredCapacity: 3 }).templates.worker;
    set.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { DesiredCapacity: '3' });
  });

  test('replaces workers whose kubelet fails its health check, after a grace period', () => {
    const t = worker();
    t.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      HealthCheckType: 'ELB',
      HealthCheckGracePeriod: 480,
      TargetGroupARNs: [{ Ref: Match.stringLikeRegexp('HealthCheckKubelets') }],
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 10248,
      HealthCheckProtocol: 'HTTP',
      HealthCheckPath: '/healthz',
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internal', Type: 'network' });
  });

  test('rolls one worker at a time after its health signal, keeping the minimum in service', () => {
    worker().hasResource('AWS::AutoScaling::AutoScalingGroup', {
      UpdatePolicy: Match.objectLike({
        AutoScalingRollingUpdate: Match.objectLike({ MaxBatchSize: 1, MinInstancesInService: 1, WaitOnResourceSignals: true }),
      }),
    });
  });

  test('launches the configured instance type with a 50 GiB encrypted root volume and IMDSv2, one hop only', () => {
    worker().hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        InstanceType: 'm6i.large',
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
        BlockDeviceMappings: [Match.objectLike({ Ebs: Match.objectLike({ Encrypted: true, VolumeSize: 50 }) })],
      }),
    });
  });

  test('opens the kubelet to masters, the pod network among nodes, and the API to workers', () => {
    const rules = Object.values(resourcesOfType(worker(), 'AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties);
    const masterSg = { 'Fn::ImportValue': expect.stringMatching(/^kube-aws-test-1-master:.*MastersSecurityGroup/) };
    const workerSg = { 'Fn::GetAtt': [expect.stringMatching(/^WorkersSecurityGroup/), 'GroupId'] };
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ GroupId: workerSg, SourceSecurityGroupId: masterSg, IpProtocol: 'tcp', FromPort: 10250 }),
        expect.objectContaining({ GroupId: workerSg, SourceSecurityGroupId: workerSg, IpProtocol: 'udp', FromPort: 8472 }),
        expect.objectContaining({ GroupId: workerSg, SourceSecurityGroupId: masterSg, IpProtocol: 'udp', FromPort: 8472 }),
        expect.objectContaining({ GroupId: masterSg, SourceSecurityGroupId: workerSg, IpProtocol: 'udp', FromPort: 8472 }),
        expect.objectContaining({ GroupId: masterSg, SourceSecurityGroupId: workerSg, IpProtocol: 'tcp', FromPort: 443 }),
      ]),
    );
    expect(rules.filter((r) => r.FromPort === 10250).map((r) => r.SourceSecurityGroupId)).toEqual([masterSg]);
  });

  test('the internal API endpoint admits on 443 the workers and the add-on applier, nothing else', () => {
    const isInternalApiSg = (groupId: unknown) => /InternalApiSecurityGroup/.test(JSON.stringify(groupId));
    const workerSg = { 'Fn::GetAtt': [expect.stringMatching(/^WorkersSecurityGroup/), 'GroupId'] };
    const rules = [cluster.templates.master, worker()]
      .flatMap((t) => Object.values(resourcesOfType(t, 'AWS::EC2::SecurityGroupIngress')))
      .map((r) => r.Properties)
      .filter((r) => isInternalApiSg(r.GroupId));
    const applierSg = { 'Fn::GetAtt': [expect.stringMatching(/^AddonApplierSecurityGroup/), 'GroupId'] };
    expect(rules).toEqual([
      expect.objectContaining({ SourceSecurityGroupId: applierSg, IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
      expect.objectContaining({ SourceSecurityGroupId: workerSg, IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
    ]);
    expect(rules[1].GroupId).toEqual({ 'Fn::ImportValue': expect.stringMatching(/^kube-aws-test-1-master:.*InternalApiSecurityGroup/) });
  });

  test("workers' agents use the internal endpoint the master stack publishes, with the cluster CA", () => {
    // The worker's staged Ignition config, as its nodes fetch it.
    const staged = path.join(cluster.app.outdir, cluster.stacks.worker.userData.get('default')!.config.asset.assetPath);
    const kubeconfig = load(fileText(JSON.parse(fs.readFileSync(staged, 'utf8')), '/etc/kubernetes/kubeconfig')) as any;
    expect(kubeconfig.clusters[0].cluster).toEqual({
      server: cluster.stacks.master.internalApiUrl,
      'certificate-authority': '/etc/kubernetes/pki/ca.crt',
    });
    expect(cluster.stacks.master.internalApiUrl).toBe('https://internal.kube-aws-test-1.team.example.org');
  });

  test('depends on the master stack only, and never on etcd directly', () => {
    expect(cluster.stacks.worker.dependencies.map((s) => s.stackName)).toEqual(['kube-aws-test-1-master']);
    expect(JSON.stringify(worker().toJSON())).not.toMatch(/kube-aws-test-1-etcd/);
  });

  test('matches the reviewed snapshot (a change detector; the tests above say what matters)', () => {
    expect(templateSnapshot(worker())).toMatchSnapshot();
  });
});
