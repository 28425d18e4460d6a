// Who may change the tags of an upload that exists, decided by an IAM policy
// engine (@cloud-copilot/iam-simulate) on the template `osls package` builds,
// for both malwareScan settings: each role's own policy together with the
// uploads bucket's policy, as S3 evaluates a request of the role's session.
// AWS authorizes a create that carries tagging (PutObject, a form POST,
// CreateMultipartUpload) as s3:PutObject and s3:PutObjectTagging, with the
// request's tags and no existing object's; a PutObjectTagging on an object
// that exists carries that object's tags as s3:ExistingObjectTag/<key>.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GUARDDUTY_SCAN_TAG } from '../../../lib/core/file-checks.js';
import { TAG } from '../../../lib/store/object-encoding.js';
import { type SimulatedTemplate, templateSimulator } from '../../support/iam-simulation.js';
import { packageArgs, packageCopy } from '../../support/package-copy.js';

const SETTINGS = ['none', 'guardduty'] as const;
type Setting = (typeof SETTINGS)[number];

const UPLOAD_ROLES = ['CreateUploadRole', 'CreateMultipartUploadRole'];
const VALIDATOR = 'ValidateUploadRole';
const GUARDDUTY = 'MalwareProtectionRole';
/** Roles that write verdicts: the validator's, and GuardDuty's where the stack has it. */
const JUDGES = [VALIDATOR, GUARDDUTY];
const KEY = 'uploads/0123456789abcdef0123456789abcdef/01JB8X6N2Y3ZQ4R5S6T7V8W9XA';
const PENDING = { [TAG.status]: 'pending' };

/** What an upload carries once it exists: pending as it landed, each verdict, GuardDuty's alone or beside one. */
const EXISTING_TAG_SETS: Record<string, Record<string, string>> = {
  pending: { [TAG.status]: 'pending' },
  passed: {
    [TAG.status]: 'passed',
    [TAG.detectedType]: 'image/png',
    [TAG.validatedEtag]: '9a0364b9e99bb480dd25e1f0284c8555',
    [TAG.signature]: 'c2lnbmVk',
  },
  failed: { [TAG.status]: 'failed', [TAG.reason]: 'type_mismatch' },
  'GuardDuty’s tag only': { [GUARDDUTY_SCAN_TAG]: 'NO_THREATS_FOUND' },
  'passed and scanned clean': {
    [TAG.status]: 'passed',
    [TAG.signature]: 'c2lnbmVk',
    [GUARDDUTY_SCAN_TAG]: 'NO_THREATS_FOUND',
  },
  'pending and scanned infected': { [TAG.status]: 'pending', [GUARDDUTY_SCAN_TAG]: 'THREATS_FOUND' },
};
/** Tag sets a compromised function could write over them. */
const REWRITES: Record<string, Record<string, string>> = {
  pending: PENDING,
  passed: { [TAG.status]: 'passed' },
  failed: { [TAG.status]: 'failed' },
};
const TAGGING = ['s3:PutObjectTagging', 's3:PutObjectVersionTagging'];

const existingCases = Object.entries(EXISTING_TAG_SETS);
const rewriteCases = existingCases.flatMap(([existing, existingTags]) =>
  Object.entries(REWRITES).map(([rewrite, requestTags]) => ({
    existing,
    existingTags,
    rewrite,
    requestTags,
  })),
);

const simulators = {} as Record<Setting, ReturnType<typeof templateSimulator>>;
const copies: ReturnType<typeof packageCopy>[] = [];

beforeAll(async () => {
  await Promise.all(
    SETTINGS.map(async (setting) => {
      const copy = packageCopy(`presign-retagging-${setting}-`);
      copies.push(copy);
      await copy.osls(packageArgs({ malwareScan: setting }));
      simulators[setting] = templateSimulator(copy.template<SimulatedTemplate>());
    }),
  );
}, 240_000);

afterAll(() => {
  for (const copy of copies) copy.remove();
});

