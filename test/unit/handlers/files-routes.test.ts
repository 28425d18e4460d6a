import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  type PutObjectCommandInput,
  PutObjectTaggingCommand,
  type PutObjectTaggingCommandInput,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { generateKeyPair, SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHandler as createDownloadUrlHandler } from '../../../handlers/create-download-url.js';
import { createHandler as createShareHandler } from '../../../handlers/create-share.js';
import { createHandler as getFileHandler } from '../../../handlers/get-file.js';
import { createHandler as openShareHandler } from '../../../handlers/open-share.js';
import { createHandler as revokeSharesHandler } from '../../../handlers/revoke-shares.js';
import { publicBaseUrl } from '../../../lib/http/public-url.js';
import { shareKeyFrom } from '../../../lib/shares/share-secret.js';
import { signShareToken, verifyShareToken } from '../../../lib/shares/share-token.js';
import { encodeMetaValue, META, TAG } from '../../../lib/store/object-encoding.js';
import { newestFirstId, newFileId, objectKey } from '../../../lib/store/object-key.js';
import { apiEvent, lambdaContext } from '../../support/api-event.js';
import { amzDate, TEST_NOW, TEST_SECONDS } from '../../support/clock.js';
import { testOwner } from '../../support/owners.js';
import { unitRuntime } from '../../support/runtime.js';
import { signTestToken, TEST_AUDIENCE, TEST_ISSUER } from '../../support/tokens.js';
import { signedVerdictTags } from '../../support/verdict-keys.js';

type Json = Record<string, unknown>;

/** Every handler built around one S3 client of this file's, whose `send` the tests stub. */
const { s3, ...runtime } = await unitRuntime();
const shareKey = shareKeyFrom(runtime.environment);
const getFile = getFileHandler(runtime);
const createDownloadUrl = createDownloadUrlHandler(runtime);
const createShare = createShareHandler({ ...runtime, shareKey });
const openShare = openShareHandler({ store: runtime.store, shareKey, clock: runtime.clock });
const revokeShares = revokeSharesHandler(runtime);
type Handler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

const ALICE = testOwner('auth0|alice');
const BOB = testOwner('auth0|bob');

/** One version of an upload, as the versioned uploads bucket keeps it. */
interface StoredVersion {
  versionId: string;
  filename: string;
  declaredType: string;
  size: number;
  lastModified: Date;
  eTag: string;
  tags: Record<string, string>;
}

/** A verdict as the validator records it, signed for the version it is tagged on. */
type VerdictInit = { status: 'passed' | 'failed'; reason?: string; detectedType?: string };

/**
 * An in-memory versioned uploads bucket and an unversioned state bucket
 * behind the one S3 client, answering like S3 does, including the bucket
 * policy: a HEAD (s3:GetObject / s3:GetObjectVersion) of a version not
 * tagged passed is refused with 403 to every role but the exempt ones
 * (getFile's). The gate reads the tag's value only: it cannot check a signature.
 */
const UPLOADS = 'unit-test-bucket';
const STATE = 'unit-test-state';
/** Each key's versions, oldest (the file) first. */
const bucket = new Map<string, StoredVersion[]>();
const tagWrites: PutObjectTaggingCommandInput[] = [];
/** The state bucket's share-epochs/ objects by key, with the ETag each write made. */
const epochs = new Map<string, { body: string; eTag: string }>();
const epochWrites: PutObjectCommandInput[] = [];
const epochOf = (owner: { segment: string }, fileId: string) =>
  epochs.get(`share-epochs/${owner.segment}/${fileId}`)?.body;
const ETAG = '5d41402abc4b2a76b9719d911017c592';
const LATER_ETAG = '0badc0ffee0badc0ffee0badc0ffee00';
let exemptFromReadGate = false;
let madeVersions = 0;
const missing = () => new NotFound({ $metadata: { httpStatusCode: 404 }, message: 'Not Found' });
const noSuchKey = () => new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'NoSuchKey' });
const forbidden = () =>
  new S3ServiceException({ name: 'Forbidden', $fault: 'client', $metadata: { httpStatusCode: 403 } });
const preconditionFailed = () =>
  new S3ServiceException({
    name: 'PreconditionFailed',
    $fault: 'client',
    $metadata: { httpStatusCode: 412 },
  });

/** The version a read names, or the key's latest when it names none. */
function versionOf(input: { Bucket?: string; Key?: string; VersionId?: string }): StoredVersion | undefined {
  expect(input.Bucket).toBe(UPLOADS);
  const versions = bucket.get(input.Key ?? '') ?? [];
  return input.VersionId
    ? versions.find((version) => version.versionId === input.VersionId)
    : versions.at(-1);
}

