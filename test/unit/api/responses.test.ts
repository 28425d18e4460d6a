import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  ListPartsCommand,
  NoSuchKey,
  NoSuchUpload,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type * as z from 'zod';
import { createHandler as abortUploadHandler } from '../../../handlers/abort-upload.js';
import { createHandler as completeUploadHandler } from '../../../handlers/complete-upload.js';
import { createHandler as createDownloadUrlHandler } from '../../../handlers/create-download-url.js';
import { createHandler as createMultipartUploadHandler } from '../../../handlers/create-multipart-upload.js';
import { createHandler as createShareHandler } from '../../../handlers/create-share.js';
import { createHandler as createUploadHandler } from '../../../handlers/create-upload.js';
import { createHandler as deleteFileHandler } from '../../../handlers/delete-file.js';
import { createHandler as getFileHandler } from '../../../handlers/get-file.js';
import { createHandler as getUsageHandler } from '../../../handlers/get-usage.js';
import { handler as health } from '../../../handlers/health.js';
import { createHandler as listFilesHandler } from '../../../handlers/list-files.js';
import { createHandler as listUploadPartsHandler } from '../../../handlers/list-upload-parts.js';
import { createHandler as openShareHandler } from '../../../handlers/open-share.js';
import { createHandler as revokeSharesHandler } from '../../../handlers/revoke-shares.js';
import { createHandler as signUploadPartsHandler } from '../../../handlers/sign-upload-parts.js';
import { handler as webPage } from '../../../handlers/web-page.js';
import type {
  completedUploadBody,
  downloadUrlBody,
  fileListBody,
  fileViewBody,
  healthBody,
  issuedUploadBody,
  multipartUploadBody,
  partUrlsBody,
  shareBody,
  uploadedPartsBody,
} from '../../../lib/api/responses.js';
import { type RouteContract, type RouteName, routeErrorBodies, routes } from '../../../lib/api/routes.js';
import type { issueDownloadUrl } from '../../../lib/downloads/download-url.js';
import type { FileList } from '../../../lib/files/file-list.js';
import type { FileView } from '../../../lib/files/file-view.js';
import { MAX_BODY_BYTES, MAX_COMPLETE_BODY_BYTES, MAX_UPLOAD_BODY_BYTES } from '../../../lib/http/route.js';
import { shareKeyFrom } from '../../../lib/shares/share-secret.js';
import { signShareToken } from '../../../lib/shares/share-token.js';
import type { issueShare } from '../../../lib/shares/shares.js';
import { encodeMetaValue, META, TAG } from '../../../lib/store/object-encoding.js';
import {
  fileIndexKey,
  fileIndexPrefix,
  multipartClosingKey,
  multipartRecordKey,
  newFileId,
  objectKey,
} from '../../../lib/store/object-key.js';
import type {
  completeUpload as completeMultipartUpload,
  listUploadParts as listParts,
  PartUrl,
  StartedMultipartUpload,
} from '../../../lib/uploads/multipart-uploads.js';
import type { IssuedUpload } from '../../../lib/uploads/upload-issuer.js';
import { apiEvent, lambdaContext } from '../../support/api-event.js';
import { TEST_NOW, TEST_SECONDS } from '../../support/clock.js';
import { testOwner } from '../../support/owners.js';
import { unitRuntime } from '../../support/runtime.js';
import { signTestToken } from '../../support/tokens.js';
import { signedVerdictTags } from '../../support/verdict-keys.js';

type Handler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** True when A and B are the same type; checked by tsc. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** Every handler built around one S3 client of this file's, whose `send` the tests stub. */
const { s3, ...runtime } = await unitRuntime();
const shareKey = shareKeyFrom(runtime.environment);
const createUpload = createUploadHandler(runtime);
const getFile = getFileHandler(runtime);
const createDownloadUrl = createDownloadUrlHandler(runtime);
const createShare = createShareHandler({ ...runtime, shareKey });
const openShare = openShareHandler({ store: runtime.store, shareKey, clock: runtime.clock });
const revokeShares = revokeSharesHandler(runtime);
const createMultipartUpload = createMultipartUploadHandler(runtime);
const signUploadParts = signUploadPartsHandler(runtime);
const listUploadParts = listUploadPartsHandler(runtime);
const completeUpload = completeUploadHandler(runtime);
const abortUpload = abortUploadHandler(runtime);
const listFiles = listFilesHandler(runtime);
const deleteFile = deleteFileHandler(runtime);
const getUsage = getUsageHandler(runtime);

