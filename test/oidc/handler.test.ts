import { generateKeyPairSync } from 'node:crypto';
import { DeleteObjectCommand, NoSuchBucket, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { JWKS_KEY, OPENID_CONFIGURATION_KEY, keyIdOf } from '../../lib/oidc/discovery';
import { ServiceAccountIssuerProperties, createOnEventHandler } from '../../lib/oidc/handler';
import type { OnEventRequest } from '../../lib/secrets/handler';

const BUCKET = 'kube-aws-test-1-oidc-123456789012-eu-central-1';
const ISSUER = `https://${BUCKET}.s3.eu-central-1.amazonaws.com`;
const SECRET_ARN = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:kubernetes-on-aws/kube-aws-test-1/control-plane-AbCdEf';
const PROPS: ServiceAccountIssuerProperties = { IssuerUrl: ISSUER, BucketName: BUCKET, SecretId: SECRET_ARN, SecretGeneration: '0' };

function publicKeyPem(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
}

/** A control-plane bundle: sa.pub beside private keys that must never leave the function. */
function controlPlaneBundle(saPub: string): Record<string, string> {
  return {
    'ca.crt': '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n',
    'ca.key': '-----BEGIN PRIVATE KEY-----\nSECRET-CA-KEY\n-----END PRIVATE KEY-----\n',
    'sa.key': '-----BEGIN PRIVATE KEY-----\nSECRET-SA-KEY\n-----END PRIVATE KEY-----\n',
    'sa.pub': saPub,
    'admin-token': 'SECRET-ADMIN-TOKEN',
  };
}
const SECRET_MARKER = /SECRET-/;

/** Secrets Manager and S3 at the SDK boundary: one secret, one bucket's objects in memory. */
function fakeAccount(secretString: string | undefined, options: { bucketExists?: boolean } = {}) {
  const objects = new Map<string, { body: string; contentType?: string; cacheControl?: string }>();
  const secretsManager = mockClient(SecretsManagerClient);
  secretsManager.on(GetSecretValueCommand).callsFake(({ SecretId }) => {
    if (SecretId !== SECRET_ARN) throw new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} });
    return { ARN: SECRET_ARN, SecretString: secretString };
  });
  const s3 = mockClient(S3Client);
  const bucket = (name: string | undefined) => {
    if (name !== BUCKET || options.bucketExists === false) throw new NoSuchBucket({ message: 'The specified bucket does not exist', $metadata: {} });
  };
  s3.on(PutObjectCommand).callsFake(({ Bucket, Key, Body, ContentType, CacheControl }) => {
    bucket(Bucket);
    objects.set(Key, { body: String(Body), contentType: ContentType, cacheControl: CacheControl });
    return {};
  });
  s3.on(DeleteObjectCommand).callsFake(({ Bucket, Key }) => {
    bucket(Bucket);
    objects.delete(Key);
    return {};
  });
  const handler = createOnEventHandler({
    s3: new S3Client({ region: 'eu-central-1' }),
    secretsManager: new SecretsManagerClient({ region: 'eu-central-1' }),
  });
  return { objects, secretsManager, s3, handler };
}

const create = (props: Record<string, unknown> = { ...PROPS }): OnEventRequest => ({ RequestType: 'Create', ResourceProperties: props });

/** Everything the handler said: console output and its answer. */
async function run(handler: (event: OnEventRequest) => Promise<unknown>, event: OnEventRequest) {
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    const response = await handler(event);
    return { response, logged: log.mock.calls.flat().join('\n') };
  } finally {
    log.mockRestore();
  }
}

afterEach(() => jest.restoreAllMocks());

