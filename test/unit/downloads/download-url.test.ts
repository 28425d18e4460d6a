import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { presignFileDownload } from '../../../lib/downloads/download-url.js';
import type { FileRecord } from '../../../lib/store/verdict-trust.js';
import { unitStore } from '../../support/runtime.js';

const NOW = new Date('2026-11-23T10:00:00.250Z');
const KEY = 'uploads/0123456789abcdef0123456789abcdef/01JD0000000000000000000000';
/** A version id as Ceph RGW makes them (dots and underscores), and one as AWS does (plus and slash). */
const VERSION_ID = 'qJEwBJZTzoc3YGRbRIbvzgGDx1Y0I.m_';
const AWS_VERSION_ID = '3sL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo';
const DISPOSITION = `attachment; filename="Resume.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9.pdf`;
/** A passed PDF whose saved name is `Résumé.pdf`, so its disposition is DISPOSITION. */
const RECORD: FileRecord = {
  key: KEY,
  versionId: VERSION_ID,
  fileId: '01JD0000000000000000000000',
  filename: 'Résumé.pdf',
  clientMetadata: null,
  contentType: 'application/pdf',
  size: 1234,
  uploadedAt: '2026-11-23T09:00:00.000Z',
  storedBytes: 1234,
  eTag: 'e1',
  status: 'passed',
  checks: { content: 'passed', malware: 'off' },
  validatedEtag: 'e1',
  detectedType: 'application/pdf',
};

const AWS: S3ClientConfig = { region: 'eu-west-1' };
const LOCAL: S3ClientConfig = {
  region: 'us-east-1',
  endpoint: 'http://127.0.0.1:7480',
  forcePathStyle: true,
};

function client(
  config: S3ClientConfig,
  credentials: { sessionToken?: string; expiration?: Date } = {},
): S3Client {
  return new S3Client({
    ...config,
    // Only so that the SDK's reference URL carries no extra checksum parameters to compare against.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: async () => ({ accessKeyId: 'AKIDTEST', secretAccessKey: 'secret-test', ...credentials }),
  });
}

async function presign(s3: S3Client, ttlSeconds = 300, record: FileRecord = RECORD) {
  const store = unitStore(s3, 'my-bucket');
  const result = await presignFileDownload(store, record, {
    ttlSeconds,
    disposition: 'attachment',
    now: NOW,
  });
  return { ...result, url: new URL(result.url) };
}

describe('presignFileDownload', () => {
  it('lives exactly the requested time when the credentials outlive it', async () => {
    // Act
    const { url, expiresAt, expiresIn } = await presign(client(AWS), 300);

    // Assert
    expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
    expect(url.searchParams.get('X-Amz-Date')).toBe('20261123T100000Z');
    expect(expiresIn).toBe(300);
    expect(expiresAt.toISOString()).toBe('2026-11-23T10:05:00.000Z');
  });

  it('never outlives the signing credentials', async () => {
    // Arrange: credentials expiring 90.5 s after signing.
    const s3 = client(AWS, { sessionToken: 'tok', expiration: new Date(NOW.getTime() + 90_500) });

    // Act
    const { url, expiresAt } = await presign(s3, 3600);

    // Assert
    expect(Number(url.searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(90);
    expect(expiresAt.getTime()).toBeLessThanOrEqual(NOW.getTime() + 90_500);
  });

  it('asks S3 to answer with the given disposition and type', async () => {
    // Act
    const { url } = await presign(client(AWS));

    // Assert
    expect(url.searchParams.get('response-content-disposition')).toBe(DISPOSITION);
    expect(url.searchParams.get('response-content-type')).toBe('application/pdf');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
  });

  it('carries X-Amz-Security-Token only when the credentials have a session token', async () => {
    // Act
    const temporary = await presign(client(AWS, { sessionToken: 'session/token+=' }));
    const longTerm = await presign(client(AWS));

    // Assert
    expect(temporary.url.searchParams.get('X-Amz-Security-Token')).toBe('session/token+=');
    expect(longTerm.url.searchParams.has('X-Amz-Security-Token')).toBe(false);
  });

  it('names exactly the version of the record, its id as S3 made it', async () => {
    // Act
    const rgw = await presign(client(LOCAL));
    const aws = await presign(client(AWS), 300, { ...RECORD, versionId: AWS_VERSION_ID });

    // Assert
    expect(rgw.url.searchParams.get('versionId')).toBe(VERSION_ID);
    expect(aws.url.searchParams.get('versionId')).toBe(AWS_VERSION_ID);
    expect(aws.url.search).toContain(`versionId=${encodeURIComponent(AWS_VERSION_ID)}`);
  });

  it('refuses a record that has not passed, presigning nothing', async () => {
    // Act / Assert
    await expect(presign(client(AWS), 300, { ...RECORD, status: 'pending' })).rejects.toMatchObject({
      statusCode: 409,
      code: 'not_validated',
    });
  });

  it('uses a virtual-hosted URL in AWS, scoped to the bucket region', async () => {
    // Act
    const { url } = await presign(client(AWS));

    // Assert
    expect(url.origin).toBe('https://my-bucket.s3.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe(`/${KEY}`);
    expect(url.searchParams.get('X-Amz-Credential')).toBe('AKIDTEST/20261123/eu-west-1/s3/aws4_request');
  });

  it('uses a path-style URL on a custom endpoint', async () => {
    // Act
    const { url } = await presign(client(LOCAL));

    // Assert
    expect(url.origin).toBe('http://127.0.0.1:7480');
    expect(url.pathname).toBe(`/my-bucket/${KEY}`);
  });
});