describe.each(SETTINGS)('malwareScan: %s', (setting) => {
  const decide = (...args: Parameters<ReturnType<typeof templateSimulator>['decide']>) =>
    simulators[setting].decide(...args);
  /** A tag set the bucket policy keeps to the verdict writers: GuardDuty's tag is a verdict only with guardduty. */
  const guarded = (tags: Record<string, string>) =>
    TAG.status in tags || (setting === 'guardduty' && GUARDDUTY_SCAN_TAG in tags);

  describe.each(UPLOAD_ROLES)('%s', (role) => {
    it.each(rewriteCases)(
      'may not retag an object tagged $existing (writing $rewrite): its own policy does not allow it, and the bucket policy denies it',
      async ({ existingTags, requestTags }) => {
        // Act
        const decision = await decide({
          role,
          action: 's3:PutObjectTagging',
          key: KEY,
          existingTags,
          requestTags,
        });
        const ownPolicyAlone = await decide({
          role,
          action: 's3:PutObjectTagging',
          key: KEY,
          existingTags,
          requestTags,
          withoutBucketPolicy: true,
        });

        // Assert: with malwareScan none, GuardDuty's tag alone is nobody's verdict, and only their own policy refuses.
        expect(decision).toBe(guarded(existingTags) ? 'ExplicitlyDenied' : 'ImplicitlyDenied');
        expect(ownPolicyAlone).toBe('ImplicitlyDenied');
      },
    );

    it.each(existingCases)('may not tag a version of an object tagged %s', async (_name, existingTags) => {
      // Act
      const decision = await decide({
        role,
        action: 's3:PutObjectVersionTagging',
        key: KEY,
        existingTags,
        requestTags: PENDING,
      });

      // Assert
      expect(decision).not.toBe('Allowed');
    });

    it('may create a new key tagged pending: s3:PutObject and s3:PutObjectTagging, as a form POST or CreateMultipartUpload with its tagging is authorized', async () => {
      // Act
      const decisions = await Promise.all(
        ['s3:PutObject', 's3:PutObjectTagging'].map((action) =>
          decide({ role, action, key: KEY, requestTags: PENDING }),
        ),
      );

      // Assert
      expect(decisions).toEqual(['Allowed', 'Allowed']);
    });

    it('may not create a new key tagged otherwise than pending alone (its request-tag conditions hold)', async () => {
      // Act
      const decisions = await Promise.all(
        [{ [TAG.status]: 'passed' }, { ...PENDING, [GUARDDUTY_SCAN_TAG]: 'NO_THREATS_FOUND' }].map(
          (requestTags) => decide({ role, action: 's3:PutObjectTagging', key: KEY, requestTags }),
        ),
      );

      // Assert
      expect(decisions.every((decision) => decision !== 'Allowed')).toBe(true);
    });
  });

  it.each(existingCases)(
    'the validator may still write its verdict on a version tagged %s',
    async (_name, existingTags) => {
      // Arrange: its read-modify-write keeps GuardDuty's tag when there is one.
      const scan = existingTags[GUARDDUTY_SCAN_TAG];
      const verdict = {
        [TAG.status]: 'passed',
        [TAG.detectedType]: 'image/png',
        [TAG.validatedEtag]: '9a0364b9e99bb480dd25e1f0284c8555',
        [TAG.signature]: 'c2lnbmVk',
        ...(scan ? { [GUARDDUTY_SCAN_TAG]: scan } : {}),
      };

      // Act
      const decision = await decide({
        role: VALIDATOR,
        action: 's3:PutObjectVersionTagging',
        key: KEY,
        existingTags,
        requestTags: verdict,
      });

      // Assert
      expect(decision).toBe('Allowed');
    },
  );

  it.each(existingCases)(
    'no other role of the stack may tag an object tagged %s, by key or by version',
    async (_name, existingTags) => {
      // Arrange
      const others = simulators[setting].roles.filter((role) => !JUDGES.includes(role));

      // Act
      const allowed = [];
      for (const role of others) {
        for (const action of TAGGING) {
          const decision = await decide({ role, action, key: KEY, existingTags, requestTags: PENDING });
          if (decision === 'Allowed') allowed.push(`${role} ${action}`);
        }
      }

      // Assert
      expect(others.length).toBeGreaterThan(15);
      expect(allowed).toEqual([]);
    },
  );

  it.each(existingCases)(
    'a principal of this account granted every S3 right outside the stack may not retag or untag an object tagged %s either, where that is a verdict',
    async (_name, existingTags) => {
      // Arrange: an administrator's role, say; the bucket policy binds it too.
      const everything = {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }],
      };

      // Act
      const decisions = await Promise.all(
        [...TAGGING, 's3:DeleteObjectTagging', 's3:DeleteObjectVersionTagging'].map((action) =>
          decide({
            role: 'AccountAdministrator',
            action,
            key: KEY,
            existingTags,
            requestTags: action.startsWith('s3:Delete') ? undefined : { [TAG.status]: 'passed' },
            identityPolicy: everything,
          }),
        ),
      );

      // Assert
      expect(decisions).toEqual(Array(4).fill(guarded(existingTags) ? 'ExplicitlyDenied' : 'Allowed'));
    },
  );

  if (setting === 'guardduty') {
    it.each(existingCases)(
      'GuardDuty’s role may still write its scan result on an object tagged %s, by key or by version',
      async (_name, existingTags) => {
        // Arrange: GuardDuty adds its tag and keeps the others.
        const requestTags = { ...existingTags, [GUARDDUTY_SCAN_TAG]: 'NO_THREATS_FOUND' };

        // Act
        const decisions = await Promise.all(
          TAGGING.map((action) => decide({ role: GUARDDUTY, action, key: KEY, existingTags, requestTags })),
        );

        // Assert
        expect(decisions).toEqual(['Allowed', 'Allowed']);
      },
    );
  }
});
