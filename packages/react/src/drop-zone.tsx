import { type DragEvent, type ReactNode, useId, useState } from 'react';
import type { UploadItem, UploadState } from './upload-queue.js';
import type { UseUpload } from './use-upload.js';

export interface DropZoneProps {
  /** What `useUpload` returned. */
  upload: UseUpload;
  /** The file input's `accept`, e.g. `image/png,image/jpeg`. */
  accept?: string;
  /** The zone's legend. Default "Drop files here". */
  label?: ReactNode;
  /** The file input's label. Default "or choose files". */
  chooseLabel?: ReactNode;
  className?: string;
}

const STATE_TEXT: Record<UploadState, string> = {
  queued: 'waiting',
  uploading: 'uploading',
  verifying: 'checking',
  passed: 'passed',
  failed: 'refused',
  cancelled: 'cancelled',
  error: 'failed to upload',
};

/** What a file's line says of it, for eyes and screen readers alike. */
export function describeItem(item: UploadItem): string {
  const text = STATE_TEXT[item.state];
  if (item.state === 'uploading' && item.size > 0)
    return `${text}, ${Math.floor((100 * item.loaded) / item.size)}%`;
  if (item.state === 'failed') return item.reason ? `${text}: ${item.reason}` : text;
  if (item.state === 'error') return item.error ? `${text}: ${item.error.message}` : text;
  return text;
}

/**
 * An accessible drop zone built on `useUpload`: a native file input (so it
 * works from the keyboard and with screen readers) inside a zone that also
 * takes dropped files, and the list of files with their progress, state and
 * verdict, each with Cancel or Retry buttons that name their file. Changes of
 * state are announced through a polite live region.
 */
export function DropZone({ upload, accept, label, chooseLabel, className }: DropZoneProps) {
  const inputId = useId();
  const [dragging, setDragging] = useState(false);
  const onDrop = (event: DragEvent<HTMLElement>) => {
    event.preventDefault();
    setDragging(false);
    upload.add(Array.from(event.dataTransfer.files));
  };
  const onDragOver = (event: DragEvent<HTMLElement>) => {
    event.preventDefault();
    setDragging(true);
  };
  return (
    <div className={className}>
      <fieldset
        data-presign-drop-zone=""
        data-dragging={dragging ? 'true' : undefined}
        onDrop={onDrop}
        onDragOver={onDragOver}
        onDragLeave={() => setDragging(false)}
      >
        <legend>{label ?? 'Drop files here'}</legend>
        <label htmlFor={inputId}>{chooseLabel ?? 'or choose files'}</label>{' '}
        <input
          id={inputId}
          type="file"
          multiple
          {...(accept ? { accept } : {})}
          onChange={(event) => {
            upload.add(Array.from(event.currentTarget.files ?? []));
            event.currentTarget.value = '';
          }}
        />
      </fieldset>
      <ul aria-label="Uploads">
        {upload.files.map((item) => (
          <li key={item.id} data-state={item.state}>
            <span>{item.name}</span>{' '}
            <progress max={item.size || 1} value={item.loaded} aria-label={`${item.name} uploaded`} />{' '}
            <span>{describeItem(item)}</span>{' '}
            {item.state === 'queued' || item.state === 'uploading' ? (
              <button type="button" onClick={() => upload.cancel(item.id)} aria-label={`Cancel ${item.name}`}>
                Cancel
              </button>
            ) : null}
            {item.retryable ? (
              <button type="button" onClick={() => upload.retry(item.id)} aria-label={`Retry ${item.name}`}>
                Retry
              </button>
            ) : null}
          </li>
        ))}
      </ul>
      <p role="status" aria-live="polite">
        {upload.files
          .filter((item) => !['queued', 'uploading'].includes(item.state))
          .map((item) => `${item.name}: ${describeItem(item)}.`)
          .join(' ')}
      </p>
    </div>
  );
}
