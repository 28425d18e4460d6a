import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { formatUrl } from '@aws-sdk/core/util';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { getEndpointFromInstructions, toEndpointV1 } from '@smithy/core/endpoints';
import { toHex, toUint8Array } from '@smithy/core/serde';
import { createScope, getSigningKey } from '@smithy/signature-v4';
import { resolveOnce } from '../core/resolve-once.js';

/** One POST policy condition, as `createPresignedPost` takes them. */
export type PostCondition =
  | Record<string, string>
  | ['eq', string, string]
  | ['starts-with', string, string]
  | ['content-length-range', number, number];

/** What to sign: the same shape as `createPresignedPost`'s options, without the bucket. */
export interface PostPolicyRequest {
  Key: string;
  Conditions?: PostCondition[];
  /** Form fields; each one also becomes an exact-match policy condition. */
  Fields?: Record<string, string>;
  /** Policy lifetime in seconds (default 3600, as the SDK's). */
  Expires?: number;
  /** Signing time before the client's clock offset is applied; defaults to now. */
  now?: Date;
}

/** What `createPresignedPost` returns: the form's action URL and its fields. */
export interface PresignedPostForm {
  url: string;
  fields: Record<string, string>;
}

export type PostPresigner = (request: PostPolicyRequest) => Promise<PresignedPostForm>;

/** Where the bucket's form POSTs go and the region that signs them, resolved once. */
interface BucketTarget {
  url: string;
  region: string;
}

/** S3's form variable: a key ending in it matches any filename the browser sends. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: S3's literal `${filename}`, not a template.
const FILENAME_VARIABLE = '${filename}';

const iso8601 = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

async function resolveTarget(client: S3Client, bucketName: string): Promise<BucketTarget> {
  // The SDK's own endpoint rules, as createPresignedPost runs them; they depend on the bucket only.
  const endpoint = await getEndpointFromInstructions(
    { Bucket: bucketName, Key: 'k' },
    PutObjectCommand,
    { ...client.config } as Parameters<typeof getEndpointFromInstructions>[2],
    { logger: client.config.logger },
  );
  return { url: formatUrl(toEndpointV1(endpoint)), region: await client.config.region() };
}

/**
 * Builds a signer of browser POST policies for `bucketName`, equivalent to
 * `createPresignedPost(client, { Bucket: bucketName, ... })` field for field
 * and byte for byte, but cheaper per call: the bucket URL (the SDK's endpoint
 * rules) and the region are resolved once, on first use, and the SigV4 signing
 * key is derived with `@smithy/signature-v4`'s `getSigningKey` only when the
 * day or the credentials change. The policy is signed with the client's own
 * SHA-256 HMAC. Rejects when the credentials or the endpoint cannot be resolved.
 */
export function createPostPresigner(client: S3Client, bucketName: string): PostPresigner {
  const { sha256, base64Encoder, utf8Decoder } = client.config;
  const bucketTarget = resolveOnce(() => resolveTarget(client, bucketName));
  let cached: { credentials: AwsCredentialIdentity; shortDate: string; key: Promise<Uint8Array> } | undefined;
  const signingKey = (credentials: AwsCredentialIdentity, shortDate: string, region: string) => {
    // The provider hands back the same identity object until it refreshes: a new object re-derives.
    if (cached?.credentials !== credentials || cached.shortDate !== shortDate) {
      const key = getSigningKey(sha256, credentials, shortDate, region, 's3');
      cached = { credentials, shortDate, key };
      key.catch(() => {
        if (cached?.key === key) cached = undefined;
      });
    }
    return cached.key;
  };

  return async ({ Key, Conditions = [], Fields = {}, Expires = 3600, now: at = new Date() }) => {
    const [{ url, region }, credentials] = await Promise.all([bucketTarget(), client.config.credentials()]);
    const now = new Date(at.getTime() + client.config.systemClockOffset);
    const signingDate = iso8601(now).replace(/[-:]/g, '');
    const shortDate = signingDate.slice(0, 8);
    const fields: Record<string, string> = {
      ...Fields,
      bucket: bucketName,
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': `${credentials.accessKeyId}/${createScope(shortDate, region, 's3')}`,
      'X-Amz-Date': signingDate,
      ...(credentials.sessionToken ? { 'X-Amz-Security-Token': credentials.sessionToken } : {}),
    };
    // Same conditions, order and de-duplication as createPresignedPost. Its
    // JSON.parse/JSON.stringify round trip of each condition is the identity on
    // JSON text, so the serialised conditions are joined as they are.
    const conditions = new Set<string>();
    for (const condition of Conditions) conditions.add(JSON.stringify(condition));
    for (const [name, value] of Object.entries(fields)) conditions.add(JSON.stringify({ [name]: value }));
    conditions.add(
      Key.endsWith(FILENAME_VARIABLE)
        ? JSON.stringify(['starts-with', '$key', Key.substring(0, Key.lastIndexOf(FILENAME_VARIABLE))])
        : JSON.stringify({ key: Key }),
    );
    const expiration = iso8601(new Date(now.getTime() + Expires * 1000));
    const policy = `{"expiration":${JSON.stringify(expiration)},"conditions":[${[...conditions].join(',')}]}`;
    const encodedPolicy = base64Encoder(utf8Decoder(policy));

    const hmac = new sha256(await signingKey(credentials, shortDate, region));
    hmac.update(toUint8Array(encodedPolicy));
    const signature = toHex(await hmac.digest());
    return { url, fields: { ...fields, key: Key, Policy: encodedPolicy, 'X-Amz-Signature': signature } };
  };
}
