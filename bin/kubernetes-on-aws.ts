#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { createCluster } from '../lib/cluster';
import { ConfigError, loadClusterConfig } from '../lib/config';

const app = new App();
try {
  const config = loadClusterConfig((key) => app.node.tryGetContext(key), Object.keys(app.node.getAllContext()));
  createCluster(app, config);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  // A configuration problem is the user's to fix: say what, without a stack trace.
  console.error(error.message);
  process.exit(1);
}