const ALICE = testOwner('auth0|alice');
const FILE_ID = newFileId();
const KEY = objectKey(ALICE, FILE_ID);
const ETAG = '5d41402abc4b2a76b9719d911017c592';
const VERSION_ID = 'rgw.FkJ3_x9Lq2.version';
let tags: Record<string, string> = {};
const MiB = 1024 * 1024;
/** Alice's multipart upload of FILE_ID: 12 MiB in parts of 5 MiB (5, 5 and 2 MiB). */
const UPLOAD_RECORD = {
  uploadId: 'upload-1',
  size: 12 * MiB,
  partSize: 5 * MiB,
  startedAt: new Date(TEST_NOW.getTime() - 60 * 60 * 1000).toISOString(),
};
const HELD_PARTS = [5 * MiB, 5 * MiB, 2 * MiB].map((Size, index) => ({
  PartNumber: index + 1,
  Size,
  ETag: `"${String(index + 1).repeat(32)}"`,
}));
let heldParts = HELD_PARTS;
/** Whether S3 answers NoSuchUpload: the upload was completed or aborted. */
let uploadClosed = false;
const noSuchUpload = () => new NoSuchUpload({ $metadata: { httpStatusCode: 404 }, message: 'NoSuchUpload' });

const missing = () => new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'NoSuchKey' });

/** One file of Alice's (one version) behind the S3 client; every other key is missing, share epochs included. */
async function fakeSend(command: unknown): Promise<unknown> {
  if (command instanceof PutObjectCommand) return {};
  if (command instanceof CreateMultipartUploadCommand) return { UploadId: 'upload-2' };
  if (command instanceof DeleteObjectCommand) return {};
  if (command instanceof ListObjectsV2Command) {
    const mine = command.input.Prefix === fileIndexPrefix(ALICE) && !command.input.StartAfter;
    return { IsTruncated: false, Contents: mine ? [{ Key: fileIndexKey(ALICE, FILE_ID) }] : [] };
  }
  if (command instanceof GetObjectCommand && command.input.Key === fileIndexKey(ALICE, FILE_ID)) {
    // The file's record, as the validator writes it: its verdict is the one the tags carry.
    const status = tags[TAG.status];
    const entry = {
      filename: 'report.pdf',
      contentType: 'application/pdf',
      size: 48_213,
      uploadedAt: '2026-11-23T09:00:00.000Z',
      versionId: VERSION_ID,
      eTag: ETAG,
      ...(status === 'passed' || status === 'failed'
        ? {
            verdict: {
              status,
              ...(tags[TAG.reason] ? { reason: tags[TAG.reason] } : {}),
              ...(tags[TAG.detectedType] ? { detectedType: tags[TAG.detectedType] } : {}),
              signature: tags[TAG.signature] ?? '',
            },
          }
        : {}),
      clientMetadata: null,
    };
    return { Body: { transformToString: async () => JSON.stringify(entry) } };
  }
  if (command instanceof GetObjectCommand && command.input.Key === multipartRecordKey(ALICE, FILE_ID)) {
    return { Body: { transformToString: async () => JSON.stringify(UPLOAD_RECORD) } };
  }
  // A closed upload's closing claim: what the part signer reads.
  if (command instanceof GetObjectCommand && command.input.Key === multipartClosingKey(ALICE, FILE_ID)) {
    if (!uploadClosed) throw missing();
    return { Body: { transformToString: async () => 'complete' } };
  }
  if (command instanceof ListPartsCommand) {
    if (uploadClosed) throw noSuchUpload();
    return { IsTruncated: false, Parts: heldParts };
  }
  if (command instanceof CompleteMultipartUploadCommand || command instanceof AbortMultipartUploadCommand) {
    if (uploadClosed) throw noSuchUpload();
    return {};
  }
  if (command instanceof ListObjectVersionsCommand) {
    const Versions = [
      {
        Key: KEY,
        VersionId: VERSION_ID,
        ETag: `"${ETAG}"`,
        IsLatest: true,
        LastModified: new Date('2026-11-23T09:00:00.000Z'),
      },
    ];
    return { IsTruncated: false, Versions: command.input.Prefix === KEY ? Versions : [] };
  }
  const { Key: key, VersionId } = (command as { input?: { Key?: string; VersionId?: string } }).input ?? {};
  if (key !== KEY || (VersionId !== undefined && VersionId !== VERSION_ID)) throw missing();
  if (command instanceof GetObjectTaggingCommand) {
    return { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) };
  }
  if (command instanceof HeadObjectCommand) {
    return {
      ContentLength: 48_213,
      ContentType: 'application/pdf',
      ETag: `"${ETAG}"`,
      LastModified: new Date('2026-11-23T09:00:00.000Z'),
      Metadata: {
        [META.filename]: encodeMetaValue('report.pdf'),
        [META.declaredType]: 'application/pdf',
        [META.declaredSize]: '48213',
      },
    };
  }
  throw missing();
}

