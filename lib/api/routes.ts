import * as z from 'zod';
import type { ErrorCode } from '../core/errors.js';
import type { ZodMiniObject } from '../core/zod.js';
import { MAX_COMPLETE_BODY_BYTES, MAX_UPLOAD_BODY_BYTES } from '../http/route.js';
import { createDownloadUrlInput } from './inputs/downloads.js';
import { deleteFileInput, getFileInput, listFilesInput } from './inputs/files.js';
import { completeUploadInput, signUploadPartsInput, uploadInput } from './inputs/multipart.js';
import { createShareInput, openShareInput, revokeSharesInput } from './inputs/shares.js';
import { createMultipartUploadInput, createUploadInput } from './inputs/uploads.js';
import { getUsageInput } from './inputs/usage.js';
import {
  completedUploadBody,
  downloadUrlBody,
  ERROR_STATUS,
  type ErrorBodySchema,
  errorBody,
  fileListBody,
  fileViewBody,
  healthBody,
  issuedUploadBody,
  issuedUploadsBody,
  multipartUploadBody,
  openApiDocumentBody,
  partUrlsBody,
  shareBody,
  uploadedPartsBody,
  usageBody,
} from './responses.js';

/** A route's answer when it succeeds. */
export interface SuccessResponse {
  status: 200 | 201 | 204 | 302;
  description: string;
  /** The body's media type and schema; none for an empty body. */
  content?: { mediaType: string; schema: z.ZodType };
  /** Response headers worth documenting. */
  headers?: z.ZodObject;
}

/** One HTTP route of the API, as the handler serves it and the OpenAPI document describes it. */
export interface RouteContract {
  method: 'get' | 'post' | 'delete';
  /** The path as serverless.yml and OpenAPI write it, e.g. `/files/{fileId}`. */
  path: `/${string}`;
  operationId: string;
  summary: string;
  /** `bearer`: `Authorization: Bearer <JWT>` is required. */
  auth: 'bearer' | 'none';
  /** The JSON body mode `httpRoute` applies; `optional` treats an empty body as `{}`. */
  body: 'none' | 'optional' | 'required';
  /** Bodies above this are refused (413); 16 KiB unless set. */
  maxBodyBytes?: number;
  /** What `httpRoute` validates as `{ path, query, body }`. */
  input?: ZodMiniObject;
  success: SuccessResponse;
  /** Errors of this route's own logic; {@link routeErrorCodes} adds those of the HTTP chain. */
  errors: readonly ErrorCode[];
}

const json = <Schema extends z.ZodType>(schema: Schema) => ({ mediaType: 'application/json', schema });

/**
 * Every HTTP route, declared once, keyed by its function's name: the function
 * `<name>` of serverless.yml runs {@link handlerFile} with the role
 * {@link routeRole} that iam/roles.cjs builds from its entry in
 * iam/function-policies.json; the OpenAPI document (docs/openapi.json) and the
 * client's types are generated from these declarations, and the handler's
 * responses are typed by them (lib/api/route-responses.ts).
 * test/unit/api/route-declarations.test.ts keeps serverless.yml and the IAM
 * entries equal to them.
 */
