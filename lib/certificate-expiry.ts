// The contract between the certificate renewal (lib/secrets, which renews leaf certificates
// and publishes how long each has left) and what watches it (the CloudWatch alarm, and
// `kube-aws validate`). Names only: no CDK, no AWS SDK, so either side can import it.

/** CloudWatch namespace of the certificate metric. */
export const CERTIFICATE_METRIC_NAMESPACE = 'KubernetesOnAws';

/** Days until a certificate's notAfter, published for every certificate of the cluster's secrets. */
export const CERTIFICATE_DAYS_LEFT_METRIC = 'CertificateDaysLeft';

/** The metric's dimensions: the cluster (`<stack>-<version>`) and the certificate (`<secret set>/<secret>/<file>`). */
export const CERTIFICATE_METRIC_DIMENSIONS = { cluster: 'Cluster', certificate: 'Certificate' } as const;

/**
 * Below this many days left, a leaf certificate is a warning (its alarm; `kube-aws validate`
 * applies it to every certificate). Renewal
 * happens long before (a third of the lifetime left), so reaching it means renewal failed.
 */
export const CERTIFICATE_WARNING_DAYS = 30;

/**
 * Below this many days left, a CA certificate is a warning (its alarm). A CA is not renewed but
 * rotated (the `regenerate` prop, lib/secrets/README.md "Rotation"), which replaces every node
 * of its set: a year leaves time to plan and roll that out. Until the CA ends, its leaves keep
 * being renewed, each capped at the CA's notAfter, so nothing breaks before that day; a warning
 * at CERTIFICATE_WARNING_DAYS would come a month before an outage. Not a third of the CA's
 * lifetime (3.3 of 10 years): an alarm that stays on for years gets ignored.
 */
export const CA_CERTIFICATE_WARNING_DAYS = 365;
