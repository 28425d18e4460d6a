import { readFileSync } from 'node:fs';
import { compileErrors, validate } from '@readme/openapi-parser';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../../lib/api/openapi.js';
import { ERROR_STATUS } from '../../../lib/api/responses.js';
import { type RouteContract, routeErrorCodes, routes } from '../../../lib/api/routes.js';
import {
  type ApiError,
  fileTooLarge,
  incompleteUpload,
  invalidRequest,
  linkExpired,
  linkRevoked,
  notFound,
  notValidated,
  quotaExceeded,
  rateLimited,
  requestTooLarge,
  unauthorized,
  unsupportedContentType,
  unsupportedMediaType,
  uploadClosed,
} from '../../../lib/core/errors.js';
import { readServerlessConfig } from '../../support/serverless-config.js';

type Operation = {
  operationId: string;
  security: Record<string, string[]>[];
  parameters?: { in: string; name: string }[];
  requestBody?: { required: boolean };
  responses: Record<string, unknown>;
};
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

const generated = (): Document => JSON.parse(JSON.stringify(buildOpenApiDocument())) as Document;
const committed = (): Document =>
  JSON.parse(readFileSync(new URL('../../../docs/openapi.json', import.meta.url), 'utf8')) as Document;
const contracts = Object.values(routes) as RouteContract[];

/** Every HTTP route serverless.yml serves, as `[function name, 'METHOD /path']`. */
function servedRoutes(): [string, string][] {
  return Object.entries(readServerlessConfig().functions).flatMap(([name, fn]) =>
    (fn.events ?? []).flatMap(({ httpApi }): [string, string][] => {
      if (httpApi === undefined) return [];
      const [method = '', path = ''] =
        typeof httpApi === 'string' ? httpApi.trim().split(/\s+/) : [httpApi.method, httpApi.path];
      return [[name, `${method.toUpperCase()} ${path}`]];
    }),
  );
}

const documentedRoutes = (document: Document) =>
  Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
  );

describe('docs/openapi.json', () => {
  it('is what the schemas in lib/api generate', () => {
    expect(committed(), 'docs/openapi.json is out of date: run `npm run openapi` and commit it').toEqual(
      generated(),
    );
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    // Arrange
    const document = generated();

    // Act
    const result = await validate(structuredClone(document) as never);

    // Assert
    expect(document.openapi).toBe('3.1.0');
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
    expect(result.warnings).toEqual([]);
  });
});

describe('the OpenAPI document', () => {
  it('lists every route serverless.yml serves', () => {
    // Arrange
    const served = servedRoutes().map(([, route]) => route);

    // Act
    const documented = documentedRoutes(generated());

    // Assert
    expect(served.length).toBeGreaterThan(0);
    expect(documented).toEqual(expect.arrayContaining(served));
  });

  it('keys each route contract by the name of the function that serves it', () => {
    // Act
    const contracted = servedRoutes().map(([name]) => {
      const route = (routes as Record<string, RouteContract | undefined>)[name];
      return [name, route && `${route.method.toUpperCase()} ${route.path}`];
    });

    // Assert
    expect(contracted).toEqual(servedRoutes());
  });

  it('lists no route that serverless.yml does not serve', () => {
    // Arrange
    const served = servedRoutes().map(([, route]) => route);

    // Act
    const unserved = documentedRoutes(generated()).filter((route) => !served.includes(route));

    // Assert
    expect(unserved).toEqual([]);
  });

  it.each(contracts.map((route) => [route.operationId, route] as const))(
    '%s: security, parameters, body and error codes follow its contract',
    (_, route) => {
      // Act
      const operation = generated().paths[route.path]?.[route.method];

      // Assert
      expect(operation?.operationId).toBe(route.operationId);
      expect(operation?.security).toEqual(route.auth === 'bearer' ? [{ bearerAuth: [] }] : []);
      const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => name);
      expect(operation?.parameters?.filter((p) => p.in === 'path').map((p) => p.name) ?? []).toEqual(
        pathParameters,
      );
      expect(operation?.requestBody?.required).toBe(
        route.body === 'none' ? undefined : route.body === 'required',
      );
      const statuses = [route.success.status, ...routeErrorCodes(route).map((code) => ERROR_STATUS[code])];
      expect(Object.keys(operation?.responses ?? {}).sort()).toEqual(
        [...new Set(statuses.map(String))].sort(),
      );
    },
  );

  it('describes the file.validated webhook: its signed headers and the exact payload', () => {
    // Act
    const document = generated() as unknown as {
      webhooks?: Record<string, { post?: Record<string, unknown> }>;
      components: { schemas: Record<string, { properties?: Record<string, { properties?: object }> }> };
    };
    const post = document.webhooks?.['file.validated']?.post as {
      parameters: { in: string; name: string }[];
      requestBody: { content: { 'application/json': { schema: { $ref: string } } } };
    };

    // Assert
    expect(post.parameters.map((parameter) => `${parameter.in}:${parameter.name}`)).toEqual([
      'header:webhook-id',
      'header:webhook-timestamp',
      'header:webhook-signature',
    ]);
    expect(post.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/FileValidatedEvent',
    );
    expect(
      Object.keys(document.components.schemas.FileValidatedEvent?.properties?.data?.properties ?? {}),
    ).toEqual([
      'fileId',
      'status',
      'reason',
      'detectedType',
      'size',
      'contentType',
      'filename',
      'clientMetadata',
    ]);
  });

  it('gives every error code the status lib/core/errors.ts throws it with', () => {
    // Arrange
    const thrown: ApiError[] = [
      invalidRequest('x'),
      unauthorized(),
      notFound(),
      fileTooLarge('x'),
      requestTooLarge(1),
      unsupportedContentType('x'),
      unsupportedMediaType(),
      notValidated('pending'),
      linkExpired(),
      linkRevoked(),
      incompleteUpload('x'),
      uploadClosed(),
      quotaExceeded('x'),
      rateLimited('x', 1),
    ];

    // Act
    const statuses = Object.fromEntries(thrown.map((error) => [error.code, error.statusCode]));

    // Assert: internal_error is the route chain's generic 500.
    expect({ ...statuses, internal_error: 500 }).toEqual(ERROR_STATUS);
  });
});
