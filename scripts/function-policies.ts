import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** One IAM policy statement, as written in iam/function-policies.json. */
export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string | string[]>>;
  /** Its Condition in AWS only (Ceph RGW cannot evaluate it for a form POST): left out here. */
  ConditionInAws?: Record<string, Record<string, string | string[]>>;
}

/** One function's entry in iam/function-policies.json (its $comment describes each key). */
export interface FunctionEntry {
  s3?: PolicyStatement[];
  ownerSecret?: boolean;
  shareSecret?: boolean;
  verdictSigningKey?: boolean;
  deadLetterQueue?: boolean;
  consumesUploadEvents?: boolean;
  readsUnvalidated?: boolean;
  invokedByBucket?: boolean;
  deliversWebhooks?: boolean;
  sendsWebhooks?: boolean;
  invokesValidator?: boolean;
}

export type FunctionPolicies = Record<string, PolicyStatement[]>;

const POLICY_FILE = resolve(import.meta.dirname, '..', 'iam', 'function-policies.json');

/** Every function's entry, as the file declares it (iam/roles.cjs checks the format when packaging). */
export function functionEntries(): Record<string, FunctionEntry> {
  const raw = JSON.parse(readFileSync(POLICY_FILE, 'utf8')) as Record<string, FunctionEntry>;
  return Object.fromEntries(Object.entries(raw).filter(([name]) => !name.startsWith('$')));
}

/**
 * Functions whose role may read objects that have not passed validation, in
 * the file's order (the bucket policy gives each a negated operator of its own).
 */
export const READS_UNVALIDATED: readonly string[] = Object.entries(functionEntries())
  .filter(([, entry]) => entry.readsUnvalidated === true)
  .map(([name]) => name);

/** The function that signs verdicts (verdictSigningKey): the only one that may write them. */
export const SIGNS_VERDICTS: string = (() => {
  const signers = Object.entries(functionEntries())
    .filter(([, entry]) => entry.verdictSigningKey === true)
    .map(([name]) => name);
  if (signers.length !== 1 || !signers[0]) {
    throw new Error(
      `iam/function-policies.json: exactly one function signs verdicts, not ${signers.join(', ')}`,
    );
  }
  return signers[0];
})();

/**
 * The S3 statements of every function that has any, with the buckets and
 * partition filled in: the S3 permissions iam/roles.cjs grants in AWS, less
 * the conditions only AWS can evaluate. Ceph RGW has no logs, SSM or SQS, so
 * the other grants of an entry stay out.
 */
export function functionPolicies(
  buckets: { uploads: string; state: string },
  partition = 'aws',
): FunctionPolicies {
  const s3 = Object.entries(functionEntries())
    .filter(([, entry]) => (entry.s3 ?? []).length > 0)
    .map(([name, entry]) => [
      name,
      (entry.s3 ?? []).map(({ ConditionInAws: _aws, ...statement }) => statement),
    ]);
  // CloudFormation Fn::Sub placeholders, filled in as CloudFormation would.
  const filled = JSON.stringify(Object.fromEntries(s3))
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal Fn::Sub placeholder.
    .replaceAll('${UploadsBucket}', buckets.uploads)
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal Fn::Sub placeholder.
    .replaceAll('${StateBucket}', buckets.state)
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal Fn::Sub placeholder.
    .replaceAll('${AWS::Partition}', partition);
  return JSON.parse(filled) as FunctionPolicies;
}
