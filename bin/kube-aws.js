#!/usr/bin/env node
// npx entry point: the project's CLI, `kube-aws <command>` (bin/kube-aws.ts).
'use strict';
require('./run-ts')(require.resolve('./kube-aws.ts'));
