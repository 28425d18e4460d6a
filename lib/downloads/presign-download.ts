import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import type { HttpRequest, QueryParameterBag } from '@aws-sdk/types';
import { getEndpointFromInstructions } from '@smithy/core/endpoints';
import { resolveOnce } from '../core/resolve-once.js';
import { effectiveExpiry } from '../core/url-expiry.js';
import { bucket, s3 } from '../store/s3-client.js';

export interface DownloadRequest {
  key: string;
  /** The lifetime asked for; the URL never outlives the signing credentials. */
  ttlSeconds: number;
  /** Sent back by S3 as `Content-Disposition`. */
  contentDisposition: string;
  /** Sent back by S3 as `Content-Type`. */
  contentType: string;
  now?: Date;
}

export interface PresignedDownload {
  url: string;
  /** When the URL stops working: its signing time plus `X-Amz-Expires`. */
  expiresAt: Date;
  expiresIn: number;
}

export type DownloadPresigner = (request: DownloadRequest) => Promise<PresignedDownload>;

/** Where GETs for the bucket go and how they are signed, resolved once per presigner. */
interface BucketEndpoint {
  protocol: string;
  hostname: string;
  port?: number;
  /** `/bucket` for path-style endpoints, empty for virtual-hosted ones. */
  basePath: string;
  signingRegion?: string;
  signingService?: string;
}

/** RFC 3986 unreserved characters stay; everything else is percent-encoded, as SigV4 expects. */
const strictEncode = (text: string): string =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

async function resolveBucketEndpoint(client: S3Client, bucketName: string): Promise<BucketEndpoint> {
  // The SDK's own endpoint rules (path-style, custom endpoint, FIPS, dual-stack) for this bucket.
  const endpoint = await getEndpointFromInstructions(
    { Bucket: bucketName, Key: 'k' },
    GetObjectCommand,
    client.config as Parameters<typeof getEndpointFromInstructions>[2],
  );
  const scheme = endpoint.properties?.authSchemes?.[0] as
    | { signingRegion?: string; signingName?: string }
    | undefined;
  const { url } = endpoint;
  return {
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    basePath: url.pathname.replace(/\/+$/, ''),
    ...(scheme?.signingRegion ? { signingRegion: scheme.signingRegion } : {}),
    ...(scheme?.signingName ? { signingService: scheme.signingName } : {}),
  };
}

function formatUrl(request: HttpRequest): string {
  const query = Object.entries(request.query as QueryParameterBag)
    .map(([name, value]) => `${strictEncode(name)}=${strictEncode(String(value))}`)
    .join('&');
  const port = request.port ? `:${request.port}` : '';
  return `${request.protocol}//${request.hostname}${port}${request.path}?${query}`;
}

/**
 * Builds a fast presigner of GET URLs for objects in `bucketName`: the SDK's
 * SigV4 presigner is made once, the bucket's endpoint resolved once (on first
 * use), and each call signs a prepared request without the client's middleware
 * stack. The URL carries `response-content-disposition` and
 * `response-content-type`, and lives the requested time or until the signing
 * credentials expire, whichever is earlier. Rejects when credentials cannot be
 * resolved.
 */
export function createDownloadPresigner(client: S3Client, bucketName: string): DownloadPresigner {
  const presigner = new S3RequestPresigner({ ...client.config });
  const bucketEndpoint = resolveOnce(() => resolveBucketEndpoint(client, bucketName));

  return async ({ key, ttlSeconds, contentDisposition, contentType, now = new Date() }) => {
    const [target, { expiresIn }] = await Promise.all([
      bucketEndpoint(),
      effectiveExpiry(client.config.credentials, ttlSeconds, now),
    ]);
    const request: HttpRequest = {
      method: 'GET',
      protocol: target.protocol,
      hostname: target.hostname,
      ...(target.port ? { port: target.port } : {}),
      path: `${target.basePath}/${key.split('/').map(strictEncode).join('/')}`,
      query: {
        'response-content-disposition': contentDisposition,
        'response-content-type': contentType,
        'x-id': 'GetObject',
      },
      headers: {},
    };
    const signed = await presigner.presign(request, {
      expiresIn,
      signingDate: now,
      ...(target.signingRegion ? { signingRegion: target.signingRegion } : {}),
      ...(target.signingService ? { signingService: target.signingService } : {}),
    });
    // X-Amz-Date has whole seconds: the URL dies at that second plus X-Amz-Expires.
    const signedAt = Math.floor(now.getTime() / 1000) * 1000;
    return { url: formatUrl(signed), expiresAt: new Date(signedAt + expiresIn * 1000), expiresIn };
  };
}

/** Presigns GETs on the uploads bucket with the function's own S3 client. */
export const presignDownload = createDownloadPresigner(s3, bucket);
