import { GetObjectTaggingCommand, HeadObjectCommand, PutObjectTaggingCommand } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { fileTypeFromBuffer } from 'file-type';
import { describe, expect, it, vi } from 'vitest';
import { createRuntime } from '../../lib/runtime.js';
import { validateRecord } from '../../lib/validation/validator.js';
import { apiEvent, lambdaContext } from '../support/api-event.js';
import { APNG_1x1, CSV_TABLE, PDF_MINIMAL } from '../support/sample-files.js';
import {
  adminS3,
  api,
  assumeFunctionRole,
  functionEnvironment,
  type IssuedUpload,
  newOwner,
  postForm,
  requestUpload,
  roleS3Client,
  stack,
  waitForVerdict,
} from './stack.js';

/**
 * What the media catalogue decides, end to end on the real stack: an animated
 * PNG is a PNG; a declared text type, once it passed, is served as declared;
 * types a browser would execute never get into the upload rules; and only
 * images may be shown inline.
 */

const TAG_STATUS = 'validation-status';
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;

/**
 * Runs a handler module in this process with the environment the stack gives
 * its function, plus `overrides` (e.g. other UPLOAD_RULES), importing it
 * afresh so its runtime is built from that environment; restores it after.
 */
async function withFunctionEnvironment<T>(
  overrides: Record<string, string>,
  run: () => Promise<T>,
): Promise<T> {
  const settings: Record<string, string> = { ...(await functionEnvironment()), ...overrides };
  const saved = Object.fromEntries(Object.keys(settings).map((name) => [name, process.env[name]]));
  Object.assign(process.env, settings);
  try {
    vi.resetModules();
    return await run();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** The environment variables a function signs with, for one of its role's sessions. */
async function roleEnvironment(fn: string): Promise<Record<string, string>> {
  const session = await assumeFunctionRole(fn, `ct-${fn}`);
  return {
    AWS_ACCESS_KEY_ID: session.accessKeyId,
    AWS_SECRET_ACCESS_KEY: session.secretAccessKey,
    AWS_SESSION_TOKEN: session.sessionToken,
    AWS_CREDENTIAL_EXPIRATION: session.expiration.toISOString(),
  };
}

async function invoke(
  load: () => Promise<{ handler: Handler }>,
  fn: string,
  event: APIGatewayProxyEventV2,
): Promise<{ statusCode: number; body: Record<string, unknown> }> {
  const { handler } = await load();
  const answer = (await handler(
    event,
    lambdaContext(`presign-local-${fn}`),
  )) as APIGatewayProxyStructuredResultV2;
  return { statusCode: Number(answer.statusCode), body: JSON.parse(String(answer.body)) };
}

const jsonPost = (token: string, path: string, body: unknown, pathParameters?: Record<string, string>) =>
  apiEvent({
    method: 'POST',
    path,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...(pathParameters ? { pathParameters } : {}),
  });

async function tagsOf(key: string): Promise<Record<string, string>> {
  const tagging = await adminS3.send(new GetObjectTaggingCommand({ Bucket: stack.bucket, Key: key }));
  return Object.fromEntries((tagging.TagSet ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
}

/** Polls the object's tags until a validator has decided (or `seconds` pass). */
async function waitForTaggedVerdict(key: string, seconds = 30): Promise<Record<string, string>> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const tags = await tagsOf(key);
    if (tags[TAG_STATUS] === 'passed' || tags[TAG_STATUS] === 'failed') return tags;
    if (Date.now() > deadline) throw new Error(`${key} still ${JSON.stringify(tags)} after ${seconds} s`);
    await sleep(200);
  }
}

/** Uploads through the API and the real form POST, then waits for the stack's validator. */
async function uploadedThroughApi(
  label: string,
  file: { filename: string; contentType: string; bytes: Buffer },
): Promise<{ token: string; issued: IssuedUpload; verdict: Record<string, unknown> }> {
  const { token } = await newOwner(label);
  const issued = await requestUpload(token, {
    filename: file.filename,
    contentType: file.contentType,
    size: file.bytes.length,
  });
  const posted = await postForm(issued.upload, file.bytes, { fileContentType: file.contentType });
  expect(posted.status).toBe(204);
  return { token, issued, verdict: await waitForVerdict(token, issued.fileId, 60) };
}

async function downloadUrlThroughApi(token: string, fileId: string, body: unknown): Promise<string> {
  const answer = await api<{ url: string }>('POST', `/files/${fileId}/download-url`, { token, body });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.url;
}

/** Creates a share link through the API and follows it as a third party: the 302, then S3. */
async function throughShareLink(token: string, fileId: string): Promise<Response> {
  const shared = await api<{ shareUrl: string }>('POST', `/files/${fileId}/shares`, { token });
  expect(shared.status, JSON.stringify(shared.body)).toBe(201);
  const opened = await fetch(shared.body.shareUrl.replace(/^https?:\/\/[^/]+/, stack.apiUrl), {
    redirect: 'manual',
  });
  expect(opened.status).toBe(302);
  return fetch(opened.headers.get('location') ?? '');
}

const bodyOf = async (response: Response) => Buffer.from(await response.arrayBuffer());

describe('an animated PNG declared image/png', () => {
  it('is a real APNG: file-type detects image/apng', async () => {
    expect(await fileTypeFromBuffer(APNG_1x1)).toEqual({ ext: 'apng', mime: 'image/apng' });
  });

  it('passes, and downloads and shares serve it byte for byte as image/png, inline when asked', async () => {
    // Arrange / Act
    const { token, issued, verdict } = await uploadedThroughApi('ct-apng', {
      filename: 'spinner.png',
      contentType: 'image/png',
      bytes: APNG_1x1,
    });

    // Assert: the verdict records what file-type saw
    expect(verdict).toMatchObject({ status: 'passed', detectedType: 'image/apng', contentType: 'image/png' });

    const download = await fetch(
      await downloadUrlThroughApi(token, issued.fileId, { disposition: 'inline' }),
    );
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/png');
    expect(download.headers.get('content-disposition')).toBe('inline; filename="spinner.png"');
    expect((await bodyOf(download)).equals(APNG_1x1)).toBe(true);

    const shared = await throughShareLink(token, issued.fileId);
    expect(shared.status).toBe(200);
    expect(shared.headers.get('content-type')).toBe('image/png');
    expect((await bodyOf(shared)).equals(APNG_1x1)).toBe(true);
  });
});

describe('a CSV, with text/csv in UPLOAD_RULES', () => {
  const RULES = JSON.stringify({ 'text/csv': 64 * 1024, 'image/png': 1024 * 1024 });

  it('passes as text and is served as text/csv: download URL (issued with those rules) and share link', async () => {
    // Arrange: the upload issued in-process by the createUpload role under rules that allow CSV
    const { token } = await newOwner('ct-csv');
    const created = await withFunctionEnvironment(
      { ...(await roleEnvironment('createUpload')), UPLOAD_RULES: RULES },
      () =>
        invoke(
          () => import('../../handlers/create-upload.js'),
          'createUpload',
          jsonPost(token, '/uploads', {
            filename: 'ledger.csv',
            contentType: 'text/csv',
            size: CSV_TABLE.length,
          }),
        ),
    );
    expect(created.statusCode, JSON.stringify(created.body)).toBe(201);
    const issued = created.body as unknown as IssuedUpload;
    expect((await postForm(issued.upload, CSV_TABLE, { fileContentType: 'text/csv' })).status).toBe(204);

    // The stack's own validator runs under the default rules (no CSV) and fails it;
    // put it back to pending, as it landed, for the validator configured with RULES.
    expect(await waitForTaggedVerdict(issued.key)).toMatchObject({
      [TAG_STATUS]: 'failed',
      'validation-reason': 'type_not_allowed',
    });
    await adminS3.send(
      new PutObjectTaggingCommand({
        Bucket: stack.bucket,
        Key: issued.key,
        Tagging: { TagSet: [{ Key: TAG_STATUS, Value: 'pending' }] },
      }),
    );
    const head = await adminS3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: issued.key }));

    // Act: the validateUpload role's validator, in-process, with RULES
    const session = await assumeFunctionRole('validateUpload', 'ct-csv-validator');
    const { store, rules, limits, clock } = await createRuntime(
      { ...(await functionEnvironment(session)), UPLOAD_RULES: RULES },
      { s3: roleS3Client(session) },
    );
    const outcome = await validateRecord(
      { store, rules, limits, clock },
      {
        eventName: 'ObjectCreated:Post',
        bucket: stack.bucket,
        key: issued.key,
        size: CSV_TABLE.length,
        eTag: (head.ETag ?? '').replaceAll('"', ''),
      },
    );

    // Assert: passed as text
    expect(outcome).toMatchObject({ status: 'passed', detectedType: 'text/plain' });
    expect(await tagsOf(issued.key)).toMatchObject({ [TAG_STATUS]: 'passed', 'detected-type': 'text/plain' });

    // a download URL issued in-process by the createDownloadUrl role with RULES, inline asked
    const issuedDownload = await withFunctionEnvironment(
      { ...(await roleEnvironment('createDownloadUrl')), UPLOAD_RULES: RULES },
      () =>
        invoke(
          () => import('../../handlers/create-download-url.js'),
          'createDownloadUrl',
          jsonPost(
            token,
            `/files/${issued.fileId}/download-url`,
            { disposition: 'inline' },
            { fileId: issued.fileId },
          ),
        ),
    );
    expect(issuedDownload.statusCode, JSON.stringify(issuedDownload.body)).toBe(200);
    const download = await fetch(String(issuedDownload.body.url));
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('text/csv');
    expect(download.headers.get('content-disposition')).toBe('attachment; filename="ledger.csv"');
    expect((await bodyOf(download)).equals(CSV_TABLE)).toBe(true);

    // and a share link through the stack's API
    const shared = await throughShareLink(token, issued.fileId);
    expect(shared.status).toBe(200);
    expect(shared.headers.get('content-type')).toBe('text/csv');
    expect((await bodyOf(shared)).equals(CSV_TABLE)).toBe(true);
  });
});

