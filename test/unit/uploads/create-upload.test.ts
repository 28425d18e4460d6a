import { PutObjectCommand } from '@aws-sdk/client-s3';
import { generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createHandler } from '../../../handlers/create-upload.js';
import { MAX_BODY_BYTES, MAX_BODY_DEPTH, MAX_UPLOAD_BODY_BYTES } from '../../../lib/http/route.js';
import { decodeMetaValue, PENDING_TAGGING } from '../../../lib/store/object-encoding.js';
import { pendingMarkerKey } from '../../../lib/store/pending-markers.js';
import { apiEvent, lambdaContext } from '../../support/api-event.js';
import { TEST_NOW } from '../../support/clock.js';
import { testOwner } from '../../support/owners.js';
import { unitRuntime } from '../../support/runtime.js';
import { signTestToken, TEST_AUDIENCE, TEST_ISSUER } from '../../support/tokens.js';

type Json = Record<string, unknown>;

/** The function as deployed, on the unit tests' clock: signing a form needs no call to S3. */
const runtime = await unitRuntime();
const handler = createHandler(runtime);

/** The one write issuing a form makes: its pending marker (bodies by key); any other call to S3 fails. */
let markers: Map<string, string>;

beforeEach(() => {
  markers = new Map();
  vi.spyOn(runtime.s3, 'send').mockImplementation(async (command: object) => {
    if (command instanceof PutObjectCommand && command.input.Bucket === 'unit-test-state') {
      markers.set(command.input.Key ?? '', String(command.input.Body));
      return {};
    }
    throw new Error(`unexpected S3 call ${command.constructor.name}`);
  });
});

