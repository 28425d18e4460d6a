import * as z from 'zod';
import {
  createDocument,
  type ZodOpenApiObject,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathsObject,
  type ZodOpenApiResponsesObject,
} from 'zod-openapi';
import { version } from '../../package.json';
import type { ErrorCode } from '../core/errors.js';
import type { ZodMiniObject } from '../core/zod.js';
import { MAX_BODY_BYTES, MAX_COMPLETE_BODY_BYTES, MAX_UPLOAD_BODY_BYTES } from '../http/route.js';
import { filenameSchema, uploadRequestSchema } from '../uploads/upload-request.js';
import { FILE_VALIDATED, fileValidatedSchema } from '../webhooks/file-validated-event.js';
import { type RouteContract, routeErrorBodies, routes } from './routes.js';

export const API_TITLE = 'presign';
export const API_VERSION = version;

const BEARER_SCHEME = 'bearerAuth';

/** What each error code means, for the responses' descriptions. */
const CODE_TEXT: Record<ErrorCode, string> = {
  invalid_request: 'the request does not match its schema; the message names the field',
  unauthorized: 'missing, malformed, forged, expired or wrong-audience bearer token',
  not_found: "no such file, or not the caller's; for a share link also a bad or tampered token",
  not_validated: 'the file has not passed validation (pending or failed)',
  link_expired: 'the share link has expired',
  link_revoked: 'the share link has been revoked',
  incomplete_upload:
    'a part is missing, of the wrong size or not what S3 holds; the message names it and the upload stays open',
  upload_closed: 'the multipart upload was already completed or aborted',
  file_too_large: "the declared size exceeds the content type's limit",
  request_too_large: `the request body exceeds ${MAX_BODY_BYTES} bytes (${MAX_UPLOAD_BODY_BYTES} for POST /uploads, ${MAX_COMPLETE_BODY_BYTES} to complete a multipart upload)`,
  unsupported_content_type: 'the declared content type is not accepted',
  unsupported_media_type: 'the request body is not `application/json`',
  quota_exceeded:
    "the declared size would take the caller's used and reserved bytes over QUOTA_BYTES_PER_OWNER; delete files or let open uploads finish first",
  rate_limited:
    'over UPLOADS_PER_HOUR_PER_OWNER (or 1,000 open uploads, or too many changes to the caller’s usage at once): retry after `Retry-After` seconds',
  internal_error: 'an internal error; the message carries no details',
};

/** The header a 429 carries. */
const RETRY_AFTER_HEADERS = z.object({
  'retry-after': z
    .string()
    .regex(/^[1-9][0-9]*$/)
    .meta({
      description:
        'Whole seconds to wait; the same request then finds room, unless another of yours takes it first.',
    }),
});

/** A route's error responses: one per HTTP status, listing that status's codes. */
function errorResponses(route: RouteContract): ZodOpenApiResponsesObject {
  const responses: ZodOpenApiResponsesObject = {};
  for (const [status, schema] of routeErrorBodies(route)) {
    const codes = schema.shape.error.shape.code.options;
    responses[String(status) as `${1 | 2 | 3 | 4 | 5}${string}`] = {
      description: codes.map((code) => `\`${code}\`: ${CODE_TEXT[code]}.`).join(' '),
      content: { 'application/json': { schema } },
      ...(codes.includes('rate_limited') ? { headers: RETRY_AFTER_HEADERS } : {}),
    };
  }
  return responses;
}

