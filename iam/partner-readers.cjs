// Partner readers: principals of other AWS accounts that read passed uploads
// straight from S3 with their own temporary credentials. One source for AWS
// (iam/roles.cjs puts the statements into the uploads bucket's policy, or into
// a role of this account the partner assumes) and for the local Ceph stack
// (scripts/partner-readers.ts). The deployment parameter `partnerReaders` is a
// JSON list (or the path of a file holding one) of entries:
//   principalArn  an account root (arn:aws:iam::111122223333:root) or a role
//                 (arn:aws:iam::111122223333:role/path/name) of the partner's account
//   prefix        optional: uploads/<owner segment>/ narrows the grant to one owner's files
//                 (default uploads/: every file)
//   role          optional, true: instead of naming the principal in the bucket policy,
//                 create a role in this account that the principal may assume
//   externalId    optional, with role only: the sts:ExternalId the partner must pass
// A partner may read (GetObject, GetObjectVersion) and list (ListBucket, that prefix
// only); nothing else. The bucket policy's read gate applies to partners as to
// everyone: a version not tagged validation-status=passed is never served.
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { resolve } = require('node:path');

const KEYS = ['principalArn', 'prefix', 'role', 'externalId'];
/** An account root or a role; a path may precede a role's name. No wildcards, users or sessions. */
const PRINCIPAL =
  /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12})?:(root|role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64})$/;
/** uploads/, or one owner segment under it (32 lowercase hex characters, as lib/core/owner.ts makes them). */
const PREFIX = /^uploads\/(?:[0-9a-f]{32}\/?)?$/;
/** What STS accepts as an ExternalId. */
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
/** The read actions a partner gets: a key's current version, or a version it names. */
const READ_ACTIONS = ['s3:GetObject', 's3:GetObjectVersion'];

const fail = (message) => {
  throw new Error(`partnerReaders: ${message}`);
};

/** The text of the parameter: a JSON list, or the path of a file holding one (relative to `baseDir`). */
function readParameter(value, baseDir) {
  const text = String(value ?? '').trim();
  if (text === '') return [];
  if (text.startsWith('[') || text.startsWith('{')) {
    try {
      return JSON.parse(text);
    } catch (error) {
      return fail(`not valid JSON (${error.message})`);
    }
  }
  const file = resolve(baseDir, text);
  let content;
  try {
    content = readFileSync(file, 'utf8');
  } catch {
    return fail(`expected a JSON list or the path of a file holding one; cannot read ${file}`);
  }
  try {
    return JSON.parse(content);
  } catch (error) {
    return fail(`${file} is not valid JSON (${error.message})`);
  }
}

/**
 * The entries of `value` (the parameter), checked and normalized: a bad entry
 * fails packaging with what is wrong, never grants less or more than written.
 * `options.localAccount` accepts ARNs with an empty account (Ceph RGW's own).
 */
function parsePartnerReaders(value, options = {}) {
  const raw = readParameter(value, options.baseDir ?? process.cwd());
  if (!Array.isArray(raw)) fail('expected a list of { principalArn, prefix?, role?, externalId? }');
  const seen = new Set();
  return raw.map((entry, index) => {
    const where = `entry ${index}`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      fail(`${where}: expected an object`);
    for (const key of Object.keys(entry)) {
      if (!KEYS.includes(key)) fail(`${where}: unknown key ${key} (expected ${KEYS.join(', ')})`);
    }
    const { principalArn, prefix = 'uploads/', role = false, externalId } = entry;
    const match = typeof principalArn === 'string' ? PRINCIPAL.exec(principalArn) : null;
    if (!match || (match[2] === undefined && !options.localAccount)) {
      fail(
        `${where}: principalArn must be an account root (arn:aws:iam::<12 digits>:root) or a role ` +
          `(arn:aws:iam::<12 digits>:role/<name>), not ${JSON.stringify(principalArn)}`,
      );
    }
    if (typeof prefix !== 'string' || !PREFIX.test(prefix)) {
      fail(
        `${where}: prefix must be uploads/ or uploads/<owner segment>/ (32 lowercase hex characters), ` +
          `not ${JSON.stringify(prefix)}`,
      );
    }
    if (typeof role !== 'boolean') fail(`${where}: role must be true or false`);
    if (externalId !== undefined) {
      if (!role)
        fail(`${where}: externalId applies to role: true only (it is a condition of assuming a role)`);
      if (typeof externalId !== 'string' || !EXTERNAL_ID.test(externalId)) {
        fail(`${where}: externalId must be 2 to 1224 characters of letters, digits and +=,.@:/-_`);
      }
    }
    const normalized = prefix.endsWith('/') ? prefix : `${prefix}/`;
    const identity = `${principalArn}\n${normalized}\n${role ? 'role' : 'bucket-policy'}`;
    if (seen.has(identity)) fail(`${where}: repeats an earlier entry`);
    seen.add(identity);
    const id = createHash('sha256').update(identity).digest('hex').slice(0, 10).toUpperCase();
    return { id, principalArn, prefix: normalized, role, ...(externalId ? { externalId } : {}) };
  });
}

/**
 * What one entry may do, as IAM statements: read any version of a key under
 * its prefix, and list that prefix only. `arn(suffix)` is the uploads
 * bucket's ARN with `suffix` appended, in whichever form the caller needs
 * (CloudFormation intrinsic, or plain text). With `principal`, for a bucket policy.
 */
function readStatements(entry, arn, principal) {
  const who = principal ? { Principal: { AWS: entry.principalArn } } : {};
  return [
    {
      Sid: `PartnerRead${entry.id}`,
      Effect: 'Allow',
      ...who,
      Action: READ_ACTIONS,
      Resource: arn(`/${entry.prefix}*`),
    },
    {
      Sid: `PartnerList${entry.id}`,
      Effect: 'Allow',
      ...who,
      Action: ['s3:ListBucket'],
      Resource: arn(''),
      Condition: { StringLike: { 's3:prefix': `${entry.prefix}*` } },
    },
  ];
}

/** The bucket-policy statements of every entry that names its principal there (none for an empty list). */
function partnerBucketStatements(entries, arn) {
  return entries.filter((entry) => !entry.role).flatMap((entry) => readStatements(entry, arn, true));
}

/** The trust policy of an entry's role: its principal may assume it, with its ExternalId when it has one. */
function partnerTrustPolicy(entry) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: entry.principalArn },
        Action: 'sts:AssumeRole',
        ...(entry.externalId ? { Condition: { StringEquals: { 'sts:ExternalId': entry.externalId } } } : {}),
      },
    ],
  };
}

/** The permission policy of an entry's role: the same reads and listing, nothing more. */
function partnerRolePolicy(entry, arn) {
  return { Version: '2012-10-17', Statement: readStatements(entry, arn, false) };
}

/** `PartnerReader<id>Role`: the logical id (and, locally, the name's suffix) of an entry's role. */
const partnerRoleName = (entry) => `PartnerReader${entry.id}Role`;

module.exports = {
  READ_ACTIONS,
  parsePartnerReaders,
  partnerBucketStatements,
  partnerTrustPolicy,
  partnerRolePolicy,
  partnerRoleName,
};
