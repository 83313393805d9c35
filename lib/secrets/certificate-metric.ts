import {
  CERTIFICATE_DAYS_LEFT_METRIC,
  CERTIFICATE_METRIC_DIMENSIONS,
  CERTIFICATE_METRIC_NAMESPACE,
} from '../certificate-expiry';
import { ClusterSecretNames, SecretSet } from '../../userdata/secret-names';
import type { ClusterSecretsProperties } from './handler';

// What ClusterSecrets and the secrets function agree on about certificates: which each set
// has (where each lives, what signed it), the event that has the function renew them, and the
// metric of how long each has left. renewal.ts renews the leaves, the handler publishes the
// metric, the construct schedules the event and alarms on the metric. No PKI code here: the
// construct loads this module at synth.

/** The key of {@link RenewalEvent}: an event with this key and no other is a renewal. */
export const RENEWAL_EVENT_KEY = 'RenewCertificates';

/**
 * What the daily schedule sends the secrets function (the rule's fixed input): the set's
 * custom resource properties, so that both callers derive the certificates' names from the
 * same inputs.
 */
export interface RenewalEvent {
  readonly [RENEWAL_EVENT_KEY]: ClusterSecretsProperties;
}

/** A CA certificate, in the secret that holds its key. */
export interface StoredCa {
  readonly kind: 'ca';
  /** The metric's Certificate dimension, `<set>/<secret>/<file>`, e.g. `etcd/etcd-ca/ca.crt`. */
  readonly id: string;
  /** The secret's full name. */
  readonly secret: string;
  /** The certificate's file in the secret. */
  readonly file: string;
  /** Its private key's file in the same secret. */
  readonly keyFile: string;
}

/** How a leaf is first issued (bundles.ts); renewal.ts re-issues it the same way. */
export type LeafProfile =
  | { readonly kind: 'etcd-member'; readonly index: number }
  | { readonly kind: 'apiserver-etcd-client' }
  | { readonly kind: 'apiserver' }
  | { readonly kind: 'front-proxy-client' };

/** A leaf certificate and its key. */
export interface StoredLeaf {
  readonly kind: 'leaf';
  /** The metric's Certificate dimension, `<set>/<secret>/<file>`. */
  readonly id: string;
  /** The secret's full name. */
  readonly secret: string;
  /** The certificate's file in the secret. */
  readonly file: string;
  /** Its private key's file in the same secret. */
  readonly keyFile: string;
  /** The CA that signed it. */
  readonly issuer: StoredCa;
  /** A copy of the issuer's certificate in the leaf's own secret (what the node trusts), when the CA lives elsewhere. */
  readonly issuerCopyFile?: string;
  /** How it is issued. */
  readonly profile: LeafProfile;
}

/** A certificate of a secret set. */
export type StoredCertificate = StoredCa | StoredLeaf;

/**
 * Every certificate of a set, each once, CAs first: the CAs at the secret holding their key
 * (copies of a CA certificate in other secrets, such as `worker`'s `ca.crt`, are the same
 * certificate and not listed again), then the leaves.
 */
export function setCertificates(set: SecretSet, clusterName: string, etcdMemberCount: number): StoredCertificate[] {
  const names = new ClusterSecretNames(clusterName);
  const id = (secret: string, file: string) => `${set}/${secret.slice(names.folder.length)}/${file}`;
  const ca = (secret: string, file: string, keyFile: string): StoredCa => ({ kind: 'ca', id: id(secret, file), secret, file, keyFile });
  const leaf = (
    secret: string,
    file: string,
    keyFile: string,
    issuer: StoredCa,
    profile: LeafProfile,
    issuerCopyFile?: string,
  ): StoredLeaf => ({ kind: 'leaf', id: id(secret, file), secret, file, keyFile, issuer, issuerCopyFile, profile });

  if (set === 'etcd') {
    const etcdCa = ca(names.etcdCa, 'ca.crt', 'ca.key');
    return [
      etcdCa,
      ...names
        .etcdMembers(etcdMemberCount)
        .map((secret, index) => leaf(secret, 'member.crt', 'member.key', etcdCa, { kind: 'etcd-member', index }, 'ca.crt')),
      leaf(names.apiServerEtcdClient, 'apiserver-etcd-client.crt', 'apiserver-etcd-client.key', etcdCa, { kind: 'apiserver-etcd-client' }, 'etcd-ca.crt'),
    ];
  }
  const clusterCa = ca(names.controlPlane, 'ca.crt', 'ca.key');
  const frontProxyCa = ca(names.frontProxyCa, 'ca.crt', 'ca.key');
  return [
    clusterCa,
    frontProxyCa,
    leaf(names.controlPlane, 'apiserver.crt', 'apiserver.key', clusterCa, { kind: 'apiserver' }),
    leaf(names.controlPlane, 'front-proxy-client.crt', 'front-proxy-client.key', frontProxyCa, { kind: 'front-proxy-client' }, 'front-proxy-ca.crt'),
  ];
}

/**
 * One CloudWatch Embedded Metric Format document: `daysLeft` as CERTIFICATE_DAYS_LEFT_METRIC
 * of `certificate` in `cluster`, at `timestamp`. Printed on its own line by a Lambda function,
 * CloudWatch Logs turns it into the metric: no PutMetricData call, no permission.
 *
 * Shape per the EMF specification (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
 * CloudWatch_Embedded_Metric_Format_Specification.html; source awsdocs/amazon-cloudwatch-user-guide
 * doc_source/CloudWatch_Embedded_Metric_Format_Specification.md): `_aws.Timestamp` in epoch
 * milliseconds; a MetricDirective of Namespace, Dimensions (an array of DimensionSets, each
 * naming root members with string values) and Metrics (Name referencing a numeric root member,
 * Unit one of CloudWatch's units: there is no "Days", so None). On Lambda, writing the JSON to
 * standard output suffices, after the runtime's own prefix.
 */
export function certificateMetricLine(cluster: string, certificate: string, daysLeft: number, timestamp: Date): string {
  return JSON.stringify({
    _aws: {
      Timestamp: timestamp.getTime(),
      CloudWatchMetrics: [
        {
          Namespace: CERTIFICATE_METRIC_NAMESPACE,
          Dimensions: [[CERTIFICATE_METRIC_DIMENSIONS.cluster, CERTIFICATE_METRIC_DIMENSIONS.certificate]],
          Metrics: [{ Name: CERTIFICATE_DAYS_LEFT_METRIC, Unit: 'None' }],
        },
      ],
    },
    [CERTIFICATE_METRIC_DIMENSIONS.cluster]: cluster,
    [CERTIFICATE_METRIC_DIMENSIONS.certificate]: certificate,
    [CERTIFICATE_DAYS_LEFT_METRIC]: daysLeft,
  });
}