const version = { bucket: 'unit-test-bucket', key: KEY, versionId: VERSION_ID, eTag: ETAG };
const PASSED = signedVerdictTags({ ...version, status: 'passed', detectedType: 'application/pdf' });
const FAILED = signedVerdictTags({ ...version, status: 'failed', reason: 'type_mismatch' });
/** Tagged passed by someone without the validator's key. */
const UNSIGNED_PASSED = {
  [TAG.status]: 'passed',
  [TAG.validatedEtag]: ETAG,
  [TAG.detectedType]: 'application/pdf',
};

beforeEach(() => {
  tags = { ...PASSED };
  heldParts = HELD_PARTS;
  uploadClosed = false;
  vi.spyOn(s3, 'send').mockImplementation(fakeSend as never);
});

afterEach(() => {
  vi.restoreAllMocks();
});

interface Request {
  method: string;
  path: string;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  body?: string;
  headers?: Record<string, string>;
  /** The bearer token's subject; null for none. */
  as?: string | null;
  /** The file's tags for this request. */
  tags?: Record<string, string>;
  /** Makes every S3 call fail unexpectedly. */
  s3Fails?: boolean;
  /** The parts S3 holds of the multipart upload. */
  parts?: typeof HELD_PARTS;
  /** The multipart upload was completed or aborted. */
  closed?: boolean;
}

const HANDLERS: Record<RouteName, Handler | undefined> = {
  health: health as Handler,
  webPage: webPage as Handler,
  openApi: undefined, // openapi-handler.test.ts
  createUpload: createUpload as Handler,
  createMultipartUpload: createMultipartUpload as Handler,
  signUploadParts: signUploadParts as Handler,
  listUploadParts: listUploadParts as Handler,
  completeUpload: completeUpload as Handler,
  abortUpload: abortUpload as Handler,
  getFile: getFile as Handler,
  getUsage: getUsage as Handler,
  listFiles: listFiles as Handler,
  deleteFile: deleteFile as Handler,
  createDownloadUrl: createDownloadUrl as Handler,
  createShare: createShare as Handler,
  revokeShares: revokeShares as Handler,
  openShare: openShare as Handler,
};

async function call(name: RouteName, request: Request) {
  if (request.tags) tags = request.tags;
  if (request.parts) heldParts = request.parts;
  if (request.closed) uploadClosed = true;
  if (request.s3Fails) vi.mocked(s3.send).mockRejectedValue(new Error('socket hang up') as never);
  const token = request.as === null ? undefined : await signTestToken(request.as ?? 'auth0|alice');
  const event = apiEvent({
    method: request.method,
    path: request.path,
    ...(request.pathParameters ? { pathParameters: request.pathParameters } : {}),
    ...(request.query ? { queryStringParameters: request.query } : {}),
    ...(request.body !== undefined ? { body: request.body } : {}),
    headers: {
      ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...request.headers,
    },
  });
  const handler = HANDLERS[name];
  if (!handler) throw new Error(`no handler for ${name}`);
  return handler(event, lambdaContext());
}

