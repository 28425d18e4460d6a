// The uploads bucket's read gate and retag guards, built here once for AWS (iam/roles.cjs) and for
// the local Ceph RGW bucket (scripts/provision.ts): nobody but the exempt roles may read an object
// under uploads/ unless it carries each required tag, and once an object carries a verdict's tag
// only the roles that write verdicts may change or remove its tags. The callers name the bucket,
// and who is exempt in their own terms (a template's role ids and ARNs, RGW's role ids).
const { CLEAN_SCAN_RESULT, SCAN_TAG: SCAN_TAG_KEY } = require('./malware-scan.cjs');

/** Reading an object, by key or by version. */
const READ_ACTIONS = ['s3:GetObject', 's3:GetObjectVersion'];
/** Every way to change or remove an object's tags. */
const TAG_WRITES = [
  's3:PutObjectTagging',
  's3:PutObjectVersionTagging',
  's3:DeleteObjectTagging',
  's3:DeleteObjectVersionTagging',
];
/**
 * Ceph RGW evaluates a negated condition with several values wrongly (it denied both roles of
 * `StringNotLike aws:userid [a, b]`), so each exempt role gets an operator of its own.
 * `aws:userid` is always present, so in AWS `StringNotLikeIfExists` means exactly `StringNotLike`.
 */
const EXEMPTION_OPERATORS = ['StringNotLike', 'StringNotLikeIfExists'];

/** The content check's tag: validation-status=passed; the Sids of its statements. */
const VALIDATION_TAG = {
  key: 'validation-status',
  value: 'passed',
  sids: ['DenyReadingUnvalidatedUploads', 'DenyReadingUntaggedUploads'],
  retagSid: 'OnlyVerdictWritersRetagUploads',
};

/** GuardDuty's tag (malwareScan: guardduty): GuardDutyMalwareScanStatus=NO_THREATS_FOUND. */
const SCAN_TAG = {
  key: SCAN_TAG_KEY,
  value: CLEAN_SCAN_RESULT,
  sids: ['DenyReadingUnscannedUploads', 'DenyReadingUnscannedUntaggedUploads'],
  retagSid: 'OnlyVerdictWritersRetagScannedUploads',
};

/**
 * Exempts the roles whose `aws:userid` matches each of `userIds` (`<RoleId>:*` for any session of
 * an assumed role, in AWS and in Ceph RGW alike), a negated operator each; at most two.
 */
function roleExemptions(userIds) {
  if (userIds.length > EXEMPTION_OPERATORS.length) {
    throw new Error('at most two roles may read unvalidated uploads (one negated operator each)');
  }
  return Object.fromEntries(userIds.map((id, index) => [EXEMPTION_OPERATORS[index], { 'aws:userid': id }]));
}

/**
 * The gate's denial of reading `resource` unless it carries `tag`, to everyone but `exemptions`
 * (condition operators). With `untagged`, a second statement denies an object without the tag
 * outright: AWS already denies it with the first, RGW evaluates StringNotEquals on a missing tag
 * as false.
 */
function readGate(resource, tag, exemptions, { untagged = false } = {}) {
  const deny = (Sid, condition) => ({
    Sid,
    Effect: 'Deny',
    Principal: '*',
    Action: READ_ACTIONS,
    Resource: resource,
    Condition: { ...condition, ...exemptions },
  });
  return [
    deny(tag.sids[0], { StringNotEquals: { [`s3:ExistingObjectTag/${tag.key}`]: tag.value } }),
    ...(untagged ? [deny(tag.sids[1], { Null: { [`s3:ExistingObjectTag/${tag.key}`]: 'true' } })] : []),
  ];
}

/**
 * Once an object under `resource` carries `tag`'s key (pending included), nobody but `exemptions`
 * may change or remove its tags: a tag set written over it would wipe a verdict. A create of a new
 * key is not caught: no tags exist yet. `StringLike '*'` says the tag is there (Ceph RGW's Null
 * operator ignores its value).
 */
function retagGuard(resource, tag, exemptions) {
  return {
    Sid: tag.retagSid,
    Effect: 'Deny',
    Principal: '*',
    Action: TAG_WRITES,
    Resource: resource,
    Condition: { StringLike: { [`s3:ExistingObjectTag/${tag.key}`]: '*' }, ...exemptions },
  };
}

module.exports = { VALIDATION_TAG, SCAN_TAG, roleExemptions, readGate, retagGuard };
