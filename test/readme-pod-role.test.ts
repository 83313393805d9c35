/**
 * The README's recipe for a workload's own role ("IAM roles for your pods") is a security
 * promise: the trust policy it shows lets exactly one service account's tokens for STS assume
 * the role. Evaluated here as STS would (test/iam-policy.ts conditionHolds), with the
 * placeholders filled in as a user would from the master stack's outputs; and the wiring the
 * README describes (address, ports, audience, release) is the one the code has.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { WEB_IDENTITY_AUDIENCE } from '../manifests/addons/aws-identity';
import { POD_IDENTITY_WEBHOOK_METRICS_PORT, POD_IDENTITY_WEBHOOK_PORT } from '../userdata/network';
import { POD_IDENTITY_WEBHOOK_URL } from '../userdata/pod-identity-webhook';
import { POD_IDENTITY_WEBHOOK_VERSION } from '../userdata/versions';
import { conditionHolds, Statement } from './iam-policy';

const README = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
const MARKER = '<!-- pod role trust policy: test/readme-pod-role.test.ts evaluates it -->';

const ISSUER_HOST = 'kube-aws-test-1-oidc-123456789012-eu-central-1.s3.eu-central-1.amazonaws.com';
const PROVIDER_ARN = `arn:aws:iam::123456789012:oidc-provider/${ISSUER_HOST}`;

/** The README's policy with its placeholders filled in for service account `team-a/reports`. */
function readmeTrustPolicy(): { Statement: Statement[] } {
  const at = README.indexOf(MARKER);
  expect(at).toBeGreaterThan(0);
  const block = /```json\n([\s\S]*?)```/.exec(README.slice(at))![1];
  const filled = block
    .replace(/<OidcProviderArn>/g, PROVIDER_ARN)
    .replace(/<issuer host>/g, ISSUER_HOST)
    .replace(/<namespace>/g, 'team-a')
    .replace(/<service account>/g, 'reports');
  expect(filled).not.toMatch(/<[^>]+>/);
  return JSON.parse(filled);
}

/** Whether STS lets a web identity of `provider` with these claims assume the role: an Allow that holds, no Deny. */
function mayAssume(claims: { sub: string; aud: string }, provider = PROVIDER_ARN): boolean {
  const context = { [`${ISSUER_HOST}:sub`]: claims.sub, [`${ISSUER_HOST}:aud`]: claims.aud };
  const matching = readmeTrustPolicy().Statement.filter(
    (s) => [s.Action].flat().includes('sts:AssumeRoleWithWebIdentity') && (s.Principal as { Federated?: string }).Federated === provider && conditionHolds(s.Condition, context),
  );
  return matching.some((s) => s.Effect === 'Allow') && !matching.some((s) => s.Effect === 'Deny');
}

describe("the README's trust policy for a workload's role", () => {
  const aud = WEB_IDENTITY_AUDIENCE;
  test('lets the service account it names assume the role with a token for STS', () => {
    expect(mayAssume({ sub: 'system:serviceaccount:team-a:reports', aud })).toBe(true);
  });

  test.each([
    ['another service account of the namespace', { sub: 'system:serviceaccount:team-a:default', aud }],
    ['the same name in another namespace', { sub: 'system:serviceaccount:team-b:reports', aud }],
    ['a token for another audience (the API server\'s)', { sub: 'system:serviceaccount:team-a:reports', aud: 'https://kube-aws-test-1.team.example.org' }],
    ['a pattern where the name belongs', { sub: 'system:serviceaccount:team-a:*', aud }],
  ])('refuses %s', (_, claims) => {
    expect(mayAssume(claims)).toBe(false);
  });

  test("refuses another issuer's tokens", () => {
    expect(mayAssume({ sub: 'system:serviceaccount:team-a:reports', aud }, 'arn:aws:iam::123456789012:oidc-provider/elsewhere.example.org')).toBe(false);
  });
});

describe("the README's account of the webhook matches the code", () => {
  test('address, ports and release', () => {
    expect(README).toContain(`\`${POD_IDENTITY_WEBHOOK_URL}\``);
    expect(README).toContain(`drops its ports, ${POD_IDENTITY_WEBHOOK_PORT} and ${POD_IDENTITY_WEBHOOK_METRICS_PORT} (metrics)`);
    expect(README).toMatch(new RegExp(`amazon-eks-pod-identity-webhook\\s+${POD_IDENTITY_WEBHOOK_VERSION.replace(/\./g, '\\.')}`));
  });
});
