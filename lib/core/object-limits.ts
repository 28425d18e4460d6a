/** S3's limits on the size of one object and of the parts of a multipart upload. */

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** The largest body one form POST (or PutObject) may carry: 5 GiB. */
export const POST_OBJECT_MAX_BYTES = 5 * GiB;

/** The largest object S3 stores, through a multipart upload only: 5 TiB. */
export const OBJECT_MAX_BYTES = 5 * 1024 * GiB;

/** Every part of a multipart upload but the last is at least this large: 5 MiB. */
export const PART_MIN_BYTES = 5 * MiB;

/** No part of a multipart upload is larger: 5 GiB. */
export const PART_MAX_BYTES = 5 * GiB;

/** A multipart upload has at most this many parts, numbered from 1. */
export const MAX_PARTS = 10_000;
