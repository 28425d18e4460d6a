import { generateKeyPairSync } from 'node:crypto';
import { PutObjectTaggingCommand, type Tag } from '@aws-sdk/client-s3';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { createHandler as createGetFileHandler } from '../../handlers/get-file.js';
import { createCallerRuntime } from '../../lib/caller-runtime.js';
import { loadEnvironment } from '../../lib/config/environment.js';
import { systemClock } from '../../lib/core/clock.js';
import { ApiError } from '../../lib/core/errors.js';
import { logger } from '../../lib/core/logger.js';
import { ownerFromSubject, ownerKeyFrom } from '../../lib/core/owner.js';
import { verdictVerifier } from '../../lib/core/verdict-signature.js';
import { MISSING_OWNER_KEY } from '../../lib/http/bearer-auth.js';
import {
  createRuntime,
  type Runtime,
  readNoParameter,
  runtimeOf,
  runtimeWithoutParameters,
} from '../../lib/runtime.js';
import { TAG } from '../../lib/store/object-encoding.js';
import { createS3Client } from '../../lib/store/s3-client.js';
import { apiEvent, lambdaContext } from '../support/api-event.js';
import { testClock } from '../support/clock.js';
import { loopbackServers } from '../support/loopback-servers.js';
import { TEST_OWNER_SECRET, testOwner } from '../support/owners.js';
import { signTestToken, testJwks } from '../support/tokens.js';
import { TEST_VERDICT_KEYS } from '../support/verdict-keys.js';
import { TEST_WEBHOOK_SECRET } from '../support/webhooks.js';

const base = (): NodeJS.ProcessEnv => ({ ...process.env });
/** The unit environment without the validator's private key in it: an API function's. */
const withoutSigningKey = (): NodeJS.ProcessEnv => ({ ...base(), VERDICT_SIGNING_KEY: undefined });

const KEY = 'uploads/9f86d081884c7d659a2feaa0c55ad015/01JDQ7ZJ8W3N4T6X9Y2B5C7D8E';
const VERDICT = { status: 'passed', detectedType: 'image/png' } as const;
const SNAPSHOT = { tags: [], eTag: '827ccb0eea8a706c4c34a16891f84e7b', versionId: 'v1' };
const SIGNING_PARAMETER = '/presign/unit/verdict-signing-key';

/** A PEM key pair of another algorithm than Ed25519, base64 as the environment carries keys. */
function foreignKeys(type: 'rsa' | 'ec' | 'ed448') {
  const pair =
    type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : type === 'ec'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed448');
  const b64 = (pem: string | Buffer) => Buffer.from(pem.toString()).toString('base64');
  return {
    privateKey: b64(pair.privateKey.export({ type: 'pkcs8', format: 'pem' })),
    publicKey: b64(pair.publicKey.export({ type: 'spki', format: 'pem' })),
  };
}

/**
 * Records a verdict through the runtime's store on a stubbed S3 client and
 * returns the tag set it wrote: the store signs with whatever key the runtime resolved.
 */
async function recordedTags(build: (s3: ReturnType<typeof createS3Client>) => Promise<Runtime>) {
  const s3 = createS3Client({ region: 'us-east-1' });
  const send = vi.spyOn(s3, 'send').mockResolvedValue({} as never);
  const runtime = await build(s3);
  await runtime.store.recordVerdict({ key: KEY, versionId: 'v1' }, SNAPSHOT, VERDICT);
  const command = send.mock.calls[0]?.[0] as PutObjectTaggingCommand;
  expect(command).toBeInstanceOf(PutObjectTaggingCommand);
  return (command.input.Tagging?.TagSet ?? []) as Tag[];
}

const signatureIn = (tags: Tag[]) => tags.find((tag) => tag.Key === TAG.signature)?.Value;
const verify = verdictVerifier(TEST_VERDICT_KEYS.publicKey);
const claims = { bucket: 'unit-test-bucket', key: KEY, versionId: 'v1', eTag: SNAPSHOT.eTag, ...VERDICT };