function operation(route: RouteContract): ZodOpenApiOperationObject {
  const { path, query, body } = (route.input?.shape ?? {}) as {
    path?: ZodMiniObject;
    query?: ZodMiniObject;
    body?: z.core.$ZodType;
  };
  const { success } = route;
  return {
    operationId: route.operationId,
    summary: route.summary,
    security: route.auth === 'bearer' ? [{ [BEARER_SCHEME]: [] }] : [],
    ...(path || query ? { requestParams: { ...(path ? { path } : {}), ...(query ? { query } : {}) } } : {}),
    ...(body && route.body !== 'none'
      ? {
          requestBody: {
            required: route.body === 'required',
            content: { 'application/json': { schema: body } },
          },
        }
      : {}),
    responses: {
      [String(success.status)]: {
        description: success.description,
        ...(success.content
          ? { content: { [success.content.mediaType]: { schema: success.content.schema } } }
          : {}),
        ...(success.headers ? { headers: success.headers } : {}),
      },
      ...errorResponses(route),
    },
  };
}

const uploadBody = uploadRequestSchema.shape;

/**
 * What the refinements and the configured rules of POST /uploads cannot carry
 * into JSON Schema, added by schema identity so the handler's schemas stay
 * untouched.
 */
const UPLOAD_FIELD_DOCS = new Map<z.core.$ZodType, Record<string, unknown>>([
  [
    filenameSchema,
    {
      minLength: 1,
      maxLength: 255,
      description:
        'The name people see: 1 to 255 characters, not blank, without control or invisible format characters. ' +
        'Stored as metadata and used for Content-Disposition on download; never part of the object key.',
    },
  ],
  [
    uploadBody.contentType,
    { description: 'One of the content types the deployment accepts (otherwise 415).' },
  ],
  [
    uploadBody.size,
    { description: "The file's exact size in bytes, at most the content type's limit (otherwise 413)." },
  ],
]);

/** The headers of every webhook delivery (Standard Webhooks). */
const webhookHeaders = z.object({
  'webhook-id': z
    .string()
    .meta({ description: 'The same for every retry of one verdict: deduplicate by it.' }),
  'webhook-timestamp': z.string().meta({ description: 'Seconds since the epoch when this try was signed.' }),
  'webhook-signature': z
    .string()
    .meta({ description: '`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` under the key.' }),
});

/** The OpenAPI 3.1 document of every route in {@link routes}, and the webhook the backend sends. */
export function buildOpenApiDocument() {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of Object.values(routes) as RouteContract[]) {
    paths[route.path] = { ...paths[route.path], [route.method]: operation(route) };
  }
  const document: ZodOpenApiObject = {
    openapi: '3.1.0',
    info: {
      title: API_TITLE,
      version: API_VERSION,
      description:
        'Presigned S3 upload and download URLs and revocable share links. ' +
        'Every error body is `{ "error": { "code", "message" } }`; `code` is stable, `message` is for people.',
    },
    components: {
      securitySchemes: {
        [BEARER_SCHEME]: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'A JWT of the configured issuer and audience; its `sub` owns the files it uploads.',
        },
      },
    },
    paths,
    webhooks: {
      [FILE_VALIDATED]: {
        post: {
          operationId: 'fileValidated',
          summary: 'A verdict on one of your files, POSTed to the configured webhook URL',
          description:
            'Signed as the Standard Webhooks specification says, with the configured `whsec_` key. ' +
            'Sent once per verdict on a file (its first version), at least once: every retry carries the same ' +
            '`webhook-id`. Not sent for a later version posted with the same form (deleted on sight).',
          requestParams: { header: webhookHeaders },
          requestBody: { content: { 'application/json': { schema: fileValidatedSchema } } },
          responses: {
            '200': {
              description:
                'Any 2xx within 5 s is a delivery. Anything else (or no answer) is retried after 1 s and 4 s, ' +
                'then the invocation twice more (Lambda asynchronous retries); what still fails is dead-lettered.',
            },
          },
        },
      },
    },
  };
  return createDocument(document, {
    override: ({ jsonSchema, zodSchema }) => {
      const docs = UPLOAD_FIELD_DOCS.get(zodSchema);
      if (docs) Object.assign(jsonSchema, docs);
      // `format` says it; zod's long ISO 8601 pattern adds nothing for a reader.
      if (jsonSchema.format === 'date-time') delete jsonSchema.pattern;
    },
  });
}
