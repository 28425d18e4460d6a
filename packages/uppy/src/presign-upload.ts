import type { FileView, PresignClient, UploadSource } from '@presign/client';
import {
  BasePlugin,
  type Body,
  EventManager,
  type Meta,
  type PluginOpts,
  type Uppy,
  type UppyFile,
} from '@uppy/core';

/** What `upload-success` carries in `response.body`: the file's id, and its verdict when waited for. */
export interface PresignUploadBody extends Body {
  fileId: string;
  /** `pending` unless `waitForVerdict` is set; then `passed` (a failed file is an `upload-error`). */
  status: FileView['status'];
}

export interface PresignUploadOptions extends PluginOpts {
  /** The client every file is uploaded with (`createClient` from `@presign/client`). */
  client: PresignClient;
  /** Files uploaded at once (each multipart file also sends `concurrency` parts at once). Default 2. */
  limit?: number;
  /** Waits for each file's verdict: a file the validator refuses ends as an `upload-error`. Default false. */
  waitForVerdict?: boolean;
}

/** A file the validator refused: `reason` is the API's (`content_mismatch`, `malware`…). */
export class RejectedFileError extends Error {
  override name = 'RejectedFileError';

  constructor(
    readonly fileId: string,
    readonly reason: string | undefined,
  ) {
    super(`the file was refused${reason ? `: ${reason}` : ''}`);
  }
}

const PAUSED = 'paused';
const REMOVED = 'removed';

/** A limit of `limit` tasks at once. */
function taskLimit(limit: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((start) => waiting.push(start));
    running += 1;
    try {
      return await task();
    } finally {
      running -= 1;
      waiting.shift()?.();
    }
  };
}

/**
 * An Uppy uploader that sends every file through `@presign/client`: one
 * presigned form POST up to the client's `multipartThreshold`, a multipart
 * upload above it (parts in parallel, each retried alone, resumed after a
 * pause or a failure with only the parts S3 does not hold sent again).
 * Uppy's pause aborts the file's requests and its resume carries on where S3
 * stopped; removing a file or cancelling all aborts its upload on the server
 * too. `upload-success`'s body is a {@link PresignUploadBody}.
 */
export class PresignUpload<M extends Meta = Meta, B extends Body = Body> extends BasePlugin<
  PresignUploadOptions,
  M,
  B
> {
  readonly #run: ReturnType<typeof taskLimit>;

  constructor(uppy: Uppy<M, B>, options: PresignUploadOptions) {
    super(uppy, options);
    this.id = options.id ?? 'PresignUpload';
    this.type = 'uploader';
    const limit = options.limit ?? 2;
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a whole number from 1, not ${limit}`);
    this.#run = taskLimit(limit);
  }

  override install(): void {
    const { capabilities } = this.uppy.getState();
    this.uppy.setState({ capabilities: { ...capabilities, resumableUploads: true } });
    this.uppy.addUploader(this.#upload);
  }

  override uninstall(): void {
    this.uppy.removeUploader(this.#upload);
  }

  #upload = async (fileIds: string[]): Promise<void> => {
    const files = this.uppy.getFilesByIds(fileIds).filter((file) => !file.progress.uploadComplete);
    this.uppy.emit('upload-start', files);
    await Promise.allSettled(files.map((file) => this.#run(() => this.#uploadFile(file))));
  };

  #sourceOf(file: UppyFile<M, B>): UploadSource {
    if (!file.data) throw new TypeError(`${file.name ?? file.id} has no bytes to upload`);
    const data = file.data as Blob;
    const lastModified = (data as Partial<File>).lastModified;
    return {
      data,
      name: file.name ?? 'file',
      type: file.type || 'application/octet-stream',
      ...(lastModified === undefined ? {} : { lastModified }),
    };
  }

  /** Uploads one file until it succeeds, fails, or is removed; a pause waits for the resume. */
  async #uploadFile(file: UppyFile<M, B>): Promise<void> {
    const { client } = this.opts;
    const source = this.#sourceOf(file);
    const events = new EventManager(this.uppy);
    let controller = new AbortController();
    let resumed: (() => void) | undefined;
    const stop = (reason: string) => controller.abort(reason);
    events.onFilePause(file.id, (isPaused) => {
      if (isPaused) stop(PAUSED);
      else resumed?.();
    });
    events.onPauseAll(file.id, () => stop(PAUSED));
    events.onResumeAll(file.id, () => resumed?.());
    events.onFileRemove(file.id, () => stop(REMOVED));
    events.onCancelAll(file.id, () => stop(REMOVED));
    try {
      for (;;) {
        try {
          const fileId = await client.upload(source, {
            signal: controller.signal,
            onProgress: ({ loaded, total }) => {
              const current = this.uppy.getFile(file.id);
              if (!current) return;
              this.uppy.emit('upload-progress', current, {
                uploadStarted: current.progress.uploadStarted ?? Date.now(),
                bytesUploaded: loaded,
                bytesTotal: total,
              });
            },
          });
          let status: FileView['status'] = 'pending';
          if (this.opts.waitForVerdict) {
            const verdict = await client.waitForVerdict(fileId, { signal: controller.signal });
            if (verdict.status === 'failed') throw new RejectedFileError(fileId, verdict.reason ?? undefined);
            status = verdict.status;
          }
          const body: PresignUploadBody = { fileId, status };
          this.uppy.emit('upload-success', this.uppy.getFile(file.id) ?? file, {
            status: 200,
            body: body as unknown as B,
          });
          return;
        } catch (error) {
          if (controller.signal.reason === PAUSED) {
            await new Promise<void>((resume) => {
              resumed = resume;
            });
            resumed = undefined;
            controller = new AbortController();
            continue;
          }
          if (controller.signal.reason === REMOVED) {
            // Gone from Uppy: S3 may drop the parts it holds.
            const pending = await client.findPendingUpload(source).catch(() => undefined);
            if (pending) await client.discardUpload(pending).catch(() => undefined);
            return;
          }
          this.uppy.emit('upload-error', this.uppy.getFile(file.id) ?? file, error as Error);
          throw error;
        }
      }
    } finally {
      events.remove();
    }
  }
}