describe('createRuntime', () => {
  it('builds the rules, the store and the settings from the environment', async () => {
    // Act
    const runtime = await createRuntime({
      ...base(),
      UPLOAD_RULES: '{"image/png":1024}',
      PUBLIC_API_URL: 'https://api.example.com',
    });

    // Assert
    expect([...runtime.rules]).toEqual([['image/png', 1024]]);
    expect(runtime.store.bucket).toBe('unit-test-bucket');
    expect(runtime.publicUrl).toEqual({ configured: 'https://api.example.com', offline: false });
  });

  it('knows it runs under serverless offline from IS_OFFLINE', async () => {
    expect((await createRuntime({ ...base(), IS_OFFLINE: 'true' })).publicUrl.offline).toBe(true);
  });

  it.each([
    ['UPLOADS_BUCKET', { UPLOADS_BUCKET: undefined }, /UPLOADS_BUCKET/],
    ['STATE_BUCKET', { STATE_BUCKET: undefined }, /STATE_BUCKET/],
    ['VERDICT_PUBLIC_KEY', { VERDICT_PUBLIC_KEY: undefined }, /VERDICT_PUBLIC_KEY/],
    ['AUTH_ISSUER', { AUTH_ISSUER: undefined }, /AUTH_ISSUER/],
    ['the JWKS', { AUTH_JWKS: undefined, AUTH_JWKS_URL: undefined }, /AUTH_JWKS_URL .* or AUTH_JWKS/],
    ['UPLOAD_RULES', { UPLOAD_RULES: '{"image/png":0}' }, /UPLOAD_RULES/],
    ['UPLOAD_URL_TTL_SECONDS', { UPLOAD_URL_TTL_SECONDS: '901' }, /UPLOAD_URL_TTL_SECONDS/],
  ])('fails the cold start naming %s when it is missing or malformed', async (_, change, message) => {
    await expect(createRuntime({ ...base(), ...change })).rejects.toThrow(message);
  });

  it.each([
    [
      'a missing VERDICT_PUBLIC_KEY',
      { VERDICT_PUBLIC_KEY: '' },
      'VERDICT_PUBLIC_KEY (param verdictPublicKey: --param verdictPublicKey=…) is missing',
    ],
    [
      'a missing AUTH_ISSUER',
      { AUTH_ISSUER: undefined },
      'AUTH_ISSUER (param authIssuer: --param authIssuer=…) is missing',
    ],
    [
      'a JWKS URL that is no URL',
      { AUTH_JWKS: undefined, AUTH_JWKS_URL: 'jwks.json' },
      'AUTH_JWKS_URL (param authJwksUrl: --param authJwksUrl=…) ',
    ],
    [
      'a TTL over 900 s',
      { UPLOAD_URL_TTL_SECONDS: '901' },
      'UPLOAD_URL_TTL_SECONDS (param uploadUrlTtlSeconds: --param uploadUrlTtlSeconds=…) ',
    ],
    [
      'a quota that is no number',
      { QUOTA_BYTES_PER_OWNER: '10GB' },
      'QUOTA_BYTES_PER_OWNER (param quotaBytesPerOwner: --param quotaBytesPerOwner=…) ',
    ],
  ])('names the param a deployer sets, and how, for %s', async (_, change, message) => {
    await expect(createRuntime({ ...base(), ...change })).rejects.toThrow(message);
  });

  it('names a variable the stack sets itself alone, saying it is missing rather than the validator’s words', async () => {
    const failure = createRuntime({ ...base(), UPLOADS_BUCKET: undefined });
    await expect(failure).rejects.toThrow('invalid configuration: UPLOADS_BUCKET is missing');
    await expect(failure).rejects.not.toThrow(/expected string/);
  });

  it('fails the cold start naming STATE_BUCKET and VERDICT_PUBLIC_KEY when they are empty, as serverless renders unset settings', async () => {
    await expect(createRuntime({ ...base(), STATE_BUCKET: '' })).rejects.toThrow(/STATE_BUCKET/);
    await expect(createRuntime({ ...base(), VERDICT_PUBLIC_KEY: '' })).rejects.toThrow(/VERDICT_PUBLIC_KEY/);
  });
});

