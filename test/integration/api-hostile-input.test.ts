import { exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';
import { ulid } from 'ulid';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEV_AUDIENCE, DEV_ISSUER, devSigningKey } from '../../scripts/dev-keys.js';
import { type ApiAnswer, api, newOwner } from './stack.js';

/**
 * Every route, through HTTP against serverless offline: hostile
 * input gets a 4xx with a stable error code (docs/openapi.json), never a 5xx.
 */

type ErrorBody = { error?: { code?: string; message?: string } };

function expectError(answer: ApiAnswer<unknown>, status: number | number[], code: string | string[]) {
  const statuses = Array.isArray(status) ? status : [status];
  const codes = Array.isArray(code) ? code : [code];
  expect(statuses, JSON.stringify(answer.body)).toContain(answer.status);
  expect(codes, JSON.stringify(answer.body)).toContain((answer.body as ErrorBody)?.error?.code);
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
}

const SOME_ID = '01JDQ7ZJ8W3N4T6X9Y2B5C7D8E';
const AUTH_ROUTES = [
  ['POST', '/uploads'],
  ['GET', `/files/${SOME_ID}`],
  ['POST', `/files/${SOME_ID}/download-url`],
  ['POST', `/files/${SOME_ID}/shares`],
  ['DELETE', `/files/${SOME_ID}/shares`],
] as const;
/** Routes that take a JSON body. */
const BODY_ROUTES = [
  ['POST', '/uploads'],
  ['POST', `/files/${SOME_ID}/download-url`],
  ['POST', `/files/${SOME_ID}/shares`],
] as const;
const VALID_UPLOAD = { filename: 'cat.png', contentType: 'image/png', size: 1000 };

let token = '';
beforeAll(async () => {
  ({ token } = await newOwner('hostile'));
});

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Bearer tokens that must all be refused with 401. */
async function hostileTokens(): Promise<Record<string, string>> {
  const now = Math.floor(Date.now() / 1000);
  const devKey = await importJWK(await devSigningKey(), 'ES256');
  const sign = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'presign-local-dev', typ: 'JWT', ...header })
      .sign(devKey);
  const valid = { sub: 'hostile|x', iss: DEV_ISSUER, aud: DEV_AUDIENCE, iat: now, exp: now + 600 };
  const foreign = await generateKeyPair('ES256', { extractable: true });
  const foreignJwk = await exportJWK(foreign.publicKey);
  const real = await sign(valid);
  const [realHeader, realPayload, realSignature] = real.split('.');
  return {
    'no token': '',
    garbage: 'Bearer garbage',
    'three garbage parts': 'Bearer aaa.bbb.ccc',
    'not a bearer scheme': `Basic ${real}`,
    'alg none, no signature': `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64(valid)}.`,
    'alg none, any signature': `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64(valid)}.AAAA`,
    'HS256 with the public key as secret': `Bearer ${await new SignJWT(valid)
      .setProtectedHeader({ alg: 'HS256', kid: 'presign-local-dev' })
      .sign(new TextEncoder().encode(JSON.stringify(foreignJwk)))}`,
    'foreign key, same kid': `Bearer ${await new SignJWT(valid)
      .setProtectedHeader({ alg: 'ES256', kid: 'presign-local-dev' })
      .sign(foreign.privateKey)}`,
    'embedded jwk header': `Bearer ${await new SignJWT(valid)
      .setProtectedHeader({ alg: 'ES256', jwk: foreignJwk })
      .sign(foreign.privateKey)}`,
    expired: `Bearer ${await sign({ ...valid, iat: now - 7200, exp: now - 3600 })}`,
    'not yet valid': `Bearer ${await sign({ ...valid, nbf: now + 3600 })}`,
    'wrong audience': `Bearer ${await sign({ ...valid, aud: 'another-api' })}`,
    'wrong issuer': `Bearer ${await sign({ ...valid, iss: 'https://evil.example/' })}`,
    'no subject': `Bearer ${await sign({ ...valid, sub: undefined })}`,
    'empty subject': `Bearer ${await sign({ ...valid, sub: '' })}`,
    'no expiry': `Bearer ${await sign({ ...valid, exp: undefined })}`,
    'payload swapped under a real signature': `Bearer ${realHeader}.${b64({ ...valid, sub: 'someone-else' })}.${realSignature}`,
    'signature stripped': `Bearer ${realHeader}.${realPayload}.`,
  };
}

