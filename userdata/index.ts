/** Typed Ignition user data for the three node roles. Pure: no AWS, no CDK. */
export { etcdConfig } from './etcd';
export { masterConfig } from './master';
export { workerConfig } from './worker';
export { stubConfig, stubUserData } from './stub';
export type { IgnitionConfig } from './ignition';
export type { ClusterIdentity, ClusterNetwork, EtcdNodeInput, MasterNodeInput, S3Asset, WorkerNodeInput } from './types';
export * as versions from './versions';
export * as network from './network';