async function post(body: unknown, authorization?: string | null, headers: Record<string, string> = {}) {
  const token = authorization === undefined ? `Bearer ${await signTestToken('auth0|alice')}` : authorization;
  const event = apiEvent({
    method: 'POST',
    path: '/uploads',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: token } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const response = await handler(event, lambdaContext());
  return { status: response.statusCode, body: JSON.parse(response.body ?? 'null') as Json };
}

const valid = { filename: 'cat.png', contentType: 'image/png', size: 48213 };

function policyOf(fields: Record<string, string>): { expiration: string; conditions: unknown[] } {
  return JSON.parse(Buffer.from(fields.Policy ?? '', 'base64').toString('utf8'));
}

describe('POST /uploads', () => {
  it('issues a presigned POST that pins key, type, exact size, metadata and pending tagging', async () => {
    // Act
    const { status, body } = await post(valid);

    // Assert
    expect(status).toBe(201);
    const owner = testOwner('auth0|alice');
    expect(body.key).toBe(`uploads/${owner.segment}/${body.fileId}`);
    expect(body.maxBytes).toBe(48213);
    const upload = body.upload as { method: string; url: string; fields: Record<string, string> };
    expect(upload.method).toBe('POST');
    expect(upload.fields.key).toBe(body.key);
    expect(upload.fields['Content-Type']).toBe('image/png');
    expect(decodeMetaValue(upload.fields['x-amz-meta-filename'])).toBe('cat.png');
    const { conditions, expiration } = policyOf(upload.fields);
    expect(conditions).toContainEqual(['content-length-range', 48213, 48213]);
    expect(conditions).toContainEqual({ key: body.key });
    expect(conditions).toContainEqual({ bucket: 'unit-test-bucket' });
    expect(conditions).toContainEqual({ 'Content-Type': 'image/png' });
    expect(conditions).toContainEqual({ tagging: PENDING_TAGGING });
    expect(conditions).toContainEqual({ 'x-amz-meta-owner': owner.segment });
    // The SDK dates the policy by the system clock (it takes no other); the API's answer by the function's.
    const lifetime = Date.parse(expiration) - Date.now();
    expect(lifetime).toBeGreaterThan(290_000);
    expect(lifetime).toBeLessThanOrEqual(300_000);
    expect(Date.parse(String(body.expiresAt))).toBe(TEST_NOW.getTime() + 300_000);
    // Marked pending until the form expires, under the time its id was issued.
    expect([...markers]).toEqual([
      [pendingMarkerKey(owner, String(body.fileId)), JSON.stringify({ until: body.expiresAt })],
    ]);
  });

  it('pins clientMetadata as metadata in the policy, base64url of its JSON', async () => {
    // Arrange
    const clientMetadata = { album: 'Été 2026', tags: ['beach', 1, null, { nested: true }] };

    // Act
    const { status, body } = await post({ ...valid, clientMetadata });

    // Assert
    expect(status).toBe(201);
    const { fields } = body.upload as { fields: Record<string, string> };
    const pinned = fields['x-amz-meta-client-metadata'];
    expect(JSON.parse(decodeMetaValue(pinned) ?? '')).toEqual(clientMetadata);
    expect(policyOf(fields).conditions).toContainEqual({ 'x-amz-meta-client-metadata': pinned });
  });

  it('pins no clientMetadata field when none is given', async () => {
    // Act
    const { body } = await post(valid);

    // Assert
    expect(Object.keys((body.upload as { fields: Json }).fields)).not.toContain('x-amz-meta-client-metadata');
  });

  it.each([
    ['an array', [1, 2]],
    ['a string', 'album'],
    ['a number', 7],
    ['null', null],
    ['over 512 bytes as JSON', { note: 'x'.repeat(503) }],
  ])('refuses clientMetadata that is %s with 400 naming it', async (_, clientMetadata) => {
    // Act
    const { status, body } = await post({ ...valid, clientMetadata });

    // Assert
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: { code: 'invalid_request' } });
    expect(String((body.error as Json).message)).toContain('clientMetadata');
  });

  it.each([
    ['3,000 arrays deep (6 KiB)', 3000],
    ['8,000 arrays deep (16 KiB, the body limit)', 8000],
  ])('refuses clientMetadata nested %s with 400, never a 500', async (_, depth) => {
    // Arrange: written as text, since building it with JSON.stringify would itself recurse that deep.
    const body = `{"filename":"cat.png","contentType":"image/png","size":48213,"clientMetadata":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_BODY_BYTES);

    // Act
    const { status, body: answer } = await post(body);

    // Assert
    expect(status).toBe(400);
    expect(answer).toMatchObject({
      error: { code: 'invalid_request', message: `request body nests deeper than ${MAX_BODY_DEPTH} levels` },
    });
  });

  it(`takes clientMetadata nested as deep as a body may be (${MAX_BODY_DEPTH} levels)`, async () => {
    // Arrange: the body object, clientMetadata, then arrays down to the limit.
    const arrays = MAX_BODY_DEPTH - 2;
    const body = `{"filename":"cat.png","contentType":"image/png","size":48213,"clientMetadata":{"a":${'['.repeat(arrays)}${']'.repeat(arrays)}}}`;

    // Act
    const { status } = await post(body);

    // Assert
    expect(status).toBe(201);
  });

  it('takes clientMetadata of exactly 512 bytes as JSON', async () => {
    // Arrange: {"note":"…"} is 11 bytes around the text.
    const clientMetadata = { note: 'x'.repeat(501) };
    expect(Buffer.byteLength(JSON.stringify(clientMetadata))).toBe(512);

    // Act
    const { status } = await post({ ...valid, clientMetadata });

    // Assert
    expect(status).toBe(201);
  });

  it('refuses with 400 a long non-ASCII filename and large clientMetadata that together exceed S3’s 2 KB of metadata', async () => {
    // Arrange: 255 four-byte characters (1,360 encoded) and 500 bytes of JSON (668 encoded).
    const request = { ...valid, filename: '😀'.repeat(255), clientMetadata: { note: 'x'.repeat(489) } };

    // Act
    const { status, body } = await post(request);

    // Assert
    expect(status).toBe(400);
    expect(String((body.error as Json).message)).toMatch(/metadata/);
  });

  it('gives every upload its own key, even for the same request', async () => {
    const keys = await Promise.all(Array.from({ length: 20 }, () => post(valid).then((r) => r.body.key)));
    expect(new Set(keys).size).toBe(20);
  });

  it('keeps user text out of the key and maps any sub to a fixed-alphabet segment', async () => {
    const token = `Bearer ${await signTestToken('../../ weird|sub@example.com/ünï')}`;
    const { status, body } = await post({ ...valid, filename: '../../etc/passwd' }, token);
    expect(status).toBe(201);
    expect(body.key).toMatch(/^uploads\/[0-9a-f]{32}\/[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it.each([
    ['IMAGE/PNG', 'image/png'],
    ['image/png; charset=binary', 'image/png'],
    [' image/jpeg ', 'image/jpeg'],
  ])('normalises the content type %j the way browsers send it', async (contentType, pinned) => {
    const { status, body } = await post({ ...valid, contentType });
    expect(status).toBe(201);
    expect((body.upload as { fields: Json }).fields['Content-Type']).toBe(pinned);
  });

  it.each([
    ['text/html'],
    ['image/svg+xml'],
    ['application/octet-stream'],
    ['image/png\r\nx-amz-meta-evil: 1'],
    ['image/png\r\n'],
    ['image/png\t'],
    ['\u0000image/png'],
    ['image/pngx'],
    ['png'],
    ['image/'],
  ])('refuses the content type %j with 415', async (contentType) => {
    const { status, body } = await post({ ...valid, contentType });
    expect(status).toBe(415);
    expect(body).toMatchObject({ error: { code: 'unsupported_content_type' } });
  });

  it('refuses a size above the rule with 413 naming the limit', async () => {
    const { status, body } = await post({ ...valid, size: 26214400 });
    expect(status).toBe(413);
    expect(body).toEqual({
      error: { code: 'file_too_large', message: 'size 26214400 exceeds 10485760 for image/png' },
    });
  });

  it.each([
    ['zero size', { ...valid, size: 0 }, 'size'],
    ['negative size', { ...valid, size: -1 }, 'size'],
    ['fractional size', { ...valid, size: 1.5 }, 'size'],
    ['huge size', { ...valid, size: 1e300 }, 'size'],
    ['string size', { ...valid, size: '100' }, 'size'],
    ['missing size', { filename: 'a.png', contentType: 'image/png' }, 'size'],
    ['empty filename', { ...valid, filename: '' }, 'filename'],
    ['blank filename', { ...valid, filename: '   ' }, 'filename'],
    ['overlong filename', { ...valid, filename: `${'a'.repeat(252)}.png` }, 'filename'],
    ['filename with a newline', { ...valid, filename: 'a\nb.png' }, 'filename'],
    ['filename with NUL', { ...valid, filename: 'a\u0000.png' }, 'filename'],
    ['lone surrogate', { ...valid, filename: 'a\ud800.png' }, 'filename'],
    ['bidi override (invoice\u202Egnp.exe)', { ...valid, filename: 'invoice\u202Egnp.exe' }, 'filename'],
    ['zero-width joiner', { ...valid, filename: 'a\u200Db.png' }, 'filename'],
    ['numeric filename', { ...valid, filename: 42 }, 'filename'],
    ['missing content type', { filename: 'a.png', size: 1 }, 'contentType'],
    ['unknown field', { ...valid, key: 'uploads/other/x' }, 'key'],
  ])('refuses %s with 400 naming the field', async (_, body, field) => {
    const result = await post(body);
    expect(result.status).toBe(400);
    expect(result.body).toMatchObject({ error: { code: 'invalid_request' } });
    expect(String((result.body.error as Json).message)).toContain(field);
  });

  it('accepts a 255-character unicode filename', async () => {
    const { status } = await post({ ...valid, filename: `${'😺'.repeat(251)}.png` });
    expect(status).toBe(201);
  });

  it.each([
    ['malformed JSON', '{"filename": "a.png",'],
    ['a JSON array', '[1,2,3]'],
    ['JSON null', 'null'],
    ['an empty body', ''],
  ])('refuses %s with 400', async (_, raw) => {
    const { status, body } = await post(raw);
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: { code: 'invalid_request' } });
  });

  it('refuses a non-JSON content type with 415', async () => {
    const { status, body } = await post(valid, undefined, { 'content-type': 'text/plain' });
    expect(status).toBe(415);
    expect(body).toMatchObject({ error: { code: 'unsupported_media_type' } });
  });

  it('refuses an oversized body unparsed with 413', async () => {
    const raw = JSON.stringify({ ...valid, pad: 'x'.repeat(MAX_UPLOAD_BODY_BYTES) });
    const { status, body } = await post(raw);
    expect(status).toBe(413);
    expect(body).toMatchObject({ error: { code: 'request_too_large' } });
  });
});

describe('POST /uploads authentication', () => {
  const expectUnauthorized = async (authorization: string | null) => {
    const { status, body } = await post(valid, authorization);
    expect(status).toBe(401);
    expect(body).toMatchObject({ error: { code: 'unauthorized' } });
  };

  it('refuses a missing token', () => expectUnauthorized(null));
  it('refuses a garbage token', () => expectUnauthorized('Bearer not.a.jwt'));
  it('refuses a non-bearer scheme', async () => expectUnauthorized(`Basic ${await signTestToken('alice')}`));
  it('refuses an expired token', async () =>
    expectUnauthorized(
      `Bearer ${await signTestToken('alice', { expiresAt: Math.floor(TEST_NOW.getTime() / 1000) - 60 })}`,
    ));
  it('refuses a wrong audience', async () =>
    expectUnauthorized(`Bearer ${await signTestToken('alice', { audience: 'another-api' })}`));
  it('refuses a wrong issuer', async () =>
    expectUnauthorized(`Bearer ${await signTestToken('alice', { issuer: 'https://evil.test/' })}`));
  it('refuses a token not yet valid', async () =>
    expectUnauthorized(
      `Bearer ${await signTestToken('alice', { claims: { nbf: Math.floor(TEST_NOW.getTime() / 1000) + 600 } })}`,
    ));

  it('refuses alg none', async () => {
    const unsigned = new UnsecuredJWT({ sub: 'alice' })
      .setIssuer(TEST_ISSUER)
      .setAudience(TEST_AUDIENCE)
      .setExpirationTime(Math.floor(TEST_NOW.getTime() / 1000) + 300)
      .encode();
    await expectUnauthorized(`Bearer ${unsigned}`);
  });

  it('refuses a token signed by a foreign key with the same kid', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
      .setSubject('alice')
      .setIssuer(TEST_ISSUER)
      .setAudience(TEST_AUDIENCE)
      .setExpirationTime(Math.floor(TEST_NOW.getTime() / 1000) + 300)
      .sign(privateKey);
    await expectUnauthorized(`Bearer ${forged}`);
  });

  it('refuses an HS256 token (algorithm confusion)', async () => {
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: 'test-key' })
      .setSubject('alice')
      .setIssuer(TEST_ISSUER)
      .setAudience(TEST_AUDIENCE)
      .setExpirationTime(Math.floor(TEST_NOW.getTime() / 1000) + 300)
      .sign(new TextEncoder().encode(process.env.AUTH_JWKS));
    await expectUnauthorized(`Bearer ${forged}`);
  });

  it('refuses a token whose payload was altered', async () => {
    const [header, , signature] = (await signTestToken('alice')).split('.');
    const payload = Buffer.from(
      JSON.stringify({ sub: 'bob', iss: TEST_ISSUER, aud: TEST_AUDIENCE, exp: 4102444800 }),
    ).toString('base64url');
    await expectUnauthorized(`Bearer ${header}.${payload}.${signature}`);
  });

  it('refuses a token without sub', async () => {
    const { status } = await post(valid, `Bearer ${await signTestToken('')}`);
    expect(status).toBe(401);
  });
});
