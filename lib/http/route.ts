import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj, type MiddyfiedHandler } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ApiError, invalidRequest, requestTooLarge, unsupportedMediaType } from '../core/errors.js';
import { logger } from '../core/logger.js';
import type { Owner } from '../core/owner.js';
import type * as z from '../core/zod.js';
import type { BearerVerifier } from './bearer-auth.js';
import { errorResponse } from './responses.js';
import { apiErrorOfStoreRefusal } from './store-refusals.js';

/** JSON bodies above this are refused before parsing: no route but one needs more. */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * A batch POST /uploads names up to 100 files, each with a filename of up to
 * 1,020 bytes (255 four-byte characters), a content type of up to 255 and
 * `clientMetadata` of up to 512: about 190 KB as compact JSON at the most.
 */
export const MAX_UPLOAD_BODY_BYTES = 256 * 1024;

/** Completing a multipart upload names up to 10,000 parts with their ETags (about 60 bytes each). */
export const MAX_COMPLETE_BODY_BYTES = 1024 * 1024;

export type HttpResult = APIGatewayProxyStructuredResultV2;

/**
 * JSON bodies nested deeper than this are refused before any schema reads
 * them: no route's input nests more than a few levels, and schemas that
 * recurse (a client's JSON metadata) must never be handed a value deep enough
 * to exhaust the stack, which a 16 KiB body of brackets is.
 */
export const MAX_BODY_DEPTH = 32;

/** Time a request keeps to answer once its work gives up (ms): API Gateway must still get the answer. */
const ANSWER_MARGIN_MS = 1500;

/**
 * When a request's retried work must give up so that it still answers
 * before the function's timeout (ms since the epoch).
 */
export const answerBy = (context: Pick<Context, 'getRemainingTimeInMillis'>): number =>
  Date.now() + context.getRemainingTimeInMillis() - ANSWER_MARGIN_MS;

/** What a route handler receives: the raw event plus its validated input and caller. */
export type RouteEvent<Input, Caller> = APIGatewayProxyEventV2 & { input: Input; owner: Caller };

export interface RouteOptions<Schema extends z.ZodMiniType> {
  /** Validates `{ path, query, body }`; a failure is a 400 naming the field. */
  input: Schema;
  /** Whether the route takes a JSON body; `optional` treats an empty body as `{}`. */
  body: 'none' | 'optional' | 'required';
  /** Bodies above this are refused unparsed (413); {@link MAX_BODY_BYTES} unless set. */
  maxBodyBytes?: number;
}

type AnyRouteEvent = RouteEvent<unknown, Owner | undefined>;
type Middleware<Event extends AnyRouteEvent> = MiddlewareObj<Event, HttpResult, Error, Context>;

const jsonParser = httpJsonBodyParser();

function bodyBytes(event: APIGatewayProxyEventV2): number {
  if (event.body === undefined || event.body === null) return 0;
  return event.isBase64Encoded
    ? Buffer.byteLength(event.body, 'base64')
    : Buffer.byteLength(event.body, 'utf8');
}

/**
 * Whether middy's JSON body parser refused the body itself rather than its
 * content type: both are 415s, and only a body that `JSON.parse` rejected
 * carries that failure in the error's cause.
 */
function isJsonSyntaxError(error: unknown): boolean {
  const cause = error instanceof Error ? (error.cause as { message?: unknown } | undefined) : undefined;
  return cause?.message !== undefined;
}

/** Whether a parsed JSON value nests deeper than `limit`, walked without recursion. */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (pending.length > 0) {
    const next = pending.pop() as { value: unknown; depth: number };
    if (next.value === null || typeof next.value !== 'object') continue;
    if (next.depth >= limit) return true;
    for (const child of Object.values(next.value)) pending.push({ value: child, depth: next.depth + 1 });
  }
  return false;
}

/** Refuses oversized bodies unparsed, then parses JSON with middy's parser and refuses deep nesting. */
function jsonBody<Event extends AnyRouteEvent>(
  mode: RouteOptions<z.ZodMiniType>['body'],
  maxBytes: number,
): Middleware<Event> {
  return {
    before: async (request) => {
      const size = bodyBytes(request.event);
      if (size > maxBytes) throw requestTooLarge(maxBytes);
      if (mode === 'none') {
        request.event.body = undefined;
        return;
      }
      if (size === 0 && mode === 'optional') {
        (request.event as { body: unknown }).body = {};
        return;
      }
      if (size === 0) throw invalidRequest('request body is required');
      try {
        await jsonParser.before?.(request as unknown as Parameters<NonNullable<typeof jsonParser.before>>[0]);
      } catch (error) {
        throw isJsonSyntaxError(error)
          ? invalidRequest('request body is not valid JSON')
          : unsupportedMediaType();
      }
      if (nestsDeeperThan(request.event.body, MAX_BODY_DEPTH)) {
        throw invalidRequest(`request body nests deeper than ${MAX_BODY_DEPTH} levels`);
      }
    },
  };
}

