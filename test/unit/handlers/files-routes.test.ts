import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
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
import { ownerFromSubject } from '../../../lib/core/owner.js';
import { publicBaseUrl } from '../../../lib/http/public-url.js';
import { shareKeyFrom } from '../../../lib/shares/share-secret.js';
import { signShareToken } from '../../../lib/shares/share-token.js';
import { encodeMetaValue, META, TAG } from '../../../lib/store/object-encoding.js';
import { newFileId, objectKey } from '../../../lib/store/object-key.js';
import { apiEvent, lambdaContext } from '../../support/api-event.js';
import { unitRuntime } from '../../support/runtime.js';
import { signTestToken, TEST_AUDIENCE, TEST_ISSUER } from '../../support/tokens.js';

type Json = Record<string, unknown>;

/** Every handler built around one S3 client of this file's, whose `send` the tests stub. */
const { s3, ...runtime } = unitRuntime();
const shareKey = shareKeyFrom(runtime.environment);
const getFile = getFileHandler(runtime);
const createDownloadUrl = createDownloadUrlHandler(runtime);
const createShare = createShareHandler({ ...runtime, shareKey });
const openShare = openShareHandler({ store: runtime.store, shareKey });
const revokeShares = revokeSharesHandler(runtime);
type Handler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

const ALICE = ownerFromSubject('auth0|alice');
const BOB = ownerFromSubject('auth0|bob');

interface StoredObject {
  filename: string;
  declaredType: string;
  size: number;
  lastModified: Date;
  eTag: string;
  tags: Record<string, string>;
}

/**
 * An in-memory bucket behind the one S3 client, answering like S3 does,
 * including the bucket policy: a HEAD (s3:GetObject) on an object not tagged
 * passed is refused with 403 to every role but the exempt ones (getFile's).
 */
const bucket = new Map<string, StoredObject>();
const tagWrites: PutObjectTaggingCommandInput[] = [];
/** share-epochs/ objects by key. */
const epochs = new Map<string, string>();
const epochOf = (owner: { segment: string }, fileId: string) =>
  epochs.get(`share-epochs/${owner.segment}/${fileId}`);
const ETAG = '5d41402abc4b2a76b9719d911017c592';
let exemptFromReadGate = false;
const missing = () => new NotFound({ $metadata: { httpStatusCode: 404 }, message: 'Not Found' });
const forbidden = () =>
  new S3ServiceException({ name: 'Forbidden', $fault: 'client', $metadata: { httpStatusCode: 403 } });

async function fakeSend(command: unknown): Promise<unknown> {
  if (command instanceof HeadObjectCommand) {
    const object = bucket.get(command.input.Key ?? '');
    if (!object) throw missing();
    if (object.tags[TAG.status] !== 'passed' && !exemptFromReadGate) throw forbidden();
    return {
      ContentLength: object.size,
      ContentType: object.declaredType,
      ETag: `"${object.eTag}"`,
      LastModified: object.lastModified,
      Metadata: {
        [META.filename]: encodeMetaValue(object.filename),
        [META.declaredType]: object.declaredType,
        [META.declaredSize]: String(object.size),
      },
    };
  }
  if (command instanceof GetObjectTaggingCommand) {
    const object = bucket.get(command.input.Key ?? '');
    if (!object) throw new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'NoSuchKey' });
    return { TagSet: Object.entries(object.tags).map(([Key, Value]) => ({ Key, Value })) };
  }
  if (command instanceof PutObjectTaggingCommand) {
    tagWrites.push(structuredClone(command.input));
    const object = bucket.get(command.input.Key ?? '');
    if (!object) throw new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'NoSuchKey' });
    object.tags = Object.fromEntries((command.input.Tagging?.TagSet ?? []).map((t) => [t.Key, t.Value]));
    return {};
  }
  if (command instanceof GetObjectCommand && command.input.Key?.startsWith('share-epochs/')) {
    const epoch = epochs.get(command.input.Key);
    if (epoch === undefined)
      throw new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'NoSuchKey' });
    return { Body: { transformToString: async () => epoch } };
  }
  if (command instanceof PutObjectCommand && command.input.Key?.startsWith('share-epochs/')) {
    epochs.set(command.input.Key, String(command.input.Body));
    return {};
  }
  throw new Error(`unexpected S3 command ${(command as object).constructor.name}`);
}

