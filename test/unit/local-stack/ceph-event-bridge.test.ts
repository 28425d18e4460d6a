import { S3Schema } from '@aws-lambda-powertools/parser/schemas/s3';
import { describe, expect, it } from 'vitest';
import { decodeS3EventKey, parseS3Event } from '../../../lib/validation/s3-event.js';
import { awsEventKey, createdObjects, toAwsS3Event } from '../../../scripts/ceph-event-bridge.js';

// A push exactly as Ceph RGW 16 sent it for a form POST (docs/rgw-notes.md), with a
// session token among the request headers it echoes.
const cephPush = () => ({
  Records: [
    {
      eventVersion: '2.2',
      eventSource: 'ceph:s3',
      awsRegion: '',
      eventTime: '2026-11-23T10:47:59.715262Z',
      eventName: 'ObjectCreated:Post',
      userIdentity: { principalId: 'presign-admin' },
      requestParameters: { sourceIPAddress: '' },
      responseElements: { 'x-amz-request-id': 'r', 'x-amz-id-2': '1016-default-default' },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'sync',
        bucket: {
          name: 'b',
          ownerIdentity: { principalId: 'presign-admin' },
          arn: 'arn:aws:s3:::b',
          id: 'x',
        },
        object: {
          key: 'uploads/u1/post 1+%é',
          size: 5,
          eTag: '827ccb0eea8a706c4c34a16891f84e7b',
          versionId: '',
          sequencer: 'DF19046BA22AB32A',
          metadata: [{ key: 'x-amz-security-token', val: 'SECRET-SESSION-TOKEN' }],
          tags: [{ key: 'validation-status', val: 'pending' }],
        },
      },
      eventId: '1795430879.716384.827ccb0eea8a706c4c34a16891f84e7b',
      opaqueData: '',
    },
  ],
});

describe('Ceph RGW push → AWS S3 event', () => {
  it.each([
    ['uploads/a b/c.png', 'uploads/a+b/c.png'],
    ['uploads/a+b.png', 'uploads/a%2Bb.png'],
    ['uploads/100%.pdf', 'uploads/100%25.pdf'],
    ['uploads/zoë/日.jpg', 'uploads/zo%C3%AB/%E6%97%A5.jpg'],
  ])('encodes %j as AWS does (%j)', (raw, encoded) => {
    expect(awsEventKey(raw)).toBe(encoded);
    expect(decodeS3EventKey(encoded)).toBe(raw);
  });

  it('rewrites source, region and key, and drops Ceph-only fields that leak request headers', () => {
    const event = toAwsS3Event(cephPush(), 'us-east-1');
    const [record] = event.Records;
    expect(record?.eventSource).toBe('aws:s3');
    expect(record?.awsRegion).toBe('us-east-1');
    expect(record?.s3.object.key).toBe('uploads/u1/post+1%2B%25%C3%A9');
    expect(record?.s3.object.eTag).toBe('827ccb0eea8a706c4c34a16891f84e7b');
    expect(JSON.stringify(event)).not.toContain('SECRET-SESSION-TOKEN');
    expect(record?.s3.object).not.toHaveProperty('tags');
  });

  it('turns a push into an event that the validator reads as AWS delivers it', () => {
    // Act
    const event = toAwsS3Event(cephPush(), 'us-east-1');

    // Assert: Powertools' S3 schema accepts it, and the validator reads the decoded key.
    expect(S3Schema.safeParse(event).error).toBeUndefined();
    expect(parseS3Event(event)).toEqual([
      {
        eventName: 'ObjectCreated:Post',
        bucket: 'b',
        key: 'uploads/u1/post 1+%é',
        size: 5,
        eTag: '827ccb0eea8a706c4c34a16891f84e7b',
        sequencer: 'DF19046BA22AB32A',
      },
    ]);
  });

  it('records what each pushed object was created with, without the request headers RGW echoes', () => {
    // Act
    const created = createdObjects(cephPush());

    // Assert
    expect(created).toEqual([
      {
        eventName: 'ObjectCreated:Post',
        key: 'uploads/u1/post 1+%é',
        eTag: '827ccb0eea8a706c4c34a16891f84e7b',
        tags: [{ key: 'validation-status', val: 'pending' }],
      },
    ]);
    expect(JSON.stringify(created)).not.toContain('SECRET-SESSION-TOKEN');
    expect(createdObjects({ hello: 'world' })).toEqual([]);
  });

  it('refuses a body without records', () => {
    expect(() => toAwsS3Event({ hello: 'world' }, 'us-east-1')).toThrow(/Records/);
  });
});