export const routes = {
  health: {
    method: 'get',
    path: '/health',
    operationId: 'getHealth',
    summary: 'Liveness check',
    auth: 'none',
    body: 'none',
    success: { status: 200, description: 'The service is up.', content: json(healthBody) },
    errors: [],
  },
  webPage: {
    method: 'get',
    path: '/',
    operationId: 'getWebPage',
    summary: 'The upload page',
    auth: 'none',
    body: 'none',
    success: {
      status: 200,
      description: 'The HTML upload page, with a strict Content-Security-Policy.',
      content: { mediaType: 'text/html', schema: z.string() },
    },
    errors: [],
  },
  openApi: {
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApiDocument',
    summary: 'This OpenAPI document',
    auth: 'none',
    body: 'none',
    success: {
      status: 200,
      description: 'The OpenAPI 3.1 document of this API.',
      content: json(openApiDocumentBody),
    },
    errors: [],
  },
  createUpload: {
    method: 'post',
    path: '/uploads',
    operationId: 'createUpload',
    summary: 'Get a presigned POST for a new file, or one for each of up to 100 files',
    auth: 'bearer',
    body: 'required',
    maxBodyBytes: MAX_UPLOAD_BODY_BYTES,
    input: createUploadInput,
    success: {
      status: 201,
      description:
        'A presigned POST that S3 accepts only for this key, content type, exact size and metadata, until `expiresAt`. ' +
        'A batch (`files`) is answered with `uploads`, one such form per file in the same order, all or none: ' +
        'a file the rules refuse refuses the batch with the error naming it (`files[3]: …`), and the quota and ' +
        'the rate are checked for the batch as a whole; nothing is reserved or signed for a refused batch.',
      content: json(z.union([issuedUploadBody, issuedUploadsBody])),
    },
    errors: ['file_too_large', 'unsupported_content_type', 'quota_exceeded', 'rate_limited'],
  },
  createMultipartUpload: {
    method: 'post',
    path: '/uploads/multipart',
    operationId: 'createMultipartUpload',
    summary: 'Start a multipart upload of a new file, for large files and resumable uploads',
    auth: 'bearer',
    body: 'required',
    input: createMultipartUploadInput,
    success: {
      status: 201,
      description:
        'The server started the multipart upload with the content type and metadata pinned; ask for part URLs next.',
      content: json(multipartUploadBody),
    },
    errors: ['file_too_large', 'unsupported_content_type', 'quota_exceeded', 'rate_limited'],
  },
  signUploadParts: {
    method: 'post',
    path: '/uploads/{fileId}/parts',
    operationId: 'signUploadParts',
    summary: 'Get presigned URLs for parts of a multipart upload',
    auth: 'bearer',
    body: 'required',
    input: signUploadPartsInput,
    success: {
      status: 200,
      description:
        "One presigned UploadPart per part, pinned to the part's exact length (and MD5 when given); ask again to retry or resume.",
      content: json(partUrlsBody),
    },
    errors: ['not_found', 'upload_closed'],
  },
  listUploadParts: {
    method: 'get',
    path: '/uploads/{fileId}/parts',
    operationId: 'listUploadParts',
    summary: 'List the parts S3 holds of a multipart upload, to resume it',
    auth: 'bearer',
    body: 'none',
    input: uploadInput,
    success: { status: 200, description: 'The parts uploaded so far.', content: json(uploadedPartsBody) },
    errors: ['not_found', 'upload_closed'],
  },
  completeUpload: {
    method: 'post',
    path: '/uploads/{fileId}/complete',
    operationId: 'completeUpload',
    summary: 'Complete a multipart upload once every part is in',
    auth: 'bearer',
    body: 'required',
    maxBodyBytes: MAX_COMPLETE_BODY_BYTES,
    input: completeUploadInput,
    success: {
      status: 200,
      description:
        'Every part had its exact size and the total the declared size: the file exists and awaits validation.',
      content: json(completedUploadBody),
    },
    errors: ['not_found', 'upload_closed', 'incomplete_upload'],
  },
  abortUpload: {
    method: 'delete',
    path: '/uploads/{fileId}',
    operationId: 'abortUpload',
    summary: 'Abort an open multipart upload',
    auth: 'bearer',
    body: 'none',
    input: uploadInput,
    success: { status: 204, description: 'The upload is aborted and S3 dropped its parts.' },
    errors: ['not_found', 'upload_closed', 'rate_limited'],
  },
  listFiles: {
    method: 'get',
    path: '/files',
    operationId: 'listFiles',
    summary: 'List your files, newest first',
    auth: 'bearer',
    body: 'none',
    input: listFilesInput,
    success: {
      status: 200,
      description:
        'A page of files, each as GET /files/{fileId} describes it; a file is listed once the validator has seen it.',
      content: json(fileListBody),
    },
    errors: [],
  },
  deleteFile: {
    method: 'delete',
    path: '/files/{fileId}',
    operationId: 'deleteFile',
    summary: 'Delete one of your files: every stored version, and its share links',
    auth: 'bearer',
    body: 'none',
    input: deleteFileInput,
    success: {
      status: 204,
      description: 'The file is gone; its share links and download URLs stop working.',
    },
    errors: ['not_found', 'rate_limited'],
  },
  getUsage: {
    method: 'get',
    path: '/usage',
    operationId: 'getUsage',
    summary: 'Your bytes used and reserved, your uploads this hour, and the limits in force',
    auth: 'bearer',
    body: 'none',
    input: getUsageInput,
    success: { status: 200, description: 'Your usage.', content: json(usageBody) },
    errors: ['rate_limited'],
  },
  getFile: {
    method: 'get',
    path: '/files/{fileId}',
    operationId: 'getFile',
    summary: 'Describe one of your files and its validation status',
    auth: 'bearer',
    body: 'none',
    input: getFileInput,
    success: { status: 200, description: 'The file.', content: json(fileViewBody) },
    errors: ['not_found'],
  },
  createDownloadUrl: {
    method: 'post',
    path: '/files/{fileId}/download-url',
    operationId: 'createDownloadUrl',
    summary: 'Get a short-lived download URL for one of your validated files',
    auth: 'bearer',
    body: 'optional',
    input: createDownloadUrlInput,
    success: {
      status: 200,
      description:
        'A presigned GET; `expiresAt` is the earlier of the requested lifetime and the credentials.',
      content: json(downloadUrlBody),
    },
    errors: ['not_found', 'not_validated'],
  },
  createShare: {
    method: 'post',
    path: '/files/{fileId}/shares',
    operationId: 'createShare',
    summary: 'Create a revocable share link for one of your validated files',
    auth: 'bearer',
    body: 'optional',
    input: createShareInput,
    success: { status: 201, description: 'The share link.', content: json(shareBody) },
    errors: ['not_found', 'not_validated'],
  },
  revokeShares: {
    method: 'delete',
    path: '/files/{fileId}/shares',
    operationId: 'revokeShares',
    summary: 'Revoke every share link of one of your files issued so far',
    auth: 'bearer',
    body: 'none',
    input: revokeSharesInput,
    success: { status: 204, description: 'Every earlier share link of the file is revoked.' },
    errors: ['not_found'],
  },
  openShare: {
    method: 'get',
    path: '/s/{token}',
    operationId: 'openShare',
    summary: 'Open a share link',
    auth: 'none',
    body: 'none',
    input: openShareInput,
    success: {
      status: 302,
      description: 'A redirect to a fresh presigned GET of the file, valid for at most 60 seconds.',
      headers: z.object({ location: z.url().meta({ description: 'The presigned GET.' }) }),
    },
    errors: ['not_found', 'not_validated', 'link_expired', 'link_revoked'],
  },
} as const satisfies Record<string, RouteContract>;