describe('Create and Update publish the documents of the current sa.pub', () => {
  test('Create puts both documents as application/json; the JWKS holds the key of sa.pub', async () => {
    const saPub = publicKeyPem();
    const { objects, handler } = fakeAccount(JSON.stringify(controlPlaneBundle(saPub)));
    const { response } = await run(handler, create());

    expect([...objects.keys()].sort()).toEqual([JWKS_KEY, OPENID_CONFIGURATION_KEY].sort());
    for (const object of objects.values()) {
      expect(object.contentType).toBe('application/json');
      expect(object.cacheControl).toBe('public, max-age=3600');
    }
    expect(JSON.parse(objects.get(OPENID_CONFIGURATION_KEY)!.body)).toMatchObject({ issuer: ISSUER, jwks_uri: `${ISSUER}/openid/v1/jwks` });
    expect(JSON.parse(objects.get(JWKS_KEY)!.body).keys.map((key: { kid: string }) => key.kid)).toEqual([keyIdOf(saPub)]);
    expect(response).toEqual({ PhysicalResourceId: ISSUER });
  });

  test('an Update after the secrets were regenerated publishes the new key and keeps the resource', async () => {
    const oldPub = publicKeyPem();
    const newPub = publicKeyPem();
    const account = fakeAccount(JSON.stringify(controlPlaneBundle(oldPub)));
    await run(account.handler, create());
    const updated = fakeAccount(JSON.stringify(controlPlaneBundle(newPub)));
    updated.objects.set(JWKS_KEY, account.objects.get(JWKS_KEY)!);

    const { response } = await run(updated.handler, {
      RequestType: 'Update',
      PhysicalResourceId: ISSUER,
      ResourceProperties: { ...PROPS, SecretGeneration: '1' },
      OldResourceProperties: { ...PROPS },
    });
    const kids = JSON.parse(updated.objects.get(JWKS_KEY)!.body).keys.map((key: { kid: string }) => key.kid);
    expect(kids).toEqual([keyIdOf(newPub)]);
    expect(kids).not.toContain(keyIdOf(oldPub));
    expect(response).toEqual({ PhysicalResourceId: ISSUER });
  });

  test('reads the control-plane secret once, and nothing of it but sa.pub leaves the function', async () => {
    const saPub = publicKeyPem();
    const { objects, secretsManager, handler } = fakeAccount(JSON.stringify(controlPlaneBundle(saPub)));
    const { response, logged } = await run(handler, create());

    expect(secretsManager.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input)).toEqual([{ SecretId: SECRET_ARN }]);
    const published = [...objects.values()].map((object) => object.body).join('\n');
    expect(published).not.toMatch(SECRET_MARKER);
    expect(logged).not.toMatch(SECRET_MARKER);
    expect(logged).toContain(keyIdOf(saPub));
    expect(JSON.stringify(response)).not.toMatch(SECRET_MARKER);
  });
});

describe('failures say what is wrong without quoting the secret', () => {
  test.each([
    ['an unfilled secret', undefined, /has no value yet/],
    ['a secret that is not JSON', 'SECRET-not-json {', /is not a JSON bundle/],
    ['a bundle without sa.pub (another set)', JSON.stringify({ 'ca.crt': 'x', 'ca.key': 'SECRET-KEY' }), /has no sa.pub: is it the control-plane secret/],
    ['an sa.pub that is not a key', JSON.stringify({ 'sa.pub': 'garbage', 'sa.key': 'SECRET-KEY' }), /sa.pub is not a PEM public key/],
  ])('%s', async (_what, secretString, message) => {
    const { objects, handler } = fakeAccount(secretString);
    const failure = run(handler, create());
    await expect(failure).rejects.toThrow(message);
    await expect(failure).rejects.not.toThrow(SECRET_MARKER);
    expect(objects.size).toBe(0);
  });

  test('a missing property is named', async () => {
    const { handler } = fakeAccount(JSON.stringify(controlPlaneBundle(publicKeyPem())));
    const { SecretId: _omitted, ...withoutSecret } = PROPS;
    await expect(run(handler, create(withoutSecret))).rejects.toThrow(/resource property SecretId is missing/);
  });
});

describe('Delete removes the two documents', () => {
  test('deletes exactly the two objects and reads no secret', async () => {
    const { objects, secretsManager, s3, handler } = fakeAccount(JSON.stringify(controlPlaneBundle(publicKeyPem())));
    await run(handler, create());
    objects.set('unrelated', { body: '{}' });

    const { response } = await run(handler, { RequestType: 'Delete', PhysicalResourceId: ISSUER, ResourceProperties: { ...PROPS } });
    expect([...objects.keys()]).toEqual(['unrelated']);
    expect(s3.commandCalls(DeleteObjectCommand).map((call) => call.args[0].input.Key).sort()).toEqual([JWKS_KEY, OPENID_CONFIGURATION_KEY].sort());
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1); // the Create's only
    expect(response).toEqual({ PhysicalResourceId: ISSUER });
  });

  test('succeeds when the bucket is already gone', async () => {
    const { handler } = fakeAccount(undefined, { bucketExists: false });
    await expect(run(handler, { RequestType: 'Delete', PhysicalResourceId: ISSUER, ResourceProperties: { ...PROPS } })).resolves.toMatchObject({
      response: { PhysicalResourceId: ISSUER },
    });
  });
});
