import { Duration } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { ETCD_CLIENT_PORT, ETCD_PEER_PORT } from '../../userdata/network';
import { etcdMemberName } from '../../userdata/types';

/** Short, so that a replaced interface's new address is seen within a minute. */
export const ETCD_RECORD_TTL = Duration.seconds(60);

export interface EtcdDnsRecordsProps {
  /** The hosted zone the cluster's names live in. */
  readonly zone: route53.IHostedZone;
  /** The discovery domain, `etcd.<cluster>.<zone>`. */
  readonly domain: string;
  /** The members' private addresses, in member order: member N is `etcd-N.<domain>`. */
  readonly memberAddresses: readonly string[];
}

/**
 * The records etcd's DNS discovery reads: an A record per member and the SRV records
 * `_etcd-server-ssl._tcp` (peers) and `_etcd-client-ssl._tcp` (clients) listing them.
 * etcd 3.4+ refuses SRV discovery without the `-ssl` records when TLS is on.
 */
export class EtcdDnsRecords extends Construct {
  /** `etcd-N.<domain>` in member order. */
  readonly memberNames: readonly string[];

  constructor(scope: Construct, id: string, props: EtcdDnsRecordsProps) {
    super(scope, id);
    this.memberNames = props.memberAddresses.map((_, index) => etcdMemberName(props.domain, index));
    props.memberAddresses.forEach((address, index) => {
      new route53.ARecord(this, `Member${index}`, {
        zone: props.zone,
        recordName: `${this.memberNames[index]}.`,
        target: route53.RecordTarget.fromIpAddresses(address),
        ttl: ETCD_RECORD_TTL,
      });
    });
    const srv = (id: string, service: string, port: number) =>
      new route53.SrvRecord(this, id, {
        zone: props.zone,
        recordName: `${service}._tcp.${props.domain}.`,
        values: this.memberNames.map((hostName) => ({ priority: 0, weight: 0, port, hostName })),
        ttl: ETCD_RECORD_TTL,
      });
    srv('ServerSrv', '_etcd-server-ssl', ETCD_PEER_PORT);
    srv('ClientSrv', '_etcd-client-ssl', ETCD_CLIENT_PORT);
  }
}
