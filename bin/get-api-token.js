#!/usr/bin/env node
// npx entry point: prints the admin token of a cluster (bin/get-api-token.ts).
'use strict';
require('./run-ts')(require.resolve('./get-api-token.ts'));