describe('authentication on every owner route', () => {
  it('each hostile token gets 401 unauthorized on every route', async () => {
    // Arrange
    const tokens = await hostileTokens();

    // Act
    // One token at a time (its five routes together): this test is about auth, the burst test is below.
    const answers: { name: string; route: string; answer: ApiAnswer }[] = [];
    for (const [name, authorization] of Object.entries(tokens)) {
      answers.push(
        ...(await Promise.all(
          AUTH_ROUTES.map(async ([method, path]) => ({
            name,
            route: `${method} ${path}`,
            answer: await api(method, path, {
              headers: authorization ? { authorization } : {},
              ...(method === 'POST' ? { body: path === '/uploads' ? VALID_UPLOAD : {} } : {}),
            }),
          })),
        )),
      );
    }

    // Assert
    const wrong = answers.filter(
      ({ answer }) => answer.status !== 401 || (answer.body as ErrorBody)?.error?.code !== 'unauthorized',
    );
    expect(wrong.map(({ name, route, answer }) => `${name} ${route} → ${answer.status}`)).toEqual([]);
  });

  it('control: the dev token is accepted on the same routes (the 401s are the tokens’ doing)', async () => {
    const answer = await api('POST', '/uploads', { token, body: VALID_UPLOAD });

    expect(answer.status).toBe(201);
  });
});

describe('POST /uploads: hostile bodies', () => {
  it.each([
    ['malformed JSON', '{"filename": "a.png",', 400, 'invalid_request'],
    ['a JSON array', '[]', 400, 'invalid_request'],
    ['JSON null', 'null', 400, 'invalid_request'],
    ['a JSON string', '"image/png"', 400, 'invalid_request'],
    ['an empty body', '', 400, 'invalid_request'],
    [
      'a prototype-pollution body',
      '{"__proto__":{"size":1},"filename":"a.png","contentType":"image/png"}',
      400,
      'invalid_request',
    ],
    ['a batch of null', '{"files":null}', 400, 'invalid_request'],
    ['a batch of strings', '{"files":["a.png"]}', 400, 'invalid_request'],
    [
      'a batch whose file pollutes its prototype',
      '{"files":[{"__proto__":{"size":1},"filename":"a.png","contentType":"image/png"}]}',
      400,
      'invalid_request',
    ],
    [
      'a batch of 250 KiB of brackets',
      `{"files":[{"filename":"a.png","contentType":"image/png","size":1,"clientMetadata":{"a":${'['.repeat(125_000)}${']'.repeat(125_000)}}}]}`,
      400,
      'invalid_request',
    ],
  ])('%s → %i %s', async (_, raw, status, code) => {
    const answer = await api('POST', '/uploads', {
      token,
      raw,
      headers: { 'content-type': 'application/json' },
    });

    expectError(answer, status, code);
  });

  it.each([
    ['POST', '/uploads', 'clientMetadata'],
    ['POST', '/uploads/multipart', 'clientMetadata'],
    ['POST', `/uploads/${SOME_ID}/parts`, 'parts'],
    ['POST', `/uploads/${SOME_ID}/complete`, 'parts'],
    ['POST', `/files/${SOME_ID}/download-url`, 'expiresIn'],
    ['POST', `/files/${SOME_ID}/shares`, 'expiresIn'],
  ] as const)(
    '%s %s with 8,000 nested arrays in %s (16 KiB) → 400 invalid_request, never a 500',
    async (method, path, field) => {
      const depth = 8000;
      const raw = `{"filename":"a.png","contentType":"image/png","size":10,"${field}":${'['.repeat(depth)}${']'.repeat(depth)}}`;

      const answer = await api(method, path, { token, raw, headers: { 'content-type': 'application/json' } });

      expectError(answer, 400, 'invalid_request');
      expect((answer.body as ErrorBody).error?.message).toMatch(/nests deeper than/);
    },
  );

  it('a non-JSON content type → 415 unsupported_media_type', async () => {
    const answer = await api('POST', '/uploads', {
      token,
      raw: 'filename=a.png&contentType=image/png&size=10',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });

    expectError(answer, [400, 415], ['invalid_request', 'unsupported_media_type']);
  });

  it.each([
    ['size as a string', { size: '1000' }],
    ['filename as a number', { filename: 1 }],
    ['contentType as an array', { contentType: ['image/png'] }],
    ['size null', { size: null }],
    ['size an object', { size: { $gt: 0 } }],
    ['an unknown field', { key: 'uploads/x/y' }],
    ['size zero', { size: 0 }],
    ['size negative', { size: -1 }],
    ['size fractional', { size: 1.5 }],
    ['size beyond 2^53', { size: 2 ** 60 }],
    ['size 1e308', { size: 1e308 }],
    ['empty filename', { filename: '' }],
    ['blank filename', { filename: '   ' }],
    ['filename of 256 characters', { filename: `${'a'.repeat(252)}.png` }],
    ['filename with NUL', { filename: 'a\u0000.png' }],
    ['filename with CR/LF', { filename: 'a\r\nSet-Cookie: x=1.png' }],
    ['filename with a lone surrogate', { filename: 'a\ud800.png' }],
    ['empty contentType', { contentType: '' }],
    ['missing size', { size: undefined }],
  ])('%s → 400 invalid_request', async (_, change) => {
    const answer = await api('POST', '/uploads', { token, body: { ...VALID_UPLOAD, ...change } });

    expectError(answer, 400, 'invalid_request');
  });

  it.each([
    ['10 MiB + 1 for image/png', 'image/png', 10 * 1024 * 1024 + 1],
    ['25 MiB + 1 for application/pdf', 'application/pdf', 25 * 1024 * 1024 + 1],
    ['5 GiB', 'image/png', 5 * 1024 ** 3],
  ])('a huge size (%s) → 413 file_too_large', async (_, contentType, size) => {
    const answer = await api('POST', '/uploads', { token, body: { ...VALID_UPLOAD, contentType, size } });

    expectError(answer, 413, 'file_too_large');
  });

  it.each([
    'text/html',
    'image/svg+xml',
    'application/x-msdownload',
    'text/html; image/png',
    'image/png/../html',
    'image/png\u0000',
    'image/png\r\n',
    'image/png\r\nContent-Disposition: inline',
    'image/pngx',
    'image/*',
    '*/*',
    ' ',
  ])('an unknown or disguised content type %j → 4xx, never accepted', async (contentType) => {
    const answer = await api('POST', '/uploads', { token, body: { ...VALID_UPLOAD, contentType } });

    expectError(answer, [400, 415], ['invalid_request', 'unsupported_content_type']);
  });

  it('a filename of exactly 255 unicode characters is accepted (the bound is characters, not bytes)', async () => {
    const answer = await api('POST', '/uploads', {
      token,
      body: { ...VALID_UPLOAD, filename: '☃'.repeat(255) },
    });

    expect(answer.status).toBe(201);
  });
});

