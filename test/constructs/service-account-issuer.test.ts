import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ClusterSecrets } from '../../lib/constructs/cluster-secrets';
import { ServiceAccountIssuer, ServiceAccountKeySource } from '../../lib/constructs/service-account-issuer';
import { JWKS_PATH, OPENID_CONFIGURATION_PATH } from '../../userdata/service-account-issuer';
import { RequestContext, Statement, allows, conditionHolds, resolveIntrinsics } from '../iam-policy';
import { resourcesOfType } from '../util';

const ENV = { account: '123456789012', region: 'eu-central-1' };
const BUCKET = 'kube-aws-test-1-oidc-123456789012-eu-central-1';
const ISSUER_HOST = `${BUCKET}.s3.eu-central-1.amazonaws.com`;

/** A control-plane ClusterSecrets as the issuer sees it (`regenerate` given here: ClusterSecrets does not expose it yet). */
function keySource(secrets: ClusterSecrets, regenerate = 0): ServiceAccountKeySource {
  return {
    controlPlaneSecret: secrets.controlPlaneSecret,
    resource: secrets.resource,
    regenerate,
    grantControlPlaneRead: (grantee) => secrets.grantControlPlaneRead(grantee),
  };
}

/** One app and stack for the file, checked by cdk-nag: every new stack costs a synth with cdk-nag. */
function fixture() {
  const app = new App();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new Stack(app, 'Test', { env: ENV });
  const secrets = new ClusterSecrets(stack, 'Secrets', { set: 'control-plane', clusterName: 'kube-aws-test-1', zoneName: 'team.example.org' });
  const issuer = new ServiceAccountIssuer(stack, 'Issuer', { bucketName: BUCKET, secrets: keySource(secrets, 2) });
  const role = issuer.roleForServiceAccount('ExternalDnsRole', { namespace: 'kube-system', serviceAccountName: 'external-dns' });
  return { app, stack, secrets, issuer, role, template: Template.fromStack(stack) };
}

const logicalId = (stack: Stack, construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);

