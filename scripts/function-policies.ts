import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** One IAM policy statement, as written in iam/function-policies.json. */
export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export type FunctionPolicies = Record<string, PolicyStatement[]>;

/** Functions whose role may read objects that have not passed validation. */
export const READS_UNVALIDATED = ['validateUpload', 'getFile'] as const;

const POLICY_FILE = resolve(import.meta.dirname, '..', 'iam', 'function-policies.json');

/**
 * Every function's statements from the one source, with the bucket and
 * partition filled in: the same permissions serverless.yml grants in AWS.
 */
export function functionPolicies(bucket: string, partition = 'aws'): FunctionPolicies {
  const raw = JSON.parse(readFileSync(POLICY_FILE, 'utf8')) as Record<string, unknown>;
  const entries = Object.entries(raw).filter(([name]) => !name.startsWith('$'));
  // CloudFormation Fn::Sub placeholders, filled in as CloudFormation would.
  const filled = JSON.stringify(Object.fromEntries(entries))
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal Fn::Sub placeholder.
    .replaceAll('${UploadsBucket}', bucket)
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal Fn::Sub placeholder.
    .replaceAll('${AWS::Partition}', partition);
  return JSON.parse(filled) as FunctionPolicies;
}
