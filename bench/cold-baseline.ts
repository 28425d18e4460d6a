// The cold-start baseline: a function that only imports the S3 client and presigns one GET.
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

const s3 = new S3Client({ region: process.env.AWS_REGION ?? 'us-east-1' });

export const handler = async () => {
  const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'presign-bench', Key: 'k' }), {
    expiresIn: 60,
  });
  return { statusCode: 200, body: JSON.stringify({ url }) };
};
