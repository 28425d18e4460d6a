import { MAX_PARTS } from '../../core/object-limits.js';
import * as z from '../../core/zod.js';
import { MAX_PARTS_PER_SIGNING } from '../../uploads/multipart-uploads.js';
import { uploadPath } from './paths.js';

// The input schemas of the routes on open multipart uploads (what an input schema is: ./paths.ts).

const partNumber = z
  .number()
  .check(
    z.int(),
    z.minimum(1),
    z.maximum(MAX_PARTS),
    z.meta({ description: "A part number, from 1 to the upload's `partCount`." }),
  );

/** Each part number at most once. */
const distinctParts = <Part extends { partNumber: number }>(parts: readonly Part[]) =>
  new Set(parts.map((part) => part.partNumber)).size === parts.length;

/** A list of 1..`max` parts, each named once by its `partNumber`, with `fields` beside it. */
const partList = <Fields extends z.core.$ZodLooseShape>(fields: Fields, max: number) =>
  z.array(z.strictObject({ partNumber, ...fields })).check(
    z.minLength(1),
    z.maxLength(max),
    z.refine((parts) => distinctParts(parts as { partNumber: number }[]), 'must name each part number once'),
  );

/** POST /uploads/{fileId}/parts. */
export const signUploadPartsInput = z.object({
  path: uploadPath,
  body: z.strictObject({
    parts: partList(
      {
        md5: z
          .optional(
            z
              .string()
              .check(z.regex(/^[A-Za-z0-9+/]{22}==$/, 'must be the base64 of an MD5 digest (24 characters)')),
          )
          .check(
            z.meta({ description: "The base64 MD5 of the part's bytes: S3 then refuses any other bytes." }),
          ),
      },
      MAX_PARTS_PER_SIGNING,
    ),
  }),
});

/** GET /uploads/{fileId}/parts and DELETE /uploads/{fileId}. */
export const uploadInput = z.object({ path: uploadPath });

/** POST /uploads/{fileId}/complete. */
export const completeUploadInput = z.object({
  path: uploadPath,
  body: z.strictObject({
    parts: partList(
      {
        etag: z
          .string()
          .check(
            z.regex(/^"?[0-9A-Za-z-]{1,100}"?$/, 'must be an ETag'),
            z.meta({ description: 'The ETag S3 answered the part with, quoted or not.' }),
          ),
      },
      MAX_PARTS,
    ),
  }),
});
