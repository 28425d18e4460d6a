import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AdminAccess } from './provision.js';

/** Temporary credentials of one role session, as STS hands them out. */
export interface RoleSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/**
 * Returns a function that assumes roles on the local Ceph RGW with the bucket
 * owner's keys (the trust policy names that user), the way Lambda assumes a
 * function's execution role. Throws when STS answers without credentials.
 */
export function roleAssumer(admin: AdminAccess) {
  const sts = new STSClient({
    endpoint: admin.endpoint,
    region: admin.region,
    credentials: { accessKeyId: admin.accessKeyId, secretAccessKey: admin.secretAccessKey },
  });
  return async (roleArn: string, sessionName: string, durationSeconds: number): Promise<RoleSession> => {
    const { Credentials: c } = await sts.send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: sessionName,
        DurationSeconds: durationSeconds,
      }),
    );
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
      throw new Error(`AssumeRole ${roleArn} returned no credentials`);
    }
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    };
  };
}