function stateBucket(command: GetObjectCommand | PutObjectCommand): unknown {
  expect(command.input.Bucket).toBe(STATE);
  const key = command.input.Key ?? '';
  if (command instanceof GetObjectCommand && key.startsWith('file-index/')) return fileRecord(key);
  expect(key).toMatch(/^share-epochs\//);
  const current = epochs.get(key);
  if (command instanceof GetObjectCommand) {
    if (!current) throw noSuchKey();
    return { Body: { transformToString: async () => current.body }, ETag: `"${current.eTag}"` };
  }
  const { input } = command;
  epochWrites.push(structuredClone(input));
  // Conditional writes, as S3 has them: create only, or overwrite exactly the object read.
  if (input.IfNoneMatch === '*' ? current !== undefined : input.IfMatch !== `"${current?.eTag}"`) {
    throw preconditionFailed();
  }
  epochs.set(key, { body: String(input.Body), eTag: `epoch-etag-${epochWrites.length}` });
  return {};
}

/** Every GET of a file's record, by key: what each route reads of the state bucket. */
const recordReads: string[] = [];

/**
 * A file's record as the validator writes it when it first sees the file:
 * its first version, what the upload pinned, and the verdict that version's
 * tags carry (signature included, or none: whatever is there, the routes
 * check it). A key with no version has no record.
 */
function fileRecord(indexKey: string): unknown {
  recordReads.push(indexKey);
  const [, segment = '', newestFirst = ''] = indexKey.split('/');
  const first = bucket.get(objectKey({ segment }, newestFirstId(newestFirst)))?.[0];
  if (!first) throw noSuchKey();
  const status = first.tags[TAG.status];
  const record = {
    filename: first.filename,
    contentType: first.declaredType,
    size: first.size,
    uploadedAt: first.lastModified.toISOString(),
    clientMetadata: null,
    versionId: first.versionId,
    eTag: first.eTag,
    ...(status === 'passed' || status === 'failed'
      ? {
          verdict: {
            status,
            ...(first.tags[TAG.reason] ? { reason: first.tags[TAG.reason] } : {}),
            ...(first.tags[TAG.detectedType] ? { detectedType: first.tags[TAG.detectedType] } : {}),
            signature: first.tags[TAG.signature] ?? '',
          },
        }
      : {}),
  };
  const body = JSON.stringify(record);
  return { Body: { transformToString: async () => body }, ETag: '"record"' };
}

async function fakeSend(command: unknown): Promise<unknown> {
  if (command instanceof ListObjectVersionsCommand) {
    expect(command.input.Bucket).toBe(UPLOADS);
    const prefix = command.input.Prefix ?? '';
    const Versions = [...bucket]
      .filter(([key]) => key.startsWith(prefix))
      .flatMap(([key, versions]) =>
        versions
          .map((version, index) => ({
            Key: key,
            VersionId: version.versionId,
            ETag: `"${version.eTag}"`,
            IsLatest: index === versions.length - 1,
            LastModified: version.lastModified,
          }))
          .reverse(),
      );
    return { IsTruncated: false, Versions };
  }
  if (command instanceof HeadObjectCommand) {
    const object = versionOf(command.input);
    if (!object) throw missing();
    if (object.tags[TAG.status] !== 'passed' && !exemptFromReadGate) throw forbidden();
    return {
      ContentLength: object.size,
      ContentType: object.declaredType,
      ETag: `"${object.eTag}"`,
      VersionId: object.versionId,
      LastModified: object.lastModified,
      Metadata: {
        [META.filename]: encodeMetaValue(object.filename),
        [META.declaredType]: object.declaredType,
        [META.declaredSize]: String(object.size),
      },
    };
  }
  if (command instanceof GetObjectTaggingCommand) {
    const object = versionOf(command.input);
    if (!object) throw noSuchKey();
    return { TagSet: Object.entries(object.tags).map(([Key, Value]) => ({ Key, Value })) };
  }
  if (command instanceof PutObjectTaggingCommand) {
    tagWrites.push(structuredClone(command.input));
    const object = versionOf(command.input);
    if (!object) throw noSuchKey();
    object.tags = Object.fromEntries((command.input.Tagging?.TagSet ?? []).map((t) => [t.Key, t.Value]));
    return {};
  }
  if (command instanceof GetObjectCommand || command instanceof PutObjectCommand) return stateBucket(command);
  throw new Error(`unexpected S3 command ${(command as object).constructor.name}`);
}

/** The validator's tags for `verdict` on one version of a key: status, ETag and signature. */
const signed = (key: string, version: Pick<StoredVersion, 'versionId' | 'eTag'>, verdict: VerdictInit) =>
  signedVerdictTags({ bucket: UPLOADS, key, versionId: version.versionId, eTag: version.eTag, ...verdict });

const PASSED_PDF: VerdictInit = { status: 'passed', detectedType: 'application/pdf' };

/**
 * Stores a new version of an owner's file (the first one makes the file):
 * by default a PDF the validator passed, its verdict signed for this very
 * version. `verdict` signs another verdict; `tags` sets the tags as they are.
 */
function putVersion(
  owner: { segment: string },
  fileId: string,
  init: Partial<StoredVersion> & { verdict?: VerdictInit } = {},
): StoredVersion {
  const { verdict = PASSED_PDF, ...fields } = init;
  const key = objectKey(owner, fileId);
  madeVersions += 1;
  const version: StoredVersion = {
    // Ceph RGW's version ids carry dots and underscores.
    versionId: `rgw.${madeVersions}_kqtJlcpXroDTDmJ.rmSp`,
    filename: 'Résumé "final".pdf',
    declaredType: 'application/pdf',
    size: 48_213,
    lastModified: new Date('2026-11-23T09:00:00.000Z'),
    eTag: ETAG,
    tags: {},
    ...fields,
  };
  if (!init.tags) version.tags = signed(key, version, verdict);
  bucket.set(key, [...(bucket.get(key) ?? []), version]);
  return version;
}

function putFile(
  owner: { segment: string },
  init: Partial<StoredVersion> & { verdict?: VerdictInit } = {},
  fileId = newFileId(),
): string {
  putVersion(owner, fileId, init);
  return fileId;
}

/** The file's first version: the one every route names. */
const firstVersion = (owner: { segment: string }, fileId: string) =>
  bucket.get(objectKey(owner, fileId))?.[0];

/** Replaces a version's tags with a newly signed verdict (the validator changed its mind). */
function retag(owner: { segment: string }, fileId: string, verdict: VerdictInit): void {
  const version = firstVersion(owner, fileId);
  if (version) version.tags = signed(objectKey(owner, fileId), version, verdict);
}

async function call(
  handler: unknown,
  init: Parameters<typeof apiEvent>[0] & { as?: string | null },
): Promise<{ status: number; headers: Record<string, unknown>; text: string; body: Json }> {
  const token = init.as === null ? undefined : await signTestToken(init.as ?? 'auth0|alice');
  const event = apiEvent({
    ...init,
    headers: {
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...init.headers,
    },
  });
  const response = await (handler as Handler)(event, lambdaContext());
  const text = response.body ?? '';
  return {
    status: response.statusCode ?? 0,
    headers: response.headers ?? {},
    text,
    body: text ? (JSON.parse(text) as Json) : {},
  };
}

const fileRoute = (fileId: string, suffix = '') => ({
  path: `/files/${fileId}${suffix}`,
  pathParameters: { fileId },
});
const codeOf = (body: Json) => (body.error as { code?: string } | undefined)?.code;

/** Issues a share link for the file through the API and returns its token. */
async function share(fileId: string, expiresIn?: number): Promise<string> {
  const body = expiresIn === undefined ? undefined : JSON.stringify({ expiresIn });
  const response = await call(createShare, { method: 'POST', ...fileRoute(fileId, '/shares'), body });
  expect(response.status).toBe(201);
  return String(response.body.shareUrl).split('/s/')[1] ?? '';
}

const open = (token: string) =>
  call(openShare, { method: 'GET', path: `/s/${token}`, pathParameters: { token }, as: null });

beforeEach(() => {
  bucket.clear();
  epochs.clear();
  epochWrites.length = 0;
  tagWrites.length = 0;
  recordReads.length = 0;
  exemptFromReadGate = false;
  vi.spyOn(s3, 'send').mockImplementation(fakeSend as never);
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('authentication on owner routes', () => {
  const routes: [string, unknown, string, string | undefined][] = [
    ['GET /files/{fileId}', getFile, 'GET', undefined],
    ['POST /files/{fileId}/download-url', createDownloadUrl, 'POST', '{}'],
    ['POST /files/{fileId}/shares', createShare, 'POST', '{}'],
    ['DELETE /files/{fileId}/shares', revokeShares, 'DELETE', undefined],
  ];

  it.each(routes)('%s answers 401 without a bearer token', async (_, handler, method, body) => {
    // Arrange
    const fileId = putFile(ALICE);

    // Act
    const response = await call(handler, { method, ...fileRoute(fileId), body, as: null });

    // Assert
    expect(response.status).toBe(401);
    expect(codeOf(response.body)).toBe('unauthorized');
    expect(tagWrites).toHaveLength(0);
  });

  it.each(routes)('%s answers 401 to a token signed by another key', async (_, handler, method, body) => {
    // Arrange
    const fileId = putFile(ALICE);
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
      .setSubject('auth0|alice')
      .setIssuer(TEST_ISSUER)
      .setAudience(TEST_AUDIENCE)
      .setExpirationTime(TEST_SECONDS + 300)
      .sign(privateKey);

    // Act
    const response = await call(handler, {
      method,
      ...fileRoute(fileId),
      body,
      as: null,
      headers: { authorization: `Bearer ${forged}` },
    });

    // Assert
    expect(response.status).toBe(401);
    expect(codeOf(response.body)).toBe('unauthorized');
  });

  it.each(routes)(
    "%s answers 404 for another owner's file, as for an unknown one",
    async (_, handler, method, body) => {
      // Arrange
      const bobsFile = putFile(BOB);

      // Act
      const others = await call(handler, { method, ...fileRoute(bobsFile), body, as: 'auth0|alice' });
      const unknown = await call(handler, { method, ...fileRoute(newFileId()), body, as: 'auth0|alice' });

      // Assert
      expect(others.status).toBe(404);
      expect(others.body).toEqual(unknown.body);
      expect(codeOf(others.body)).toBe('not_found');
      expect(epochOf(BOB, bobsFile)).toBeUndefined();
      expect(tagWrites).toHaveLength(0);
    },
  );

  it.each(routes)('%s answers 400 to a malformed file id', async (_, handler, method, body) => {
    // Act
    const response = await call(handler, { method, ...fileRoute('../../etc/passwd'), body });

    // Assert
    expect(response.status).toBe(400);
    expect(codeOf(response.body)).toBe('invalid_request');
    expect(response.body.error).toMatchObject({ message: expect.stringContaining('fileId') });
  });
});

describe('GET /files/{fileId}', () => {
  // getFile's role is exempt from the bucket policy's read gate: it describes unvalidated files.
  beforeEach(() => {
    exemptFromReadGate = true;
  });

  it('returns the caller’s file with its validation status', async () => {
    // Arrange
    const fileId = putFile(ALICE);

    // Act
    const response = await call(getFile, { method: 'GET', ...fileRoute(fileId) });

    // Assert
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      fileId,
      filename: 'Résumé "final".pdf',
      contentType: 'application/pdf',
      size: 48_213,
      status: 'passed',
      detectedType: 'application/pdf',
      checks: { content: 'passed', malware: 'off' },
      uploadedAt: '2026-11-23T09:00:00.000Z',
      clientMetadata: null,
    });
  });

  it('includes the reason of a failed validation and nothing internal', async () => {
    // Arrange
    const fileId = putFile(ALICE, { verdict: { status: 'failed', reason: 'type_mismatch' } });

    // Act
    const response = await call(getFile, { method: 'GET', ...fileRoute(fileId) });

    // Assert
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'failed', reason: 'type_mismatch' });
    expect(response.body).not.toHaveProperty('key');
    expect(response.body).not.toHaveProperty('tags');
    expect(response.body).not.toHaveProperty('versionId');
    expect(response.text).not.toContain('share');
    expect(response.text).not.toContain(firstVersion(ALICE, fileId)?.tags[TAG.signature]);
  });

  it.each([
    ['GET /files/{fileId}', getFile, 'GET', ''],
    ['POST /files/{fileId}/download-url', createDownloadUrl, 'POST', '/download-url'],
  ] as const)(
    '%s reads the file’s record and nothing else of S3: one request, however many versions the key holds',
    async (_, handler, method, suffix) => {
      // Arrange: the file, and its form posted again fifty times.
      const fileId = putFile(ALICE);
      for (let i = 0; i < 50; i++) putVersion(ALICE, fileId, { eTag: LATER_ETAG });

      // Act
      const response = await call(handler, { method, ...fileRoute(fileId, suffix) });

      // Assert
      expect(response.status).toBe(200);
      expect(vi.mocked(s3.send).mock.calls.map(([command]) => command.constructor.name)).toEqual([
        'GetObjectCommand',
      ]);
      expect(recordReads).toHaveLength(1);
    },
  );

  it.each([
    ['carries no signature', { [TAG.status]: 'passed', [TAG.detectedType]: 'application/pdf' }],
    [
      'carries a forged signature',
      { [TAG.status]: 'passed', [TAG.detectedType]: 'application/pdf', [TAG.signature]: 'A'.repeat(86) },
    ],
  ])('shows pending for a passed tag that %s (anyone with the upload role can tag)', async (_, tags) => {
    // Arrange
    const fileId = putFile(ALICE, { tags: { ...tags, [TAG.validatedEtag]: ETAG } });

    // Act
    const response = await call(getFile, { method: 'GET', ...fileRoute(fileId) });

    // Assert
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ fileId, status: 'pending' });
    expect(response.body).not.toHaveProperty('detectedType');
  });

  it('shows pending for a verdict signed for another version', async () => {
    // Arrange: tags copied from a passed file onto another one's first version.
    const passed = putFile(ALICE);
    const fileId = putFile(ALICE, { tags: { ...firstVersion(ALICE, passed)?.tags } });

    // Act
    const response = await call(getFile, { method: 'GET', ...fileRoute(fileId) });

    // Assert
    expect(response.body).toMatchObject({ fileId, status: 'pending' });
  });

  it('describes the first version when the form was posted again, whatever the later one holds', async () => {
    // Arrange
    const fileId = putFile(ALICE);
    putVersion(ALICE, fileId, {
      filename: 'payload.html',
      size: 99,
      eTag: LATER_ETAG,
      lastModified: new Date('2026-11-23T09:05:00.000Z'),
      verdict: { status: 'failed', reason: 'replaced' },
    });

    // Act
    const response = await call(getFile, { method: 'GET', ...fileRoute(fileId) });

    // Assert
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      fileId,
      filename: 'Résumé "final".pdf',
      contentType: 'application/pdf',
      size: 48_213,
      status: 'passed',
      detectedType: 'application/pdf',
      checks: { content: 'passed', malware: 'off' },
      uploadedAt: '2026-11-23T09:00:00.000Z',
      clientMetadata: null,
    });
  });
});

