import type * as z from 'zod';
import { jsonResponse } from '../http/responses.js';
import type { HttpResult } from '../http/route.js';
import type { RouteName, routes } from './routes.js';

type Success<Name extends RouteName> = (typeof routes)[Name]['success'];

/** The status a route declares for its success. */
export type SuccessStatus<Name extends RouteName> = Success<Name>['status'];

/** The body a route declares for its success: what its JSON schema accepts. */
export type SuccessBody<Name extends RouteName> =
  Success<Name> extends {
    content: { schema: infer Schema extends z.ZodType };
  }
    ? z.input<Schema>
    : never;

/**
 * A route's JSON success response, checked at compile time against its
 * declaration in lib/api/routes.ts: the status it declares, a body its schema
 * accepts. Only types are taken from the declaration: a handler bundles no
 * schema for it.
 */
export const routeJson = <Name extends RouteName>(
  status: SuccessStatus<Name>,
  body: SuccessBody<Name>,
): HttpResult => jsonResponse(status, body);

/** A route's empty success response, for a route that declares 204 (a compile error for any other). */
export const routeNoContent = <Name extends RouteName>(status: SuccessStatus<Name> & 204): HttpResult => ({
  statusCode: status,
  headers: { 'cache-control': 'no-store' },
  body: '',
});
