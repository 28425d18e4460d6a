import { useState, useSyncExternalStore } from 'react';
import {
  createUploadQueue,
  type UploadItem,
  type UploadQueue,
  type UploadQueueOptions,
} from './upload-queue.js';

/** What `useUpload` gives a component: the files and what may be done with them. */
export interface UseUpload extends Omit<UploadQueue, 'items' | 'subscribe'> {
  /** Every file added, in order, with its state, progress and verdict. */
  files: readonly UploadItem[];
  /** Whether any file is queued, uploading or waiting for its verdict. */
  busy: boolean;
}

/**
 * Uploads files through `@presign/client` and re-renders as they progress:
 * several at once, each with its progress, cancel, retry (a multipart upload
 * resumes where S3 stopped), its verdict and, when it failed, a typed error.
 * The options are read once, on the first render.
 */
export function useUpload(options: UploadQueueOptions): UseUpload {
  const [queue] = useState(() => createUploadQueue(options));
  const files = useSyncExternalStore(queue.subscribe, queue.items, queue.items);
  const { items: _items, subscribe: _subscribe, ...actions } = queue;
  return {
    ...actions,
    files,
    busy: files.some((file) => ['queued', 'uploading', 'verifying'].includes(file.state)),
  };
}
