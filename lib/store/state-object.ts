import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isNoSuchKey } from './s3-errors.js';

/** A small object of the state bucket: its text, and the ETag a conditional write over it names. */
export interface StateObject {
  text: string;
  eTag?: string;
}

/**
 * Reads one small object of the state bucket (a share epoch, a multipart
 * record or closing claim, a file-index entry). `undefined` when the key holds
 * none: only S3's `NoSuchKey`, since any other 404 (a missing bucket) must
 * not read as "nothing written yet". Any other error is thrown as the SDK's.
 */
export async function readStateObject(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<StateObject | undefined> {
  try {
    const { Body, ETag } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return { text: (await Body?.transformToString()) ?? '', ...(ETag ? { eTag: ETag } : {}) };
  } catch (error) {
    if (isNoSuchKey(error)) return undefined;
    throw error;
  }
}
