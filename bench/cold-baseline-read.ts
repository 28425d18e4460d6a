// A reference beside the cold-start baseline: the same bundle, whose first request also reads S3
// once (a GET of a key that is not there, answered 404), as most API functions' first requests do.
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

const endpoint = process.env.S3_ENDPOINT;
const s3 = new S3Client({
  region: process.env.AWS_REGION ?? 'us-east-1',
  ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
});

export const handler = async () => {
  const missing = new GetObjectCommand({ Bucket: process.env.UPLOADS_BUCKET, Key: 'cold-start/missing' });
  const url = await getSignedUrl(s3, missing, { expiresIn: 60 });
  try {
    await s3.send(missing);
    return { statusCode: 200, body: JSON.stringify({ url }) };
  } catch (error) {
    if (error instanceof NoSuchKey) return { statusCode: 404, body: JSON.stringify({ url }) };
    throw error;
  }
};