describe('oversized bodies on every route that reads one', () => {
  it.each([...BODY_ROUTES, ['DELETE', `/files/${SOME_ID}/shares`]] as const)(
    '%s %s with 300 KiB of JSON (over every limit but a multipart completion’s) → 413 request_too_large',
    async (method, path) => {
      const raw = JSON.stringify({ ...VALID_UPLOAD, filename: 'a'.repeat(300 * 1024) });

      const answer = await api(method, path, { token, raw, headers: { 'content-type': 'application/json' } });

      expectError(answer, 413, 'request_too_large');
    },
  );
});

describe('file routes: hostile bodies and ids', () => {
  it.each([
    ['malformed JSON', '{', 400, 'invalid_request'],
    ['an array', '[1]', 400, 'invalid_request'],
    ['expiresIn as a string', '{"expiresIn":"300"}', 400, 'invalid_request'],
    ['expiresIn zero', '{"expiresIn":0}', 400, 'invalid_request'],
    ['expiresIn negative', '{"expiresIn":-5}', 400, 'invalid_request'],
    ['expiresIn fractional', '{"expiresIn":1.5}', 400, 'invalid_request'],
    ['expiresIn huge', '{"expiresIn":1e30}', 400, 'invalid_request'],
    ['an unknown field', '{"key":"uploads/x/y"}', 400, 'invalid_request'],
  ])('download-url and shares: %s → %i %s', async (_, raw, status, code) => {
    const answers = await Promise.all(
      BODY_ROUTES.slice(1).map(([method, path]) =>
        api(method, path, { token, raw, headers: { 'content-type': 'application/json' } }),
      ),
    );

    for (const answer of answers) expectError(answer, status, code);
  });

  it.each([
    ['download-url expiresIn above 3600', 'download-url', { expiresIn: 3601 }],
    ['download-url disposition other', 'download-url', { disposition: 'inline; filename=x.html' }],
    ['shares expiresIn above 7 days', 'shares', { expiresIn: 604_801 }],
  ])('%s → 400 invalid_request', async (_, route, body) => {
    const answer = await api('POST', `/files/${SOME_ID}/${route}`, { token, body });

    expectError(answer, 400, 'invalid_request');
  });

  it.each([
    ['encoded traversal', '%2E%2E%2F%2E%2E%2Fetc%2Fpasswd'],
    ['encoded traversal into another segment', `..%2F0123456789abcdef0123456789abcdef%2F${SOME_ID}`],
    ['an encoded slash', `${SOME_ID}%2Fx`],
    ['lowercase id', SOME_ID.toLowerCase()],
    ['25 characters', SOME_ID.slice(1)],
    ['27 characters', `${SOME_ID}0`],
    ['excluded letters (I, L, O, U)', 'ILOUILOUILOUILOUILOUILOUIL'],
    ['4 KiB', 'A'.repeat(4096)],
    ['a NUL', `${SOME_ID.slice(0, 25)}%00`],
    ['unicode', `${SOME_ID.slice(0, 24)}%C3%A9`],
  ])('a fileId with %s → 400 invalid_request on every file route', async (_, fileId) => {
    const answers = await Promise.all([
      api('GET', `/files/${fileId}`, { token }),
      api('POST', `/files/${fileId}/download-url`, { token }),
      api('POST', `/files/${fileId}/shares`, { token }),
      api('DELETE', `/files/${fileId}/shares`, { token }),
    ]);

    for (const answer of answers) expectError(answer, [400, 404], ['invalid_request', 'not_found']);
  });

  it('an unknown but well-formed fileId → 404 not_found on every file route', async () => {
    const fileId = ulid();

    const answers = await Promise.all([
      api('GET', `/files/${fileId}`, { token }),
      api('POST', `/files/${fileId}/download-url`, { token }),
      api('POST', `/files/${fileId}/shares`, { token }),
      api('DELETE', `/files/${fileId}/shares`, { token }),
    ]);

    for (const answer of answers) expectError(answer, 404, 'not_found');
  });
});