describe('createRuntime: verdict keys', () => {
  it('signs verdicts with VERDICT_SIGNING_KEY, for exactly the version and ETag judged', async () => {
    // Act
    const tags = await recordedTags((s3) => createRuntime(base(), { s3 }));

    // Assert
    expect(verify(claims, signatureIn(tags))).toBe(true);
    expect(verify({ ...claims, versionId: 'v2' }, signatureIn(tags))).toBe(false);
    expect(verify({ ...claims, eTag: 'ffffffffffffffffffffffffffffffff' }, signatureIn(tags))).toBe(false);
  });

  it('resolves VERDICT_SIGNING_KEY_PARAMETER through its parameter reader, once, and signs with that key', async () => {
    // Arrange
    const readParameter = vi.fn(async (_name: string) => TEST_VERDICT_KEYS.privateKey);

    // Act
    const tags = await recordedTags((s3) =>
      createRuntime(
        { ...withoutSigningKey(), VERDICT_SIGNING_KEY_PARAMETER: SIGNING_PARAMETER },
        {
          s3,
          readParameter,
        },
      ),
    );

    // Assert
    expect(readParameter).toHaveBeenCalledTimes(1);
    expect(readParameter).toHaveBeenCalledWith(SIGNING_PARAMETER);
    expect(verify(claims, signatureIn(tags))).toBe(true);
  });

  it('prefers VERDICT_SIGNING_KEY over the parameter, without reading SSM', async () => {
    // Arrange
    const readParameter = vi.fn(async (_name: string) => foreignKeys('rsa').privateKey);

    // Act
    const tags = await recordedTags((s3) =>
      createRuntime({ ...base(), VERDICT_SIGNING_KEY_PARAMETER: SIGNING_PARAMETER }, { s3, readParameter }),
    );

    // Assert
    expect(readParameter).not.toHaveBeenCalled();
    expect(verify(claims, signatureIn(tags))).toBe(true);
  });

  it('builds a store that cannot sign when the function has no signing key (every API function)', async () => {
    // Arrange
    const readParameter = vi.fn(async (_name: string) => TEST_VERDICT_KEYS.privateKey);
    const s3 = createS3Client({ region: 'us-east-1' });
    const send = vi.spyOn(s3, 'send').mockResolvedValue({} as never);

    // Act
    const runtime = await createRuntime(withoutSigningKey(), { s3, readParameter });

    // Assert
    await expect(runtime.store.recordVerdict({ key: KEY }, SNAPSHOT, VERDICT)).rejects.toThrow(
      /cannot sign verdicts/,
    );
    expect(send).not.toHaveBeenCalled();
    expect(readParameter).not.toHaveBeenCalled();
  });

  it('fails the cold start naming VERDICT_SIGNING_KEY_PARAMETER when SSM cannot be read, without the key in the message', async () => {
    // Arrange
    const readParameter = async (_name: string): Promise<string> => {
      throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    };

    // Act
    const built = createRuntime(
      { ...withoutSigningKey(), VERDICT_SIGNING_KEY_PARAMETER: SIGNING_PARAMETER },
      { readParameter },
    );

    // Assert
    await expect(built).rejects.toThrow(
      /VERDICT_SIGNING_KEY_PARAMETER \/presign\/unit\/verdict-signing-key could not be read.*AccessDeniedException/,
    );
  });

  it('fails the cold start naming VERDICT_SIGNING_KEY_PARAMETER when the parameter holds too short a value', async () => {
    // Arrange
    const readParameter = async (_name: string) => 'short';

    // Act
    const built = createRuntime(
      { ...withoutSigningKey(), VERDICT_SIGNING_KEY_PARAMETER: SIGNING_PARAMETER },
      { readParameter },
    );

    // Assert
    await expect(built).rejects.toThrow(/VERDICT_SIGNING_KEY_PARAMETER .* must hold at least/);
  });

  it.each(['rsa', 'ec', 'ed448'] as const)(
    'refuses a %s signing key, from the environment or from SSM',
    async (type) => {
      // Arrange
      const { privateKey } = foreignKeys(type);
      const readParameter = async (_name: string) => privateKey;

      // Act / Assert
      await expect(createRuntime({ ...base(), VERDICT_SIGNING_KEY: privateKey })).rejects.toThrow(
        /signing key must be an Ed25519 key/,
      );
      await expect(
        createRuntime(
          { ...withoutSigningKey(), VERDICT_SIGNING_KEY_PARAMETER: SIGNING_PARAMETER },
          { readParameter },
        ),
      ).rejects.toThrow(/signing key must be an Ed25519 key/);
    },
  );

  it.each(['rsa', 'ec', 'ed448'] as const)('refuses a %s public key', async (type) => {
    await expect(
      createRuntime({ ...base(), VERDICT_PUBLIC_KEY: foreignKeys(type).publicKey }),
    ).rejects.toThrow(/public key must be an Ed25519 key/);
  });

  it.each([
    ['VERDICT_PUBLIC_KEY', { VERDICT_PUBLIC_KEY: 'not-a-key-'.repeat(6) }],
    ['VERDICT_SIGNING_KEY', { VERDICT_SIGNING_KEY: 'not-a-key-'.repeat(6) }],
  ])('fails the cold start on a %s that is no key at all, naming it', async (variable, change) => {
    await expect(createRuntime({ ...base(), ...change })).rejects.toThrow(
      new RegExp(`^invalid configuration: ${variable} `),
    );
  });

  it('takes the keys as PEM text as well as base64 of PEM', async () => {
    // Arrange
    const pem = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');

    // Act
    const tags = await recordedTags((s3) =>
      createRuntime(
        {
          ...base(),
          VERDICT_SIGNING_KEY: pem(TEST_VERDICT_KEYS.privateKey),
          VERDICT_PUBLIC_KEY: pem(TEST_VERDICT_KEYS.publicKey),
        },
        { s3 },
      ),
    );

    // Assert
    expect(verify(claims, signatureIn(tags))).toBe(true);
  });
});

