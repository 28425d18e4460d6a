// A route is declared once, in lib/api/routes.ts (keyed by its function's name): serverless.yml's
// functions, their roles and iam/function-policies.json follow from it, and this keeps them equal.
// The OpenAPI document and the client's types are generated from it (openapi-document.test.ts).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { routeJson, routeNoContent } from '../../../lib/api/route-responses.js';
import { handlerFile, type RouteContract, routeRole, routes } from '../../../lib/api/routes.js';
import { functionEntries } from '../../../scripts/function-policies.js';
import { readServerlessConfig, type ServerlessFunction } from '../../support/serverless-config.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const declared = Object.entries(routes) as [string, RouteContract][];
const functions = readServerlessConfig<{
  functions: Record<string, ServerlessFunction & { role?: string }>;
}>().functions;

describe('each declared route', () => {
  it.each(declared)(
    '%s is a function of serverless.yml with its handler, its role and its one HTTP event',
    (name, route) => {
      // Act
      const fn = functions[name];

      // Assert
      expect(fn, `serverless.yml has no function ${name}`).toBeDefined();
      expect(fn?.handler).toBe(handlerFile(name).replace(/\.ts$/, '.handler'));
      expect(fn?.role).toBe(routeRole(name));
      expect(fn?.events).toEqual([{ httpApi: `${route.method.toUpperCase()} ${route.path}` }]);
      expect(existsSync(join(ROOT, handlerFile(name))), handlerFile(name)).toBe(true);
    },
  );

  it.each(declared)(
    '%s has its permissions in iam/function-policies.json, the owner secret exactly if it takes a bearer token',
    (name, route) => {
      // Act
      const entry = functionEntries()[name];

      // Assert
      expect(entry, `iam/function-policies.json has no entry for ${name}`).toBeDefined();
      expect(entry?.ownerSecret).toBe(route.auth === 'bearer');
    },
  );
});

describe('serverless.yml', () => {
  it('serves no HTTP event that is not a declared route', () => {
    // Act
    const undeclared = Object.entries(functions)
      .filter(([, fn]) => (fn.events ?? []).some((event) => event.httpApi !== undefined))
      .map(([name]) => name)
      .filter((name) => !(name in routes));

    // Assert
    expect(undeclared).toEqual([]);
  });
});

describe('the responses typed by their route', () => {
  it('answers with the declared status, the body as JSON, never cached', () => {
    // Act
    const health = routeJson<'health'>(200, { status: 'ok' });
    const deleted = routeNoContent<'deleteFile'>(204);

    // Assert
    expect(health).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: '{"status":"ok"}',
    });
    expect(deleted).toEqual({ statusCode: 204, headers: { 'cache-control': 'no-store' }, body: '' });
  });

  it('refuses at compile time a body outside the schema, another status, or no body where one is declared', () => {
    // Act: `npm run typecheck` fails if any of these compiles.
    const answers = [
      // @ts-expect-error: health's body is { status: 'ok' }
      () => routeJson<'health'>(200, { status: 'nope' }),
      // @ts-expect-error: getFile answers 200
      () => routeJson<'getFile'>(201, undefined as never),
      // @ts-expect-error: getFile declares a body
      () => routeNoContent<'getFile'>(204),
    ];

    // Assert
    expect(answers).toHaveLength(3);
  });
});