describe('ServiceAccountIssuer', () => {
  const { app, stack, secrets, issuer, role, template } = fixture();
  const bucketId = logicalId(stack, issuer.bucket);
  const bucketArn = `arn:aws:s3:::${BUCKET}`;

  test('the issuer is the bucket\'s regional virtual-hosted URL, a literal', () => {
    expect(issuer.issuerUrl).toBe(`https://${ISSUER_HOST}`);
  });

  describe('the bucket', () => {
    test('ACLs disabled, only policy-based public access allowed, SSE-S3, TLS only, deleted with the stack', () => {
      template.hasResource('AWS::S3::Bucket', {
        DeletionPolicy: 'Delete',
        Properties: {
          BucketName: BUCKET,
          OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            IgnorePublicAcls: true,
            BlockPublicPolicy: false,
            RestrictPublicBuckets: false,
          },
          // AES256 is SSE-S3: anonymous readers could not decrypt SSE-KMS objects.
          BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        },
      });
    });

    const policy = Object.values(resourcesOfType(template, 'AWS::S3::BucketPolicy'))[0];
    const statements: Statement[] = resolveIntrinsics(policy.Properties.PolicyDocument.Statement, { [`${bucketId}.Arn`]: bucketArn });
    const anonymous = statements.filter((s) => JSON.stringify(s.Principal) === '"*"' || JSON.stringify(s.Principal) === '{"AWS":"*"}');
    const https: RequestContext = { 'aws:SecureTransport': 'true' };

    test('anonymous readers get exactly the two documents, over TLS', () => {
      for (const path of [OPENID_CONFIGURATION_PATH, JWKS_PATH]) {
        expect(allows(anonymous, 's3:GetObject', `${bucketArn}${path}`, https)).toBe(true);
        expect(allows(anonymous, 's3:GetObject', `${bucketArn}${path}`, { 'aws:SecureTransport': 'false' })).toBe(false);
      }
      for (const other of ['/', '/.well-known/other', '/openid/v1/jwks/x', '/openid/v1/jwksx', '/secret']) {
        expect(allows(anonymous, 's3:GetObject', `${bucketArn}${other}`, https)).toBe(false);
      }
    });

    test('nothing else is public: no listing, no writes, no other action', () => {
      for (const action of ['s3:ListBucket', 's3:PutObject', 's3:DeleteObject', 's3:GetObjectVersion', 's3:GetBucketPolicy']) {
        for (const resource of [bucketArn, `${bucketArn}/openid/v1/jwks`]) {
          expect(allows(anonymous, action, resource, https)).toBe(false);
        }
      }
      const publicAllows = anonymous.filter((s) => s.Effect === 'Allow');
      expect(publicAllows).toHaveLength(1);
      expect(publicAllows[0].Action).toBe('s3:GetObject');
      expect([publicAllows[0].Resource].flat().sort()).toEqual([`${bucketArn}${JWKS_PATH}`, `${bucketArn}${OPENID_CONFIGURATION_PATH}`].sort());
      expect(statements.filter((s) => s.Effect === 'Allow')).toHaveLength(1);
    });
  });

  test('an IAM OIDC provider for the issuer, audience sts.amazonaws.com, no thumbprint Lambda', () => {
    template.resourceCountIs('AWS::IAM::OIDCProvider', 1);
    template.hasResourceProperties('AWS::IAM::OIDCProvider', {
      Url: `https://${ISSUER_HOST}`,
      ClientIdList: ['sts.amazonaws.com'],
      ThumbprintList: Match.absent(),
    });
    template.resourceCountIs('Custom::AWSCDKOpenIdConnectProvider', 0);
    // Deleted before the bucket, so that a freed bucket name is never trusted.
    expect(template.findResources('AWS::IAM::OIDCProvider', { DependsOn: Match.arrayWith([bucketId]) })).not.toEqual({});
  });

  describe('the publishing custom resource', () => {
    test('names the issuer, the bucket, the control-plane secret and its generation, and runs after the secrets', () => {
      const secretsId = stack.getLogicalId(secrets.resource.node.defaultChild as never);
      template.hasResource('Custom::ServiceAccountIssuerDocuments', {
        Properties: {
          IssuerUrl: `https://${ISSUER_HOST}`,
          BucketName: { Ref: bucketId },
          SecretId: { Ref: logicalId(stack, secrets.controlPlaneSecret as never) },
          SecretGeneration: '2',
        },
        DependsOn: Match.arrayWith([secretsId]),
      });
    });

    test('its function writes and deletes only the two documents, and reads only the control-plane secret', () => {
      const handlerRoles = Object.entries(resourcesOfType(template, 'AWS::IAM::Policy')).filter(([id]) => id.startsWith('IssuerHandler'));
      const handlerStatements: Statement[] = resolveIntrinsics(
        handlerRoles.flatMap(([, p]) => p.Properties.PolicyDocument.Statement),
        { [`${bucketId}.Arn`]: bucketArn },
      );
      const s3Statements = handlerStatements.filter((s) => [s.Action].flat().some((a) => String(a).startsWith('s3:')));
      expect(s3Statements).toEqual([
        expect.objectContaining({
          Action: ['s3:PutObject', 's3:DeleteObject'],
          Resource: [`${bucketArn}${OPENID_CONFIGURATION_PATH}`, `${bucketArn}${JWKS_PATH}`],
        }),
      ]);
      const secretReads = handlerStatements.filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
      expect(secretReads.map((s) => s.Resource)).toEqual([{ Ref: logicalId(stack, secrets.controlPlaneSecret as never) }]);
    });
  });

  describe('roleForServiceAccount: the trust policy', () => {
    const roleId = logicalId(stack, role);
    const providerId = logicalId(stack, issuer.provider);
    const trust: Statement[] = resourcesOfType(template, 'AWS::IAM::Role')[roleId].Properties.AssumeRolePolicyDocument.Statement;
    const provider = template.toJSON().Resources[roleId].Properties.AssumeRolePolicyDocument.Statement[0].Principal.Federated;

    /**
     * Whether STS lets a web identity of `federated` assume the role with these claims: an
     * Allow for sts:AssumeRoleWithWebIdentity naming that provider whose conditions hold, and
     * no Deny that matches. Written here: test/iam-policy.ts's `allows` does not read principals.
     */
    function mayAssume(claims: { sub: string; aud: string }, federated: unknown = provider): boolean {
      const context: RequestContext = { [`${ISSUER_HOST}:sub`]: claims.sub, [`${ISSUER_HOST}:aud`]: claims.aud };
      const matching = trust.filter(
        (s) =>
          [s.Action].flat().includes('sts:AssumeRoleWithWebIdentity') &&
          JSON.stringify((s.Principal as { Federated?: unknown }).Federated) === JSON.stringify(federated) &&
          conditionHolds(s.Condition, context),
      );
      return matching.some((s) => s.Effect === 'Allow') && !matching.some((s) => s.Effect === 'Deny');
    }

    test('the principal is this issuer\'s OIDC provider', () => {
      expect(JSON.stringify(provider)).toContain(providerId);
    });

    test('only a token of that service account, for STS, may assume the role', () => {
      const aud = 'sts.amazonaws.com';
      expect(mayAssume({ sub: 'system:serviceaccount:kube-system:external-dns', aud })).toBe(true);
      expect(mayAssume({ sub: 'system:serviceaccount:kube-system:coredns', aud })).toBe(false); // another sa, same namespace
      expect(mayAssume({ sub: 'system:serviceaccount:default:external-dns', aud })).toBe(false); // same name, another namespace
      expect(mayAssume({ sub: 'system:serviceaccount:kube-system:external-dns', aud: 'https://kubernetes.default.svc' })).toBe(false); // wrong audience
      expect(mayAssume({ sub: 'system:serviceaccount:kube-system:external-dns*', aud })).toBe(false); // no wildcard match
      expect(mayAssume({ sub: 'system:serviceaccount:kube-system:external-dns', aud }, { 'Fn::GetAtt': ['Other', 'Arn'] })).toBe(false); // another provider
    });

    test('StringEquals on both claims, keyed by the issuer host, and nothing broader', () => {
      expect(trust).toEqual([
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRoleWithWebIdentity',
          Principal: { Federated: provider },
          Condition: {
            StringEquals: {
              [`${ISSUER_HOST}:sub`]: 'system:serviceaccount:kube-system:external-dns',
              [`${ISSUER_HOST}:aud`]: 'sts.amazonaws.com',
            },
          },
        },
      ]);
    });

    test('names that Kubernetes would refuse are refused, naming the option', () => {
      expect(() => issuer.roleForServiceAccount('Bad1', { namespace: 'Kube-System', serviceAccountName: 'x' })).toThrow(/namespace must be .*DNS-1123 label.*'Kube-System'/);
      expect(() => issuer.roleForServiceAccount('Bad2', { namespace: 'default', serviceAccountName: '*' })).toThrow(/serviceAccountName must be .*'\*'/);
    });
  });

  test('cdk-nag AwsSolutions finds nothing unacknowledged in the stack', () => {
    expect(() => app.synth()).not.toThrow();
  });
});

