import { readFileSync } from 'node:fs';
import type { S3Event } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { decodeS3EventKey, parseS3Event } from '../../../lib/validation/s3-event.js';
import { parseScanResultEvent } from '../../../lib/validation/scan-result-event.js';

/** A fresh copy of a genuine AWS S3 event fixture. */
function loadEvent(name: string): S3Event {
  return JSON.parse(
    readFileSync(new URL(`../../fixtures/s3-events/${name}`, import.meta.url), 'utf8'),
  ) as S3Event;
}

describe('decodeS3EventKey', () => {
  it.each([
    ['uploads/my+summer+photo.png', 'uploads/my summer photo.png'],
    ['uploads/a%2Bb%3Dc.png', 'uploads/a+b=c.png'],
    ['uploads/100%25+real.pdf', 'uploads/100% real.pdf'],
    ['uploads/zo%C3%AB/%E6%97%A5%E6%9C%AC%E8%AA%9E+%E2%9C%93.jpg', 'uploads/zoë/日本語 ✓.jpg'],
    ['uploads/%2525', 'uploads/%25'],
  ])('decodes %s as AWS encoded it', (encoded, expected) => {
    // Act
    const key = decodeS3EventKey(encoded);

    // Assert
    expect(key).toBe(expected);
  });

  it('returns undefined for malformed percent-encoding', () => {
    // Act / Assert
    expect(decodeS3EventKey('uploads/%E2%9C')).toBeUndefined();
    expect(decodeS3EventKey('uploads/100%')).toBeUndefined();
  });
});

describe('parseS3Event', () => {
  it('reads the object record of an ObjectCreated:Post event', () => {
    // Arrange
    const event = loadEvent('object-created-post.json');

    // Act
    const records = parseS3Event(event);

    // Assert
    expect(records).toEqual([
      {
        eventName: 'ObjectCreated:Post',
        bucket: 'unit-test-bucket',
        key: 'uploads/9f86d081884c7d659a2feaa0c55ad015/01JDQ7ZJ8W3N4T6X9Y2B5C7D8E',
        size: 67,
        eTag: 'e1b849f9631ffc1829b2e31402373e3c',
        sequencer: '0065417F2B3C4D5E6F',
      },
    ]);
  });

  it('decodes keys holding spaces, plus signs, percent signs and unicode', () => {
    // Arrange
    const event = loadEvent('encoded-keys-put.json');

    // Act
    const keys = parseS3Event(event).map((record) => record.key);

    // Assert
    expect(keys).toEqual([
      'uploads/my summer photo.png',
      'uploads/a+b=c.png',
      'uploads/100% real.pdf',
      'uploads/zoë/日本語 ✓.jpg',
      'other/notes+draft 1.txt',
    ]);
  });

  it('keeps the version id of a versioned bucket', () => {
    // Arrange
    const event = loadEvent('object-created-post.json');
    const [record] = event.Records;
    if (!record) throw new Error('fixture has no record');
    record.s3.object.versionId = '3HL4kqtJlcpXroDTDmjVBH40Nrjfkd';

    // Act
    const [parsed] = parseS3Event(event);

    // Assert
    expect(parsed?.versionId).toBe('3HL4kqtJlcpXroDTDmjVBH40Nrjfkd');
  });

  it('leaves out records that are not S3 object records and keeps the rest', () => {
    // Arrange
    const event = loadEvent('object-created-post.json') as unknown as { Records: unknown[] };
    const [s3Record] = event.Records as S3Event['Records'];
    if (!s3Record) throw new Error('fixture has no record');
    const malformed = structuredClone(s3Record);
    malformed.s3.object.key = 'uploads/%E2%9C';
    event.Records.unshift(
      { eventSource: 'aws:sqs', messageId: '059f36b4-87a3-44ab-83d2-661975830a7d', body: '{}' },
      null,
      'not a record',
      { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' } } },
      malformed,
    );

    // Act
    const records = parseS3Event(event);

    // Assert
    expect(records.map((record) => record.key)).toEqual([
      'uploads/9f86d081884c7d659a2feaa0c55ad015/01JDQ7ZJ8W3N4T6X9Y2B5C7D8E',
    ]);
  });

  it.each([undefined, null, {}, { Records: 'nope' }, []])('returns no record for %j', (event) => {
    // Act / Assert
    expect(parseS3Event(event)).toEqual([]);
  });
});

describe('parseScanResultEvent', () => {
  const event = (detail: Record<string, unknown>) => ({
    source: 'aws.guardduty',
    'detail-type': 'GuardDuty Malware Protection Object Scan Result',
    detail: {
      scanStatus: 'COMPLETED',
      resourceType: 'S3_OBJECT',
      s3ObjectDetails: { bucketName: 'b', objectKey: 'uploads/k', eTag: 'e', versionId: 'v' },
      scanResultDetails: { scanResultStatus: 'NO_THREATS_FOUND', threats: null },
      ...detail,
    },
  });

  it('reads the version and GuardDuty’s result', () => {
    expect(parseScanResultEvent(event({}))).toEqual({
      bucket: 'b',
      key: 'uploads/k',
      eTag: 'e',
      versionId: 'v',
      result: 'NO_THREATS_FOUND',
    });
  });

  it('reads a missing or unknown result as FAILED, never clean', () => {
    expect(parseScanResultEvent(event({ scanStatus: 'FAILED', scanResultDetails: null }))?.result).toBe(
      'FAILED',
    );
    expect(parseScanResultEvent(event({ scanResultDetails: { scanResultStatus: 'CLEAN' } }))?.result).toBe(
      'FAILED',
    );
  });

  it('is undefined for an S3 event, another source or another detail type', () => {
    expect(parseScanResultEvent({ Records: [] })).toBeUndefined();
    expect(parseScanResultEvent({ ...event({}), source: 'my.app' })).toBeUndefined();
    expect(parseScanResultEvent({ ...event({}), 'detail-type': 'Object Created' })).toBeUndefined();
  });
});
