'use strict';
// Shared by the npx entry points: runs a TypeScript module's `main(argv)` through ts-node
// (no build step) and exits with the code it returns.
const path = require('node:path');

// Under Node.js < 22 the AWS SDK warns on every run that its releases after January 2027
// will need Node.js 22 (@aws-sdk/core, emitWarningIfUnsupportedVersion). The versions
// package-lock.json pins support Node.js 20 (engines >=20), so our CLIs turn off that one
// warning with the SDK's own switch; set it to false to see the warning again.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

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