function putFile(owner: { segment: string }, init: Partial<StoredObject> = {}, fileId = newFileId()): string {
  bucket.set(objectKey(owner, fileId), {
    filename: 'Résumé "final".pdf',
    declaredType: 'application/pdf',
    size: 48_213,
    lastModified: new Date('2026-11-23T09:00:00.000Z'),
    eTag: ETAG,
    tags: { [TAG.status]: 'passed', [TAG.validatedEtag]: ETAG, [TAG.detectedType]: 'application/pdf' },
    ...init,
  });
  return fileId;
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

beforeEach(() => {
  bucket.clear();
  epochs.clear();
  tagWrites.length = 0;
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
      .setExpirationTime('5m')
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
      uploadedAt: '2026-11-23T09:00:00.000Z',
    });
  });

  it('includes the reason of a failed validation and nothing internal', async () => {
    // Arrange
    const fileId = putFile(ALICE, {
      tags: { [TAG.status]: 'failed', [TAG.reason]: 'type_mismatch', [TAG.validatedEtag]: ETAG },
    });

    // Act
    const response = await call(getFile, { method: 'GET', ...fileRoute(fileId) });

    // Assert
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'failed', reason: 'type_mismatch' });
    expect(response.body).not.toHaveProperty('key');
    expect(response.body).not.toHaveProperty('tags');
    expect(response.text).not.toContain('share');
  });
});

