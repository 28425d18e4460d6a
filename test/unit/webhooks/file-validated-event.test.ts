import { describe, expect, it } from 'vitest';
import {
  fileValidatedEvent,
  type JudgedVersion,
  parseWebhookMessage,
  webhookId,
} from '../../../lib/webhooks/file-validated-event.js';

const NOW = new Date('2026-11-27T10:15:00.123Z');
const FILE_ID = '01JDQ7ZJ8W3N4T6X9Y2B5C7D8E';
const JUDGED: JudgedVersion = {
  bucket: 'presign-prod-uploads',
  key: `uploads/9f86d081884c7d659a2feaa0c55ad015/${FILE_ID}`,
  versionId: '3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY',
  status: 'passed',
};

describe('fileValidatedEvent', () => {
  it('builds exactly the documented payload of a passed file', () => {
    // Act
    const event = fileValidatedEvent(
      {
        fileId: FILE_ID,
        status: 'passed',
        detectedType: 'image/png',
        size: 48213,
        contentType: 'image/png',
        filename: 'cat.png',
        clientMetadata: { orderId: 'A-17', tags: ['x'] },
      },
      NOW,
    );

    // Assert
    expect(event).toEqual({
      type: 'file.validated',
      timestamp: '2026-11-27T10:15:00.123Z',
      data: {
        fileId: FILE_ID,
        status: 'passed',
        reason: null,
        detectedType: 'image/png',
        size: 48213,
        contentType: 'image/png',
        filename: 'cat.png',
        clientMetadata: { orderId: 'A-17', tags: ['x'] },
      },
    });
    expect(Object.keys(event.data)).toEqual([
      'fileId',
      'status',
      'reason',
      'detectedType',
      'size',
      'contentType',
      'filename',
      'clientMetadata',
    ]);
  });

  it('carries a failed file’s reason, and null for what is unknown', () => {
    // Act
    const event = fileValidatedEvent(
      { fileId: FILE_ID, status: 'failed', reason: 'unknown_type', size: 12, contentType: 'image/png' },
      NOW,
    );

    // Assert
    expect(event.data).toEqual({
      fileId: FILE_ID,
      status: 'failed',
      reason: 'unknown_type',
      detectedType: null,
      size: 12,
      contentType: 'image/png',
      filename: FILE_ID,
      clientMetadata: null,
    });
  });

  it('never reports a reason on a passed file', () => {
    // Act
    const event = fileValidatedEvent(
      { fileId: FILE_ID, status: 'passed', reason: 'stray', size: 1, contentType: 'text/plain' },
      NOW,
    );

    // Assert
    expect(event.data.reason).toBeNull();
  });
});

describe('webhookId', () => {
  it('is msg_ and 43 base64url characters, the same for the same verdict on the same version', () => {
    // Act
    const first = webhookId(JUDGED);
    const again = webhookId({ ...JUDGED });

    // Assert
    expect(first).toMatch(/^msg_[A-Za-z0-9_-]{43}$/);
    expect(again).toBe(first);
  });

  it.each([
    ['another bucket', { bucket: 'presign-dev-uploads' }],
    ['another key', { key: `uploads/9f86d081884c7d659a2feaa0c55ad016/${FILE_ID}` }],
    ['another version', { versionId: 'other' }],
    ['another status', { status: 'failed' as const }],
    ['a reason', { status: 'failed' as const, reason: 'too_large' }],
  ])('differs for %s', (_, change) => {
    // Act + Assert
    expect(webhookId({ ...JUDGED, ...change })).not.toBe(webhookId(JUDGED));
  });

  it('cannot be made to collide by moving text between fields', () => {
    // Act
    const a = webhookId({ ...JUDGED, bucket: 'a', key: 'b/c' });
    const b = webhookId({ ...JUDGED, bucket: 'a/b', key: 'c' });

    // Assert
    expect(a).not.toBe(b);
  });
});

describe('parseWebhookMessage', () => {
  const message = () => ({
    id: webhookId(JUDGED),
    event: fileValidatedEvent(
      { fileId: FILE_ID, status: 'passed', size: 1, contentType: 'image/png', filename: 'a.png' },
      NOW,
    ),
  });

  it('reads what the validator hands off', () => {
    // Arrange
    const handed = message();

    // Act + Assert
    expect(parseWebhookMessage(JSON.parse(JSON.stringify(handed)))).toEqual(handed);
  });

  it.each([
    ['no id', (m: Record<string, unknown>) => ({ ...m, id: undefined })],
    ['an id without msg_', (m: Record<string, unknown>) => ({ ...m, id: 'abc'.repeat(10) })],
    ['another event type', (m: Record<string, unknown>) => ({ ...m, event: { type: 'file.deleted' } })],
    ['an S3 event', () => ({ Records: [] })],
  ])('refuses %s', (_, change) => {
    // Act + Assert
    expect(() => parseWebhookMessage(change(message() as unknown as Record<string, unknown>))).toThrow();
  });
});