function authenticate<Event extends AnyRouteEvent>(verify: BearerVerifier | undefined): Middleware<Event> {
  return {
    before: async (request) => {
      if (!verify) return;
      request.event.owner = (await verify(request.event.headers.authorization)) as Event['owner'];
    },
  };
}

/** A field's path as people write it: `files[3].size`, below the input's `path`, `query` or `body`. */
function fieldName(path: readonly PropertyKey[]): string | undefined {
  const [where, ...field] = path;
  if (field.length === 0) return where === undefined ? undefined : String(where);
  return field
    .map((key, index) => (typeof key === 'number' ? `[${key}]` : `${index > 0 ? '.' : ''}${String(key)}`))
    .join('');
}

/**
 * The issues of the union option a value came closest to: the fewest issues
 * at the option's own level (a wrong or unknown field there means another
 * shape was meant), then the fewest in all; the first option on a tie.
 */
function closestOption(issue: z.core.$ZodIssueInvalidUnion): z.core.$ZodIssue[] | undefined {
  const rank = (issues: z.core.$ZodIssue[]) => [
    issues.filter((one) => one.path.length === 0).length,
    issues.length,
  ];
  let closest: z.core.$ZodIssue[] | undefined;
  for (const option of issue.errors) {
    if (!closest) closest = option;
    const [ownLevel = 0, all = 0] = rank(option);
    const [closestOwnLevel = 0, closestAll = 0] = rank(closest);
    if (ownLevel < closestOwnLevel || (ownLevel === closestOwnLevel && all < closestAll)) closest = option;
  }
  return closest;
}

/** `name: message` for each issue, a union's read as the issues of the option the value came closest to. */
function formatIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): string[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    const option = issue.code === 'invalid_union' ? closestOption(issue) : undefined;
    if (option) return formatIssues(option, path);
    const name = fieldName(path);
    return [name ? `${name}: ${issue.message}` : issue.message];
  });
}

function validateInput<Event extends AnyRouteEvent>(schema: z.ZodMiniType): Middleware<Event> {
  return {
    before: async (request) => {
      const { event } = request;
      const parsed = schema.safeParse({
        path: event.pathParameters ?? {},
        query: event.queryStringParameters ?? {},
        body: event.body,
      });
      if (!parsed.success) throw invalidRequest(formatIssues(parsed.error.issues).join('; '));
      event.input = parsed.data;
    },
  };
}

/**
 * Registered last so its onError runs first: exposes {@link ApiError}s (and
 * the store's refusals, as their API errors) in the API's envelope and turns everything else into a generic 500 with the cause
 * logged, never returned.
 */
function errorResponder<Event extends AnyRouteEvent>(): Middleware<Event> {
  return {
    onError: async (request) => {
      const error = apiErrorOfStoreRefusal(request.error) ?? request.error;
      if (error instanceof ApiError && error.expose) {
        request.response = errorResponse(error.statusCode, error.code, error.message, error.headers);
        return;
      }
      logger.error('request failed', { error });
      request.response = errorResponse(500, 'internal_error', 'internal error');
    },
  };
}

/**
 * The one middleware chain for HTTP routes: request-scoped logging, header
 * normalisation, body limit and JSON parsing, optional bearer authentication,
 * input validation, and the error envelope. Finish it with `.handler(fn)`.
 */
export function httpRoute<Schema extends z.ZodMiniType, Caller extends Owner | undefined = undefined>(
  options: RouteOptions<Schema> & { verify?: BearerVerifier },
) {
  const chain = middy<RouteEvent<z.output<Schema>, Caller>, HttpResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(httpHeaderNormalizer())
    .use(jsonBody(options.body, options.maxBodyBytes ?? MAX_BODY_BYTES))
    .use(authenticate(options.verify))
    .use(validateInput(options.input))
    .use(errorResponder());
  return {
    /** Ends the chain; the result takes the plain API Gateway event the runtime passes. */
    handler: (
      route: (event: RouteEvent<z.output<Schema>, Caller>, context: Context) => Promise<HttpResult>,
    ) =>
      chain.handler(route) as unknown as MiddyfiedHandler<APIGatewayProxyEventV2, HttpResult, Error, Context>,
  };
}
