import { iamRoleGroup } from '../../../webhook/identities';

/** How long each kind of wait may take before its step FAILs. */
export interface E2eTimeouts {
  /** System pods running and ready. @default 5 minutes (the 2016 suite's) */
  readonly systemPods: number;
  /** A test workload's pods ready: image pull, and for the volume an EBS volume made and attached. @default 5 minutes */
  readonly rollout: number;
  /** A Service of type LoadBalancer gets an address from the cloud controller manager. @default 5 minutes */
  readonly loadBalancerAddress: number;
  /**
   * The load balancer answers over HTTP: its DNS name must resolve and its health checks pass
   * first, which takes minutes for a new ELB. @default 10 minutes
   */
  readonly loadBalancerAnswer: number;
  /** The DNS Job completes. @default 3 minutes */
  readonly job: number;
  /** The metrics API lists every node: metrics-server scrapes each kubelet every 15 s or so. @default 3 minutes */
  readonly metrics: number;
  /**
   * The run's namespace is gone, with its load balancer and EBS volume: the cloud controller and
   * the EBS CSI driver delete those before their objects go. @default 10 minutes
   */
  readonly cleanup: number;
}

export const DEFAULT_TIMEOUTS: E2eTimeouts = {
  systemPods: 5 * 60_000,
  rollout: 5 * 60_000,
  loadBalancerAddress: 5 * 60_000,
  loadBalancerAnswer: 10 * 60_000,
  job: 3 * 60_000,
  metrics: 3 * 60_000,
  cleanup: 10 * 60_000,
};

/** What a run of the suite is told. */
export interface E2eOptions {
  readonly timeouts: E2eTimeouts;
  /** Between two looks at something awaited. @default 5 seconds */
  readonly intervalMs: number;
  /** Each API request and each HTTP GET of the load balancer gives up after this long. @default 10 seconds */
  readonly requestTimeoutMs: number;
  /** The image of every test workload. @default E2E_IMAGE */
  readonly image: string;
  /** A name outside the cluster the DNS step resolves from a pod. @default DEFAULT_EXTERNAL_NAME */
  readonly externalName: string;
  /** The group that grants the ReadOnly role (the webhook's roles.ReadOnly). @default the IAM ReadOnly group, `kubernetes-on-aws:iam:ReadOnly` */
  readonly readOnlyGroup: string;
  /** The group that grants the PowerUser role (the webhook's roles.PowerUser). @default `kubernetes-on-aws:iam:PowerUser` */
  readonly powerUserGroup: string;
}

/** A name every AWS region's resolver answers. */
export const DEFAULT_EXTERNAL_NAME = 'aws.amazon.com';

/**
 * Groups of IAM principals in readOnlyRoleArns and powerUserRoleArns: every cluster with IAM
 * sign-in has them (webhook/iam-authenticator.ts rolesWithIamGroups). A cluster whose roles come
 * from token-info groups only passes its own with --read-only-group and --power-user-group.
 */
export const DEFAULT_ROLE_GROUPS = { readOnly: iamRoleGroup('ReadOnly'), powerUser: iamRoleGroup('PowerUser') } as const;