describe('POST /files/{fileId}/download-url', () => {
  it('issues a 300 s presigned GET by default, as an attachment with the validated type', async () => {
    // Arrange
    const fileId = putFile(ALICE);
    const before = Date.now();

    // Act
    const response = await call(createDownloadUrl, { method: 'POST', ...fileRoute(fileId, '/download-url') });

    // Assert
    expect(response.status).toBe(200);
    const url = new URL(String(response.body.url));
    expect(url.pathname).toBe(`/${objectKey(ALICE, fileId)}`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
    expect(url.searchParams.get('response-content-type')).toBe('application/pdf');
    const disposition = url.searchParams.get('response-content-disposition') ?? '';
    expect(disposition).toMatch(/^attachment; /);
    expect(disposition).toContain("filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22.pdf");
    const expiresAt = Date.parse(String(response.body.expiresAt));
    expect(expiresAt).toBeGreaterThan(before + 298_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 300_000);
  });

  it('honours expiresIn and inline disposition for an image', async () => {
    // Arrange
    const fileId = putFile(ALICE, {
      filename: 'photo.png',
      declaredType: 'image/png',
      tags: { [TAG.status]: 'passed', [TAG.validatedEtag]: ETAG, [TAG.detectedType]: 'image/png' },
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

  it.each(['pending', 'failed'])('answers 409 not_validated for a %s file', async (status) => {
    // Arrange
    const fileId = putFile(ALICE, { tags: { [TAG.status]: status } });

    // Act
    const response = await call(createDownloadUrl, { method: 'POST', ...fileRoute(fileId, '/download-url') });

    // Assert
    expect(response.status).toBe(409);
    expect(codeOf(response.body)).toBe('not_validated');
  });

  it('answers 409 when the detected type is not the declared one, whatever the status says', async () => {
    // Arrange
    const fileId = putFile(ALICE, { tags: { [TAG.status]: 'passed', [TAG.detectedType]: 'text/html' } });

    // Act
    const response = await call(createDownloadUrl, { method: 'POST', ...fileRoute(fileId, '/download-url') });

    // Assert
    expect(response.status).toBe(409);
    expect(codeOf(response.body)).toBe('not_validated');
  });
});

describe('POST /files/{fileId}/download-url when S3 refuses a passed file', () => {
  it('answers a generic 500, not a 409, when the role may not read a passed file', async () => {
    // Arrange
    const fileId = putFile(ALICE);
    vi.mocked(s3.send).mockImplementation((async (command: unknown) => {
      if (command instanceof HeadObjectCommand) throw forbidden();
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
    const before = Math.floor(Date.now() / 1000);

    // Act
    const response = await call(createShare, { method: 'POST', ...fileRoute(fileId, '/shares') });

    // Assert
    expect(response.status).toBe(201);
    expect(String(response.body.shareUrl)).toMatch(
      /^https:\/\/api\.example\.test\/s\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/,
    );
    const expiresAt = Date.parse(String(response.body.expiresAt)) / 1000;
    expect(expiresAt).toBeGreaterThanOrEqual(before + 86_400);
    expect(expiresAt).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 86_400);
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

  it.each(['pending', 'failed'])('answers 409 not_validated for a %s file', async (status) => {
    // Arrange
    const fileId = putFile(ALICE, { tags: { [TAG.status]: status } });

    // Act
    const response = await call(createShare, { method: 'POST', ...fileRoute(fileId, '/shares') });

    // Assert
    expect(response.status).toBe(409);
    expect(codeOf(response.body)).toBe('not_validated');
  });
});

describe('GET /s/{token}', () => {
  async function share(fileId: string, expiresIn?: number): Promise<string> {
    const body = expiresIn === undefined ? undefined : JSON.stringify({ expiresIn });
    const response = await call(createShare, { method: 'POST', ...fileRoute(fileId, '/shares'), body });
    expect(response.status).toBe(201);
    return String(response.body.shareUrl).split('/s/')[1] ?? '';
  }

  const open = (token: string) =>
    call(openShare, { method: 'GET', path: `/s/${token}`, pathParameters: { token }, as: null });

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
      expiresAt: Math.floor(Date.now() / 1000) - 1,
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

  it('keeps revoked links revoked when the upload form is posted again (tags start over)', async () => {
    // Arrange
    const fileId = putFile(ALICE);
    const token = await share(fileId);
    await call(revokeShares, { method: 'DELETE', ...fileRoute(fileId, '/shares') });
    const object = bucket.get(objectKey(ALICE, fileId));
    if (object) object.tags = { [TAG.status]: 'passed', [TAG.validatedEtag]: ETAG };

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
    const object = bucket.get(objectKey(ALICE, fileId));
    if (object) object.tags[TAG.status] = 'failed';

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
    bucket.delete(objectKey(ALICE, fileId));

    // Act
    const response = await open(token);

    // Assert
    expect(response.status).toBe(404);
    expect(codeOf(response.body)).toBe('not_found');
  });

  it('answers 409 not_validated when the file no longer passes', async () => {
    // Arrange
    const fileId = putFile(ALICE);
    const token = await share(fileId);
    const object = bucket.get(objectKey(ALICE, fileId));
    if (object) object.tags[TAG.status] = 'failed';

    // Act
    const response = await open(token);

    // Assert
    expect(response.status).toBe(409);
    expect(codeOf(response.body)).toBe('not_validated');
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
      expiresAt: Math.floor(Date.now() / 1000) + 60,
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
  it('moves the share epoch on in an object of its own, writing nothing on the upload', async () => {
    // Arrange
    const tags = {
      [TAG.status]: 'passed',
      [TAG.validatedEtag]: ETAG,
      [TAG.detectedType]: 'application/pdf',
      'custom-tag': 'kept as is',
    };
    const fileId = putFile(ALICE, { tags: { ...tags } });

    // Act
    const first = await call(revokeShares, { method: 'DELETE', ...fileRoute(fileId, '/shares') });
    const second = await call(revokeShares, { method: 'DELETE', ...fileRoute(fileId, '/shares') });

    // Assert
    expect([first.status, second.status]).toEqual([204, 204]);
    expect(first.text).toBe('');
    expect(epochOf(ALICE, fileId)).toBe('2');
    expect(tagWrites).toHaveLength(0);
    expect(bucket.get(objectKey(ALICE, fileId))?.tags).toEqual(tags);
  });

  it('works on a file that has not passed, which the read gate hides from HEAD', async () => {
    // Arrange
    const fileId = putFile(ALICE, { tags: { [TAG.status]: 'failed', [TAG.reason]: 'type_mismatch' } });

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
      // Arrange: tagged passed for ETAG, but the object now holds other bytes
      const fileId = putFile(ALICE, { eTag: '0badc0ffee0badc0ffee0badc0ffee00' });

      // Act
      const response = await call(handler(), { method, ...fileRoute(fileId, suffix) });

      // Assert
      expect(response.status).toBe(409);
      expect(codeOf(response.body)).toBe('not_validated');
    },
  );
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
