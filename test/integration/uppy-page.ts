import { createClient } from '@presign/client';
import { PresignUpload } from '@presign/uppy';
import Uppy, { type Body, type Meta } from '@uppy/core';

/**
 * The script of the page `uppy.test.ts` opens in Chromium (bundled by esbuild at
 * test time from the built packages, as an app would): Uppy with the
 * `@presign/uppy` uploader on a `@presign/client` client, driven from the test
 * through `window.uppyTest`.
 */

export interface UploadRequest {
  apiUrl: string;
  token: string;
  name: string;
  type: string;
  /** `mp4`: `size` bytes starting with an MP4 `ftyp` box, the rest random; `base64`: exactly `base64`'s bytes. */
  content: { kind: 'mp4'; size: number } | { kind: 'base64'; base64: string };
  multipartThreshold: number;
  partSize: number;
  /** How many parts the client sends at once. */
  limit: number;
}

export interface UploadOutcome {
  /** SHA-256 (hex) of the bytes handed to Uppy. */
  sha256: string;
  successful: number;
  errors: string[];
  /** The body Uppy reported on success: `{ fileId, status }`. */
  body: Record<string, unknown> | undefined;
}

/** An ISO base media `ftyp` box (major brand `isom`) followed by random bytes, `size` in all. */
function mp4Bytes(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(new ArrayBuffer(size));
  for (let offset = 0; offset < size; offset += 65_536)
    crypto.getRandomValues(bytes.subarray(offset, Math.min(size, offset + 65_536)));
  const ftyp = [
    [0, 0, 0, 0x20],
    [...'ftypisom'].map((c) => c.charCodeAt(0)),
    [0, 0, 2, 0],
    [...'isomiso2avc1mp41'].map((c) => c.charCodeAt(0)),
  ].flat();
  bytes.set(ftyp, 0);
  return bytes;
}

const hex = (buffer: ArrayBuffer) =>
  [...new Uint8Array(buffer)].map((byte) => byte.toString(16).padStart(2, '0')).join('');

let current: { uppy: Uppy<Meta, Body>; fileId: string } | undefined;

async function upload(request: UploadRequest): Promise<UploadOutcome> {
  const bytes: Uint8Array<ArrayBuffer> =
    request.content.kind === 'mp4'
      ? mp4Bytes(request.content.size)
      : Uint8Array.from(atob(request.content.base64), (c) => c.charCodeAt(0));
  const sha256 = hex(await crypto.subtle.digest('SHA-256', bytes));

  const client = createClient({
    apiUrl: request.apiUrl,
    getToken: () => request.token,
    multipartThreshold: request.multipartThreshold,
    partSize: request.partSize,
    concurrency: request.limit,
  });
  const uppy = new Uppy<Meta, Body>({ autoProceed: false });
  uppy.use(PresignUpload, { client });
  const errors: string[] = [];
  uppy.on('upload-error', (_file, error) => errors.push(String(error?.message ?? error)));
  // A File, as a picker or a drop gives: its lastModified lets the client resume it after a pause.
  const data = new File([bytes], request.name, { type: request.type, lastModified: Date.now() });
  const fileId = uppy.addFile({ name: request.name, type: request.type, data });
  current = { uppy, fileId };

  const result = await uppy.upload();
  const done = result?.successful?.[0];
  return {
    sha256,
    successful: result?.successful?.length ?? 0,
    errors,
    body: done?.response?.body as Record<string, unknown> | undefined,
  };
}

/** Pauses (or resumes) the current file, as Uppy's pause button does. */
function pauseResume(): boolean | undefined {
  return current?.uppy.pauseResume(current.fileId);
}

(window as unknown as { uppyTest: unknown }).uppyTest = { upload, pauseResume };
