import type { PresignedPost } from './api.js';

/**
 * Posts the presigned form to S3: every field in order, then the file last.
 * XMLHttpRequest rather than fetch, for upload progress events.
 */
export const sendToStorage = (
  upload: PresignedPost,
  file: File,
  onProgress: (loaded: number, total: number) => void,
): Promise<void> =>
  new Promise((resolve, reject) => {
    const body = new FormData();
    for (const [name, value] of Object.entries(upload.fields)) body.append(name, value);
    body.append('file', file);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', upload.url);
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve();
        return;
      }
      const code = /<Code>([^<]*)<\/Code>/.exec(xhr.responseText || '');
      reject(new Error(`Storage refused the upload (${xhr.status}${code ? ` ${code[1]}` : ''}).`));
    });
    xhr.addEventListener('error', () =>
      reject(new Error('The upload did not reach storage (network error).')),
    );
    xhr.addEventListener('abort', () => reject(new Error('The upload was aborted.')));
    xhr.send(body);
  });
