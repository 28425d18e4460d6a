import { describe, expect, it } from 'vitest';
import { parseScanResultEvent } from '../../../lib/validation/scan-result-event.js';
import {
  DEFAULT_DELAY_MS,
  DEFAULT_UNSUPPORTED_MARKER,
  EICAR,
  emulatedVerdict,
  emulatorEnvironment,
  scanResultEvent,
  withScanTag,
} from '../../../scripts/guardduty-emulator.js';
import { gatedReadPolicy, SCAN_TAG, VALIDATION_TAG } from '../../../scripts/provision.js';

describe('the GuardDuty emulator (not a scanner: a fixed rule)', () => {
  it.each([
    ['the EICAR test string anywhere', `header ${EICAR} trailer`, 'THREATS_FOUND'],
    ['the marker', `x ${DEFAULT_UNSUPPORTED_MARKER} y`, 'UNSUPPORTED'],
    ['both: the threat wins', `${DEFAULT_UNSUPPORTED_MARKER}${EICAR}`, 'THREATS_FOUND'],
    ['anything else', 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE alone is no test string', 'NO_THREATS_FOUND'],
    ['nothing', '', 'NO_THREATS_FOUND'],
  ])('answers %s with its result', (_name, text, result) => {
    expect(emulatedVerdict(Buffer.from(text))).toBe(result);
  });

  it('takes its marker from the settings', () => {
    expect(emulatedVerdict(Buffer.from('a CUSTOM marker'), 'CUSTOM')).toBe('UNSUPPORTED');
    expect(emulatedVerdict(Buffer.from(DEFAULT_UNSUPPORTED_MARKER), 'CUSTOM')).toBe('NO_THREATS_FOUND');
  });

  it('keeps the version’s other tags and replaces its own, and does not tag past ten', () => {
    const tags = [
      { Key: 'validation-status', Value: 'passed' },
      { Key: 'GuardDutyMalwareScanStatus', Value: 'NO_THREATS_FOUND' },
    ];
    expect(withScanTag(tags, 'THREATS_FOUND')).toEqual([
      { Key: 'validation-status', Value: 'passed' },
      { Key: 'GuardDutyMalwareScanStatus', Value: 'THREATS_FOUND' },
    ]);
    const ten = Array.from({ length: 10 }, (_, index) => ({ Key: `k${index}`, Value: 'v' }));
    expect(withScanTag(ten, 'NO_THREATS_FOUND')).toBeUndefined();
  });

  it('sends the event the validator reads as GuardDuty’s result on that version', () => {
    const event = scanResultEvent({
      bucket: 'b',
      key: 'uploads/o/f',
      versionId: 'v1',
      eTag: '"abc"',
      result: 'THREATS_FOUND',
      region: 'us-east-1',
    });
    expect(event).toMatchObject({ version: '0', source: 'aws.guardduty', region: 'us-east-1' });
    expect(parseScanResultEvent(JSON.parse(JSON.stringify(event)))).toEqual({
      bucket: 'b',
      key: 'uploads/o/f',
      versionId: 'v1',
      eTag: 'abc',
      result: 'THREATS_FOUND',
    });
  });

  it('reads its delay and marker from the environment, refusing a delay it cannot use', () => {
    expect(emulatorEnvironment({})).toEqual({
      delayMs: DEFAULT_DELAY_MS,
      unsupportedMarker: DEFAULT_UNSUPPORTED_MARKER,
    });
    expect(
      emulatorEnvironment({ GUARDDUTY_EMULATOR_DELAY_MS: '0', GUARDDUTY_EMULATOR_UNSUPPORTED_MARKER: 'M' }),
    ).toEqual({ delayMs: 0, unsupportedMarker: 'M' });
    for (const bad of ['-1', '1.5', 'soon', '600001']) {
      expect(() => emulatorEnvironment({ GUARDDUTY_EMULATOR_DELAY_MS: bad })).toThrow(
        /GUARDDUTY_EMULATOR_DELAY_MS/,
      );
    }
  });
});

describe('the local read gate with the malware check', () => {
  it('denies reads lacking either tag (other value or none), exempting the functions and the emulator’s one session', () => {
    const policy = gatedReadPolicy('bucket', ['VALIDATOR', 'GETFILE'], {
      requiredTags: [VALIDATION_TAG, SCAN_TAG],
      scannerRoleId: 'SCANNER',
    });
    expect(policy.Statement.map((statement) => [statement.Sid, statement.Condition])).toEqual(
      [
        ['validation-status', 'passed', 'DenyReadingUnvalidatedUploads', 'DenyReadingUntaggedUploads'],
        [
          'GuardDutyMalwareScanStatus',
          'NO_THREATS_FOUND',
          'DenyReadingUnscannedUploads',
          'DenyReadingUnscannedUntaggedUploads',
        ],
      ].flatMap(([key, value, other, none]) =>
        [
          [other, { StringNotEquals: { [`s3:ExistingObjectTag/${key}`]: value } }],
          [none, { Null: { [`s3:ExistingObjectTag/${key}`]: 'true' } }],
        ].map(([sid, condition]) => [
          sid,
          {
            ...(condition as object),
            StringNotLike: { 'aws:userid': 'VALIDATOR:*' },
            StringNotLikeIfExists: { 'aws:userid': 'GETFILE:*' },
            StringNotEqualsIfExists: { 'aws:userid': 'SCANNER:guardduty-emulator' },
          },
        ]),
      ),
    );
  });

  it('is the validation gate alone without it', () => {
    const policy = gatedReadPolicy('bucket', ['VALIDATOR']);
    expect(policy.Statement.map((statement) => statement.Sid)).toEqual([
      'DenyReadingUnvalidatedUploads',
      'DenyReadingUntaggedUploads',
    ]);
    expect(JSON.stringify(policy)).not.toMatch(/GuardDuty|guardduty/);
  });
});
