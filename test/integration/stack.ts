import { existsSync, readFileSync } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import { type Owner, ownerFromSubject, ownerKeyFrom } from '../../lib/core/owner.js';
import type { CreatedObject } from '../../scripts/ceph-event-bridge.js';
import {
  DEV_AUDIENCE,
  DEV_ISSUER,
  devJwks,
  devOwnerSecret,
  devToken,
  devVerdictKeys,
} from '../../scripts/dev-keys.js';
import { type AdminAccess, adminS3Client } from '../../scripts/provision.js';
import { type RoleSession, roleAssumer } from '../../scripts/role-sessions.js';
import { ADMIN_FILE, EVENTS_LOG, STACK_FILE, type StackInfo } from '../../scripts/stack-settings.js';

/** The running local stack, as `npm start` describes it in .local/stack.json. */
export const stack = JSON.parse(readFileSync(STACK_FILE, 'utf8')) as StackInfo;

const admin = JSON.parse(readFileSync(ADMIN_FILE, 'utf8')) as AdminAccess;

/** The bucket owner's S3 client on the real RGW, to look at what landed. */
export const adminS3 = adminS3Client(admin);
export const adminAccess = admin;

const assume = roleAssumer(admin);

/** Assumes a function's local role (`presign-local-<fn>`): the credentials that function signs with. */
export function assumeFunctionRole(
  fn: string,
  sessionName = `test-${fn}`,
  seconds = 900,
): Promise<RoleSession> {
  return assume(`arn:aws:iam:::role/presign-local-${fn}`, sessionName, seconds);
}

/** An S3 client on the real RGW signing with a role session's credentials. */
export function roleS3Client(
  session: Pick<RoleSession, 'accessKeyId' | 'secretAccessKey'> & { sessionToken?: string },
) {
  return new S3Client({
    endpoint: stack.s3Endpoint,
    region: stack.region,
    forcePathStyle: true,
    credentials: session,
  });
}

/**
 * The environment the local stack gives a function, signing as `session`: for
 * running a handler or lib module in this process against the real stack.
 */
export async function functionEnvironment(session?: RoleSession): Promise<Record<string, string>> {
  return {
    AWS_REGION: stack.region,
    ...(session
      ? {
          AWS_ACCESS_KEY_ID: session.accessKeyId,
          AWS_SECRET_ACCESS_KEY: session.secretAccessKey,
          AWS_SESSION_TOKEN: session.sessionToken,
          AWS_CREDENTIAL_EXPIRATION: session.expiration.toISOString(),
        }
      : {}),
    UPLOADS_BUCKET: stack.bucket,
    STATE_BUCKET: stack.stateBucket,
    // The local stack's verdict keys: in-process runs judge and read verdicts as its functions do.
    VERDICT_PUBLIC_KEY: devVerdictKeys().publicKey,
    VERDICT_SIGNING_KEY: devVerdictKeys().privateKey,
    // The local stack's owner secret (.local/owner-secret): in-process runs make the owners its functions make.
    OWNER_SECRET: devOwnerSecret(),
    S3_ENDPOINT: stack.s3Endpoint,
    AUTH_ISSUER: DEV_ISSUER,
    AUTH_AUDIENCE: DEV_AUDIENCE,
    AUTH_JWKS: JSON.stringify(await devJwks()),
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  };
}

const ownerKey = ownerKeyFrom(devOwnerSecret());

/**
 * The owner the local stack's functions make of `sub`: its segment keyed with
 * the stack's owner secret (.local/owner-secret), as in every key they issue.
 */
