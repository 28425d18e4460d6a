import { createRequire } from 'node:module';

/** One IAM policy statement, as written in iam/statements.json (its name as its Sid). */
export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string | string[]>>;
  /** Its Condition in AWS only (Ceph RGW cannot evaluate it for a form POST): left out here. */
  ConditionInAws?: Record<string, Record<string, string | string[]>>;
}

/**
 * One function's declaration: its entry in iam/function-policies.json, its S3 statements filled
 * in (every key is there once read; a caller may pass fewer).
 */
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

/** How a flag's secret is named: the stack param, the variable naming it in AWS, the variable holding it locally. */
export interface SecretSpec {
  sid: string;
  param: string;
  parameterVariable: string;
  valueVariable: string;
}

export type FunctionPolicies = Record<string, PolicyStatement[]>;

interface FunctionDeclarations {
  functionDeclarations(): Record<string, FunctionEntry>;
  verdictSigner(declarations: Record<string, FunctionEntry>): string | undefined;
  flagEnvironment(
    declaration: FunctionEntry,
    options: {
      secret: (spec: SecretSpec) => Record<string, string>;
      webhooks?: { url: string; deliverer: string; senderExtras?: Record<string, string> } | undefined;
      validator?: { name: string; invokerExtras?: Record<string, string> } | undefined;
    },
  ): Record<string, string>;
}

/** The module iam/roles.cjs builds the AWS roles with: the local stack reads the same declarations. */
export const declarations = createRequire(import.meta.url)(
  '../iam/function-declarations.cjs',
) as FunctionDeclarations;

/** Every function's declaration, its statement names filled in from iam/statements.json, checked. */
export const functionEntries = (): Record<string, FunctionEntry> => declarations.functionDeclarations();

/**
 * Functions whose role may read objects that have not passed validation, in
 * the file's order (the bucket policy gives each a negated operator of its own).
 */
export const READS_UNVALIDATED: readonly string[] = Object.entries(functionEntries())
  .filter(([, entry]) => entry.readsUnvalidated)
  .map(([name]) => name);

/** The function that signs verdicts (verdictSigningKey): the only one that may write them. */
export const SIGNS_VERDICTS: string = (() => {
  const signer = declarations.verdictSigner(functionEntries());
  if (!signer) throw new Error('iam/function-policies.json: no function signs verdicts');
  return signer;
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