const upload = { filename: 'cat.png', contentType: 'image/png', size: 48_213 };
const file = (suffix = '') => ({ path: `/files/${FILE_ID}${suffix}`, pathParameters: { fileId: FILE_ID } });
const post = (body: unknown) => ({ method: 'POST', body: JSON.stringify(body) });
const multipart = { filename: 'film.mp4', contentType: 'video/mp4', size: 12 * MiB };
const openUpload = (suffix = '') => ({
  path: `/uploads/${FILE_ID}${suffix}`,
  pathParameters: { fileId: FILE_ID },
});
const namedParts = HELD_PARTS.map((part) => ({ partNumber: part.PartNumber, etag: part.ETag }));

async function shareToken(): Promise<string> {
  const response = await call('createShare', { ...post({}), ...file('/shares') });
  return String(JSON.parse(response.body ?? '{}').shareUrl).split('/s/')[1] ?? '';
}
const opening = (token: string) => ({
  method: 'GET',
  path: `/s/${token}`,
  pathParameters: { token },
  as: null,
});

const cases: [string, RouteName, () => Request | Promise<Request>, number][] = [
  ['health', 'health', () => ({ method: 'GET', path: '/health', as: null }), 200],
  ['the upload page', 'webPage', () => ({ method: 'GET', path: '/', as: null }), 200],
  ['an upload', 'createUpload', () => ({ path: '/uploads', ...post(upload) }), 201],
  [
    'an upload of a bad size',
    'createUpload',
    () => ({ path: '/uploads', ...post({ ...upload, size: 0 }) }),
    400,
  ],
  ['an upload without a token', 'createUpload', () => ({ path: '/uploads', ...post(upload), as: null }), 401],
  [
    'an upload above the limit',
    'createUpload',
    () => ({ path: '/uploads', ...post({ ...upload, size: 26_214_400 }) }),
    413,
  ],
  [
    'an oversized request',
    'createUpload',
    () => ({ path: '/uploads', ...post({ ...upload, pad: 'x'.repeat(MAX_UPLOAD_BODY_BYTES) }) }),
    413,
  ],
  [
    'an upload of a refused type',
    'createUpload',
    () => ({ path: '/uploads', ...post({ ...upload, contentType: 'text/html' }) }),
    415,
  ],
  [
    'an upload that is not JSON',
    'createUpload',
    () => ({ path: '/uploads', ...post(upload), headers: { 'content-type': 'text/plain' } }),
    415,
  ],
  [
    'a multipart upload',
    'createMultipartUpload',
    () => ({ path: '/uploads/multipart', ...post(multipart) }),
    201,
  ],
  [
    'a multipart upload with parts under 5 MiB',
    'createMultipartUpload',
    () => ({ path: '/uploads/multipart', ...post({ ...multipart, partSize: 5 * MiB - 1 }) }),
    400,
  ],
  [
    'a multipart upload above the limit',
    'createMultipartUpload',
    () => ({ path: '/uploads/multipart', ...post({ ...multipart, size: 5 * 1024 ** 3 + 1 }) }),
    413,
  ],
  [
    'a multipart upload of a refused type',
    'createMultipartUpload',
    () => ({ path: '/uploads/multipart', ...post({ ...multipart, contentType: 'text/html' }) }),
    415,
  ],
  [
    'a multipart upload without a token',
    'createMultipartUpload',
    () => ({ path: '/uploads/multipart', ...post(multipart), as: null }),
    401,
  ],
  [
    'part URLs',
    'signUploadParts',
    () => ({
      ...post({ parts: [{ partNumber: 1 }, { partNumber: 3, md5: 'XUFAKrxLKna5cZ2REBfFkg==' }] }),
      ...openUpload('/parts'),
    }),
    200,
  ],
  [
    'a part URL beyond the last part',
    'signUploadParts',
    () => ({ ...post({ parts: [{ partNumber: 4 }] }), ...openUpload('/parts') }),
    400,
  ],
  [
    "part URLs of another owner's upload",
    'signUploadParts',
    () => ({ ...post({ parts: [{ partNumber: 1 }] }), ...openUpload('/parts'), as: 'auth0|bob' }),
    404,
  ],
  [
    'part URLs of a closed upload',
    'signUploadParts',
    () => ({ ...post({ parts: [{ partNumber: 1 }] }), ...openUpload('/parts'), closed: true }),
    409,
  ],
  ['the parts held', 'listUploadParts', () => ({ method: 'GET', ...openUpload('/parts') }), 200],
  [
    'the parts of a closed upload',
    'listUploadParts',
    () => ({ method: 'GET', ...openUpload('/parts'), closed: true }),
    409,
  ],
  [
    'a completion',
    'completeUpload',
    () => ({ ...post({ parts: namedParts }), ...openUpload('/complete') }),
    200,
  ],
  [
    'a completion with a part missing',
    'completeUpload',
    () => ({ ...post({ parts: namedParts }), ...openUpload('/complete'), parts: HELD_PARTS.slice(0, 2) }),
    422,
  ],
  [
    'a completion of a closed upload',
    'completeUpload',
    () => ({ ...post({ parts: namedParts }), ...openUpload('/complete'), closed: true }),
    409,
  ],
  [
    'a completion above its body limit',
    'completeUpload',
    () => ({
      ...post({ parts: namedParts, pad: 'x'.repeat(MAX_COMPLETE_BODY_BYTES) }),
      ...openUpload('/complete'),
    }),
    413,
  ],
  ['an abort', 'abortUpload', () => ({ method: 'DELETE', ...openUpload() }), 204],
  [
    'an abort of a closed upload',
    'abortUpload',
    () => ({ method: 'DELETE', ...openUpload(), closed: true }),
    409,
  ],
  [
    "an abort of another owner's upload",
    'abortUpload',
    () => ({ method: 'DELETE', ...openUpload(), as: 'auth0|bob' }),
    404,
  ],
  ['a page of files', 'listFiles', () => ({ method: 'GET', path: '/files' }), 200],
  [
    'a page of files with a bad limit',
    'listFiles',
    () => ({ method: 'GET', path: '/files', query: { limit: '0' } }),
    400,
  ],
  [
    'a page of files with a forged cursor',
    'listFiles',
    () => ({ method: 'GET', path: '/files', query: { cursor: 'abc' } }),
    400,
  ],
  ['a deletion', 'deleteFile', () => ({ method: 'DELETE', ...file() }), 204],
  [
    "a deletion of another owner's file",
    'deleteFile',
    () => ({ method: 'DELETE', ...file(), as: 'auth0|bob' }),
    404,
  ],
  ['a passed file', 'getFile', () => ({ method: 'GET', ...file() }), 200],
  ['a failed file', 'getFile', () => ({ method: 'GET', ...file(), tags: FAILED }), 200],
  [
    'a file tagged passed without signature',
    'getFile',
    () => ({ method: 'GET', ...file(), tags: UNSIGNED_PASSED }),
    200,
  ],
  ["another owner's file", 'getFile', () => ({ method: 'GET', ...file(), as: 'auth0|bob' }), 404],
  [
    'a malformed file id',
    'getFile',
    () => ({ method: 'GET', path: '/files/x', pathParameters: { fileId: 'x' } }),
    400,
  ],
  ['a download URL', 'createDownloadUrl', () => ({ ...post({}), ...file('/download-url') }), 200],
  [
    'a download URL of a failed file',
    'createDownloadUrl',
    () => ({ ...post({}), ...file('/download-url'), tags: FAILED }),
    409,
  ],
  [
    'a download URL of a file tagged passed without signature',
    'createDownloadUrl',
    () => ({ ...post({}), ...file('/download-url'), tags: UNSIGNED_PASSED }),
    409,
  ],
  [
    'a download URL when S3 fails',
    'createDownloadUrl',
    () => ({ ...post({}), ...file('/download-url'), s3Fails: true }),
    500,
  ],
  ['a share link', 'createShare', () => ({ ...post({ expiresIn: 60 }), ...file('/shares') }), 201],
  [
    'a share link of a file tagged passed without signature',
    'createShare',
    () => ({ ...post({}), ...file('/shares'), tags: UNSIGNED_PASSED }),
    409,
  ],
  ['a revocation', 'revokeShares', () => ({ method: 'DELETE', ...file('/shares') }), 204],
  ['a share link opened', 'openShare', async () => opening(await shareToken()), 302],
  ['a bad share token', 'openShare', () => opening('not-a-token'), 404],
  [
    'an expired share link',
    'openShare',
    () =>
      opening(
        signShareToken(shareKey, {
          segment: ALICE.segment,
          fileId: FILE_ID,
          versionId: VERSION_ID,
          expiresAt: TEST_SECONDS - 1,
          epoch: 0,
        }),
      ),
    410,
  ],
  [
    'a share link to another version',
    'openShare',
    () =>
      opening(
        signShareToken(shareKey, {
          segment: ALICE.segment,
          fileId: FILE_ID,
          versionId: 'rgw.later_version.2',
          expiresAt: TEST_SECONDS + 60,
          epoch: 0,
        }),
      ),
    404,
  ],
  [
    'a share link to a file that has since failed',
    'openShare',
    async () => ({ ...opening(await shareToken()), tags: FAILED }),
    409,
  ],
];

