import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ClusterStacks, createCluster } from '../lib/cluster';
import { ClusterConfig, ConfigError, loadClusterConfig } from '../lib/config';

/** The example cluster's context from cdk.json: the one fixture every test starts from. */
export const EXAMPLE_CONTEXT: Readonly<Record<string, unknown>> = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8'),
).context;

/** The example context with some keys changed (`undefined` removes a key). */
export function exampleContext(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const context: Record<string, unknown> = { ...EXAMPLE_CONTEXT, ...overrides };
  for (const [key, value] of Object.entries(overrides)) if (value === undefined) delete context[key];
  return context;
}

/** Reads a config from the example context with overrides. */
export function exampleConfig(overrides: Record<string, unknown> = {}): ClusterConfig {
  const context = exampleContext(overrides);
  return loadClusterConfig((key) => context[key], Object.keys(context));
}

/** The problems a context (the example with overrides) yields, or none. */
export function problemsOf(overrides: Record<string, unknown>): readonly string[] {
  try {
    exampleConfig(overrides);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

export interface SynthesizedCluster {
  readonly app: App;
  readonly config: ClusterConfig;
  readonly stacks: ClusterStacks;
  readonly templates: { readonly etcd: Template; readonly master: Template; readonly worker: Template };
}

/** Builds and synthesizes the example cluster (with overrides), as `cdk synth` does. */
export function synthesizeCluster(overrides: Record<string, unknown> = {}): SynthesizedCluster {
  const context = exampleContext(overrides);
  const app = new App({ context });
  const config = loadClusterConfig((key) => app.node.tryGetContext(key), Object.keys(app.node.getAllContext()));
  const stacks = createCluster(app, config);
  return {
    app,
    config,
    stacks,
    templates: {
      etcd: Template.fromStack(stacks.etcd),
      master: Template.fromStack(stacks.master),
      worker: Template.fromStack(stacks.worker),
    },
  };
}

/** The resources of one type in a template, by logical id. */
export function resourcesOfType(template: Template, type: string): Record<string, { Properties: any; [key: string]: any }> {
  return template.findResources(type) as Record<string, { Properties: any }>;
}

/** Logical ids whose resources differ between two templates (added, removed or changed). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function changedResources(before: any, after: any): string[] {
  const ids = new Set([...Object.keys(before.Resources), ...Object.keys(after.Resources)]);
  return [...ids].filter((id) => JSON.stringify(before.Resources[id]) !== JSON.stringify(after.Resources[id])).sort();
}