describe('POST /files/{fileId}/download-url', () => {
  it('issues a 300 s presigned GET by default, as an attachment with the validated type', async () => {
    // Arrange
    const fileId = putFile(ALICE);

    // Act
    const response = await call(createDownloadUrl, { method: 'POST', ...fileRoute(fileId, '/download-url') });

    // Assert
    expect(response.status).toBe(200);
    const url = new URL(String(response.body.url));
    expect(url.pathname).toBe(`/${objectKey(ALICE, fileId)}`);
    expect(url.searchParams.get('versionId')).toBe(firstVersion(ALICE, fileId)?.versionId);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
    expect(url.searchParams.get('response-content-type')).toBe('application/pdf');
    const disposition = url.searchParams.get('response-content-disposition') ?? '';
    expect(disposition).toMatch(/^attachment; /);
    expect(disposition).toContain("filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22.pdf");
    // Signed at the function's clock: X-Amz-Date and expiresAt agree with it to the second.
    expect(url.searchParams.get('X-Amz-Date')).toBe(amzDate(TEST_NOW));
    expect(Date.parse(String(response.body.expiresAt))).toBe(TEST_NOW.getTime() + 300_000);
  });

  it('honours expiresIn and inline disposition for an image', async () => {
    // Arrange
    const fileId = putFile(ALICE, {
      filename: 'photo.png',
      declaredType: 'image/png',
      verdict: { status: 'passed', detectedType: 'image/png' },
    });

    // Act
    const response = await call(createDownloadUrl, {
      method: 'POST',
      ...fileRoute(fileId, '/download-url'),
      body: JSON.stringify({ expiresIn: 60, disposition: 'inline' }),
    });

    // Assert
    expect(response.status).toBe(200);
    const url = new URL(String(response.body.url));
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(url.searchParams.get('response-content-disposition')).toMatch(/^inline; /);
  });

  it.each([
    ['expiresIn 0', '{"expiresIn":0}'],
    ['expiresIn above 3600', '{"expiresIn":3601}'],
    ['fractional expiresIn', '{"expiresIn":1.5}'],
    ['expiresIn as a string', '{"expiresIn":"300"}'],
    ['an unknown disposition', '{"disposition":"download"}'],
    ['an unknown field', '{"expiresIn":60,"bucket":"other"}'],
    ['malformed JSON', '{"expiresIn":'],
    ['a non-object body', '[300]'],
  ])('answers 400 to %s', async (_, body) => {
    // Arrange
    const fileId = putFile(ALICE);

    // Act
    const response = await call(createDownloadUrl, {
      method: 'POST',
      ...fileRoute(fileId, '/download-url'),
      body,
    });

    // Assert
    expect(response.status).toBe(400);
    expect(codeOf(response.body)).toBe('invalid_request');
  });

  it.each([
    ['pending', { tags: { [TAG.status]: 'pending' } }],
    ['failed', { verdict: { status: 'failed', reason: 'type_mismatch' } as const }],
  ])('answers 409 not_validated for a %s file', async (_, init) => {
    // Arrange
    const fileId = putFile(ALICE, init);

    // Act
    const response = await call(createDownloadUrl, { method: 'POST', ...fileRoute(fileId, '/download-url') });

    // Assert
    expect(response.status).toBe(409);
    expect(codeOf(response.body)).toBe('not_validated');
  });

  it('answers 409 when the detected type is not the declared one, whatever the status says', async () => {
    // Arrange
    const fileId = putFile(ALICE, { verdict: { status: 'passed', detectedType: 'text/html' } });

    // Act
    const response = await call(createDownloadUrl, { method: 'POST', ...fileRoute(fileId, '/download-url') });

    // Assert
    expect(response.status).toBe(409);
    expect(codeOf(response.body)).toBe('not_validated');
  });
});

