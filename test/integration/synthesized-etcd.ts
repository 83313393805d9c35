/**
 * What the etcd discovery test takes from the synthesized `<cluster>-etcd` stack: the DNS
 * records, the members' Ignition config exactly as uploaded (the S3 asset the launch
 * template's user data names) and the inputs of the secrets custom resource. Nothing is
 * hand-copied, so a change to the stack is what the real etcd members see.
 */
import { createHash } from 'crypto';
import { readFileSync } from 'fs';
import { join } from 'path';
import { NODE_TAGS } from '../../lib/constructs/node-tags';
import { ClusterSecretsInput } from '../../lib/secrets/inputs';
import { IgnitionConfig } from '../../userdata/ignition';
import { SynthesizedCluster, resourcesOfType } from '../util';

/** An A record whose value is a deploy-time address: the primary address of a member's interface. */
export interface MemberAddressRecord {
  /** Without the trailing dot. */
  readonly name: string;
  /** The member index tagged on the interface the record points at. */
  readonly memberIndex: number;
}

export interface SrvTarget {
  readonly priority: number;
  readonly weight: number;
  readonly port: number;
  /** Without the trailing dot. */
  readonly target: string;
}

export interface SrvRecord {
  /** Without the trailing dot, e.g. `_etcd-server-ssl._tcp.etcd.<cluster>.<zone>`. */
  readonly name: string;
  readonly targets: readonly SrvTarget[];
}

export interface SynthesizedEtcd {
  readonly zoneName: string;
  readonly memberRecords: readonly MemberAddressRecord[];
  readonly srvRecords: readonly SrvRecord[];
  /** The full Ignition config of the members, read back from the cloud assembly. */
  readonly ignition: IgnitionConfig;
  /** What the secrets custom resource generates the etcd certificates from. */
  readonly secretsInput: ClusterSecretsInput;
}

export function readSynthesizedEtcd(cluster: SynthesizedCluster): SynthesizedEtcd {
  return {
    zoneName: cluster.config.hostedZone.name,
    ...discoveryRecords(cluster),
    ignition: uploadedIgnitionConfig(cluster),
    secretsInput: secretsInput(cluster),
  };
}

const withoutDot = (name: string): string => name.replace(/\.$/, '');

function discoveryRecords(cluster: SynthesizedCluster): Pick<SynthesizedEtcd, 'memberRecords' | 'srvRecords'> {
  const template = cluster.templates.etcd;
  const interfaces = resourcesOfType(template, 'AWS::EC2::NetworkInterface');
  const memberRecords: MemberAddressRecord[] = [];
  const srvRecords: SrvRecord[] = [];
  for (const [id, record] of Object.entries(resourcesOfType(template, 'AWS::Route53::RecordSet'))) {
    const { Name, Type, ResourceRecords } = record.Properties;
    if (Type === 'A') {
      // The value is only known at deploy time: follow it to the interface and its member tag.
      const [interfaceId, attribute] = ResourceRecords?.[0]?.['Fn::GetAtt'] ?? [];
      const tags: { Key: string; Value: string }[] = interfaces[interfaceId]?.Properties.Tags ?? [];
      const memberTag = tags.find((tag) => tag.Key === NODE_TAGS.member('etcd'));
      if (ResourceRecords.length !== 1 || attribute !== 'PrimaryPrivateIpAddress' || !memberTag) {
        throw new Error(`A record ${id} is not the primary address of one tagged etcd member interface: ${JSON.stringify(ResourceRecords)}`);
      }
      memberRecords.push({ name: withoutDot(Name), memberIndex: Number(memberTag.Value) });
    } else if (Type === 'SRV') {
      const targets = (ResourceRecords as string[]).map((value) => {
        const [priority, weight, port, target] = value.split(' ');
        return { priority: Number(priority), weight: Number(weight), port: Number(port), target: withoutDot(target) };
      });
      srvRecords.push({ name: withoutDot(Name), targets });
    } else {
      throw new Error(`record ${id} has type ${Type}, which the discovery test does not serve`);
    }
  }
  return { memberRecords, srvRecords };
}

/**
 * The launch template's user data is a stub that has Ignition replace it with an S3 object
 * and check its sha512. Find that object among the stack's file assets in the cloud assembly
 * and check the hash as Ignition would: this is the config the members boot with.
 */
function uploadedIgnitionConfig(cluster: SynthesizedCluster): IgnitionConfig {
  const templates = Object.values(resourcesOfType(cluster.templates.etcd, 'AWS::EC2::LaunchTemplate'));
  const stubs = [...new Set(templates.map((t) => t.Properties.LaunchTemplateData.UserData?.['Fn::Base64']))];
  if (stubs.length !== 1 || typeof stubs[0] !== 'string') {
    throw new Error(`expected one literal user data stub for all etcd launch templates, found ${JSON.stringify(stubs)}`);
  }
  const replace = (JSON.parse(stubs[0]) as IgnitionConfig).ignition.config?.replace;
  const objectKey = /^s3:\/\/[^/]+\/(.+)$/.exec(replace?.source ?? '')?.[1];
  if (!replace?.verification || !objectKey) {
    throw new Error(`the user data stub does not replace itself from a verified s3:// object: ${stubs[0]}`);
  }
  const assembly = cluster.app.synth();
  const stack = assembly.getStackByName(cluster.stacks.etcd.stackName);
  const manifestFiles = stack.dependencies
    .filter((artifact) => artifact.manifest.type === 'cdk:asset-manifest')
    .map((artifact) => (artifact.manifest.properties as { file: string }).file);
  for (const manifestFile of manifestFiles) {
    const manifest = JSON.parse(readFileSync(join(assembly.directory, manifestFile), 'utf8'));
    for (const asset of Object.values<any>(manifest.files ?? {})) {
      const keys = Object.values<any>(asset.destinations).map((destination) => destination.objectKey);
      if (!keys.includes(objectKey)) continue;
      const contents = readFileSync(join(assembly.directory, asset.source.path));
      const sha512 = `sha512-${createHash('sha512').update(contents).digest('hex')}`;
      if (sha512 !== replace.verification.hash) {
        throw new Error(`asset ${asset.source.path} does not match the stub's verification hash: Ignition would refuse it`);
      }
      return JSON.parse(contents.toString('utf8')) as IgnitionConfig;
    }
  }
  throw new Error(`no file asset of stack ${stack.stackName} is uploaded as ${objectKey}`);
}

/** The etcd set's custom resource properties, read as the secrets Lambda reads them. */
function secretsInput(cluster: SynthesizedCluster): ClusterSecretsInput {
  const resources = Object.values(resourcesOfType(cluster.templates.etcd, 'Custom::ClusterSecrets'));
  const etcd = resources.filter((r) => r.Properties.Set === 'etcd');
  if (etcd.length !== 1) throw new Error(`expected one etcd ClusterSecrets resource, found ${etcd.length}`);
  const p = etcd[0].Properties;
  return {
    clusterName: p.ClusterName,
    zoneName: p.ZoneName,
    etcdMemberCount: Number(p.EtcdMemberCount),
    serviceCidr: p.ServiceCidr,
    clusterDomain: p.ClusterDomain,
  };
}
