import { isTransient, PresignStorageError } from './errors.js';
import { backoffDelay, sleep } from './retry.js';
import { storageRefusal } from './storage-transport.js';
import type { IssuedUpload } from './types.js';
import { describeUpload, type UploadContext } from './upload-context.js';

/** A form is posted again only while at least this long is left of it. */
const FORM_MARGIN_MS = 15_000;

/**
 * Uploads a file as one presigned form POST (`POST /uploads`, then the fields
 * in order and the file last, straight to S3) and resolves with its fileId.
 * A `form` a batch already issued for it is posted first.
 * A transient failure posts the same form again while it is valid (a second
 * version under the key is never the file), else a new one; S3's 403 (the
 * form expired on the way) asks for a new form.
 */
export async function uploadWithForm(context: UploadContext, form?: IssuedUpload): Promise<string> {
  const { file, signal } = context;
  let issued: IssuedUpload | undefined = form;
  for (let retry = 0; ; ) {
    if (!issued || Date.parse(issued.expiresAt) - context.now() < FORM_MARGIN_MS)
      issued = await context.call<IssuedUpload>({
        method: 'POST',
        path: '/uploads',
        body: describeUpload(context),
        signal,
        retry: 'always',
      });
    const form = new FormData();
    for (const [name, value] of Object.entries(issued.upload.fields)) form.append(name, value);
    form.append('file', file.blob, file.name);
    try {
      const response = await context.transport({
        method: 'POST',
        url: issued.upload.url,
        body: form,
        ...(signal ? { signal } : {}),
        onProgress: (sent, total) => context.progress(Math.round(file.size * Math.min(1, sent / total))),
      });
      if (response.status >= 200 && response.status < 300) {
        context.progress(file.size);
        return issued.fileId;
      }
      throw storageRefusal('the upload form', response);
    } catch (error) {
      context.progress(0);
      if (signal?.aborted) throw signal.reason;
      const expired = error instanceof PresignStorageError && error.status === 403;
      if (!(isTransient(error) || expired) || retry >= context.retry.retries) throw error;
      if (expired) issued = undefined;
      retry += 1;
      await sleep(backoffDelay(context.retry, retry), signal);
    }
  }
}