describe('POST /files/{fileId}/download-url when S3 fails', () => {
  it('answers a generic 500 when S3 fails otherwise on the record', async () => {
    // Arrange
    const fileId = putFile(ALICE);
    vi.mocked(s3.send).mockImplementation((async (command: unknown) => {
      if (command instanceof GetObjectCommand) {
        throw new S3ServiceException({
          name: 'InternalError',
          $fault: 'server',
          $metadata: { httpStatusCode: 500 },
        });
      }
      return fakeSend(command);
    }) as never);

    // Act
    const response = await call(createDownloadUrl, { method: 'POST', ...fileRoute(fileId, '/download-url') });

    // Assert
    expect(response.status).toBe(500);
    expect(response.body).toEqual({ error: { code: 'internal_error', message: 'internal error' } });
  });
});

describe('POST /files/{fileId}/shares', () => {
  it('issues a one-day link on the API domain by default', async () => {
    // Arrange
    const fileId = putFile(ALICE);

    // Act
    const response = await call(createShare, { method: 'POST', ...fileRoute(fileId, '/shares') });

    // Assert
    expect(response.status).toBe(201);
    expect(String(response.body.shareUrl)).toMatch(
      /^https:\/\/api\.example\.test\/s\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/,
    );
    expect(Date.parse(String(response.body.expiresAt))).toBe(TEST_NOW.getTime() + 86_400_000);
  });

  it('binds the link to the file’s first version, even once the form was posted again', async () => {
    // Arrange
    const fileId = putFile(ALICE);
    putVersion(ALICE, fileId, { eTag: LATER_ETAG, verdict: { status: 'failed', reason: 'replaced' } });

    // Act
    const response = await call(createShare, { method: 'POST', ...fileRoute(fileId, '/shares') });

    // Assert
    expect(response.status).toBe(201);
    const token = String(response.body.shareUrl).split('/s/')[1] ?? '';
    const check = verifyShareToken(shareKey, token, TEST_SECONDS);
    expect(check).toMatchObject({
      ok: true,
      claims: { segment: ALICE.segment, fileId, versionId: firstVersion(ALICE, fileId)?.versionId, epoch: 0 },
    });
  });

  it('links to the host header over http under serverless offline', async () => {
    // Arrange
    const fileId = putFile(ALICE);
    const offlineShare = createShareHandler({ ...runtime, shareKey, publicUrl: { offline: true } });

    // Act
    const response = await call(offlineShare, {
      method: 'POST',
      ...fileRoute(fileId, '/shares'),
      body: '{"expiresIn":604800}',
      headers: { host: '127.0.0.1:3000' },
    });

    // Assert
    expect(response.status).toBe(201);
    expect(String(response.body.shareUrl)).toMatch(/^http:\/\/127\.0\.0\.1:3000\/s\//);
  });

  it.each([
    ['expiresIn above 7 days', '{"expiresIn":604801}'],
    ['expiresIn 0', '{"expiresIn":0}'],
    ['an unknown field', '{"expiresIn":60,"epoch":0}'],
    ['malformed JSON', 'not json'],
  ])('answers 400 to %s', async (_, body) => {
    // Arrange
    const fileId = putFile(ALICE);

    // Act
    const response = await call(createShare, { method: 'POST', ...fileRoute(fileId, '/shares'), body });

    // Assert
    expect(response.status).toBe(400);
    expect(codeOf(response.body)).toBe('invalid_request');
  });

  it.each([
    ['pending', { tags: { [TAG.status]: 'pending' } }],
    ['failed', { verdict: { status: 'failed', reason: 'type_mismatch' } as const }],
  ])('answers 409 not_validated for a %s file', async (_, init) => {
    // Arrange
    const fileId = putFile(ALICE, init);

    // Act
    const response = await call(createShare, { method: 'POST', ...fileRoute(fileId, '/shares') });

    // Assert
    expect(response.status).toBe(409);
    expect(codeOf(response.body)).toBe('not_validated');
  });
});

describe('GET /s/{token}', () => {
  it('redirects, without auth, to a fresh presigned GET of at most 60 s', async () => {
    // Arrange
    const fileId = putFile(ALICE);
    const token = await share(fileId);

    // Act
    const response = await open(token);

    // Assert
    expect(response.status).toBe(302);
    expect(response.text).toBe('');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    const location = new URL(String(response.headers.location));
    expect(location.pathname).toBe(`/${objectKey(ALICE, fileId)}`);
    expect(location.searchParams.get('versionId')).toBe(firstVersion(ALICE, fileId)?.versionId);
    expect(Number(location.searchParams.get('X-Amz-Expires'))).toBeGreaterThan(0);
    expect(Number(location.searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(60);
    expect(location.searchParams.get('response-content-disposition')).toMatch(/^attachment; /);
    expect(location.searchParams.get('response-content-type')).toBe('application/pdf');
  });

  it('never presigns past the link’s own expiry', async () => {
    // Arrange
    const fileId = putFile(ALICE);
    const token = await share(fileId, 5);

    // Act
    const response = await open(token);

    // Assert
    expect(response.status).toBe(302);
    const location = new URL(String(response.headers.location));
    expect(Number(location.searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(5);
  });

  it('answers 410 link_expired after the link expires', async () => {
    // Arrange
    const fileId = putFile(ALICE);
    const token = signShareToken(shareKey, {
      segment: ALICE.segment,
      fileId,
      versionId: firstVersion(ALICE, fileId)?.versionId ?? '',
      expiresAt: TEST_SECONDS - 1,
      epoch: 0,
    });

    // Act
    const response = await open(token);

    // Assert
    expect(response.status).toBe(410);
    expect(codeOf(response.body)).toBe('link_expired');
  });

  it('answers 410 link_revoked after DELETE /shares, and a new link works again', async () => {
    // Arrange
    const fileId = putFile(ALICE);
    const old = await share(fileId);
    const revoked = await call(revokeShares, { method: 'DELETE', ...fileRoute(fileId, '/shares') });
    const fresh = await share(fileId);

    // Act
    const oldResponse = await open(old);
    const freshResponse = await open(fresh);

    // Assert
    expect(revoked.status).toBe(204);
    expect(oldResponse.status).toBe(410);
    expect(codeOf(oldResponse.body)).toBe('link_revoked');
    expect(freshResponse.status).toBe(302);
  });

  it('keeps revoked links revoked when the upload form is posted again (a new version starts pending)', async () => {
    // Arrange
    const fileId = putFile(ALICE);
    const token = await share(fileId);
    await call(revokeShares, { method: 'DELETE', ...fileRoute(fileId, '/shares') });
    putVersion(ALICE, fileId, { tags: { [TAG.status]: 'pending' } });

    // Act
    const response = await open(token);

    // Assert
    expect(response.status).toBe(410);
    expect(codeOf(response.body)).toBe('link_revoked');
  });

  it('answers link_revoked before not_validated for a revoked link to a file that then failed', async () => {
    // Arrange
    const fileId = putFile(ALICE);
    const token = await share(fileId);
    await call(revokeShares, { method: 'DELETE', ...fileRoute(fileId, '/shares') });
    retag(ALICE, fileId, { status: 'failed', reason: 'type_mismatch' });

    // Act
    const response = await open(token);

    // Assert
    expect(response.status).toBe(410);
    expect(codeOf(response.body)).toBe('link_revoked');
  });

  it('answers 404 when the object is gone', async () => {
    // Arrange
    const fileId = putFile(ALICE);
    const token = await share(fileId);
    bucket.delete(objectKey(ALICE, fileId)); // every version of it

    // Act
    const response = await open(token);

    // Assert
    expect(response.status).toBe(404);
    expect(codeOf(response.body)).toBe('not_found');
  });

  it('answers 409 not_validated when the file has since been marked failed', async () => {
    // Arrange
    const fileId = putFile(ALICE);
    const token = await share(fileId);
    retag(ALICE, fileId, { status: 'failed', reason: 'type_mismatch' });

    // Act
    const response = await open(token);

    // Assert
    expect(response.status).toBe(409);
    expect(codeOf(response.body)).toBe('not_validated');
  });

  it('answers 409 not_validated when the verdict was replaced by an unsigned passed one', async () => {
    // Arrange: someone holding the upload role re-tags the version passed, without the validator's key.
    const fileId = putFile(ALICE);
    const token = await share(fileId);
    const version = firstVersion(ALICE, fileId);
    if (version) version.tags = { [TAG.status]: 'passed', [TAG.validatedEtag]: ETAG };

    // Act
    const response = await open(token);

    // Assert
    expect(response.status).toBe(409);
    expect(codeOf(response.body)).toBe('not_validated');
  });

  it('reads the record and the share epoch, and nothing else of S3: two requests', async () => {
    // Arrange
    const fileId = putFile(ALICE);
    for (let i = 0; i < 50; i++) putVersion(ALICE, fileId, { eTag: LATER_ETAG });
    const token = await share(fileId);
    vi.mocked(s3.send).mockClear();

    // Act
    const response = await open(token);

    // Assert
    expect(response.status).toBe(302);
    expect(
      vi
        .mocked(s3.send)
        .mock.calls.map(([command]) => (command as GetObjectCommand).input.Key?.split('/')[0]),
    ).toEqual(['file-index', 'share-epochs']);
  });

  it('keeps serving the first version after the form was posted again', async () => {
    // Arrange
    const fileId = putFile(ALICE);
    const token = await share(fileId);
    putVersion(ALICE, fileId, { eTag: LATER_ETAG, verdict: { status: 'failed', reason: 'replaced' } });

    // Act
    const response = await open(token);

    // Assert
    expect(response.status).toBe(302);
    const location = new URL(String(response.headers.location));
    expect(location.searchParams.get('versionId')).toBe(firstVersion(ALICE, fileId)?.versionId);
  });

  it.each([
    ['a later version of the file', () => 'later'],
    ['a version the key never had', () => 'never.existed_1'],
  ])('answers 404 to a token naming %s', async (_, versionOf) => {
    // Arrange: a genuine token (right key, segment, epoch) for other bytes under the key.
    const fileId = putFile(ALICE);
    const later = putVersion(ALICE, fileId, { eTag: LATER_ETAG });
    const named = versionOf() === 'later' ? later.versionId : versionOf();
    const token = signShareToken(shareKey, {
      segment: ALICE.segment,
      fileId,
      versionId: named,
      expiresAt: TEST_SECONDS + 60,
      epoch: 0,
    });

    // Act
    const response = await open(token);

    // Assert
    expect(response.status).toBe(404);
    expect(codeOf(response.body)).toBe('not_found');
  });

  it.each([
    ['a tampered payload', (token: string) => `A${token.slice(1)}`],
    ['a tampered MAC', (token: string) => `${token.slice(0, -2)}${token.endsWith('AA') ? 'BA' : 'AA'}`],
    ['a truncated token', (token: string) => token.slice(0, -1)],
    ['garbage', () => 'not-a-token'],
    ['an overlong token', (token: string) => `${'A'.repeat(600)}${token}`],
  ])('answers 404 to %s, without touching S3', async (_, mangle) => {
    // Arrange
    const fileId = putFile(ALICE);
    const token = await share(fileId);
    const send = vi.mocked(s3.send);
    send.mockClear();

    // Act
    const response = await open(mangle(token));

    // Assert
    expect(response.status).toBe(404);
    expect(codeOf(response.body)).toBe('not_found');
    expect(send).not.toHaveBeenCalled();
  });

  it('answers 404 to a token whose owner segment was swapped (the segment is under the MAC)', async () => {
    // Arrange: Bob's valid link, spliced to point at Alice's object with the same file id.
    const fileId = putFile(BOB);
    putFile(ALICE, {}, fileId);
    const bobsToken = signShareToken(shareKey, {
      segment: BOB.segment,
      fileId,
      versionId: firstVersion(BOB, fileId)?.versionId ?? '',
      expiresAt: TEST_SECONDS + 60,
      epoch: 0,
    });
    const [payload = '', mac] = bobsToken.split('.');
    const text = Buffer.from(payload, 'base64url').toString().replace(BOB.segment, ALICE.segment);
    const spliced = `${Buffer.from(text).toString('base64url')}.${mac}`;

    // Act
    const bobs = await open(bobsToken);
    const response = await open(spliced);

    // Assert
    expect(bobs.status).toBe(302);
    expect(response.status).toBe(404);
    expect(codeOf(response.body)).toBe('not_found');
  });
});

describe('DELETE /files/{fileId}/shares', () => {
  it('moves the share epoch on in an object of its own in the state bucket, writing nothing on the upload', async () => {
    // Arrange
    const fileId = putFile(ALICE);
    const version = firstVersion(ALICE, fileId);
    if (version) version.tags['custom-tag'] = 'kept as is';
    const tags = { ...version?.tags };

    // Act
    const first = await call(revokeShares, { method: 'DELETE', ...fileRoute(fileId, '/shares') });
    const second = await call(revokeShares, { method: 'DELETE', ...fileRoute(fileId, '/shares') });

    // Assert
    expect([first.status, second.status]).toEqual([204, 204]);
    expect(first.text).toBe('');
    expect(epochOf(ALICE, fileId)).toBe('2');
    expect(tagWrites).toHaveLength(0);
    expect(firstVersion(ALICE, fileId)?.tags).toEqual(tags);
    expect(bucket.get(objectKey(ALICE, fileId))).toHaveLength(1);
  });

  it('writes the epoch by compare-and-swap: create-only first, then over the very object read', async () => {
    // Arrange
    const fileId = putFile(ALICE);

    // Act
    await call(revokeShares, { method: 'DELETE', ...fileRoute(fileId, '/shares') });
    await call(revokeShares, { method: 'DELETE', ...fileRoute(fileId, '/shares') });

    // Assert
    expect(epochWrites).toEqual([
      expect.objectContaining({ Bucket: STATE, Body: '1', IfNoneMatch: '*' }),
      expect.objectContaining({ Bucket: STATE, Body: '2', IfMatch: '"epoch-etag-1"' }),
    ]);
  });

  it('revokes once per request when revocations race: the epoch only grows', async () => {
    // Arrange
    const fileId = putFile(ALICE);
    const token = await share(fileId);

    // Act
    const responses = await Promise.all(
      Array.from({ length: 4 }, () =>
        call(revokeShares, { method: 'DELETE', ...fileRoute(fileId, '/shares') }),
      ),
    );

    // Assert
    expect(responses.map((response) => response.status)).toEqual([204, 204, 204, 204]);
    expect(epochOf(ALICE, fileId)).toBe('4');
    expect((await open(token)).status).toBe(410);
  });

  it('works on a file that has not passed, which the read gate hides from HEAD', async () => {
    // Arrange
    const fileId = putFile(ALICE, { verdict: { status: 'failed', reason: 'type_mismatch' } });

    // Act
    const response = await call(revokeShares, { method: 'DELETE', ...fileRoute(fileId, '/shares') });

    // Assert
    expect(response.status).toBe(204);
    expect(epochOf(ALICE, fileId)).toBe('1');
  });
});

describe('a verdict about other bytes', () => {
  it.each([
    ['download-url', () => createDownloadUrl, 'POST', '/download-url'],
    ['shares', () => createShare, 'POST', '/shares'],
  ] as const)(
    'is not served by %s: bytes posted again since are pending (409)',
    async (_, handler, method, suffix) => {
      // Arrange: a passed verdict signed for ETAG, on a version that holds other bytes
      const fileId = newFileId();
      const key = objectKey(ALICE, fileId);
      const version = putVersion(ALICE, fileId, { eTag: LATER_ETAG });
      version.tags = signed(key, { versionId: version.versionId, eTag: ETAG }, PASSED_PDF);

      // Act
      const response = await call(handler(), { method, ...fileRoute(fileId, suffix) });

      // Assert
      expect(response.status).toBe(409);
      expect(codeOf(response.body)).toBe('not_validated');
    },
  );
});

describe('a passed tag the validator did not sign', () => {
  /** Tagged passed by someone holding the upload role: the bucket policy's read gate lets it through. */
  const forged = {
    unsigned: { [TAG.status]: 'passed', [TAG.validatedEtag]: ETAG, [TAG.detectedType]: 'application/pdf' },
    'made-up': {
      [TAG.status]: 'passed',
      [TAG.validatedEtag]: ETAG,
      [TAG.detectedType]: 'application/pdf',
      [TAG.signature]: `${'A'.repeat(43)}_${'B'.repeat(42)}`,
    },
  };

  it.each(Object.entries(forged))('reads as pending in GET /files (%s signature)', async (_, tags) => {
    // Arrange
    exemptFromReadGate = true;
    const fileId = putFile(ALICE, { tags: { ...tags } });

    // Act
    const response = await call(getFile, { method: 'GET', ...fileRoute(fileId) });

    // Assert: nothing of the unsigned tags is reported.
    expect(response.status).toBe(200);
    expect(response.body.status).toBe('pending');
    expect(response.body).not.toHaveProperty('detectedType');
    expect(response.body).not.toHaveProperty('reason');
  });

  it.each(
    Object.entries(forged).flatMap(([name, tags]) => [
      [name, 'download-url', tags] as const,
      [name, 'shares', tags] as const,
    ]),
  )('gets no URL (%s signature): %s answers 409', async (_, route, tags) => {
    // Arrange
    const fileId = putFile(ALICE, { tags: { ...tags } });
    const handler = route === 'shares' ? createShare : createDownloadUrl;

    // Act
    const response = await call(handler, { method: 'POST', ...fileRoute(fileId, `/${route}`) });

    // Assert
    expect(response.status).toBe(409);
    expect(codeOf(response.body)).toBe('not_validated');
    expect(response.body).not.toHaveProperty('url');
    expect(response.body).not.toHaveProperty('shareUrl');
  });

  it('gets no URL from a genuine signature moved onto another file', async () => {
    // Arrange: Alice's passed PDF's tags, copied onto her pending upload.
    const passed = putFile(ALICE);
    const fileId = putFile(ALICE, { tags: { ...firstVersion(ALICE, passed)?.tags } });

    // Act
    const download = await call(createDownloadUrl, { method: 'POST', ...fileRoute(fileId, '/download-url') });
    const shareLink = await call(createShare, { method: 'POST', ...fileRoute(fileId, '/shares') });

    // Assert
    expect([download.status, shareLink.status]).toEqual([409, 409]);
  });
});

describe('a second version under the key (the upload form posted again)', () => {
  /** Alice's passed file, then other bytes posted with the same form, tagged passed by a forger. */
  function postedTwice(): { fileId: string; first: StoredVersion; later: StoredVersion } {
    const fileId = putFile(ALICE);
    const later = putVersion(ALICE, fileId, {
      eTag: LATER_ETAG,
      size: 99,
      filename: 'payload.html',
      tags: { [TAG.status]: 'passed', [TAG.detectedType]: 'application/pdf' },
    });
    const first = firstVersion(ALICE, fileId);
    if (!first) throw new Error('no first version');
    return { fileId, first, later };
  }

  it('leaves download URLs naming the first version', async () => {
    // Arrange
    const { fileId, first, later } = postedTwice();

    // Act
    const response = await call(createDownloadUrl, { method: 'POST', ...fileRoute(fileId, '/download-url') });

    // Assert
    expect(response.status).toBe(200);
    const url = new URL(String(response.body.url));
    expect(url.searchParams.get('versionId')).toBe(first.versionId);
    expect(url.searchParams.get('versionId')).not.toBe(later.versionId);
  });

  it('leaves share links naming, and serving, the first version', async () => {
    // Arrange
    const { fileId, first } = postedTwice();

    // Act
    const token = await share(fileId);
    const response = await open(token);

    // Assert
    const check = verifyShareToken(shareKey, token, TEST_SECONDS);
    expect(check.ok && check.claims.versionId).toBe(first.versionId);
    expect(response.status).toBe(302);
    expect(new URL(String(response.headers.location)).searchParams.get('versionId')).toBe(first.versionId);
  });

  it('serves nothing while the first version is not passed, whatever the later one says', async () => {
    // Arrange
    const fileId = putFile(ALICE, { tags: { [TAG.status]: 'pending' } });
    putVersion(ALICE, fileId, { eTag: LATER_ETAG });

    // Act
    const download = await call(createDownloadUrl, { method: 'POST', ...fileRoute(fileId, '/download-url') });
    const shareLink = await call(createShare, { method: 'POST', ...fileRoute(fileId, '/shares') });

    // Assert
    expect([download.status, shareLink.status]).toEqual([409, 409]);
  });
});

describe('publicBaseUrl', () => {
  const event = apiEvent({ headers: { host: 'localhost:3000' } });

  it('prefers PUBLIC_API_URL, without a trailing slash', () => {
    // Act / Assert
    expect(publicBaseUrl(event, { configured: 'https://files.example.com/api/', offline: true })).toBe(
      'https://files.example.com/api',
    );
  });

  it('uses the API Gateway domain over https in AWS, ignoring the host header', () => {
    // Act / Assert
    expect(publicBaseUrl(event, { offline: false })).toBe('https://api.example.test');
  });

  it('uses http and the host header offline, unless the header is not a plain host', () => {
    // Arrange
    const hostile = apiEvent({ headers: { host: 'evil.test/phish?x=' } });

    // Act / Assert
    expect(publicBaseUrl(event, { offline: true })).toBe('http://localhost:3000');
    expect(publicBaseUrl(hostile, { offline: true })).toBe('https://api.example.test');
  });
});
