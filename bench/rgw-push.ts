import { randomBytes } from 'node:crypto';
import type { S3Event } from 'aws-lambda';
import { toAwsS3Event } from '../scripts/ceph-event-bridge.js';

/** One object created, as the bench hands it to the validator. */
export interface CreatedObject {
  bucket: string;
  key: string;
  size: number;
  eTag: string;
  /** RGW names none for a form POST; AWS always does. */
  versionId?: string | undefined;
  eventName?: string;
  /** The tags RGW reports the object created with. */
  tags?: { key: string; val: string }[];
  region?: string;
}

/**
 * The event the local bridge hands the validator for a created object: RGW's
 * push body for it (scripts/ceph-event-bridge.ts), turned into AWS's shape.
 */
export function rgwCreatedEvent(object: CreatedObject): S3Event {
  const push = {
    Records: [
      {
        eventVersion: '2.2',
        eventSource: 'ceph:s3',
        awsRegion: '',
        eventTime: new Date().toISOString(),
        eventName: object.eventName ?? 'ObjectCreated:Post',
        userIdentity: { principalId: 'presign-admin' },
        requestParameters: { sourceIPAddress: '' },
        responseElements: { 'x-amz-request-id': randomBytes(8).toString('hex'), 'x-amz-id-2': 'bench' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'presign-local-validateUpload',
          bucket: {
            name: object.bucket,
            ownerIdentity: { principalId: 'presign-admin' },
            arn: `arn:aws:s3:::${object.bucket}`,
            id: 'bench',
          },
          object: {
            key: object.key,
            size: object.size,
            eTag: object.eTag,
            versionId: object.versionId ?? '',
            sequencer: randomBytes(8).toString('hex').toUpperCase(),
            metadata: [],
            tags: object.tags ?? [],
          },
        },
        eventId: `bench.${object.eTag}`,
        opaqueData: '',
      },
    ],
  };
  return toAwsS3Event(push, object.region ?? 'us-east-1');
}