describe('runtimeWithoutParameters: a function given no SSM parameter', () => {
  it("builds this container's runtime from process.env, and keeps it", async () => {
    // Act
    const first = runtimeWithoutParameters();
    const runtime = await first;

    // Assert
    expect(runtimeWithoutParameters()).toBe(first);
    expect(runtime.environment.UPLOADS_BUCKET).toBe(process.env.UPLOADS_BUCKET);
    expect(runtime.store).toBeDefined();
  });

  it.each([
    ['VERDICT_SIGNING_KEY_PARAMETER', { VERDICT_SIGNING_KEY: undefined }],
    ['SHARE_SECRET_PARAMETER', { SHARE_SECRET: undefined }],
  ])('fails the cold start naming %s when one is set on it anyway', async (variable, unset) => {
    // Arrange
    const environment = loadEnvironment({ ...base(), ...unset, [variable]: '/presign/unit/a-secret' });

    // Act
    const built = runtimeOf(environment, { readParameter: readNoParameter });

    // Assert
    await expect(built).rejects.toThrow(
      new RegExp(`${variable} /presign/unit/a-secret could not be read from SSM \\(NoParameterGranted\\)`),
    );
  });
});

describe('createRuntime: clock', () => {
  it('reads the system clock unless given another', async () => {
    expect((await createRuntime(base())).clock).toBe(systemClock);
    expect((await createRuntime(base(), { clock: testClock })).clock).toBe(testClock);
  });
});