describe('GET /s/{token}: garbage share tokens', () => {
  it.each([
    ['garbage', 'garbage'],
    ['empty MAC', 'MS5hYmM.'],
    ['a JWT', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'],
    ['non-canonical MAC', `MS5h.${'A'.repeat(42)}B`],
    ['overlong (4 KiB)', 'A'.repeat(4096)],
    ['overlong, token-shaped', `${'A'.repeat(400)}.${'A'.repeat(43)}`],
    ['encoded NUL', 'abc%00def'],
    ['unicode', '%C3%A9t%C3%A9'],
  ])('%s → 404 not_found', async (_, shareToken) => {
    const answer = await api('GET', `/s/${shareToken}`);

    expectError(answer, 404, 'not_found');
  });
});

describe('load through serverless offline', () => {
  it('200 concurrent POST /uploads from 200 owners all answer 201 with distinct keys, each counted in its owner’s usage', async () => {
    // One owner's burst meets that owner's usage object, one change at a time: test/integration/limits.test.ts.
    const owners = await Promise.all(Array.from({ length: 200 }, () => newOwner('burst')));

    const answers = await Promise.all(
      owners.map(({ token }, i) =>
        api<{ key: string; fileId: string }>('POST', '/uploads', {
          token,
          body: { filename: `f${i}.png`, contentType: 'image/png', size: 1000 + i },
        }),
      ),
    );

    expect(answers.filter((a) => a.status !== 201).map((a) => a.status)).toEqual([]);
    expect(new Set(answers.map((a) => a.body.key)).size).toBe(200);
    expect(new Set(answers.map((a) => a.body.fileId)).size).toBe(200);
    const usage = await api<{ uploadsThisHour: number; reservedBytes: number }>('GET', '/usage', {
      token: owners[7]?.token ?? null,
    });
    expect(usage.body).toMatchObject({ uploadsThisHour: 1, reservedBytes: 1007 });
  }, 120_000);
});
