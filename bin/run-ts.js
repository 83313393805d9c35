'use strict';
// Shared by the npx entry points: runs a TypeScript module's `main(argv)` through ts-node
// (no build step) and exits with the code it returns.
const path = require('node:path');

module.exports = function runTs(modulePath) {
  require('ts-node').register({ transpileOnly: true, project: path.join(__dirname, '..', 'tsconfig.json') });
  require(modulePath)
    .main(process.argv.slice(2))
    .then(
      (code) => {
        process.exitCode = code;
      },
      (error) => {
        console.error(error);
        process.exitCode = 1;
      },
    );
};
