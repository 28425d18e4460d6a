import { createRequire } from 'node:module';
import { ownerFromSubject, ownerKeyFrom } from '../lib/core/owner.js';
import { devOwnerSecret } from './dev-keys.js';

/** One entry of `partnerReaders`, as iam/partner-readers.cjs checks and normalizes it. */
export interface PartnerEntry {
  /** Ten hex characters derived from the entry: its statements' Sids and its role's name. */
  id: string;
  principalArn: string;
  /** `uploads/` or `uploads/<owner segment>/`. */
  prefix: string;
  /** True: the partner assumes a role of this account instead of being named in the bucket policy. */
  role: boolean;
  externalId?: string;
}

/** An IAM statement the builder makes (resources as plain ARNs here). */
export interface PartnerStatement {
  Sid: string;
  Effect: 'Allow';
  Principal?: { AWS: string };
  Action: string[] | string;
  Resource: string;
  Condition?: Record<string, Record<string, string>>;
}

interface PolicyDocument<S> {
  Version: string;
  Statement: S[];
}

interface Builder {
  READ_ACTIONS: string[];
  parsePartnerReaders(value: unknown, options?: { localAccount?: boolean; baseDir?: string }): PartnerEntry[];
  partnerBucketStatements(entries: PartnerEntry[], arn: (suffix: string) => string): PartnerStatement[];
  partnerTrustPolicy(entry: PartnerEntry): PolicyDocument<Record<string, unknown>>;
  partnerRolePolicy(entry: PartnerEntry, arn: (suffix: string) => string): PolicyDocument<PartnerStatement>;
  partnerRoleName(entry: PartnerEntry): string;
}

/** The builder iam/roles.cjs uses for AWS: the local stack's partner grants come from the same code. */
export const partnerBuilder = createRequire(import.meta.url)('../iam/partner-readers.cjs') as Builder;

/** The local partner account's user (scripts/ceph-rgw.sh creates it, with no caps). */
export const LOCAL_PARTNER_USER = 'presign-partner';
/** The role the local partner reads with, in "its" account: created for it by provisioning. */
export const LOCAL_PARTNER_ROLE = 'presign-partner-reader';
/** The owner whose files the local partner may read (its segment is the entries' prefix). */
export const LOCAL_PARTNER_OWNER_SUB = 'partner-demo|owner';

/** The prefix of the local partner's grants: the owner segment the local stack makes of its sub. */
export const localPartnerPrefix = (): string =>
  `uploads/${ownerFromSubject(LOCAL_PARTNER_OWNER_SUB, ownerKeyFrom(devOwnerSecret())).segment}/`;

/**
 * The local stack's `partnerReaders`: the partner's role named in the bucket
 * policy, and the same role allowed to assume an owner-side role. Both are
 * narrowed to one owner's files. No ExternalId: Ceph RGW 16 cannot evaluate
 * `sts:ExternalId` (docs/rgw-notes.md).
 */
export function localPartnerReaders(): PartnerEntry[] {
  const principalArn = `arn:aws:iam:::role/${LOCAL_PARTNER_ROLE}`;
  const prefix = localPartnerPrefix();
  return partnerBuilder.parsePartnerReaders(
    JSON.stringify([
      { principalArn, prefix },
      { principalArn, prefix, role: true },
    ]),
    { localAccount: true },
  );
}

/** The name of an entry's owner-side role on the local gateway. */
export const localPartnerRoleName = (entry: PartnerEntry, rolePrefix: string): string =>
  `${rolePrefix}-${partnerBuilder.partnerRoleName(entry)}`;

/** The uploads bucket's ARN with `suffix`, as a plain string. */
export const bucketArn =
  (bucket: string) =>
  (suffix: string): string =>
    `arn:aws:s3:::${bucket}${suffix}`;