export const ownerOf = (sub: string): Owner => ownerFromSubject(sub, ownerKey);

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** Calls the API over HTTP as a client would. `token: null` sends no Authorization. */
export async function api<T = Record<string, unknown>>(
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${stack.apiUrl}${path}`, { method, headers, body, redirect: 'manual' });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {}
  return { status: response.status, headers: response.headers, body: parsed as T };
}

/** Whether fetch failed because the connection was reset before any answer came. */
const resetBeforeAnswer = (error: unknown): boolean =>
  error instanceof TypeError && (error.cause as { code?: string } | undefined)?.code === 'ECONNRESET';

/**
 * Calls the API as a well-behaved client does under limits: a `429` is tried
 * again after its `Retry-After` seconds (which it must carry), at most
 * `tries` times in all. Returns the last answer and how many 429s came first.
 * A connection reset before any answer (serverless offline, on a loaded
 * machine, drops a kept-alive connection now and then) is tried again once,
 * as a client would; a request it had served would show in the caller's
 * usage checks, so the retry cannot hide a reservation.
 */
export async function apiHonouringRetryAfter<T = Record<string, unknown>>(
  method: string,
  path: string,
  options: Parameters<typeof api>[2] = {},
  tries = 10,
): Promise<ApiAnswer<T> & { throttled: number }> {
  for (let attempt = 1; ; attempt++) {
    const answer = await api<T>(method, path, options).catch((error: unknown) => {
      if (!resetBeforeAnswer(error)) throw error;
      return api<T>(method, path, options);
    });
    if (answer.status !== 429 || attempt === tries) return { ...answer, throttled: attempt - 1 };
    const seconds = Number(answer.headers.get('retry-after'));
    if (!Number.isInteger(seconds) || seconds < 1)
      throw new Error(`429 without a usable Retry-After: ${seconds}`);
    await new Promise((done) => setTimeout(done, seconds * 1000));
  }
}

/** A fresh owner for one test, with a development token. */
export async function newOwner(label = 'user'): Promise<{ sub: string; token: string }> {
  const sub = `${label}|${Math.random().toString(36).slice(2)}`;
  return { sub, token: await devToken(sub) };
}

export interface IssuedUpload {
  fileId: string;
  key: string;
  upload: { method: string; url: string; fields: Record<string, string> };
  expiresAt: string;
  maxBytes: number;
}

/** Asks the API for an upload URL; throws unless it answers 201. */
export async function requestUpload(
  token: string,
  request: { filename: string; contentType: string; size: number; clientMetadata?: Record<string, unknown> },
): Promise<IssuedUpload> {
  const answer = await api<IssuedUpload>('POST', '/uploads', { token, body: request });
  if (answer.status !== 201)
    throw new Error(`POST /uploads answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/**
 * Posts a browser-style multipart form to S3: the fields in order, then the
 * file as the last part named `file`. Returns S3's status and body.
 */
export async function postForm(
  upload: { url: string; fields: Record<string, string> },
  file: Buffer,
  options: { fileContentType?: string; fields?: Record<string, string> } = {},
): Promise<{ status: number; body: string }> {
  const form = new FormData();
  for (const [name, value] of Object.entries({ ...upload.fields, ...options.fields }))
    form.append(name, value);
  form.append(
    'file',
    new Blob([new Uint8Array(file)], { type: options.fileContentType ?? 'application/octet-stream' }),
    'upload.bin',
  );
  const response = await fetch(upload.url, { method: 'POST', body: form });
  return { status: response.status, body: await response.text() };
}

/** Polls GET /files/{fileId} until the validator has decided (or `seconds` pass). */
export async function waitForVerdict(
  token: string,
  fileId: string,
  seconds = 20,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const answer = await api('GET', `/files/${fileId}`, { token });
    const decided = answer.body.status === 'passed' || answer.body.status === 'failed';
    if (answer.status === 200 && answer.body.fileId === fileId && decided) return answer.body;
    if (Date.now() > deadline)
      throw new Error(`file ${fileId} still ${JSON.stringify(answer.body)} after ${seconds} s`);
    await new Promise((done) => setTimeout(done, 200));
  }
}

/**
 * What RGW said of a key's objects when it pushed their ObjectCreated events,
 * oldest first, as the local stack records them in .local/events.jsonl: the
 * tags there are the ones each version was created with, whatever the
 * validator wrote since. Waits up to `seconds` for at least `count` of them.
 */
export async function createdVersions(key: string, count = 1, seconds = 20): Promise<CreatedObject[]> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const lines = existsSync(EVENTS_LOG) ? readFileSync(EVENTS_LOG, 'utf8').split('\n') : [];
    const found = lines
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as CreatedObject)
      .filter((created) => created.key === key);
    if (found.length >= count) return found;
    if (Date.now() > deadline)
      throw new Error(`${found.length} of ${count} ObjectCreated events for ${key} after ${seconds} s`);
    await new Promise((done) => setTimeout(done, 200));
  }
}

/** The first object-created event of a key (see {@link createdVersions}). */
export async function createdObject(key: string, seconds = 20): Promise<CreatedObject> {
  const [first] = await createdVersions(key, 1, seconds);
  if (!first) throw new Error(`no ObjectCreated event for ${key}`);
  return first;
}
