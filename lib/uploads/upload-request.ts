import * as z from 'zod';
import { clientMetadataSchema } from '../core/client-metadata.js';
import { PART_MAX_BYTES, PART_MIN_BYTES } from '../core/object-limits.js';
import { hasControlCharacters } from '../core/text.js';

const MAX_FILENAME_CHARACTERS = 255;

/** A filename as people see it: 1..255 characters (code points), no control characters. */
export const filenameSchema = z
  .string()
  .refine((name) => name.trim().length > 0, 'must not be empty')
  .refine(
    (name) => [...name].length <= MAX_FILENAME_CHARACTERS,
    `must be at most ${MAX_FILENAME_CHARACTERS} characters`,
  )
  .refine((name) => !hasControlCharacters(name), 'must not contain control characters')
  // Bidi overrides and other format characters disguise names (`invoice\u202Egnp.exe`).
  .refine((name) => !/\p{Cf}/u.test(name), 'must not contain invisible format characters')
  .refine((name) => name.isWellFormed(), 'must be well-formed unicode');

/** One file to upload: the body of a one-file POST /uploads, and each entry of a batch. */
export const uploadRequestSchema = z
  .object({
    filename: filenameSchema,
    contentType: z.string().min(1).max(255),
    size: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    clientMetadata: clientMetadataSchema.optional(),
  })
  .strict()
  .meta({ id: 'UploadRequest' });

/** Files one POST /uploads may ask forms for. */
export const MAX_BATCH_FILES = 100;

/** A batch: up to {@link MAX_BATCH_FILES} files, answered with a form each in the same order. */
export const batchUploadRequestSchema = z
  .strictObject({
    files: z
      .array(uploadRequestSchema)
      .min(1)
      .max(MAX_BATCH_FILES)
      .meta({ description: `1 to ${MAX_BATCH_FILES} files; the answer has their forms in this order.` }),
  })
  .meta({ id: 'BatchUploadRequest' });

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
  body: uploadRequestSchema
    .extend({
      partSize: z.number().int().min(PART_MIN_BYTES).max(PART_MAX_BYTES).optional().meta({
        description:
          'Bytes of every part but the last, for clients that fix it before they start (5 MiB to 5 GiB, at most 10,000 parts); the server chooses it otherwise.',
      }),
    })
    .strict(),
});

export type CreateMultipartUploadRequest = z.output<typeof createMultipartUploadInput>['body'];
