#!/usr/bin/env node
// Runs the auth webhook from the TypeScript sources (masters run the esbuild bundle instead).
'use strict';
require('./run-ts')(require.resolve('../webhook/cli.ts'));
