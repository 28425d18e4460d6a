import { describe, expect, it } from 'vitest';
import { handler } from '../../../handlers/open-api.js';
import { buildOpenApiDocument } from '../../../lib/api/openapi.js';
import { routes } from '../../../lib/api/routes.js';
import { apiEvent, lambdaContext } from '../../support/api-event.js';

const get = () => handler(apiEvent({ method: 'GET', path: '/openapi.json' }), lambdaContext());

describe('GET /openapi.json', () => {
  it('answers 200 with the document, without auth, cacheable', async () => {
    // Act
    const response = await get();

    // Assert
    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({
      'content-type': 'application/json',
      'cache-control': 'public, max-age=300',
    });
    const body = JSON.parse(response.body ?? '');
    expect(body).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument())));
    expect(routes.openApi.success.content.schema.safeParse(body).error).toBeUndefined();
  });

  it('serves the same document on every request of a container', async () => {
    // Act
    const [first, second] = [await get(), await get()];

    // Assert
    expect(second.body).toBe(first.body);
  });
});
