#!/usr/bin/env node
// npx entry point: writes a kubeconfig for a cluster (bin/kubeconfig.ts).
'use strict';
require('./run-ts')(require.resolve('./kubeconfig.ts'));
