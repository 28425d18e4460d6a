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
import { functionPolicies, READS_UNVALIDATED } from './function-policies.js';

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
  rolePrefix: string;
}

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
 * Ceph RGW evaluates a negated condition with several values wrongly (it
 * denied both roles of `StringNotLike aws:userid [a, b]`), so each exempt role
 * gets an operator of its own. `aws:userid` is always present, so in AWS
 * `StringNotLikeIfExists` means exactly `StringNotLike`.
 */
const EXEMPTION_OPERATORS = ['StringNotLike', 'StringNotLikeIfExists'] as const;

/**
 * The uploads bucket's policy: nobody but the roles that must judge or
 * describe unvalidated files (readsUnvalidated in iam/function-policies.json)
 * can read an object under uploads/ unless it is tagged
 * validation-status=passed, so a leaked presigned GET cannot serve it.
 * Roles are exempted by `aws:userid` (`<RoleId>:<session>` for an assumed
 * role, in AWS and in Ceph RGW alike); RGW does not know `aws:PrincipalArn`.
 */
export function gatedReadPolicy(bucket: string, exemptRoleIds: string[]) {
  if (exemptRoleIds.length > EXEMPTION_OPERATORS.length) throw new Error('at most two roles can be exempt');
  const exemptions = Object.fromEntries(
    exemptRoleIds.map((id, index) => [EXEMPTION_OPERATORS[index], { 'aws:userid': `${id}:*` }]),
  );
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DenyReadingUnvalidatedUploads',
        Effect: 'Deny',
        Principal: '*',
        Action: ['s3:GetObject', 's3:GetObjectVersion'],
        Resource: `arn:aws:s3:::${bucket}/uploads/*`,
        Condition: {
          StringNotEquals: { 's3:ExistingObjectTag/validation-status': 'passed' },
          ...exemptions,
        },
      },
      {
        // AWS already denies an untagged object above; RGW evaluates StringNotEquals on a
        // missing tag as false, so say it outright.
        Sid: 'DenyReadingUntaggedUploads',
        Effect: 'Deny',
        Principal: '*',
        Action: ['s3:GetObject', 's3:GetObjectVersion'],
        Resource: `arn:aws:s3:::${bucket}/uploads/*`,
        Condition: {
          Null: { 's3:ExistingObjectTag/validation-status': 'true' },
          ...exemptions,
        },
      },
    ],
  };
}

/**
 * Creates what the local stack needs on Ceph RGW, idempotently: the uploads
 * bucket, versioned, with CORS and the tag-gated read policy; the state bucket,
 * unversioned (RGW honours conditional writes only there); one role per function that has S3
 * statements with those statements, and the ObjectCreated notification to
 * the bridge. Returns each such function's role ARN.
 */
export async function provision(settings: ProvisionSettings): Promise<Record<string, string>> {
  const { admin, bucket, stateBucket } = settings;
  const s3 = adminS3Client(admin);
  const iam = new IAMClient(clientConfig(admin));
  const sns = new SNSClient(clientConfig(admin));

  for (const name of [bucket, stateBucket]) {
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
  for (const [fn, statements] of Object.entries(functionPolicies({ uploads: bucket, state: stateBucket }))) {
    const RoleName = `${settings.rolePrefix}-${fn}`;
    const created = await iam
      .send(
        new CreateRoleCommand({
          RoleName,
          AssumeRolePolicyDocument: assumeRolePolicy,
          MaxSessionDuration: 43200,
        }),
      )
      .catch(ignoreExisting(['EntityAlreadyExists', 'EntityAlreadyExistsException']));
    const role = created?.Role ?? (await iam.send(new GetRoleCommand({ RoleName }))).Role;
    if (!role?.Arn || !role.RoleId) throw new Error(`role ${RoleName} has no ARN or id`);
    await iam.send(
      new PutRolePolicyCommand({
        RoleName,
        PolicyName: `${fn}-s3`,
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: statements }),
      }),
    );
    roleArns[fn] = role.Arn;
    roleIds[fn] = role.RoleId;
  }

  const exempt = READS_UNVALIDATED.map((fn) => roleIds[fn]).filter((id): id is string => Boolean(id));
  await s3.send(
    new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(gatedReadPolicy(bucket, exempt)) }),
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
  return roleArns;
}
