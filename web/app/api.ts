/** The answers of this API that the page reads (see lib/http and the handlers). */
export interface PresignedPost {
  url: string;
  fields: Record<string, string>;
}

export interface IssuedUpload {
  fileId: string;
  upload: PresignedPost;
}

export interface FileRecord {
  filename: string;
  status: string;
  reason?: string;
}

export interface DownloadLink {
  url: string;
  expiresAt: string;
}

export interface ShareLink {
  shareUrl: string;
  expiresAt: string;
}

/** An answer of this API other than 2xx, with its status and error code. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface ErrorBody {
  error?: { code?: string; message?: string };
}

/**
 * Calls this API (relative to the page, so a stage prefix still works). The
 * answer is trusted to have the API's documented shape `T`.
 */
export async function api<T>(method: string, path: string, token: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(new URL(path, document.baseURI), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  let data: unknown;
  try {
    data = await response.json();
  } catch {}
  if (!response.ok) {
    const error = (data as ErrorBody | undefined)?.error || {};
    if (response.status === 401) {
      throw new ApiProblem(
        401,
        'unauthorized',
        'The token was refused (missing, expired or not for this API). Make a new one with: npm run token -- <you>',
      );
    }
    throw new ApiProblem(
      response.status,
      error.code || `http_${response.status}`,
      error.message || `The API answered ${response.status}.`,
    );
  }
  return data as T;
}
