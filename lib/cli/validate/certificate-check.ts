import { CA_CERTIFICATE_WARNING_DAYS, CERTIFICATE_DAYS_LEFT_METRIC, CERTIFICATE_METRIC_NAMESPACE, CERTIFICATE_WARNING_DAYS } from '../../certificate-expiry';
import { setCertificates } from '../../secrets/certificate-metric';
import { SECRET_SETS } from '../../../userdata/secret-names';
import { CheckResult, fail, pass, warn } from './check-result';

/** One certificate's metric over the window validate reads. */
export interface CertificateSeries {
  /** The `Certificate` dimension: `<secret set>/<secret>/<file>`. */
  readonly certificate: string;
  /** The minimum of CertificateDaysLeft in the window; undefined when nothing was published in it. */
  readonly minimumDaysLeft?: number;
}

/** How far back validate reads the metric; the renewal publishes it more often than that. */
export const CERTIFICATE_WINDOW_DAYS = 2;

const CHECK = 'certificates';

/**
 * The Certificate dimension of every certificate the renewal publishes for the cluster: each
 * secret set's (lib/secrets/certificate-metric.ts setCertificates), etcd's with one member
 * certificate per etcd member.
 */
export function expectedCertificates(cluster: string, etcdMemberCount: number): string[] {
  return SECRET_SETS.flatMap((set) => setCertificates(set, cluster, etcdMemberCount).map((c) => c.id));
}

/** The Certificate dimension of the cluster's CAs (their names do not depend on the etcd member count). */
export function certificateAuthorities(cluster: string): Set<string> {
  return new Set(SECRET_SETS.flatMap((set) => setCertificates(set, cluster, 0).filter((c) => c.kind === 'ca').map((c) => c.id)));
}

/**
 * Days left on each certificate, as the renewal publishes them (lib/certificate-expiry.ts):
 * below CERTIFICATE_WARNING_DAYS a warning (renewal failed), for one of `authorities` (the CAs)
 * below CA_CERTIFICATE_WARNING_DAYS (time to rotate it), at or below 0 a failure (the
 * certificate has expired, whatever it secures is refused now), no data a warning (a new
 * cluster before the first publication, or a stopped publisher). ListMetrics only lists what
 * was published, so each `expected` certificate it does not list is a warning of its own: a set
 * whose renewal never published would otherwise pass unseen. `expected` is undefined when it
 * is not known (the etcd member count could not be read).
 */
export function checkCertificates(series: readonly CertificateSeries[], expected?: readonly string[], authorities: ReadonlySet<string> = new Set()): CheckResult[] {
  const listed = new Set(series.map((s) => s.certificate));
  const missing = (expected ?? []).filter((certificate) => !listed.has(certificate));
  const results: CheckResult[] = missing.map((certificate) =>
    warn(CHECK, `${certificate}: no data (no ${CERTIFICATE_METRIC_NAMESPACE}/${CERTIFICATE_DAYS_LEFT_METRIC} metric published for it; is its set's renewal running?)`),
  );
  if (series.length === 0) {
    return results.length > 0
      ? results
      : [warn(CHECK, `no data yet: no ${CERTIFICATE_METRIC_NAMESPACE}/${CERTIFICATE_DAYS_LEFT_METRIC} metric for this cluster (published by the certificate renewal)`)];
  }
  const known = series.filter((s): s is Required<CertificateSeries> => s.minimumDaysLeft !== undefined).sort((a, b) => a.minimumDaysLeft - b.minimumDaysLeft);
  for (const s of series.filter((s) => s.minimumDaysLeft === undefined)) {
    results.push(warn(CHECK, `${s.certificate}: no data in the last ${CERTIFICATE_WINDOW_DAYS} days (is the renewal still publishing?)`));
  }
  for (const s of known) {
    const days = Math.floor(s.minimumDaysLeft);
    if (days <= 0) results.push(fail(CHECK, `${s.certificate}: expired (${days} days left)`));
    else if (authorities.has(s.certificate)) {
      // A CA is not renewed but rotated, which replaces nodes: its warning comes a year ahead.
      if (days < CA_CERTIFICATE_WARNING_DAYS) results.push(warn(CHECK, `${s.certificate}: ${days} days left, below ${CA_CERTIFICATE_WARNING_DAYS}: a CA is rotated, not renewed (lib/secrets/README.md, Rotation)`));
    } else if (days < CERTIFICATE_WARNING_DAYS) results.push(warn(CHECK, `${s.certificate}: ${days} days left, below ${CERTIFICATE_WARNING_DAYS} (its renewal is failing)`));
  }
  if (results.length === 0) {
    results.push(pass(CHECK, `${known.length} certificates, the soonest to expire ${known[0].certificate} in ${Math.floor(known[0].minimumDaysLeft)} days`));
  }
  return results;
}
