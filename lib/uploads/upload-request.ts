import { clientMetadataSchema } from '../core/client-metadata.js';
import { PART_MAX_BYTES, PART_MIN_BYTES } from '../core/object-limits.js';
import { hasControlCharacters } from '../core/text.js';
import * as z from '../core/zod.js';

const MAX_FILENAME_CHARACTERS = 255;

/** A filename as people see it: 1..255 characters (code points), no control characters. */
export const filenameSchema = z.string().check(
  z.refine((name) => name.trim().length > 0, 'must not be empty'),
  z.refine(
    (name) => [...name].length <= MAX_FILENAME_CHARACTERS,
    `must be at most ${MAX_FILENAME_CHARACTERS} characters`,
  ),
  z.refine((name) => !hasControlCharacters(name), 'must not contain control characters'),
  // Bidi overrides and other format characters disguise names (`invoice\u202Egnp.exe`).
  z.refine((name) => !/\p{Cf}/u.test(name), 'must not contain invisible format characters'),
  z.refine((name) => name.isWellFormed(), 'must be well-formed unicode'),
);

/** One file to upload: the body of a one-file POST /uploads, and each entry of a batch. */
export const uploadRequestSchema = z
  .strictObject({
    filename: filenameSchema,
    contentType: z.string().check(z.minLength(1), z.maxLength(255)),
    size: z.number().check(z.int(), z.positive(), z.maximum(Number.MAX_SAFE_INTEGER)),
    clientMetadata: z.optional(clientMetadataSchema),
  })
  .register(z.globalRegistry, { id: 'UploadRequest' });

/** Files one POST /uploads may ask forms for. */
export const MAX_BATCH_FILES = 100;

/** A batch: up to {@link MAX_BATCH_FILES} files, answered with a form each in the same order. */
export const batchUploadRequestSchema = z
  .strictObject({
    files: z
      .array(uploadRequestSchema)
      .check(
        z.minLength(1),
        z.maxLength(MAX_BATCH_FILES),
        z.meta({ description: `1 to ${MAX_BATCH_FILES} files; the answer has their forms in this order.` }),
      ),
  })
  .register(z.globalRegistry, { id: 'BatchUploadRequest' });

/** POST /uploads input: one file, or a batch of files; unknown fields are refused. */
export const createUploadInput = z.object({
  body: z.union([uploadRequestSchema, batchUploadRequestSchema]),
});

export type CreateUploadRequest = z.output<typeof uploadRequestSchema>;
export type BatchUploadRequest = z.output<typeof batchUploadRequestSchema>;

/** Whether a POST /uploads body asks for a batch. */
export const isBatch = (body: CreateUploadRequest | BatchUploadRequest): body is BatchUploadRequest =>
  'files' in body;

/** POST /uploads/multipart input: a POST /uploads body, and the part size the client has fixed, if any. */
export const createMultipartUploadInput = z.object({
  body: z.extend(uploadRequestSchema, {
    partSize: z
      .optional(z.number().check(z.int(), z.minimum(PART_MIN_BYTES), z.maximum(PART_MAX_BYTES)))
      .check(
        z.meta({
          description:
            'Bytes of every part but the last, for clients that fix it before they start (5 MiB to 5 GiB, at most 10,000 parts); the server chooses it otherwise.',
        }),
      ),
  }),
});

export type CreateMultipartUploadRequest = z.output<typeof createMultipartUploadInput>['body'];