describe('UPLOAD_RULES allowing a type a browser would execute', () => {
  it.each(['text/html', 'image/svg+xml', 'application/xhtml+xml', 'application/xml', 'text/javascript'])(
    '%s: building the runtime fails, naming the type',
    async (type) => {
      // Arrange
      const variables = { ...(await functionEnvironment()), UPLOAD_RULES: JSON.stringify({ [type]: 1024 }) };

      // Act / Assert
      await expect(createRuntime(variables)).rejects.toThrow(`invalid UPLOAD_RULES: ${type} is refused`);
    },
  );

  it.each<[string, () => Promise<unknown>]>([
    ['createUpload', () => import('../../handlers/create-upload.js')],
    ['validateUpload', () => import('../../handlers/validate-upload.js')],
    ['createDownloadUrl', () => import('../../handlers/create-download-url.js')],
  ])('%s fails its cold start with text/html allowed', async (_, load) => {
    // Act
    const coldStart = withFunctionEnvironment(
      { UPLOAD_RULES: JSON.stringify({ 'image/png': 1024, 'text/html': 1024 }) },
      load,
    );

    // Assert
    await expect(coldStart).rejects.toThrow(
      /invalid UPLOAD_RULES: text\/html is refused: a browser would execute it/,
    );
  });
});

describe('a PDF', () => {
  it('asked inline is served as an attachment by S3', async () => {
    // Arrange
    const { token, issued, verdict } = await uploadedThroughApi('ct-pdf', {
      filename: 'report.pdf',
      contentType: 'application/pdf',
      bytes: PDF_MINIMAL,
    });
    expect(verdict).toMatchObject({ status: 'passed', detectedType: 'application/pdf' });

    // Act
    const url = await downloadUrlThroughApi(token, issued.fileId, { disposition: 'inline' });
    const download = await fetch(url);

    // Assert
    expect(new URL(url).origin).toBe(new URL(stack.s3Endpoint).origin);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/pdf');
    expect(download.headers.get('content-disposition')).toBe('attachment; filename="report.pdf"');
    expect((await bodyOf(download)).equals(PDF_MINIMAL)).toBe(true);
  });
});