describe('createCallerRuntime: owner secret', () => {
  const OWNER_PARAMETER = '/presign/unit/owner-secret';
  const PARAMETER_SECRET = 'owner-secret-from-ssm-0123456789abcdef0123456789';
  /** The unit environment without the owner secret: a function that turns no token into an owner. */
  const withoutOwnerSecret = (): NodeJS.ProcessEnv => ({ ...base(), OWNER_SECRET: undefined });
  const bearer = async (sub: string) => `Bearer ${await signTestToken(sub)}`;

  it('keys owner segments with OWNER_SECRET', async () => {
    // Arrange
    const runtime = await createCallerRuntime(base(), { clock: testClock });

    // Act
    const owner = await runtime.verifyBearer(await bearer('alice@example.com'));

    // Assert
    expect(owner).toEqual(testOwner('alice@example.com'));
    expect(owner.segment).toBe(
      ownerFromSubject('alice@example.com', ownerKeyFrom(TEST_OWNER_SECRET)).segment,
    );
  });

  it('resolves OWNER_SECRET_PARAMETER through its parameter reader, once, and keys segments with it', async () => {
    // Arrange
    const readParameter = vi.fn(async (_name: string) => PARAMETER_SECRET);

    // Act
    const runtime = await createCallerRuntime(
      { ...withoutOwnerSecret(), OWNER_SECRET_PARAMETER: OWNER_PARAMETER },
      { readParameter, clock: testClock },
    );
    const owner = await runtime.verifyBearer(await bearer('alice@example.com'));

    // Assert
    expect(readParameter).toHaveBeenCalledTimes(1);
    expect(readParameter).toHaveBeenCalledWith(OWNER_PARAMETER);
    expect(owner.segment).toBe(ownerFromSubject('alice@example.com', ownerKeyFrom(PARAMETER_SECRET)).segment);
    expect(owner.segment).not.toBe(testOwner('alice@example.com').segment);
  });

  it('fetches the issuer’s key set by AUTH_JWKS_URL while it reads the owner secret from SSM, and verifies with it', async () => {
    // Arrange: SSM answers only once the issuer was asked, so reading one after the other never ends.
    const servers = loopbackServers();
    let asked: () => void = () => undefined;
    const issuerAsked = new Promise<void>((done) => {
      asked = done;
    });
    let fetches = 0;
    const origin = await servers.listen((_, response) => {
      fetches += 1;
      asked();
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(testJwks));
    });
    const readParameter = vi.fn(async (_name: string) => {
      const waited = await Promise.race([
        issuerAsked.then(() => 'asked'),
        new Promise((done) => setTimeout(done, 5_000, 'not asked')),
      ]);
      if (waited !== 'asked') throw new Error('the key set was not fetched while SSM was read');
      return PARAMETER_SECRET;
    });
    const { AUTH_JWKS: _inline, ...variables } = withoutOwnerSecret();

    try {
      // Act
      const runtime = await createCallerRuntime(
        { ...variables, OWNER_SECRET_PARAMETER: OWNER_PARAMETER, AUTH_JWKS_URL: `${origin}/jwks.json` },
        { readParameter, clock: testClock },
      );
      const owner = await runtime.verifyBearer(await bearer('alice@example.com'));

      // Assert
      expect(owner.segment).toBe(
        ownerFromSubject('alice@example.com', ownerKeyFrom(PARAMETER_SECRET)).segment,
      );
      expect(fetches).toBe(1);
    } finally {
      await servers.closeAll();
    }
  });

  it('createRuntime, for a function that authenticates nobody, fetches no key set', async () => {
    // Arrange
    const servers = loopbackServers();
    let fetches = 0;
    const origin = await servers.listen((_, response) => {
      fetches += 1;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(testJwks));
    });
    const { AUTH_JWKS: _inline, ...variables } = base();

    try {
      // Act
      await createRuntime({ ...variables, AUTH_JWKS_URL: `${origin}/jwks.json` }, { clock: testClock });
      await new Promise((done) => setTimeout(done, 100));

      // Assert
      expect(fetches).toBe(0);
    } finally {
      await servers.closeAll();
    }
  });

  it('prefers OWNER_SECRET over the parameter, without reading SSM', async () => {
    // Arrange
    const readParameter = vi.fn(async (_name: string) => PARAMETER_SECRET);

    // Act
    const runtime = await createCallerRuntime(
      { ...base(), OWNER_SECRET_PARAMETER: OWNER_PARAMETER },
      { readParameter, clock: testClock },
    );

    // Assert
    expect(readParameter).not.toHaveBeenCalled();
    expect(await runtime.verifyBearer(await bearer('bob'))).toEqual(testOwner('bob'));
  });

  it('fails the cold start naming OWNER_SECRET_PARAMETER when SSM cannot be read', async () => {
    // Arrange
    const readParameter = async (_name: string): Promise<string> => {
      throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    };

    // Act
    const built = createCallerRuntime(
      { ...withoutOwnerSecret(), OWNER_SECRET_PARAMETER: OWNER_PARAMETER },
      { readParameter },
    );

    // Assert
    await expect(built).rejects.toThrow(
      /OWNER_SECRET_PARAMETER \/presign\/unit\/owner-secret could not be read.*AccessDeniedException/,
    );
  });

  it('fails the cold start naming OWNER_SECRET_PARAMETER when the parameter holds too short a value, without the value', async () => {
    // Arrange
    const readParameter = async (_name: string) => 'short-owner-secret';

    // Act
    const built = createCallerRuntime(
      { ...withoutOwnerSecret(), OWNER_SECRET_PARAMETER: OWNER_PARAMETER },
      { readParameter },
    );

    // Assert
    await expect(built).rejects.toThrow(/OWNER_SECRET_PARAMETER .* must hold at least 32 characters/);
    await expect(built).rejects.not.toThrow(/short-owner-secret/);
  });

  it('fails the cold start naming OWNER_SECRET when it is shorter than 32 characters', async () => {
    await expect(createCallerRuntime({ ...base(), OWNER_SECRET: 'too-short' })).rejects.toThrow(
      /OWNER_SECRET/,
    );
  });

  it('createRuntime, for a function that authenticates nobody, reads no owner secret from SSM', async () => {
    // Arrange
    const readParameter = vi.fn(async (_name: string) => PARAMETER_SECRET);

    // Act
    const runtime = await createRuntime(
      { ...withoutOwnerSecret(), OWNER_SECRET_PARAMETER: OWNER_PARAMETER },
      { readParameter },
    );

    // Assert
    expect(readParameter).not.toHaveBeenCalled();
    expect(runtime.shareKey).toBeDefined();
  });

  it('never hashes a sub unkeyed: without the owner secret every bearer check fails, naming it', async () => {
    // Arrange
    const runtime = await createCallerRuntime(withoutOwnerSecret());

    // Act
    const checked = runtime.verifyBearer(await bearer('alice@example.com'));

    // Assert
    await expect(checked).rejects.toThrow(MISSING_OWNER_KEY);
    await expect(checked).rejects.not.toBeInstanceOf(ApiError);
  });

  it('answers every authenticated request of such a function with a 500 whose logged cause names the missing configuration', async () => {
    // Arrange
    const s3 = createS3Client({ region: 'us-east-1' });
    const send = vi.spyOn(s3, 'send');
    const logged = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const getFile = createGetFileHandler(await createCallerRuntime(withoutOwnerSecret(), { s3 }));
    const event = apiEvent({
      method: 'GET',
      path: '/files/01JDQ7ZJ8W3N4T6X9Y2B5C7D8E',
      pathParameters: { fileId: '01JDQ7ZJ8W3N4T6X9Y2B5C7D8E' },
      headers: { authorization: await bearer('alice@example.com') },
    });

    try {
      // Act
      const response = (await getFile(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;

      // Assert
      expect(response.statusCode).toBe(500);
      expect(JSON.parse(response.body ?? '{}')).toEqual({
        error: { code: 'internal_error', message: 'internal error' },
      });
      expect(response.body).not.toContain('OWNER_SECRET');
      expect(send).not.toHaveBeenCalled();
      expect(logged).toHaveBeenCalledTimes(1);
      const [, details] = logged.mock.calls[0] as unknown as [string, { error: Error }];
      expect(details.error.message).toBe(MISSING_OWNER_KEY);
    } finally {
      logged.mockRestore();
    }
  });
});

describe('createRuntime: webhooks', () => {
  it('reads no webhook secret, even where one is configured: the deliverer reads its own', async () => {
    // Arrange
    const readParameter = vi.fn(async () => TEST_WEBHOOK_SECRET);

    // Act
    await createRuntime(
      {
        ...base(),
        WEBHOOK_URL: 'https://hooks.example.com/presign',
        WEBHOOK_SECRET_PARAMETER: '/presign/unit/webhook-secret',
      },
      { readParameter },
    );

    // Assert
    expect(readParameter).not.toHaveBeenCalled();
  });

  it('fails the cold start for a deliverer name that is no function name, naming the variable', async () => {
    // Act + Assert
    await expect(
      createRuntime({ ...base(), WEBHOOK_DELIVERER_FUNCTION: 'arn:aws:lambda:x' }),
    ).rejects.toThrow(/WEBHOOK_DELIVERER_FUNCTION must be a Lambda function name/);
  });
});
