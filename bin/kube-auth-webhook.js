#!/usr/bin/env node
// Runs the auth webhook from the TypeScript sources (masters run the esbuild bundle instead).
'use strict';
require('ts-node').register({ transpileOnly: true, project: require('path').join(__dirname, '..', 'tsconfig.json') });
require('../webhook/cli').main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