export type RouteName = keyof typeof routes;

/** The handler file of the function `name`: `createUpload` runs handlers/create-upload.ts. */
export const handlerFile = (name: string): string =>
  `handlers/${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}.ts`;

/** The role of the function `name`, as iam/roles.cjs names the one it builds: `createUpload` → `CreateUploadRole`. */
export const routeRole = (name: string): string => `${name.charAt(0).toUpperCase()}${name.slice(1)}Role`;

/**
 * Every error code a route may answer: its own, plus those of the HTTP chain
 * every route runs through (lib/http/route.ts): an oversized body, a body that
 * is not JSON, input that fails its schema, a missing or bad bearer token, and
 * the generic 500.
 */
export function routeErrorCodes(route: RouteContract): ErrorCode[] {
  const codes = new Set<ErrorCode>(route.errors);
  if (route.body !== 'none' || route.input) codes.add('invalid_request');
  if (route.auth === 'bearer') codes.add('unauthorized');
  codes.add('request_too_large');
  if (route.body !== 'none') codes.add('unsupported_media_type');
  codes.add('internal_error');
  return [...codes];
}

/** A route's error bodies by HTTP status, each listing the codes of that status the route may answer. */
export function routeErrorBodies(route: RouteContract): Map<number, ErrorBodySchema> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of routeErrorCodes(route)) {
    const status = ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const sorted = [...byStatus].sort(([a], [b]) => a - b);
  return new Map(sorted.map(([status, codes]) => [status, errorBody(codes as [ErrorCode, ...ErrorCode[]])]));
}