describe('ServiceAccountIssuer props', () => {
  const build = (bucketName: string, env: { account: string; region: string } | 'agnostic' = ENV) => {
    const stack = new Stack(new App(), 'Props', { env: env === 'agnostic' ? undefined : env });
    const secrets = new ClusterSecrets(stack, 'Secrets', { set: 'control-plane', clusterName: 'kube-aws-test-1', zoneName: 'team.example.org' });
    return new ServiceAccountIssuer(stack, 'Issuer', { bucketName, secrets: keySource(secrets) });
  };

  test('a bucket name with dots (no TLS host) or capitals is refused, naming the prop', () => {
    expect(() => build('my.bucket')).toThrow(/bucketName must be a literal S3 bucket name.*no dots.*got 'my.bucket'/);
    expect(() => build('My-Bucket')).toThrow(/bucketName/);
  });

  test('an environment-agnostic stack is refused: the issuer must be known at synth', () => {
    expect(() => build(BUCKET, 'agnostic')).toThrow(/the stack's region must be a known AWS region at synth/);
  });

  test('the issuer follows the partition of the region', () => {
    expect(build(BUCKET, { account: '123456789012', region: 'cn-north-1' }).issuerUrl).toBe(`https://${BUCKET}.s3.cn-north-1.amazonaws.com.cn`);
  });
});

test('cdk-nag: a bare stack with the issuer and a role has no unacknowledged finding', () => {
  const app = new App();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new Stack(app, 'Bare', { env: ENV });
  const secrets = new ClusterSecrets(stack, 'Secrets', { set: 'control-plane', clusterName: 'kube-aws-test-1', zoneName: 'team.example.org' });
  new ServiceAccountIssuer(stack, 'Issuer', { bucketName: BUCKET, secrets: keySource(secrets) }).roleForServiceAccount('Role', {
    namespace: 'default',
    serviceAccountName: 'app',
  });
  expect(() => app.synth()).not.toThrow();
});
