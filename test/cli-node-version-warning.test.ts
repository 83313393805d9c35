import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// Under Node.js < 22 the AWS SDK prints a NodeVersionSupportWarning on every run
// (@aws-sdk/core, emitWarningIfUnsupportedVersion, called when a client is created). Our
// CLIs turn that one warning off (bin/run-ts.js); other warnings still show.

const WARNING = /NodeVersionSupportWarning/;
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

let home: string;
beforeAll(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'no-aws-'));
});
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

/** No credentials anywhere the SDK looks, and no instance metadata: nothing is fetched. */
function credentialFreeEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('AWS_') && key !== 'NODE_NO_WARNINGS' && key !== 'NODE_OPTIONS') env[key] = value;
  }
  return {
    ...env,
    HOME: home,
    AWS_REGION: 'eu-central-1',
    AWS_CONFIG_FILE: path.join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

describe("the project's CLIs under this Node.js", () => {
  (NODE_MAJOR < 22 ? test : test.skip)('the AWS SDK does print the warning here when nothing turns it off', () => {
    const result = spawnSync(
      process.execPath,
      ['-e', "new (require('@aws-sdk/client-secrets-manager').SecretsManagerClient)({})"],
      { cwd: path.join(__dirname, '..'), env: credentialFreeEnv(), encoding: 'utf8' },
    );
    expect(result.stderr).toMatch(WARNING);
  });

  test.each(['get-api-token', 'kubeconfig'])('%s prints no Node.js version warning, only its own error', (bin) => {
    const result = spawnSync(process.execPath, [path.join(__dirname, '..', 'bin', `${bin}.js`), 'kube-aws-test', '1'], {
      env: credentialFreeEnv(),
      encoding: 'utf8',
    });
    // It got as far as asking for credentials: the SDK clients were created.
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/No AWS credentials found/);
    expect(result.stderr).not.toMatch(WARNING);
    expect(result.stderr).not.toMatch(/\(node:\d+\) Warning/);
  });
});