describe('real responses match the documented schemas', () => {
  // The request builder is no title part: each case's title names its status.
  const titled = cases.map(([what, name, request, status]) => ({ what, name, request, status }));
  it.each(titled)('$what ($name) answers $status as documented', async ({ name, request, status }) => {
    // Arrange
    const route: RouteContract = routes[name];
    const init = await request();

    // Act
    const response = await call(name, init);

    // Assert
    expect(response.statusCode).toBe(status);
    const contentType = String(response.headers?.['content-type'] ?? '');
    if (status === route.success.status) {
      const { content, headers } = route.success;
      if (headers) headers.parse(response.headers);
      if (!content) {
        expect(response.body).toBe('');
        return;
      }
      expect(contentType.startsWith(content.mediaType)).toBe(true);
      const body = content.mediaType === 'application/json' ? JSON.parse(response.body ?? '') : response.body;
      expect(content.schema.safeParse(body).error).toBeUndefined();
      return;
    }
    const schema = routeErrorBodies(route).get(status);
    expect(schema, `${status} is not documented for ${name}`).toBeDefined();
    expect(contentType).toBe('application/json');
    expect(schema?.safeParse(JSON.parse(response.body ?? '')).error).toBeUndefined();
  });

  // The declarations are kept out of the handlers' bundles: each handler names its body limit
  // itself, and this holds every one of them to its route's declaration.
  const bodyRoutes = (Object.keys(HANDLERS) as RouteName[]).filter(
    (name) => HANDLERS[name] && (routes[name] as RouteContract).body !== 'none',
  );
  it.each(bodyRoutes)(
    '%s refuses a body one byte over its declared limit, and reads one at it',
    async (name) => {
      // Arrange: a JSON body of exactly `bytes` bytes (`{"pad":""}` is 10)
      const route: RouteContract = routes[name];
      const limit = route.maxBodyBytes ?? MAX_BODY_BYTES;
      const path = route.path.replace('{fileId}', FILE_ID);
      const request = (bytes: number) => ({
        method: route.method.toUpperCase(),
        path,
        pathParameters: { fileId: FILE_ID },
        body: JSON.stringify({ pad: 'x'.repeat(bytes - 10) }),
      });

      // Act
      const over = await call(name, request(limit + 1));
      const at = await call(name, request(limit));

      // Assert
      expect(over.statusCode).toBe(413);
      expect(JSON.parse(over.body ?? '').error.code).toBe('request_too_large');
      expect(at.statusCode).not.toBe(413);
    },
  );

  it('types the success bodies as the code that builds them does', () => {
    // Assert: compiled by tsc; a mismatch does not type-check.
    const agree: [
      Same<z.output<typeof healthBody>, { status: 'ok' }>,
      Same<z.output<typeof issuedUploadBody>, IssuedUpload>,
      Same<z.output<typeof fileViewBody>, FileView>,
      Same<z.output<typeof downloadUrlBody>, Awaited<ReturnType<typeof issueDownloadUrl>>>,
      Same<z.output<typeof shareBody>, Awaited<ReturnType<typeof issueShare>>>,
      Same<z.output<typeof multipartUploadBody>, StartedMultipartUpload>,
      Same<z.output<typeof fileListBody>, FileList>,
      Same<z.output<typeof partUrlsBody>, { parts: PartUrl[] }>,
      Same<z.output<typeof uploadedPartsBody>, Awaited<ReturnType<typeof listParts>>>,
      Same<z.output<typeof completedUploadBody>, Awaited<ReturnType<typeof completeMultipartUpload>>>,
    ] = [true, true, true, true, true, true, true, true, true, true];
    expect(agree.every(Boolean)).toBe(true);
  });
});
