import { createRequire } from 'node:module';
import { CreateRoleCommand, GetRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  PutBucketCorsCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  functionPolicies,
  type PolicyStatement,
  READS_UNVALIDATED,
  SIGNS_VERDICTS,
} from './function-policies.js';
import {
  bucketArn,
  LOCAL_PARTNER_ROLE,
  LOCAL_PARTNER_USER,
  localPartnerRoleName,
  type PartnerEntry,
  partnerBuilder,
} from './partner-readers.js';

export interface AdminAccess {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export interface ProvisionSettings {
  admin: AdminAccess;
  bucket: string;
  /** The unversioned bucket of share epochs. */
  stateBucket: string;
  allowedOrigins: string[];
  /** Where RGW pushes ObjectCreated events (the local event bridge). */
  pushEndpoint: string;
  /**
   * A bucket of its own whose ObjectCreated events go to the uploads' topic:
   * an object put there shows when RGW pushes that topic's queue.
   */
  readinessProbeBucket?: string;
  rolePrefix: string;
  /** Partner readers (iam/partner-readers.cjs entries): the local partner account's grants. */
  partnerReaders?: PartnerEntry[];
  /** `guardduty`: the GuardDuty emulator's role, and the read gate requiring GuardDuty's clean tag too. */
  malwareScan?: 'none' | 'guardduty';
}

/** The roles provisioning made: each function's with S3 statements, and the GuardDuty emulator's. */
export interface ProvisionedRoles {
  functions: Record<string, string>;
  /** With malwareScan `guardduty`: the role the local GuardDuty emulator reads and tags with. */
  scanner?: string;
}

interface MalwareScanBuilder {
  scanAndTagStatements(arn: (suffix: string) => string): PolicyStatement[];
}

/** The builder of the template's malware check: the local GuardDuty emulator's role comes from it. */
const malwareScan = createRequire(import.meta.url)('../iam/malware-scan.cjs') as MalwareScanBuilder;

const clientConfig = (admin: AdminAccess) => ({
  endpoint: admin.endpoint,
  region: admin.region,
  credentials: { accessKeyId: admin.accessKeyId, secretAccessKey: admin.secretAccessKey },
});

/** The bucket owner's S3 client on the local RGW (path-style, the admin user's keys). */
export const adminS3Client = (admin: AdminAccess): S3Client =>
  new S3Client({ ...clientConfig(admin), forcePathStyle: true });

const ignoreExisting = (names: string[]) => (error: unknown) => {
  if (error instanceof Error && names.includes(error.name)) return undefined;
  throw error;
};

/**
 * CreateRole of a role that exists: RGW answers 409 with an S3-shaped error
 * body the SDK cannot name (`Unknown`), so the status is what tells it.
 */
const ignoreExistingRole = (error: unknown) => {
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  if (status === 409) return undefined;
  return ignoreExisting(['EntityAlreadyExists', 'EntityAlreadyExistsException'])(error);
};

/** One tag a version must carry for the read gate to serve it. */
export interface RequiredTag {
  key: string;
  value: string;
  /** The Sids of its two statements: the tag with another value, and no such tag. */
  sids: [string, string];
  /** The Sid of the statement that keeps the tag's object to the verdict writers once it is there. */
  retagSid: string;
}

type Conditions = Record<string, Record<string, string>>;

interface ReadGateBuilder {
  VALIDATION_TAG: RequiredTag;
  SCAN_TAG: RequiredTag;
  roleExemptions(userIds: string[]): Conditions;
  readGate(
    resource: string,
    tag: RequiredTag,
    exemptions: Conditions,
    options?: { untagged?: boolean },
  ): Record<string, unknown>[];
  retagGuard(resource: string, tag: RequiredTag, exemptions: Conditions): Record<string, unknown>;
}

/** The builder of the template's read gate and retag guards: the local bucket's come from it too. */
const readGates = createRequire(import.meta.url)('../iam/read-gate.cjs') as ReadGateBuilder;

/** The content check's tag: validation-status=passed. */
export const VALIDATION_TAG: RequiredTag = readGates.VALIDATION_TAG;

/** GuardDuty's tag (with MALWARE_SCAN=guardduty), named as iam/malware-scan.cjs names it for AWS. */
export const SCAN_TAG: RequiredTag = readGates.SCAN_TAG;

/** The session name the local GuardDuty emulator always uses with its role (its read-gate exemption names it). */
export const SCANNER_SESSION = 'guardduty-emulator';

/** The GuardDuty emulator's exemption: its one session, with a third operator of its own. */
const scannerExemption = (scannerRoleId: string | undefined): Conditions =>
  scannerRoleId ? { StringNotEqualsIfExists: { 'aws:userid': `${scannerRoleId}:${SCANNER_SESSION}` } } : {};

/**
 * The uploads bucket's policy: nobody but the roles that must judge or
 * describe unvalidated files (readsUnvalidated in iam/function-policies.json)
 * can read an object under uploads/ unless it carries every required tag
 * (validation-status=passed; with the malware check also
 * GuardDutyMalwareScanStatus=NO_THREATS_FOUND), so a leaked presigned GET
 * cannot serve it: iam/read-gate.cjs's gate, as AWS has it, plus a statement
 * per tag for an object without it. Roles are exempted by `aws:userid`
 * (`<RoleId>:<session>`); RGW does not know `aws:PrincipalArn`. The scanner's
 * role (the GuardDuty emulator) is exempt too, by its one session: it reads
 * versions before either verdict.
 */
export function gatedReadPolicy(
  bucket: string,
  exemptRoleIds: string[],
  options: { requiredTags?: RequiredTag[]; scannerRoleId?: string } = {},
) {
  const exemptions = {
    ...readGates.roleExemptions(exemptRoleIds.map((id) => `${id}:*`)),
    ...scannerExemption(options.scannerRoleId),
  };
  return {
    Version: '2012-10-17',
    Statement: (options.requiredTags ?? [VALIDATION_TAG]).flatMap((tag) =>
      readGates.readGate(`arn:aws:s3:::${bucket}/uploads/*`, tag, exemptions, { untagged: true }),
    ),
  };
}

/**
 * The uploads bucket's guard of verdicts, as iam/read-gate.cjs builds it for
 * AWS: once an object under uploads/ carries a required tag's key (pending
 * included), nobody but the validator's role (and the GuardDuty emulator's
 * session) may change or remove its tags. Roles are exempted by `aws:userid`,
 * an operator each, as in the read gate.
 */
export function retagGuardStatements(
  bucket: string,
  validatorRoleId: string,
  options: { requiredTags?: RequiredTag[]; scannerRoleId?: string } = {},
) {
  const exemptions = {
    ...readGates.roleExemptions([`${validatorRoleId}:*`]),
    ...scannerExemption(options.scannerRoleId),
  };
  return (options.requiredTags ?? [VALIDATION_TAG]).map((tag) =>
    readGates.retagGuard(`arn:aws:s3:::${bucket}/uploads/*`, tag, exemptions),
  );
}

/**
 * The partner side of the local stack, idempotently: the role the partner
 * account reads with (trusting the partner user, holding no policy of its own,
 * so that the uploads bucket's policy is all that grants it anything; Ceph
 * RGW 16 has no accounts, and in one tenant either side's Allow would do),
 * and for each entry with `role: true` the role of this account it may
 * assume, with the builder's trust and read policy.
 */
async function provisionPartnerRoles(
  iam: IAMClient,
  bucket: string,
  rolePrefix: string,
  partners: PartnerEntry[],
): Promise<void> {
  if (partners.length === 0) return;
  const createRole = (RoleName: string, trust: unknown) =>
    iam
      .send(
        new CreateRoleCommand({
          RoleName,
          AssumeRolePolicyDocument: JSON.stringify(trust),
          MaxSessionDuration: 3600,
        }),
      )
      .catch(ignoreExistingRole);
  await createRole(LOCAL_PARTNER_ROLE, {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: [`arn:aws:iam:::user/${LOCAL_PARTNER_USER}`] },
        Action: ['sts:AssumeRole'],
      },
    ],
  });
  for (const entry of partners.filter((candidate) => candidate.role)) {
    const RoleName = localPartnerRoleName(entry, rolePrefix);
    await createRole(RoleName, partnerBuilder.partnerTrustPolicy(entry));
    await iam.send(
      new PutRolePolicyCommand({
        RoleName,
        PolicyName: 'read-passed-uploads',
        PolicyDocument: JSON.stringify(partnerBuilder.partnerRolePolicy(entry, bucketArn(bucket))),
      }),
    );
  }
}

