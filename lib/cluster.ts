import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CachedTemplateValidation } from './build/cached-template-validation';
import { ClusterConfig } from './config';
import { EtcdStack } from './stacks/etcd-stack';
import { MasterStack } from './stacks/master-stack';
import { WorkerStack } from './stacks/worker-stack';

export interface ClusterStacks {
  readonly etcd: EtcdStack;
  readonly master: MasterStack;
  readonly worker: WorkerStack;
}

/**
 * The three stacks of one cluster, `<cluster>-etcd` <- `<cluster>-master` <-
 * `<cluster>-worker`, checked by CDK's template validation (its report cached per content)
 * and cdk-nag's AWS Solutions rules.
 */
export function createCluster(app: App, config: ClusterConfig): ClusterStacks {
  const env = { account: config.account, region: config.region };
  const name = config.clusterName;
  const description = (what: string) => `kubernetes-on-aws ${name}: ${what}`;
  const etcd = new EtcdStack(app, config.stackNames.etcd, { env, config, description: description('etcd') });
  const master = new MasterStack(app, config.stackNames.master, { env, config, etcd, description: description('control plane') });
  const worker = new WorkerStack(app, config.stackNames.worker, {
    env,
    config,
    controlPlane: master,
    description: description('workers'),
  });
  Validations.of(app).addPlugins(CachedTemplateValidation.shared(), new AwsSolutionsChecks(app, { verbose: true }));
  return { etcd, master, worker };
}
