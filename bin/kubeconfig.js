#!/usr/bin/env node
// npx entry point: runs bin/kubeconfig.ts through ts-node (no build step), exits with its code.
'use strict';
const path = require('node:path');

require('ts-node').register({ transpileOnly: true, project: path.join(__dirname, '..', 'tsconfig.json') });
require('./kubeconfig.ts')
  .main()
  .then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
