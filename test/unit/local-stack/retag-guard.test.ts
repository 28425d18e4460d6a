import { describe, expect, it } from 'vitest';
import { SIGNS_VERDICTS } from '../../../scripts/function-policies.js';
import { retagGuardStatements, SCAN_TAG, VALIDATION_TAG } from '../../../scripts/provision.js';

const TAG_WRITES = [
  's3:PutObjectTagging',
  's3:PutObjectVersionTagging',
  's3:DeleteObjectTagging',
  's3:DeleteObjectVersionTagging',
];

describe('the local retag guard (the uploads bucket policy on Ceph RGW)', () => {
  it('is the validator’s to pass: the function that signs verdicts', () => {
    expect(SIGNS_VERDICTS).toBe('validateUpload');
  });

  it('denies changing or removing the tags of an upload carrying validation-status to all but the validator’s role', () => {
    // Act
    const statements = retagGuardStatements('bucket', 'VALIDATOR');

    // Assert: the same Sid as the template's; StringLike '*' because RGW's Null ignores its value.
    expect(statements).toEqual([
      {
        Sid: 'OnlyVerdictWritersRetagUploads',
        Effect: 'Deny',
        Principal: '*',
        Action: TAG_WRITES,
        Resource: 'arn:aws:s3:::bucket/uploads/*',
        Condition: {
          StringLike: { 's3:ExistingObjectTag/validation-status': '*' },
          StringNotLike: { 'aws:userid': 'VALIDATOR:*' },
        },
      },
    ]);
  });

  it('with the malware check, guards GuardDuty’s tag too and lets the emulator’s one session write', () => {
    // Act
    const statements = retagGuardStatements('bucket', 'VALIDATOR', {
      requiredTags: [VALIDATION_TAG, SCAN_TAG],
      scannerRoleId: 'SCANNER',
    });

    // Assert: an operator for each exempt principal (RGW evaluates a negated condition with several values wrongly).
    expect(statements.map((statement) => [statement.Sid, statement.Condition])).toEqual(
      [
        ['OnlyVerdictWritersRetagUploads', 'validation-status'],
        ['OnlyVerdictWritersRetagScannedUploads', 'GuardDutyMalwareScanStatus'],
      ].map(([sid, tag]) => [
        sid,
        {
          StringLike: { [`s3:ExistingObjectTag/${tag}`]: '*' },
          StringNotLike: { 'aws:userid': 'VALIDATOR:*' },
          StringNotEqualsIfExists: { 'aws:userid': 'SCANNER:guardduty-emulator' },
        },
      ]),
    );
  });
});
