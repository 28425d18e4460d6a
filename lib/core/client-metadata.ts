import * as z from './zod.js';

/** The serialized JSON of `clientMetadata` may take at most this many bytes. */
export const CLIENT_METADATA_MAX_BYTES = 512;

/** The uploader's own JSON object: kept with the file, returned by GET /files/{fileId} and in webhooks. */
export const clientMetadataSchema = z.record(z.string(), z.json()).check(
  z.refine(
    (value) => Buffer.byteLength(JSON.stringify(value)) <= CLIENT_METADATA_MAX_BYTES,
    `must be at most ${CLIENT_METADATA_MAX_BYTES} bytes as JSON`,
  ),
  z.meta({
    description: `Your own JSON object (at most ${CLIENT_METADATA_MAX_BYTES} bytes serialized), pinned with the upload and returned by GET /files/{fileId} and in webhooks.`,
  }),
);

/** A `clientMetadata` object as the API takes and returns it. */
export type ClientMetadata = z.output<typeof clientMetadataSchema>;