/**
 * Creates what the local stack needs on Ceph RGW, idempotently: the uploads
 * bucket, versioned, with CORS and the tag-gated read policy; the state bucket,
 * unversioned (RGW honours conditional writes only there); one role per function that has S3
 * statements with those statements, the partner readers' grants (their
 * bucket-policy statements and roles), and the ObjectCreated notification to
 * the bridge; with malwareScan `guardduty` the GuardDuty emulator's role and a
 * read gate requiring GuardDuty's clean tag as well. Returns the roles' ARNs (not the partners').
 */
export async function provision(settings: ProvisionSettings): Promise<ProvisionedRoles> {
  const { admin, bucket, stateBucket } = settings;
  const s3 = adminS3Client(admin);
  const iam = new IAMClient(clientConfig(admin));
  const sns = new SNSClient(clientConfig(admin));

  const probeBucket = settings.readinessProbeBucket;
  for (const name of [bucket, stateBucket, ...(probeBucket ? [probeBucket] : [])]) {
    await s3
      .send(new CreateBucketCommand({ Bucket: name }))
      .catch(ignoreExisting(['BucketAlreadyOwnedByYou', 'BucketAlreadyExists']));
  }
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
  );
  await s3.send(
    new PutBucketCorsCommand({
      Bucket: bucket,
      CORSConfiguration: {
        CORSRules: [
          {
            AllowedOrigins: settings.allowedOrigins,
            AllowedMethods: ['POST', 'PUT', 'GET', 'HEAD'],
            AllowedHeaders: ['*'],
            ExposeHeaders: ['ETag', 'Location'],
            MaxAgeSeconds: 600,
          },
        ],
      },
    }),
  );

  const assumeRolePolicy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: ['arn:aws:iam:::user/presign-admin'] },
        Action: ['sts:AssumeRole'],
      },
    ],
  });
  const roleArns: Record<string, string> = {};
  const roleIds: Record<string, string> = {};
  const ensureRole = async (RoleName: string, PolicyName: string, statements: unknown[]) => {
    const created = await iam
      .send(
        new CreateRoleCommand({
          RoleName,
          AssumeRolePolicyDocument: assumeRolePolicy,
          MaxSessionDuration: 43200,
        }),
      )
      .catch(ignoreExistingRole);
    const role = created?.Role ?? (await iam.send(new GetRoleCommand({ RoleName }))).Role;
    if (!role?.Arn || !role.RoleId) throw new Error(`role ${RoleName} has no ARN or id`);
    await iam.send(
      new PutRolePolicyCommand({
        RoleName,
        PolicyName,
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: statements }),
      }),
    );
    return { arn: role.Arn, id: role.RoleId };
  };
  for (const [fn, statements] of Object.entries(functionPolicies({ uploads: bucket, state: stateBucket }))) {
    const role = await ensureRole(`${settings.rolePrefix}-${fn}`, `${fn}-s3`, statements);
    roleArns[fn] = role.arn;
    roleIds[fn] = role.id;
  }
  // GuardDuty's role in AWS, as far as objects go: read and tag under uploads/ (iam/malware-scan.cjs).
  const scanner =
    settings.malwareScan === 'guardduty'
      ? await ensureRole(
          `${settings.rolePrefix}-malwareProtection`,
          'malware-protection-s3',
          malwareScan.scanAndTagStatements(bucketArn(bucket)),
        )
      : undefined;

  const exempt = READS_UNVALIDATED.map((fn) => roleIds[fn]).filter((id): id is string => Boolean(id));
  const partners = settings.partnerReaders ?? [];
  await provisionPartnerRoles(iam, bucket, settings.rolePrefix, partners);
  const tagOptions = {
    requiredTags: scanner ? [VALIDATION_TAG, SCAN_TAG] : [VALIDATION_TAG],
    ...(scanner ? { scannerRoleId: scanner.id } : {}),
  };
  const policy = gatedReadPolicy(bucket, exempt, tagOptions);
  const validatorRoleId = roleIds[SIGNS_VERDICTS];
  if (!validatorRoleId) throw new Error(`no role for ${SIGNS_VERDICTS}, which signs verdicts`);
  await s3.send(
    new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: JSON.stringify({
        ...policy,
        Statement: [
          ...policy.Statement,
          ...retagGuardStatements(bucket, validatorRoleId, tagOptions),
          ...partnerBuilder.partnerBucketStatements(partners, bucketArn(bucket)),
        ],
      }),
    }),
  );

  const topic = await sns.send(
    new CreateTopicCommand({
      Name: `${bucket}-object-created`,
      Attributes: { 'push-endpoint': settings.pushEndpoint, persistent: 'true' },
    }),
  );
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {
        TopicConfigurations: [
          {
            Id: 'validate-uploads',
            TopicArn: topic.TopicArn,
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'uploads/' }] } },
          },
        ],
      },
    }),
  );
  if (probeBucket) {
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: probeBucket,
        NotificationConfiguration: {
          TopicConfigurations: [
            { Id: 'readiness-probe', TopicArn: topic.TopicArn, Events: ['s3:ObjectCreated:*'] },
          ],
        },
      }),
    );
  }
  return { functions: roleArns, ...(scanner ? { scanner: scanner.arn } : {}) };
}
