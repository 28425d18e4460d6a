// The stack `osls package` produces for AWS, read from the packaged template:
// least privilege per function (each role holds exactly what its entry of
// iam/function-policies.json declares), both buckets' protections, the
// validator's trigger and dead-letter queue, and the bundles. One package run,
// in a copy of the repository (never in the working tree, where the local
// stack's serverless offline owns .esbuild), with no AWS credentials at all.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FunctionEntry,
  functionEntries,
  functionPolicies,
  type PolicyStatement,
} from '../../../scripts/function-policies.js';
import { DEPLOY_PARAMS, packageCopy, paramArgs } from '../../support/package-copy.js';
import { TEST_VERDICT_KEYS } from '../../support/verdict-keys.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const STAGE = 'prod';
const BUCKET = `presign-${STAGE}-uploads`;
const SHARE_SECRET_PARAMETER = `/presign/${STAGE}/share-secret`;
const OWNER_SECRET_PARAMETER = `/presign/${STAGE}/owner-secret`;
const VERDICT_SIGNING_KEY_PARAMETER = `/presign/${STAGE}/verdict-signing-key`;
const WEBHOOK_SECRET_PARAMETER = `/presign/${STAGE}/webhook-secret`;
/** The stage is packaged with webhooks on (param webhookUrl); roles.test.ts shows what an empty one leaves out. */
const WEBHOOK_URL = 'https://hooks.example.com/presign';
const DELIVERER = `presign-${STAGE}-deliverWebhook`;
const VALIDATOR = `presign-${STAGE}-validateUpload`;
/** How `render` writes the state bucket's Ref: CloudFormation names that bucket. */
const STATE_BUCKET = '<Ref StateBucket>';
/** Planted in the packaging environment: none of it may reach the template. */
const CANARY_SECRETS = {
  SHARE_SECRET: 'canary-share-secret-from-the-shell-0123456789abcdef',
  PRESIGN_LOCAL_SHARE_SECRET: 'canary-local-share-secret-0123456789abcdef012345',
  VERDICT_SIGNING_KEY: 'canary-verdict-signing-key-from-the-shell-0123456789abcdef',
  PRESIGN_LOCAL_VERDICT_SIGNING_KEY: 'canary-local-verdict-signing-key-0123456789abcdef',
  OWNER_SECRET: 'canary-owner-secret-from-the-shell-0123456789abcdef',
  PRESIGN_LOCAL_OWNER_SECRET: 'canary-local-owner-secret-0123456789abcdef012345',
  WEBHOOK_SECRET: 'whsec_Y2FuYXJ5LXdlYmhvb2stc2VjcmV0LWZyb20tc2hlbGw=',
  PRESIGN_LOCAL_WEBHOOK_SECRET: 'whsec_Y2FuYXJ5LWxvY2FsLXdlYmhvb2stc2VjcmV0LTAxMjM=',
};
/** The validator's public key, as a deployer passes it (param verdictPublicKey): every function checks verdicts with it. */
const VERDICT_PUBLIC_KEY = TEST_VERDICT_KEYS.publicKey;
/** CloudFormation pseudo parameters, as `render` keeps them. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation pseudo parameter.
const PARTITION = '${AWS::Partition}';
// biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation pseudo parameter.
const REGION = '${AWS::Region}';
// biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation pseudo parameter.
const ACCOUNT = '${AWS::AccountId}';
/**
 * What a shell that ran the local stack may still export: the functions read none of it (every
 * deploy-time setting is a param), so none of it may reach the template.
 */
const STRAY_SHELL = {
  UPLOADS_BUCKET: 'canary-stray-uploads-bucket',
  STATE_BUCKET: 'canary-stray-state-bucket',
  S3_ENDPOINT: 'http://canary-stray-endpoint.example:7481',
  AUTH_ISSUER: 'https://canary-stray-issuer.example/',
  AUTH_AUDIENCE: 'canary-stray-audience',
  AUTH_JWKS_URL: 'https://canary-stray-issuer.example/jwks.json',
  AUTH_JWKS: '{"keys":[{"kid":"canary-stray-jwks"}]}',
  ALLOWED_ORIGINS: 'https://canary-stray-origin.example',
  UPLOAD_URL_TTL_SECONDS: '777',
  PUBLIC_API_URL: 'https://canary-stray-api.example',
  QUOTA_BYTES_PER_OWNER: '7777777',
  UPLOADS_PER_HOUR_PER_OWNER: '7777',
  MALWARE_SCAN: 'guardduty',
  UPLOAD_RATE_WINDOW_SECONDS: '77',
  RESERVATION_GRACE_SECONDS: '77',
  PENDING_SWEEP_AFTER_SECONDS: '77',
  PRESIGN_LOCAL_FUNCTION_TIMEOUT: '77',
};
/** The limits a deployer sets (README: Limits), as `--param`s of the package run. */
const LIMIT_PARAMS = {
  quotaBytesPerOwner: '10737418240',
  uploadsPerHourPerOwner: '500',
  apiThrottlingRateLimit: '50',
  apiThrottlingBurstLimit: '75',
  validatorReservedConcurrency: '7',
};

const FUNCTIONS = [
  'health',
  'webPage',
  'openApi',
  'createUpload',
  'createMultipartUpload',
  'signUploadParts',
  'listUploadParts',
  'completeUpload',
  'abortUpload',
  'getUsage',
  'getFile',
  'listFiles',
  'deleteFile',
  'createDownloadUrl',
  'createShare',
  'openShare',
  'revokeShares',
  'validateUpload',
  'deliverWebhook',
  'sweepPendingUploads',
] as const;
type FunctionName = (typeof FUNCTIONS)[number];
/** Handler files are kebab-case: `createUpload` lives in handlers/create-upload.ts. */
const handlerFile = (fn: FunctionName) => fn.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/** Every action each role may take. Anything wider must change this map on purpose. */
const LOGS = ['logs:CreateLogStream', 'logs:PutLogEvents'];
/** Reading a file: list its key's versions, then read the first one's tags and HEAD, by version only. */
const READ_VERSIONS = [
  's3:GetObjectVersion',
  's3:GetObjectVersionTagging',
  's3:ListBucket',
  's3:ListBucketVersions',
];
/** A share epoch, in the state bucket (s3:ListBucket there tells a missing epoch from a forbidden one). */
const READ_EPOCHS = ['s3:GetObject'];
/** A multipart upload's record in the state bucket (ListBucket tells a missing one from a forbidden one). */
const READ_RECORDS = ['s3:GetObject', 's3:ListBucket'];
const SECRET_READ = ['kms:Decrypt', 'ssm:GetParameter'];
/**
 * An owner's usage in the state bucket (read, then written by compare-and-swap; ListBucket tells
 * none yet from forbidden), and whether a lapsed reservation's upload landed (a version listing).
 */
const CHANGE_USAGE = ['s3:GetObject', 's3:PutObject', 's3:ListBucket', 's3:ListBucketVersions'];
/** The functions that change an owner's usage: they alone may touch `usage/` in the state bucket. */
const USAGE_WRITERS: readonly FunctionName[] = [
  'createUpload',
  'createMultipartUpload',
  'abortUpload',
  'getUsage',
  'deleteFile',
  'validateUpload',
];
/** The functions that turn a bearer token into an owner: they alone hold the owner secret. */
const OWNER_SECRET_READERS: readonly FunctionName[] = [
  'createUpload',
  'createMultipartUpload',
  'signUploadParts',
  'listUploadParts',
  'completeUpload',
  'abortUpload',
  'getUsage',
  'getFile',
  'listFiles',
  'deleteFile',
  'createDownloadUrl',
  'createShare',
  'revokeShares',
];
const EXPECTED_ACTIONS: Record<FunctionName, string[]> = {
  health: LOGS,
  webPage: LOGS,
  openApi: LOGS,
  // The bearer functions read the owner secret (SSM + KMS) to make owner segments.
  createUpload: [...LOGS, 's3:PutObject', 's3:PutObjectTagging', ...CHANGE_USAGE, ...SECRET_READ],
  // Starts the upload pending, records its terms, and aborts it should the record fail.
  createMultipartUpload: [
    ...LOGS,
    's3:PutObject',
    's3:PutObjectTagging',
    's3:AbortMultipartUpload',
    ...CHANGE_USAGE,
    ...SECRET_READ,
  ],
  // Signs part URLs (UploadPart is s3:PutObject) and reads the upload's record and whether it is
  // closed: nothing else.
  signUploadParts: [...LOGS, 's3:PutObject', ...READ_RECORDS, ...SECRET_READ],
  listUploadParts: [...LOGS, 's3:ListMultipartUploadParts', ...READ_RECORDS, ...SECRET_READ],
  // CompleteMultipartUpload is s3:PutObject too; it lists the parts first.
  // Both claim the upload's closing (create-once) first: a completion and an abort never both succeed.
  // A completion S3 refused gives its claim back (the upload stays open).
  completeUpload: [
    ...LOGS,
    's3:ListMultipartUploadParts',
    's3:PutObject',
    's3:DeleteObject',
    ...READ_RECORDS,
    ...SECRET_READ,
  ],
  abortUpload: [
    ...LOGS,
    's3:AbortMultipartUpload',
    's3:PutObject',
    ...READ_RECORDS,
    ...CHANGE_USAGE,
    ...SECRET_READ,
  ],
  // Reserved bytes lapse when read: it may write them back, and check whether an upload landed.
  getUsage: [...LOGS, ...CHANGE_USAGE, ...SECRET_READ],
  // Its file-index entry too: the time the file landed, as the list shows it.
  getFile: [...LOGS, ...READ_VERSIONS, 's3:GetObject', ...SECRET_READ],
  // Lists the file index, reads each entry and each file's verdict (tags, by version).
  listFiles: [
    ...LOGS,
    's3:GetObjectVersionTagging',
    's3:ListBucket',
    's3:ListBucketVersions',
    's3:GetObject',
    ...SECRET_READ,
  ],
  // Leaves a delete marker and deletes the recorded first version, then the file's state objects;
  // a file not recorded yet gets a tombstone record (tagged for the lifecycle) instead.
  deleteFile: [
    ...LOGS,
    's3:DeleteObject',
    's3:DeleteObjectVersion',
    's3:ListBucket',
    's3:ListBucketVersions',
    's3:GetObjectTagging',
    's3:PutObjectTagging',
    // The verdict (a passed file's bytes are given back) and the owner's usage.
    's3:GetObjectVersionTagging',
    ...CHANGE_USAGE,
    ...SECRET_READ,
  ],
  // The file's record; for a file not recorded yet, a tag read of the current version (pending or none?).
  createDownloadUrl: [...LOGS, ...READ_VERSIONS, 's3:GetObject', 's3:GetObjectTagging', ...SECRET_READ],
  createShare: [...LOGS, ...READ_VERSIONS, ...READ_EPOCHS, 's3:GetObjectTagging', ...SECRET_READ],
  openShare: [...LOGS, ...READ_VERSIONS, ...READ_EPOCHS, ...SECRET_READ],
  // Reads the first version's tags (does the file exist?), then reads and writes its share epoch.
  revokeShares: [
    ...LOGS,
    's3:GetObjectVersionTagging',
    's3:GetObjectTagging',
    's3:ListBucket',
    's3:ListBucketVersions',
    's3:GetObject',
    's3:PutObject',
    ...SECRET_READ,
  ],
  // Reads and tags exactly the version its event names; signs verdicts with a key from SSM.
  validateUpload: [
    ...LOGS,
    ...READ_VERSIONS,
    's3:PutObjectVersionTagging',
    // Its file records: created once when it first sees a file, read for every later event; a
    // deleted file's tombstone is tagged for the lifecycle.
    's3:PutObject',
    's3:PutObjectTagging',
    // The versions posted over a file, deleted on sight.
    's3:DeleteObjectVersion',
    // The owner's usage: the verdict turns the file's reservation into used bytes, or gives it back.
    ...CHANGE_USAGE,
    'sqs:SendMessage',
    // Takes the bucket's events from the upload-events queue.
    'sqs:ReceiveMessage',
    'sqs:DeleteMessage',
    'sqs:GetQueueAttributes',
    ...SECRET_READ,
    // Hands each verdict's webhook to the deliverer, and nothing else of Lambda.
    'lambda:InvokeFunction',
    // Drops a file's pending marker once its verdict is recorded.
    's3:DeleteObject',
  ],
  // No S3 at all: reads its secret, and sends what it could not deliver to its queue.
  deliverWebhook: [...LOGS, ...SECRET_READ, 'sqs:SendMessage'],
  // Lists, reads, moves and drops the pending markers due; reads file records (ListBucket tells a
  // missing one from a forbidden one) and whether anything landed; hands files to the validator.
  sweepPendingUploads: [
    ...LOGS,
    's3:ListBucket',
    's3:GetObject',
    's3:PutObject',
    's3:DeleteObject',
    's3:ListBucketVersions',
    'lambda:InvokeFunction',
  ],
};
const unique = (values: string[]) => [...new Set(values)];
const MULTIPART_STEPS: readonly FunctionName[] = [
  'createMultipartUpload',
  'signUploadParts',
  'listUploadParts',
  'completeUpload',
  'abortUpload',
];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
interface Resource {
  Type: string;
  Properties: JsonObject;
  DependsOn?: string | string[];
}
interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: Json;
  Condition?: JsonObject;
  Principal?: Json;
}

let copy: ReturnType<typeof packageCopy> | undefined;
let workDir: string;
let template: { Resources: Record<string, Resource> };
let templateText: string;

const logicalName = (fn: string) => fn.charAt(0).toUpperCase() + fn.slice(1);
const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];
const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function resource(name: string): Resource {
  const found = template.Resources[name];
  if (!found) throw new Error(`no resource ${name} in the template`);
  return found;
}

function resourcesOfType(type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, value]) => value.Type === type);
}

/**
 * Renders an intrinsic as text CloudFormation would produce, symbolically:
 * pseudo parameters stay `${AWS::…}`, the uploads bucket's Ref becomes its
 * name, other Refs `<Ref X>` and attributes `<X.Attr>`.
 */
function render(value: Json): string {
  if (typeof value === 'string') return value;
  if (!isObject(value)) throw new Error(`cannot render ${JSON.stringify(value)}`);
  if (typeof value.Ref === 'string') return renderRef(value.Ref);
  const getAtt = value['Fn::GetAtt'];
  if (getAtt !== undefined) {
    const [name, attribute] = Array.isArray(getAtt) ? getAtt : String(getAtt).split('.');
    return `<${name}.${attribute}>`;
  }
  const join = value['Fn::Join'];
  if (Array.isArray(join)) return list(join[1]).map(render).join(String(join[0]));
  const sub = value['Fn::Sub'];
  if (sub !== undefined) {
    const [text, variables] = Array.isArray(sub) ? sub : [sub, {}];
    const locals = isObject(variables) ? variables : {};
    return String(text).replace(/\$\{([^}!]+)\}/g, (whole, name: string) => {
      const local = locals[name];
      if (local !== undefined) return render(local);
      if (name.startsWith('AWS::')) return whole;
      return name.includes('.') ? `<${name}>` : renderRef(name);
    });
  }
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

function renderRef(name: string): string {
  if (name.startsWith('AWS::')) return `\${${name}}`;
  if (name === 'UploadsBucket') return String(resource('UploadsBucket').Properties.BucketName);
  return `<Ref ${name}>`;
}

/** The logical ids a resource refers to (Ref, GetAtt, Fn::Sub names, DependsOn). */
function dependencies(value: Json, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) dependencies(item, found);
  if (!isObject(value)) return found;
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'Ref' && typeof inner === 'string') found.add(inner);
    else if (key === 'Fn::GetAtt')
      found.add(String(Array.isArray(inner) ? inner[0] : inner).split('.')[0] ?? '');
    else if (key === 'Fn::Sub') {
      const [text, variables] = Array.isArray(inner) ? inner : [inner, {}];
      const locals = isObject(variables) ? variables : {};
      for (const [, name] of String(text).matchAll(/\$\{([^}!]+)\}/g)) {
        const id = String(name).split('.')[0] ?? '';
        if (!(id in locals)) found.add(id);
      }
      dependencies(variables ?? null, found);
    } else dependencies(inner, found);
  }
  return found;
}

function functionOf(fn: FunctionName): Resource {
  return resource(`${logicalName(fn)}LambdaFunction`);
}

function roleOf(fn: FunctionName): Resource {
  const role = functionOf(fn).Properties.Role;
  expect(role, `${fn}'s role`).toEqual({ 'Fn::GetAtt': [`${logicalName(fn)}Role`, 'Arn'] });
  return resource(`${logicalName(fn)}Role`);
}

function statementsOf(fn: FunctionName): Statement[] {
  const policies = list(roleOf(fn).Properties.Policies as Json[]);
  return policies.flatMap((policy) =>
    isObject(policy) && isObject(policy.PolicyDocument)
      ? (list(policy.PolicyDocument.Statement) as unknown as Statement[])
      : [],
  );
}

/** `fn`'s entry in iam/function-policies.json, its statements' names filled in from iam/statements.json. */
function declaredEntry(fn: FunctionName): FunctionEntry {
  const entry = functionEntries()[fn];
  if (!entry) throw new Error(`iam/function-policies.json has no entry for ${fn}`);
  return entry;
}

/**
 * The S3 statements of `fn`'s entry as AWS is to hold them: placeholders
 * filled as Fn::Sub would, a ConditionInAws made (part of) the Condition.
 */
function declaredS3Statements(fn: FunctionName): Statement[] {
  const filled = JSON.stringify(declaredEntry(fn).s3 ?? [])
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the file's Fn::Sub placeholder.
    .replaceAll('${UploadsBucket}', BUCKET)
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the file's Fn::Sub placeholder.
    .replaceAll('${StateBucket}', STATE_BUCKET);
  return (JSON.parse(filled) as PolicyStatement[]).map(({ ConditionInAws: aws, ...statement }) => ({
    ...statement,
    ...(aws ? { Condition: { ...statement.Condition, ...aws } } : {}),
  })) as Statement[];
}

/** The statements every role holds, and those an entry's flags add, by Sid and actions. */
const EXTRAS = {
  always: [{ Sid: 'WriteOwnLogGroup', Action: LOGS }],
  ownerSecret: [
    { Sid: 'ReadOwnerSecret', Action: ['ssm:GetParameter'] },
    { Sid: 'DecryptOwnerSecretThroughSsm', Action: ['kms:Decrypt'] },
  ],
  shareSecret: [
    { Sid: 'ReadShareSecret', Action: ['ssm:GetParameter'] },
    { Sid: 'DecryptShareSecretThroughSsm', Action: ['kms:Decrypt'] },
  ],
  verdictSigningKey: [
    { Sid: 'ReadVerdictSigningKey', Action: ['ssm:GetParameter'] },
    { Sid: 'DecryptVerdictSigningKeyThroughSsm', Action: ['kms:Decrypt'] },
  ],
  deadLetterQueue: [{ Sid: 'SendFailedEventsToDlq', Action: ['sqs:SendMessage'] }],
  consumesUploadEvents: [
    {
      Sid: 'ReceiveUploadEvents',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
    },
  ],
  deliversWebhooks: [
    { Sid: 'ReadWebhookSecret', Action: ['ssm:GetParameter'] },
    { Sid: 'DecryptWebhookSecretThroughSsm', Action: ['kms:Decrypt'] },
    { Sid: 'SendUndeliveredWebhooksToDlq', Action: ['sqs:SendMessage'] },
  ],
  sendsWebhooks: [{ Sid: 'HandWebhooksToTheDeliverer', Action: ['lambda:InvokeFunction'] }],
  invokesValidator: [{ Sid: 'HandPendingUploadsToTheValidator', Action: ['lambda:InvokeFunction'] }],
};

const isS3 = (statement: Statement) => list(statement.Action).some((action) => action.startsWith('s3:'));

/** Names of the entries of a zip archive, from its central directory. */
function zipEntries(file: string): { name: string; size: number }[] {
  const zip = readFileSync(file);
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error(`${file} is not a zip archive`);
  const entries: { name: string; size: number }[] = [];
  let offset = zip.readUInt32LE(end + 16);
  for (let index = 0; index < zip.readUInt16LE(end + 10); index += 1) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) throw new Error(`${file}: bad central directory`);
    const nameLength = zip.readUInt16LE(offset + 28);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    entries.push({ name, size: zip.readUInt32LE(offset + 24) });
    offset += 46 + nameLength + zip.readUInt16LE(offset + 30) + zip.readUInt16LE(offset + 32);
  }
  return entries;
}

beforeAll(async () => {
  // Only what a shell needs, plus planted secrets; no AWS_* and no local-stack settings.
  copy = packageCopy('presign-package-', { ...STRAY_SHELL, ...CANARY_SECRETS });
  workDir = copy.workDir;
  await copy.osls([
    'package',
    '--stage',
    STAGE,
    '--region',
    'eu-west-1',
    ...paramArgs({ ...DEPLOY_PARAMS, webhookUrl: WEBHOOK_URL, ...LIMIT_PARAMS }),
  ]);
  templateText = readFileSync(
    join(workDir, '.serverless', 'cloudformation-template-update-stack.json'),
    'utf8',
  );
  template = JSON.parse(templateText);
}, 250_000);

afterAll(() => copy?.remove());

describe('packaged functions', () => {
  it.each(FUNCTIONS)('%s runs nodejs22.x on arm64 from one bundled .mjs handler', (fn) => {
    // Arrange
    const properties = functionOf(fn).Properties;
    const artifact = join(workDir, '.serverless', `${fn}.zip`);

    // Act
    const entries = zipEntries(artifact);

    // Assert
    expect(properties.Runtime).toBe('nodejs22.x');
    expect(properties.Architectures).toEqual(['arm64']);
    expect(properties.Handler).toBe(`handlers/${handlerFile(fn)}.handler`);
    const modules = entries.filter((entry) => /\.(mjs|cjs|js)$/.test(entry.name));
    expect(modules.map((entry) => entry.name)).toEqual([`handlers/${handlerFile(fn)}.mjs`]);
    expect(modules[0]?.size).toBeGreaterThan(0);
    expect(entries.some((entry) => entry.name.includes('node_modules/'))).toBe(false);
  });

  it('are exactly the functions of the API, the validator and the webhook deliverer', () => {
    // Act
    const names = resourcesOfType('AWS::Lambda::Function').map(([, value]) => value.Properties.FunctionName);

    // Assert
    expect(names.sort()).toEqual(FUNCTIONS.map((fn) => `presign-${STAGE}-${fn}`).sort());
  });

  it('serve the routes of the API contract', () => {
    // Act
    const routes = resourcesOfType('AWS::ApiGatewayV2::Route').map(([, value]) => value.Properties.RouteKey);

    // Assert
    expect(routes.sort()).toEqual(
      [
        'GET /',
        'GET /health',
        'GET /openapi.json',
        'POST /uploads',
        'POST /uploads/multipart',
        'POST /uploads/{fileId}/parts',
        'GET /uploads/{fileId}/parts',
        'POST /uploads/{fileId}/complete',
        'DELETE /uploads/{fileId}',
        'GET /files/{fileId}',
        'GET /files',
        'GET /usage',
        'DELETE /files/{fileId}',
        'POST /files/{fileId}/download-url',
        'POST /files/{fileId}/shares',
        'DELETE /files/{fileId}/shares',
        'GET /s/{token}',
      ].sort(),
    );
  });

  it.each(FUNCTIONS)(
    '%s is configured for AWS: buckets by Ref, no endpoint, no reserved or secret variables',
    (fn) => {
      // Arrange
      const variables = (functionOf(fn).Properties.Environment as JsonObject).Variables as JsonObject;

      // Assert
      // The validator is the bucket's notification target: it gets the name, a Ref back would be a cycle.
      expect(variables.UPLOADS_BUCKET).toEqual(fn === 'validateUpload' ? BUCKET : { Ref: 'UploadsBucket' });
      // The state bucket names no function: every function, the validator included, refers to it.
      expect(variables.STATE_BUCKET).toEqual({ Ref: 'StateBucket' });
      expect(variables.VERDICT_PUBLIC_KEY).toBe(VERDICT_PUBLIC_KEY);
      expect(variables).not.toHaveProperty('VERDICT_SIGNING_KEY');
      // Only the validator signs verdicts: only it is told where its private key is.
      expect(variables.VERDICT_SIGNING_KEY_PARAMETER).toBe(
        fn === 'validateUpload' ? VERDICT_SIGNING_KEY_PARAMETER : undefined,
      );
      expect(variables.S3_ENDPOINT ?? '').toBe('');
      expect(variables.AUTH_JWKS ?? '').toBe('');
      expect(variables.POWERTOOLS_METRICS_NAMESPACE).toBe('Presign');
      expect(variables.POWERTOOLS_SERVICE_NAME).toBe('presign');
      expect(variables.POWERTOOLS_LOGGER_LOG_EVENT).toBe('false');
      expect(Object.keys(variables).filter((name) => name.startsWith('AWS_'))).toEqual([]);
      expect(variables).not.toHaveProperty('SHARE_SECRET');
      const handlesShareLinks = fn === 'createShare' || fn === 'openShare';
      expect(variables.SHARE_SECRET_PARAMETER).toBe(handlesShareLinks ? SHARE_SECRET_PARAMETER : undefined);
      expect(variables).not.toHaveProperty('OWNER_SECRET');
      // Only the functions that authenticate callers are told where the owner secret is.
      expect(variables.OWNER_SECRET_PARAMETER).toBe(
        OWNER_SECRET_READERS.includes(fn) ? OWNER_SECRET_PARAMETER : undefined,
      );
      // Only the deliverer is told where webhooks go and where their key is; only the validator whom to hand them.
      expect(variables).not.toHaveProperty('WEBHOOK_SECRET');
      expect(variables.WEBHOOK_URL).toBe(fn === 'deliverWebhook' ? WEBHOOK_URL : undefined);
      expect(variables.WEBHOOK_SECRET_PARAMETER).toBe(
        fn === 'deliverWebhook' ? WEBHOOK_SECRET_PARAMETER : undefined,
      );
      expect(variables.WEBHOOK_DELIVERER_FUNCTION).toBe(fn === 'validateUpload' ? DELIVERER : undefined);
      expect(variables.LAMBDA_ENDPOINT ?? '').toBe('');
    },
  );

  it('keep every log group 30 days, one group per function', () => {
    // Act
    const groups = resourcesOfType('AWS::Logs::LogGroup').map(([, value]) => value.Properties);

    // Assert
    expect(groups.map((group) => group.LogGroupName).sort()).toEqual(
      FUNCTIONS.map((fn) => `/aws/lambda/presign-${STAGE}-${fn}`).sort(),
    );
    for (const group of groups) expect(group.RetentionInDays).toBe(30);
  });

  it('take nothing from the packaging shell: a stray local-stack variable reaches no function', () => {
    // Assert
    // The canary texts appear nowhere; the numbers (too short to search for) in no function's settings.
    for (const value of Object.values(STRAY_SHELL).filter((text) => text.length > 8)) {
      expect(templateText).not.toContain(value);
    }
    for (const fn of FUNCTIONS) {
      const properties = functionOf(fn).Properties;
      const variables = (properties.Environment as JsonObject).Variables as JsonObject;
      expect(variables.AUTH_ISSUER).toBe(DEPLOY_PARAMS.authIssuer);
      expect(variables.AUTH_AUDIENCE).toBe(DEPLOY_PARAMS.authAudience);
      expect(variables.AUTH_JWKS_URL).toBe(DEPLOY_PARAMS.authJwksUrl);
      expect(variables.UPLOAD_URL_TTL_SECONDS).toBe('300');
      expect(variables.PUBLIC_API_URL).toBe('');
      expect(variables.MALWARE_SCAN).toBe('none');
      expect(variables.UPLOAD_RATE_WINDOW_SECONDS).toBe('3600');
      expect(variables.RESERVATION_GRACE_SECONDS).toBe('3600');
      expect(variables.PENDING_SWEEP_AFTER_SECONDS).toBe('300');
      expect(variables.QUOTA_BYTES_PER_OWNER).toBe(LIMIT_PARAMS.quotaBytesPerOwner);
      expect(variables.UPLOADS_PER_HOUR_PER_OWNER).toBe(LIMIT_PARAMS.uploadsPerHourPerOwner);
      const timeouts: Record<string, number> = {
        completeUpload: 29,
        validateUpload: 30,
        deliverWebhook: 30,
        sweepPendingUploads: 60,
      };
      expect(properties.Timeout).toBe(timeouts[fn] ?? 10);
    }
  });

  it('carry no secret in clear anywhere in the template', () => {
    // Arrange
    const localSecretFile = join(ROOT, '.local', 'share-secret');
    const localOwnerSecretFile = join(ROOT, '.local', 'owner-secret');
    const localVerdictKeyFile = join(ROOT, '.local', 'verdict-key.json');
    const secrets = [
      ...Object.values(CANARY_SECRETS),
      TEST_VERDICT_KEYS.privateKey,
      process.env.SHARE_SECRET ?? '',
      process.env.OWNER_SECRET ?? '',
      existsSync(localSecretFile) ? readFileSync(localSecretFile, 'utf8').trim() : '',
      existsSync(localOwnerSecretFile) ? readFileSync(localOwnerSecretFile, 'utf8').trim() : '',
      existsSync(localVerdictKeyFile)
        ? String(
            (JSON.parse(readFileSync(localVerdictKeyFile, 'utf8')) as { privateKey?: string }).privateKey ??
              '',
          )
        : '',
    ].filter((secret) => secret.length > 0);

    // Assert
    for (const secret of secrets) expect(templateText).not.toContain(secret);
    expect(templateText).not.toMatch(
      /"(SHARE_SECRET|OWNER_SECRET|VERDICT_SIGNING_KEY|WEBHOOK_SECRET|PRESIGN_LOCAL_[A-Z_]+|AWS_SECRET_ACCESS_KEY)"/,
    );
  });
});

describe('least privilege', () => {
  it('gives every function a role of its own that only Lambda can assume', () => {
    // Act
    const roles = FUNCTIONS.map((fn) => (functionOf(fn).Properties.Role as JsonObject)['Fn::GetAtt']);

    // Assert
    expect(new Set(roles.map((role) => JSON.stringify(role))).size).toBe(FUNCTIONS.length);
    expect(resourcesOfType('AWS::IAM::Role')).toHaveLength(FUNCTIONS.length);
    expect(resourcesOfType('AWS::IAM::Policy')).toEqual([]);
    expect(resourcesOfType('AWS::IAM::ManagedPolicy')).toEqual([]);
    for (const fn of FUNCTIONS) {
      const role = roleOf(fn).Properties;
      expect(role.ManagedPolicyArns).toBeUndefined();
      expect(role.AssumeRolePolicyDocument).toEqual({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      });
    }
  });

  it.each(FUNCTIONS)('%s may take exactly the expected actions, and only Allow', (fn) => {
    // Act
    const statements = statementsOf(fn);
    const actions = new Set(statements.flatMap((statement) => list(statement.Action)));

    // Assert
    expect(statements.every((statement) => statement.Effect === 'Allow')).toBe(true);
    expect([...actions].sort()).toEqual(unique(EXPECTED_ACTIONS[fn]).sort());
  });

  it.each(FUNCTIONS)('%s reads and tags uploads by version only, never the key’s latest object', (fn) => {
    // Act: actions on uploads/ objects that, without a version, reach whatever the key now holds.
    const unversioned = statementsOf(fn)
      .filter((statement) =>
        list(statement.Resource)
          .map(render)
          .some((arn) => arn.endsWith('/uploads/*')),
      )
      .flatMap((statement) => list(statement.Action))
      .filter((action) => ['s3:GetObject', 's3:GetObjectTagging', 's3:PutObjectTagging'].includes(action));

    // Assert: the upload roles tag only what they create (pending, by their ConditionInAws). Beyond
    // them, the current version is read only where no version is known: the roles that answer for
    // a file the validator has not recorded yet read its tags (pending, or nothing there?), getFile
    // HEADs it to describe it, and the validator HEADs it to find what an event that names no version
    // (Ceph RGW's) is about. The read gate still judges every GetObject by the version's tag.
    const expected: Partial<Record<FunctionName, string[]>> = {
      createUpload: ['s3:PutObjectTagging'],
      createMultipartUpload: ['s3:PutObjectTagging'],
      getFile: ['s3:GetObject'],
      validateUpload: ['s3:GetObject'],
      deleteFile: ['s3:GetObjectTagging'],
      createDownloadUrl: ['s3:GetObjectTagging'],
      createShare: ['s3:GetObjectTagging'],
      revokeShares: ['s3:GetObjectTagging'],
    };
    expect(unversioned).toEqual(expected[fn] ?? []);
  });

  it.each(FUNCTIONS)('%s holds its S3 statements of iam/function-policies.json, no wildcard', (fn) => {
    // Arrange
    const s3 = statementsOf(fn).filter((statement) =>
      list(statement.Action).some((action) => action.startsWith('s3:')),
    );

    // Act
    const rendered = s3.map((statement) => ({
      ...statement,
      Resource: list(statement.Resource).map(render),
    }));

    // Assert
    expect(rendered).toEqual(declaredS3Statements(fn));
    for (const statement of rendered) {
      expect(
        list(statement.Action).every((action) => action.startsWith('s3:') && !action.includes('*')),
      ).toBe(true);
      for (const arn of statement.Resource) {
        expect([
          `arn:${PARTITION}:s3:::${BUCKET}`,
          `arn:${PARTITION}:s3:::${BUCKET}/uploads/*`,
          `arn:${PARTITION}:s3:::${STATE_BUCKET}`,
          `arn:${PARTITION}:s3:::${STATE_BUCKET}/share-epochs/*`,
          `arn:${PARTITION}:s3:::${STATE_BUCKET}/multipart-uploads/*`,
          `arn:${PARTITION}:s3:::${STATE_BUCKET}/file-index/*`,
          `arn:${PARTITION}:s3:::${STATE_BUCKET}/multipart-closing/*`,
          `arn:${PARTITION}:s3:::${STATE_BUCKET}/usage/*`,
          `arn:${PARTITION}:s3:::${STATE_BUCKET}/pending/*`,
        ]).toContain(arn);
        const actions = list(statement.Action);
        if (arn.endsWith('/uploads/*')) {
          // No listing of objects by key; listing the parts of an upload is an object action.
          expect(
            actions.filter(
              (action) => action.startsWith('s3:List') && action !== 's3:ListMultipartUploadParts',
            ),
          ).toEqual([]);
        } else if (arn.endsWith('/usage/*')) {
          // Owners' usage: read and written back (compare-and-swap) by the functions that move bytes.
          expect(USAGE_WRITERS).toContain(fn);
          expect(actions).toEqual(['s3:GetObject', 's3:PutObject']);
        } else if (arn.endsWith('/pending/*')) {
          // Pending markers: written when an upload is issued, dropped by the validator once it is
          // judged; the sweep reads, moves and drops the ones due.
          expect(actions).toEqual(
            {
              createUpload: ['s3:PutObject'],
              createMultipartUpload: ['s3:PutObject'],
              validateUpload: ['s3:DeleteObject'],
              sweepPendingUploads: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
            }[fn as string],
          );
        } else if (arn.endsWith('/file-index/*')) {
          // File records: the validator creates them once and changes them by compare-and-swap (and
          // tags a tombstone for the lifecycle); the delete function removes them, or leaves a
          // tombstone for a file not recorded yet; the read routes read them.
          const writers: Partial<Record<FunctionName, string[][]>> = {
            validateUpload: [['s3:PutObject'], ['s3:GetObject'], ['s3:PutObjectTagging']],
            deleteFile: [['s3:DeleteObject'], ['s3:GetObject', 's3:PutObject', 's3:PutObjectTagging']],
          };
          const readers = [
            'listFiles',
            'getFile',
            'createDownloadUrl',
            'createShare',
            'openShare',
            'revokeShares',
            'sweepPendingUploads',
          ];
          if (readers.includes(fn)) expect(actions).toEqual(['s3:GetObject']);
          else expect(writers[fn]).toContainEqual(actions);
        } else if (arn.endsWith('/share-epochs/*') && fn !== 'deleteFile') {
          // Only the share functions touch share epochs, and only revokeShares writes them.
          expect(['createShare', 'openShare', 'revokeShares']).toContain(fn);
          expect(actions).toEqual(
            fn === 'revokeShares' ? ['s3:GetObject', 's3:PutObject'] : ['s3:GetObject'],
          );
        } else if (fn === 'deleteFile' && arn.startsWith(`arn:${PARTITION}:s3:::${STATE_BUCKET}/`)) {
          // The delete function removes a file's state, and only that.
          expect(actions).toEqual(['s3:DeleteObject']);
        } else if (arn.endsWith('/multipart-closing/*')) {
          // Completion and abort claim the closing; a completion S3 refused gives its claim back;
          // the part signer only reads whether the upload is closed.
          expect(['completeUpload', 'abortUpload', 'signUploadParts']).toContain(fn);
          expect(actions).toEqual(
            {
              completeUpload: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
              abortUpload: ['s3:GetObject', 's3:PutObject'],
            }[fn as string] ?? ['s3:GetObject'],
          );
        } else if (arn.endsWith('/multipart-uploads/*')) {
          // Only the function that starts an upload writes its record; the other steps read it.
          expect(MULTIPART_STEPS).toContain(fn);
          expect(actions).toEqual(fn === 'createMultipartUpload' ? ['s3:PutObject'] : ['s3:GetObject']);
        } else if (arn === `arn:${PARTITION}:s3:::${STATE_BUCKET}`) {
          expect([
            'createShare',
            'openShare',
            'revokeShares',
            'listFiles',
            'getFile',
            'createDownloadUrl',
            ...MULTIPART_STEPS,
            ...USAGE_WRITERS,
            'sweepPendingUploads',
          ]).toContain(fn);
          expect(actions).toEqual(['s3:ListBucket']);
        } else if (actions.includes('s3:ListBucketVersions')) {
          // Listing versions only under uploads/: a file's first version, nothing else of the bucket.
          expect(actions).toEqual(['s3:ListBucketVersions']);
          expect(statement.Condition).toEqual({ StringLike: { 's3:prefix': 'uploads/*' } });
        } else expect(actions).toEqual(['s3:ListBucket']);
      }
    }
  });

  it('has an entry in iam/function-policies.json for exactly the functions of the stack', () => {
    // Act
    const declared = Object.keys(functionEntries());

    // Assert
    expect(declared.sort()).toEqual([...FUNCTIONS].sort());
  });

  it.each(FUNCTIONS)(
    '%s holds every statement of its entry, and beyond them only the declared extras',
    (fn) => {
      // Arrange
      const entry = declaredEntry(fn);
      const expected = [
        ...EXTRAS.always,
        ...declaredS3Statements(fn),
        ...(entry.ownerSecret ? EXTRAS.ownerSecret : []),
        ...(entry.shareSecret ? EXTRAS.shareSecret : []),
        ...(entry.verdictSigningKey ? EXTRAS.verdictSigningKey : []),
        ...(entry.deadLetterQueue ? EXTRAS.deadLetterQueue : []),
        ...(entry.consumesUploadEvents ? EXTRAS.consumesUploadEvents : []),
        ...(entry.deliversWebhooks ? EXTRAS.deliversWebhooks : []),
        ...(entry.sendsWebhooks ? EXTRAS.sendsWebhooks : []),
        ...(entry.invokesValidator ? EXTRAS.invokesValidator : []),
      ];

      // Act
      const held = statementsOf(fn).map((statement) =>
        isS3(statement)
          ? { ...statement, Resource: list(statement.Resource).map(render) }
          : { Sid: statement.Sid, Action: list(statement.Action) },
      );

      // Assert
      expect(held).toEqual(expected);
    },
  );

  it.each(FUNCTIONS)(
    '%s has the S3 statements of its AWS role in its local Ceph role, less the AWS-only conditions',
    (fn) => {
      // Arrange: the AWS statements, without the operators their entry declares ConditionInAws.
      const awsOnly = (declaredEntry(fn).s3 ?? []).map((statement) =>
        Object.keys(statement.ConditionInAws ?? {}),
      );
      const aws = statementsOf(fn)
        .filter(isS3)
        .map(({ Condition, ...statement }, index) => {
          const kept = Object.entries(Condition ?? {}).filter(
            ([operator]) => !awsOnly[index]?.includes(operator),
          );
          return {
            ...statement,
            Resource: list(statement.Resource).map(render),
            ...(kept.length > 0 ? { Condition: Object.fromEntries(kept) } : {}),
          };
        });

      // Act: what scripts/provision.ts puts in the local role (none for a logs-only function).
      const local = functionPolicies({ uploads: BUCKET, state: STATE_BUCKET }, PARTITION)[fn] ?? [];

      // Assert
      expect(local).toEqual(aws);
    },
  );

  it('conditions createUpload’s tagging on the pending tag in AWS, and not in the local Ceph role', () => {
    // Act
    const [aws] = statementsOf('createUpload').filter(isS3);
    const [local] = functionPolicies({ uploads: BUCKET, state: STATE_BUCKET }, PARTITION).createUpload ?? [];

    // Assert
    expect(aws?.Condition).toEqual({
      StringEquals: { 's3:RequestObjectTag/validation-status': 'pending' },
      'ForAllValues:StringEquals': { 's3:RequestObjectTagKeys': ['validation-status'] },
    });
    expect(aws).not.toHaveProperty('ConditionInAws');
    expect(local).toBeDefined();
    expect(local).not.toHaveProperty('Condition');
    expect(local).not.toHaveProperty('ConditionInAws');
  });

  it.each(FUNCTIONS)('%s writes only to its own log group', (fn) => {
    // Act
    const logs = statementsOf(fn).filter((statement) =>
      list(statement.Action).some((action) => action.startsWith('logs:')),
    );

    // Assert
    expect(logs).toHaveLength(1);
    expect(list(logs[0]?.Resource).map(render)).toEqual([
      `arn:${PARTITION}:logs:${REGION}:${ACCOUNT}:log-group:<Ref ${logicalName(fn)}LogGroup>:*`,
    ]);
    expect(resource(`${logicalName(fn)}LogGroup`).Properties.LogGroupName).toBe(
      `/aws/lambda/presign-${STAGE}-${fn}`,
    );
  });

  /** The SSM parameters each function's role may read: the secrets its entry's flags name. */
  const SECRET_PARAMETERS: Record<FunctionName, string[]> = {
    health: [],
    webPage: [],
    openApi: [],
    createUpload: [OWNER_SECRET_PARAMETER],
    createMultipartUpload: [OWNER_SECRET_PARAMETER],
    signUploadParts: [OWNER_SECRET_PARAMETER],
    listUploadParts: [OWNER_SECRET_PARAMETER],
    completeUpload: [OWNER_SECRET_PARAMETER],
    abortUpload: [OWNER_SECRET_PARAMETER],
    getUsage: [OWNER_SECRET_PARAMETER],
    getFile: [OWNER_SECRET_PARAMETER],
    listFiles: [OWNER_SECRET_PARAMETER],
    deleteFile: [OWNER_SECRET_PARAMETER],
    createDownloadUrl: [OWNER_SECRET_PARAMETER],
    createShare: [OWNER_SECRET_PARAMETER, SHARE_SECRET_PARAMETER],
    openShare: [SHARE_SECRET_PARAMETER],
    revokeShares: [OWNER_SECRET_PARAMETER],
    validateUpload: [VERDICT_SIGNING_KEY_PARAMETER],
    deliverWebhook: [WEBHOOK_SECRET_PARAMETER],
    sweepPendingUploads: [],
  };

  it.each(FUNCTIONS)('%s reads only its secret parameters, each decrypted through SSM only', (fn) => {
    // Arrange
    const parameterArn = (name: string) => `arn:${PARTITION}:ssm:${REGION}:${ACCOUNT}:parameter${name}`;
    const statements = statementsOf(fn);

    // Act
    const ssm = statements.filter((statement) => list(statement.Action).includes('ssm:GetParameter'));
    const kms = statements.filter((statement) => list(statement.Action).includes('kms:Decrypt'));

    // Assert
    const expected = SECRET_PARAMETERS[fn].map(parameterArn);
    expect(ssm).toHaveLength(expected.length);
    expect(kms).toHaveLength(expected.length);
    for (const statement of ssm) expect(list(statement.Action)).toEqual(['ssm:GetParameter']);
    expect(ssm.flatMap((statement) => list(statement.Resource).map(render))).toEqual(expected);
    const decrypted = kms.map((statement) => {
      expect(list(statement.Action)).toEqual(['kms:Decrypt']);
      expect(list(statement.Resource).map(render)).toEqual([
        `arn:${PARTITION}:kms:${REGION}:${ACCOUNT}:key/*`,
      ]);
      const condition = (statement.Condition?.StringEquals ?? {}) as JsonObject;
      expect(render(condition['kms:ViaService'] as Json)).toBe(`ssm.${REGION}.amazonaws.com`);
      return render(condition['kms:EncryptionContext:PARAMETER_ARN'] as Json);
    });
    expect(decrypted).toEqual(expected);
  });

  it('lets exactly the functions that authenticate callers near the owner secret', () => {
    // Act
    const holders = FUNCTIONS.filter((fn) =>
      JSON.stringify([roleOf(fn), functionOf(fn).Properties.Environment]).includes(OWNER_SECRET_PARAMETER),
    );
    const granted = FUNCTIONS.filter((fn) =>
      statementsOf(fn).some((statement) => statement.Sid === 'ReadOwnerSecret'),
    );

    // Assert
    expect(holders).toEqual([...OWNER_SECRET_READERS]);
    expect(granted).toEqual([...OWNER_SECRET_READERS]);
    expect(FUNCTIONS.filter((fn) => declaredEntry(fn).ownerSecret === true)).toEqual([
      ...OWNER_SECRET_READERS,
    ]);
  });

  it('gives completing and aborting a multipart upload to their own functions: the part signer can do nothing else', () => {
    // Act: which functions hold each multipart action, on any resource.
    const holders = (action: string) =>
      FUNCTIONS.filter((fn) => statementsOf(fn).some((statement) => list(statement.Action).includes(action)));

    // Assert
    expect(holders('s3:ListMultipartUploadParts')).toEqual(['listUploadParts', 'completeUpload']);
    expect(holders('s3:AbortMultipartUpload')).toEqual(['createMultipartUpload', 'abortUpload']);
    expect(
      statementsOf('signUploadParts')
        .filter(isS3)
        .map((statement) => ({
          actions: list(statement.Action),
          resources: list(statement.Resource).map(render),
        })),
    ).toEqual([
      { actions: ['s3:PutObject'], resources: [`arn:${PARTITION}:s3:::${BUCKET}/uploads/*`] },
      { actions: ['s3:GetObject'], resources: [`arn:${PARTITION}:s3:::${STATE_BUCKET}/multipart-uploads/*`] },
      { actions: ['s3:ListBucket'], resources: [`arn:${PARTITION}:s3:::${STATE_BUCKET}`] },
      { actions: ['s3:GetObject'], resources: [`arn:${PARTITION}:s3:::${STATE_BUCKET}/multipart-closing/*`] },
    ]);
  });

  it('lets only the delete function delete files and their state, the validator only versions under uploads/, and a completion its own closing claim', () => {
    // Act
    const deleting = FUNCTIONS.flatMap((fn) =>
      statementsOf(fn)
        .filter((statement) => list(statement.Action).some((action) => action.startsWith('s3:Delete')))
        .map((statement) => ({
          fn,
          actions: list(statement.Action),
          resources: list(statement.Resource).map(render),
        })),
    );

    // Assert: the validator deletes a version by its id (the ones posted over a file), and cannot
    // put a delete marker (s3:DeleteObject), nor touch anything else.
    expect(deleting).toEqual([
      {
        fn: 'completeUpload',
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        resources: [`arn:${PARTITION}:s3:::${STATE_BUCKET}/multipart-closing/*`],
      },
      {
        fn: 'deleteFile',
        actions: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
        resources: [`arn:${PARTITION}:s3:::${BUCKET}/uploads/*`],
      },
      {
        fn: 'deleteFile',
        actions: ['s3:DeleteObject'],
        resources: [
          `arn:${PARTITION}:s3:::${STATE_BUCKET}/share-epochs/*`,
          `arn:${PARTITION}:s3:::${STATE_BUCKET}/file-index/*`,
          `arn:${PARTITION}:s3:::${STATE_BUCKET}/multipart-uploads/*`,
        ],
      },
      {
        fn: 'validateUpload',
        actions: ['s3:DeleteObjectVersion'],
        resources: [`arn:${PARTITION}:s3:::${BUCKET}/uploads/*`],
      },
      {
        fn: 'validateUpload',
        actions: ['s3:DeleteObject'],
        resources: [`arn:${PARTITION}:s3:::${STATE_BUCKET}/pending/*`],
      },
      {
        fn: 'sweepPendingUploads',
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        resources: [`arn:${PARTITION}:s3:::${STATE_BUCKET}/pending/*`],
      },
    ]);
  });

  it('lets no function but the validator near the verdict signing key', () => {
    // Act
    const holders = FUNCTIONS.filter((fn) =>
      JSON.stringify([roleOf(fn), functionOf(fn).Properties.Environment]).includes(
        VERDICT_SIGNING_KEY_PARAMETER,
      ),
    );

    // Assert
    expect(holders).toEqual(['validateUpload']);
  });

  it('lets the validator send only to its own dead-letter queue', () => {
    // Act
    const sqs = statementsOf('validateUpload').filter((statement) =>
      list(statement.Action).includes('sqs:SendMessage'),
    );

    // Assert
    expect(sqs).toHaveLength(1);
    expect(list(sqs[0]?.Action)).toEqual(['sqs:SendMessage']);
    expect(list(sqs[0]?.Resource).map(render)).toEqual(['<UploadValidationDlq.Arn>']);
  });

  it('lets only the deliverer near the webhook secret, only the validator invoke it and only the sweep invoke the validator, each that function only', () => {
    // Act
    const near = (text: string) =>
      FUNCTIONS.filter((fn) =>
        JSON.stringify([roleOf(fn), functionOf(fn).Properties.Environment]).includes(text),
      );
    const invoke = FUNCTIONS.flatMap((fn) =>
      statementsOf(fn)
        .filter((statement) => list(statement.Action).some((action) => action.startsWith('lambda:')))
        .map((statement) => ({
          fn,
          actions: list(statement.Action),
          resources: list(statement.Resource).map(render),
        })),
    );

    // Assert
    expect(near(WEBHOOK_SECRET_PARAMETER)).toEqual(['deliverWebhook']);
    expect(near(WEBHOOK_URL)).toEqual(['deliverWebhook']);
    expect(invoke).toEqual([
      {
        fn: 'validateUpload',
        actions: ['lambda:InvokeFunction'],
        resources: [`arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:${DELIVERER}`],
      },
      {
        fn: 'sweepPendingUploads',
        actions: ['lambda:InvokeFunction'],
        resources: [`arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:${VALIDATOR}`],
      },
    ]);
    expect(render(functionOf('deliverWebhook').Properties.FunctionName as Json)).toBe(DELIVERER);
  });

  it('gives the deliverer no S3 action on any resource', () => {
    // Act
    const s3 = statementsOf('deliverWebhook').filter(isS3);

    // Assert
    expect(s3).toEqual([]);
    expect(declaredEntry('deliverWebhook').s3 ?? []).toEqual([]);
    expect(JSON.stringify(roleOf('deliverWebhook'))).not.toMatch(/s3:|UploadsBucket|StateBucket/);
  });

  it('lets the deliverer send only to its own dead-letter queue', () => {
    // Act
    const sqs = statementsOf('deliverWebhook').filter((statement) =>
      list(statement.Action).some((action) => action.startsWith('sqs:')),
    );

    // Assert
    expect(sqs).toHaveLength(1);
    expect(list(sqs[0]?.Action)).toEqual(['sqs:SendMessage']);
    expect(list(sqs[0]?.Resource).map(render)).toEqual(['<WebhookDeadLetterQueue.Arn>']);
  });

  it('never grants a bare * resource', () => {
    // Act
    const everyResource = FUNCTIONS.flatMap((fn) =>
      statementsOf(fn).flatMap((statement) => list(statement.Resource).map(render)),
    );

    // Assert
    expect(everyResource).not.toContain('*');
    expect(everyResource.filter((arn) => arn.startsWith(`arn:${PARTITION}:s3:::*`))).toEqual([]);
  });
});

describe('uploads bucket', () => {
  const bucket = () => resource('UploadsBucket').Properties;
  const bucketPolicy = () => {
    const [entry, ...others] = resourcesOfType('AWS::S3::BucketPolicy').filter(
      ([, value]) => JSON.stringify(value.Properties.Bucket) === JSON.stringify({ Ref: 'UploadsBucket' }),
    );
    expect(others).toEqual([]);
    if (!entry) throw new Error('no bucket policy on UploadsBucket');
    return (entry[1].Properties.PolicyDocument as JsonObject).Statement as unknown as Statement[];
  };

  it('has a deterministic name and survives the stack', () => {
    // Assert
    expect(bucket().BucketName).toBe(BUCKET);
    expect(resource('UploadsBucket')).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('blocks public access, enforces bucket-owner ownership and encrypts with SSE-S3', () => {
    // Assert
    expect(bucket().PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket().OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    expect(bucket().BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
  });

  it('allows browser POST/PUT/GET/HEAD from the configured origins only, exposing ETag for parts', () => {
    // Act
    const rules = (bucket().CorsConfiguration as JsonObject).CorsRules as JsonObject[];

    // Assert
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({
      AllowedOrigins: { 'Fn::Split': [',', DEPLOY_PARAMS.allowedOrigins] },
      AllowedMethods: ['POST', 'PUT', 'GET', 'HEAD'],
      AllowedHeaders: ['*'],
    });
    expect(rules[0]?.ExposedHeaders).toContain('ETag');
  });

  it('keeps every version: a file is the first version under its key', () => {
    // Assert
    expect(bucket().VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });

  it('expires failed versions, current or not, removes expired delete markers and aborts incomplete multipart uploads', () => {
    // Act
    const rules = (bucket().LifecycleConfiguration as JsonObject).Rules as JsonObject[];

    // Assert
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Status: 'Enabled',
          Prefix: 'uploads/',
          TagFilters: [{ Key: 'validation-status', Value: 'failed' }],
          ExpirationInDays: 1,
          NoncurrentVersionExpiration: { NoncurrentDays: 1 },
        }),
        expect.objectContaining({
          Status: 'Enabled',
          Prefix: 'uploads/',
          TagFilters: [{ Key: 'validation-status', Value: 'pending' }],
          NoncurrentVersionExpiration: { NoncurrentDays: 1 },
        }),
        expect.objectContaining({
          Status: 'Enabled',
          Prefix: 'uploads/',
          ExpiredObjectDeleteMarker: true,
        }),
        expect.objectContaining({
          Status: 'Enabled',
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        }),
      ]),
    );
    expect(rules).toHaveLength(4);
  });

  it('expires nothing tagged passed: a passed first version stays, even made noncurrent by a re-posted form', () => {
    // Act
    const rules = (bucket().LifecycleConfiguration as JsonObject).Rules as JsonObject[];
    const expiring = rules.filter(
      (rule) =>
        'ExpirationInDays' in rule ||
        'ExpirationDate' in rule ||
        'NoncurrentVersionExpiration' in rule ||
        'NoncurrentVersionExpirationInDays' in rule ||
        'NoncurrentVersionTransitions' in rule ||
        'Transitions' in rule,
    );

    // Assert: failed versions, current or not; and versions still pending a day after another
    // version made them noncurrent (one posted over a file that the validator missed deleting).
    expect(expiring.length).toBeGreaterThan(0);
    for (const rule of expiring) {
      const [filter] = rule.TagFilters as JsonObject[];
      expect(rule.TagFilters).toHaveLength(1);
      expect(filter?.Key).toBe('validation-status');
      expect(['failed', 'pending']).toContain(filter?.Value);
      if (filter?.Value === 'pending') {
        expect(Object.keys(rule).filter((name) => /Expiration|Transition/.test(name))).toEqual([
          'NoncurrentVersionExpiration',
        ]);
      }
    }
  });

  it('refuses every request that is not over TLS', () => {
    // Act
    const tls = bucketPolicy().find((statement) => statement.Sid === 'DenyInsecureTransport');

    // Assert
    expect(tls).toMatchObject({ Effect: 'Deny', Principal: '*', Action: 's3:*' });
    expect(tls?.Condition).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
    expect(list(tls?.Resource).map(render).sort()).toEqual(['<UploadsBucket.Arn>', '<UploadsBucket.Arn>/*']);
  });

  it('denies reading unvalidated uploads to all but the validator and getFile, one operator each', () => {
    // Act
    const gate = bucketPolicy().find((statement) => statement.Sid === 'DenyReadingUnvalidatedUploads');

    // Assert: the shape of gatedReadPolicy in scripts/provision.ts; a read of a version is gated too.
    expect(gate).toMatchObject({ Effect: 'Deny', Principal: '*' });
    expect(list(gate?.Action).sort()).toEqual(['s3:GetObject', 's3:GetObjectVersion']);
    expect(list(gate?.Resource).map(render)).toEqual(['<UploadsBucket.Arn>/uploads/*']);
    const condition = gate?.Condition as JsonObject;
    expect(Object.keys(condition).sort()).toEqual([
      'StringNotEquals',
      'StringNotLike',
      'StringNotLikeIfExists',
    ]);
    expect(condition.StringNotEquals).toEqual({ 's3:ExistingObjectTag/validation-status': 'passed' });
    const exempt = (operator: string) => (condition[operator] as JsonObject)['aws:userid'] as Json;
    expect(exempt('StringNotLike')).toEqual({
      'Fn::Join': ['', [{ 'Fn::GetAtt': ['ValidateUploadRole', 'RoleId'] }, ':*']],
    });
    expect(exempt('StringNotLikeIfExists')).toEqual({
      'Fn::Join': ['', [{ 'Fn::GetAtt': ['GetFileRole', 'RoleId'] }, ':*']],
    });
  });

  it('exempts from the tag gate exactly the roles whose entry says readsUnvalidated, in its order', () => {
    // Arrange
    const readers = Object.entries(functionEntries())
      .filter(([, entry]) => entry.readsUnvalidated === true)
      .map(([fn]) => `${logicalName(fn)}Role`);
    const gate = bucketPolicy().find((statement) => statement.Sid === 'DenyReadingUnvalidatedUploads');
    const condition = gate?.Condition as JsonObject;

    // Act
    const exempt = ['StringNotLike', 'StringNotLikeIfExists']
      .filter((operator) => operator in condition)
      .map((operator) => render((condition[operator] as JsonObject)['aws:userid'] as Json));

    // Assert
    expect(exempt).toEqual(readers.map((role) => `<${role}.RoleId>:*`));
  });

  it('keeps the tags of an upload that carries validation-status to the validator’s role', () => {
    // Act
    const guard = bucketPolicy().find((statement) => statement.Sid === 'OnlyVerdictWritersRetagUploads');

    // Assert: who may still tag what is decided by an IAM policy engine in retagging.test.ts.
    expect(guard).toMatchObject({ Effect: 'Deny', Principal: '*' });
    expect(list(guard?.Action).sort()).toEqual([
      's3:DeleteObjectTagging',
      's3:DeleteObjectVersionTagging',
      's3:PutObjectTagging',
      's3:PutObjectVersionTagging',
    ]);
    expect(list(guard?.Resource).map(render)).toEqual(['<UploadsBucket.Arn>/uploads/*']);
    expect(guard?.Condition).toEqual({
      StringLike: { 's3:ExistingObjectTag/validation-status': '*' },
      ArnNotEquals: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': ['ValidateUploadRole', 'Arn'] }] },
    });
  });

  it('has only the TLS, tag-gate and retag-guard statements', () => {
    // Assert
    expect(bucketPolicy().map((statement) => statement.Sid)).toEqual([
      'DenyInsecureTransport',
      'DenyReadingUnvalidatedUploads',
      'OnlyVerdictWritersRetagUploads',
    ]);
  });
});

describe('state bucket', () => {
  const bucket = () => resource('StateBucket');
  const bucketPolicy = () => {
    const [entry, ...others] = resourcesOfType('AWS::S3::BucketPolicy').filter(
      ([, value]) => JSON.stringify(value.Properties.Bucket) === JSON.stringify({ Ref: 'StateBucket' }),
    );
    expect(others).toEqual([]);
    if (!entry) throw new Error('no bucket policy on StateBucket');
    return (entry[1].Properties.PolicyDocument as JsonObject).Statement as unknown as Statement[];
  };

  it('is an S3 bucket that survives the stack', () => {
    // Assert
    expect(bucket()).toMatchObject({
      Type: 'AWS::S3::Bucket',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('blocks public access, enforces bucket-owner ownership and encrypts with SSE-S3', () => {
    // Assert
    expect(bucket().Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket().Properties.OwnershipControls).toEqual({
      Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }],
    });
    expect(bucket().Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
  });

  it('is not versioned, so that conditional writes hold on every S3, and triggers nothing', () => {
    // Assert
    expect(bucket().Properties.VersioningConfiguration).toBeUndefined();
    expect(bucket().Properties.NotificationConfiguration).toBeUndefined();
    expect(bucket().Properties.CorsConfiguration).toBeUndefined();
  });

  it('expires multipart upload records and closing claims after a week, tombstones after a day, and nothing else: share epochs must outlive every link', () => {
    // Act
    const rules = (bucket().Properties.LifecycleConfiguration as JsonObject).Rules as JsonObject[];

    // Assert
    expect(rules).toEqual([
      {
        Id: 'ExpireMultipartUploadRecords',
        Status: 'Enabled',
        Prefix: 'multipart-uploads/',
        ExpirationInDays: 7,
      },
      {
        Id: 'ExpireMultipartClosingClaims',
        Status: 'Enabled',
        Prefix: 'multipart-closing/',
        ExpirationInDays: 7,
      },
      // Only tombstones of files deleted while their form could still be posted: never a record.
      {
        Id: 'ExpireFileTombstones',
        Status: 'Enabled',
        Prefix: 'file-index/',
        TagFilters: [{ Key: 'file-record', Value: 'tombstone' }],
        ExpirationInDays: 1,
      },
    ]);
  });

  it('refuses every request that is not over TLS, and holds no other statement', () => {
    // Act
    const statements = bucketPolicy();

    // Assert
    expect(statements).toHaveLength(1);
    const [tls] = statements;
    expect(tls).toMatchObject({
      Sid: 'DenyInsecureTransport',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
    });
    expect(tls?.Condition).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
    expect(list(tls?.Resource).map(render).sort()).toEqual(['<StateBucket.Arn>', '<StateBucket.Arn>/*']);
  });

  it('is one of exactly three buckets of the product (beside osls’s deployment bucket), each with its one policy', () => {
    // Act
    const ours = ([name]: [string, Resource]) => name !== 'ServerlessDeploymentBucket';
    const policies = resourcesOfType('AWS::S3::BucketPolicy').filter(
      ([, value]) =>
        JSON.stringify(value.Properties.Bucket) !== JSON.stringify({ Ref: 'ServerlessDeploymentBucket' }),
    );

    // Assert
    expect(
      resourcesOfType('AWS::S3::Bucket')
        .filter(ours)
        .map(([name]) => name)
        .sort(),
    ).toEqual(['AccessLogBucket', 'StateBucket', 'UploadsBucket']);
    expect(policies.map(([, value]) => render(value.Properties.Bucket as Json)).sort()).toEqual(
      [STATE_BUCKET, BUCKET, '<Ref AccessLogBucket>'].sort(),
    );
  });
});

describe('access logs of the uploads bucket', () => {
  const logBucket = () => resource('AccessLogBucket');
  const logBucketPolicy = () => {
    const [entry, ...others] = resourcesOfType('AWS::S3::BucketPolicy').filter(
      ([, value]) => JSON.stringify(value.Properties.Bucket) === JSON.stringify({ Ref: 'AccessLogBucket' }),
    );
    expect(others).toEqual([]);
    if (!entry) throw new Error('no bucket policy on AccessLogBucket');
    return (entry[1].Properties.PolicyDocument as JsonObject).Statement as unknown as Statement[];
  };

  it('logs every request to the uploads bucket into the access log bucket, set up after its policy', () => {
    // Act
    const uploads = resource('UploadsBucket');

    // Assert
    expect(uploads.Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: 'AccessLogBucket' },
      LogFilePrefix: 'uploads-bucket/',
    });
    expect(list(uploads.DependsOn)).toContain('AccessLogBucketPolicy');
  });

  it('keeps the logs private, encrypted, retained with the stack, and expiring', () => {
    // Assert
    expect(logBucket()).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(logBucket().Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(logBucket().Properties.OwnershipControls).toEqual({
      Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }],
    });
    expect(logBucket().Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    expect((logBucket().Properties.LifecycleConfiguration as JsonObject).Rules).toEqual([
      { Id: 'ExpireAccessLogs', Status: 'Enabled', Prefix: '', ExpirationInDays: 365 },
    ]);
    expect(logBucket().Properties.NotificationConfiguration).toBeUndefined();
  });

  it('lets only S3 log delivery for the uploads bucket of this account write, over TLS only', () => {
    // Act
    const [tls, delivery, ...others] = logBucketPolicy();

    // Assert
    expect(others).toEqual([]);
    expect(tls).toMatchObject({
      Sid: 'DenyInsecureTransport',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
    });
    expect(delivery).toMatchObject({
      Effect: 'Allow',
      Principal: { Service: 'logging.s3.amazonaws.com' },
      Action: 's3:PutObject',
    });
    expect(list(delivery?.Resource).map(render)).toEqual(['<AccessLogBucket.Arn>/uploads-bucket/*']);
    const condition = delivery?.Condition as JsonObject;
    expect(render((condition.ArnLike as JsonObject)['aws:SourceArn'] as Json)).toBe(
      `arn:${PARTITION}:s3:::${BUCKET}`,
    );
    expect((condition.StringEquals as JsonObject)['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
  });
});

describe('malware scanning, with malwareScan at its default (none)', () => {
  it('adds nothing of GuardDuty: no plan, role, rule, gate statement or EventBridge delivery; every function is told none', () => {
    // The upload roles name GuardDuty's tag in either setting, only to be refused objects carrying it.
    const text = JSON.stringify(template.Resources).replaceAll(
      '"s3:ExistingObjectTag/GuardDutyMalwareScanStatus":"true"',
      '',
    );
    expect(text).not.toMatch(/GuardDuty|MalwareProtection|aws\.guardduty/);
    // The one rule is the pending-uploads sweep's schedule.
    expect(
      resourcesOfType('AWS::Events::Rule').filter(([, rule]) => !rule.Properties.ScheduleExpression),
    ).toEqual([]);
    for (const fn of FUNCTIONS) {
      expect(
        (functionOf(fn).Properties.Environment as { Variables?: Record<string, string> } | undefined)
          ?.Variables?.MALWARE_SCAN,
      ).toBe('none');
    }
  });
});

describe('the pending-uploads sweep', () => {
  it('runs every two minutes, on a schedule of its own, and invokes nothing but the validator', () => {
    // Act
    const rules = resourcesOfType('AWS::Events::Rule');
    const variables = (
      functionOf('sweepPendingUploads').Properties.Environment as {
        Variables: Record<string, string>;
      }
    ).Variables;

    // Assert
    expect(rules).toHaveLength(1);
    const rule = (rules[0] as [string, Resource])[1].Properties;
    expect(rule.ScheduleExpression).toBe('rate(2 minutes)');
    expect(JSON.stringify(rule.Targets)).toContain('SweepPendingUploadsLambdaFunction');
    expect(variables.VALIDATOR_FUNCTION).toBe(VALIDATOR);
    for (const fn of FUNCTIONS.filter((name) => name !== 'sweepPendingUploads')) {
      const others = functionOf(fn).Properties.Environment as { Variables?: Record<string, string> };
      expect(others?.Variables?.VALIDATOR_FUNCTION).toBeUndefined();
    }
  });
});

describe('partner readers, when none is configured', () => {
  it('grant nothing: no partner statement, role or output', () => {
    // Act
    const statements = resourcesOfType('AWS::S3::BucketPolicy').flatMap(([, value]) =>
      list((value.Properties.PolicyDocument as JsonObject).Statement as unknown as Statement[]),
    );

    // Assert
    expect(statements.filter((statement) => statement.Sid?.startsWith('Partner'))).toEqual([]);
    expect(
      statements.filter((statement) => JSON.stringify(statement.Principal ?? '').includes('arn:')),
    ).toEqual([]);
    expect(Object.keys(template.Resources).filter((name) => name.startsWith('Partner'))).toEqual([]);
    expect(templateText).not.toContain('sts:ExternalId');
  });
});

describe('validation trigger', () => {
  it('sends every object created under uploads/ to the upload-events queue', () => {
    // Act
    const notification = resource('UploadsBucket').Properties.NotificationConfiguration as JsonObject;

    // Assert
    expect(Object.keys(notification)).toEqual(['QueueConfigurations']);
    expect(notification.QueueConfigurations).toEqual([
      {
        Event: 's3:ObjectCreated:*',
        Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: 'uploads/' }] } },
        Queue: { 'Fn::GetAtt': ['UploadEventsQueue', 'Arn'] },
      },
    ]);
  });

  it('lets only this bucket in this account send to the queue, before the notification is put', () => {
    // Act
    const [name, policy] = resourcesOfType('AWS::SQS::QueuePolicy')[0] as [string, Resource];
    const statements = (policy.Properties.PolicyDocument as JsonObject).Statement as JsonObject[];

    // Assert
    expect(resourcesOfType('AWS::SQS::QueuePolicy')).toHaveLength(1);
    expect(policy.Properties.Queues).toEqual([{ Ref: 'UploadEventsQueue' }]);
    expect(statements).toHaveLength(1);
    const [statement] = statements as [JsonObject];
    expect(statement).toMatchObject({
      Effect: 'Allow',
      Principal: { Service: 's3.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Resource: { 'Fn::GetAtt': ['UploadEventsQueue', 'Arn'] },
    });
    const condition = statement.Condition as JsonObject;
    expect(render((condition.ArnEquals as JsonObject)['aws:SourceArn'] as Json)).toBe(
      `arn:${PARTITION}:s3:::${BUCKET}`,
    );
    expect(condition.StringEquals).toEqual({ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
    expect(list(resource('UploadsBucket').DependsOn)).toContain(name);
    // S3 no longer invokes the validator itself.
    expect(
      resourcesOfType('AWS::Lambda::Permission').filter(
        ([, value]) => value.Properties.Principal === 's3.amazonaws.com',
      ),
    ).toEqual([]);
  });

  it('hands the validator batches, reporting partial failures, within its reserved concurrency', () => {
    // Act
    const mappings = resourcesOfType('AWS::Lambda::EventSourceMapping');

    // Assert
    expect(mappings).toHaveLength(1);
    const mapping = (mappings[0] as [string, Resource])[1].Properties;
    expect(mapping).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['UploadEventsQueue', 'Arn'] },
      FunctionName: { 'Fn::GetAtt': ['ValidateUploadLambdaFunction', 'Arn'] },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(functionOf('validateUpload').Properties.ReservedConcurrentExecutions).toBe(
      Number(LIMIT_PARAMS.validatorReservedConcurrency),
    );
  });

  it('moves a message received three times to the dead-letter queue, after six function timeouts each', () => {
    // Act
    const queue = resource('UploadEventsQueue').Properties;

    // Assert
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['UploadValidationDlq', 'Arn'] },
      maxReceiveCount: 3,
    });
    expect(queue.VisibilityTimeout).toBe(6 * Number(functionOf('validateUpload').Properties.Timeout));
    expect(queue.SqsManagedSseEnabled).toBe(true);
  });

  it('retries a scan result twice, then sends the event to an SQS dead-letter queue', () => {
    // Act
    const configs = resourcesOfType('AWS::Lambda::EventInvokeConfig').filter(
      ([, value]) =>
        JSON.stringify(value.Properties.FunctionName) === '{"Ref":"ValidateUploadLambdaFunction"}',
    );

    // Assert
    expect(configs).toHaveLength(1);
    const config = (configs[0] as [string, Resource])[1].Properties;
    expect(config.FunctionName).toEqual({ Ref: 'ValidateUploadLambdaFunction' });
    expect(config.MaximumRetryAttempts).toBe(2);
    expect(config.DestinationConfig).toEqual({
      OnFailure: { Destination: { 'Fn::GetAtt': ['UploadValidationDlq', 'Arn'] } },
    });
    expect(resource('UploadValidationDlq').Type).toBe('AWS::SQS::Queue');
  });

  it('leaves no dependency cycle in the stack', () => {
    // Arrange
    const graph = new Map(
      Object.entries(template.Resources).map(([name, value]) => {
        const edges = dependencies(value.Properties as Json);
        for (const dependency of list(value.DependsOn)) edges.add(dependency);
        return [name, [...edges].filter((edge) => edge in template.Resources)];
      }),
    );
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (name: string, path: string[]) => {
      state.set(name, 'visiting');
      for (const next of graph.get(name) ?? []) {
        if (state.get(next) === 'visiting') cycles.push([...path, next].join(' → '));
        else if (!state.has(next)) visit(next, [...path, next]);
      }
      state.set(name, 'done');
    };

    // Act
    for (const name of graph.keys()) if (!state.has(name)) visit(name, [name]);

    // Assert
    expect(cycles).toEqual([]);
  });
});

describe('webhook delivery', () => {
  it('retries a failed delivery twice, then sends Lambda’s record to the webhook dead-letter queue', () => {
    // Act
    const configs = resourcesOfType('AWS::Lambda::EventInvokeConfig').filter(
      ([, value]) =>
        JSON.stringify(value.Properties.FunctionName) === '{"Ref":"DeliverWebhookLambdaFunction"}',
    );

    // Assert
    expect(configs).toHaveLength(1);
    const config = (configs[0] as [string, Resource])[1].Properties;
    expect(config.MaximumRetryAttempts).toBe(2);
    expect(config.DestinationConfig).toEqual({
      OnFailure: { Destination: { 'Fn::GetAtt': ['WebhookDeadLetterQueue', 'Arn'] } },
    });
    expect(resourcesOfType('AWS::Lambda::EventInvokeConfig')).toHaveLength(2);
  });

  it('keeps undelivered webhooks 14 days in an encrypted queue, named in the outputs', () => {
    // Act
    const queue = resource('WebhookDeadLetterQueue');
    const outputs = (template as unknown as { Outputs: Record<string, { Value: Json }> }).Outputs;

    // Assert
    expect(queue).toMatchObject({
      Type: 'AWS::SQS::Queue',
      Properties: { MessageRetentionPeriod: 1209600, SqsManagedSseEnabled: true },
    });
    expect(outputs.WebhookDeadLetterQueueUrl?.Value).toEqual({ Ref: 'WebhookDeadLetterQueue' });
  });

  it('gives the deliverer 30 s, room for its three tries of 5 s and its waits', () => {
    // Act
    const properties = functionOf('deliverWebhook').Properties;

    // Assert
    expect(properties.Timeout).toBe(30);
    expect(functionOf('deliverWebhook').Properties.Handler).toBe('handlers/deliver-webhook.handler');
  });
});

describe('limits', () => {
  it.each(FUNCTIONS)('%s runs with the per-owner quota and rate the params set', (fn) => {
    // Act
    const variables = functionOf(fn).Properties.Environment as { Variables: Record<string, Json> };

    // Assert
    expect(variables.Variables.QUOTA_BYTES_PER_OWNER).toBe(LIMIT_PARAMS.quotaBytesPerOwner);
    expect(variables.Variables.UPLOADS_PER_HOUR_PER_OWNER).toBe(LIMIT_PARAMS.uploadsPerHourPerOwner);
    expect(variables.Variables.UPLOAD_RATE_WINDOW_SECONDS).toBe('3600');
  });

  it('throttles every route of the HTTP API at the stage, with the rate and burst the params set', () => {
    // Act
    const stages = resourcesOfType('AWS::ApiGatewayV2::Stage');

    // Assert
    expect(stages).toHaveLength(1);
    const [name, stage] = stages[0] as [string, Resource];
    expect(name).toBe('HttpApiStage');
    expect(stage.Properties.ApiId).toEqual({ Ref: 'HttpApi' });
    const settings = stage.Properties.DefaultRouteSettings as JsonObject;
    // A param is a string; CloudFormation takes a numeric string for a number property.
    expect(Number(settings.ThrottlingRateLimit)).toBe(Number(LIMIT_PARAMS.apiThrottlingRateLimit));
    expect(Number(settings.ThrottlingBurstLimit)).toBe(Number(LIMIT_PARAMS.apiThrottlingBurstLimit));
  });

  it('keeps concurrency for the validator alone, and for no other function', () => {
    // Act
    const reserved = FUNCTIONS.filter(
      (fn) => functionOf(fn).Properties.ReservedConcurrentExecutions !== undefined,
    );

    // Assert
    expect(reserved).toEqual(['validateUpload']);
    expect(functionOf('validateUpload').Properties.ReservedConcurrentExecutions).toBe(
      Number(LIMIT_PARAMS.validatorReservedConcurrency),
    );
  });

  it('lets the browser read Retry-After from a 429 (CORS)', () => {
    // Act
    const cors = resource('HttpApi').Properties.CorsConfiguration as JsonObject;

    // Assert
    expect(list(cors.ExposeHeaders as Json).map(String)).toContain('retry-after');
  });
});

describe('operations (deploy/operations.cjs)', () => {
  const ALARM_TOPIC = { Ref: 'AlarmTopic' };
  const alarms = () =>
    Object.entries(template.Resources).filter(([, value]) => value.Type === 'AWS::CloudWatch::Alarm');
  const alarmsOn = (metric: string, dimension: Json) =>
    alarms().filter(
      ([, alarm]) =>
        alarm.Properties.MetricName === metric &&
        JSON.stringify(alarm.Properties.Dimensions) === JSON.stringify([dimension]),
    );
  const lambdaFunctions = () =>
    Object.keys(template.Resources).filter(
      (name) => template.Resources[name]?.Type === 'AWS::Lambda::Function',
    );

  it.each(['Errors', 'Throttles'])(
    'alarms on the %s of every function of the template, any in five minutes',
    (metric) => {
      // Arrange
      const functions = lambdaFunctions();

      // Assert
      expect(functions.length).toBe(FUNCTIONS.length);
      for (const logicalId of functions) {
        const found = alarmsOn(metric, { Name: 'FunctionName', Value: { Ref: logicalId } });
        expect(found, `${logicalId} ${metric}`).toHaveLength(1);
        expect((found[0] as [string, Resource])[1].Properties).toMatchObject({
          Namespace: 'AWS/Lambda',
          Statistic: 'Sum',
          Period: 300,
          EvaluationPeriods: 1,
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          TreatMissingData: 'notBreaching',
        });
      }
    },
  );

  it.each(['UploadValidationDlq', 'WebhookDeadLetterQueue'])(
    'alarms as soon as %s holds a message',
    (queue) => {
      // Act
      const found = alarmsOn('ApproximateNumberOfMessagesVisible', {
        Name: 'QueueName',
        Value: { 'Fn::GetAtt': [queue, 'QueueName'] },
      });

      // Assert
      expect(found).toHaveLength(1);
      expect((found[0] as [string, Resource])[1].Properties).toMatchObject({
        Namespace: 'AWS/SQS',
        Statistic: 'Maximum',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    },
  );

  it('alarms when the validator falls behind: the oldest upload event older than validatorBehindSeconds (300) for three minutes', () => {
    // Act
    const found = alarmsOn('ApproximateAgeOfOldestMessage', {
      Name: 'QueueName',
      Value: { 'Fn::GetAtt': ['UploadEventsQueue', 'QueueName'] },
    });

    // Assert
    expect(found).toHaveLength(1);
    expect((found[0] as [string, Resource])[1].Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      Statistic: 'Maximum',
      Period: 60,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      Threshold: 300,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('sends every alarm, and its all-clear, to the topic the stack creates when alarmTopicArn is empty', () => {
    // Arrange
    const outputs = (JSON.parse(templateText) as { Outputs: Record<string, { Value: Json }> }).Outputs;

    // Assert
    expect(alarms()).toHaveLength(2 * FUNCTIONS.length + 3);
    for (const [name, alarm] of alarms()) {
      expect(alarm.Properties.AlarmActions, name).toEqual([ALARM_TOPIC]);
      expect(alarm.Properties.OKActions, name).toEqual([ALARM_TOPIC]);
    }
    expect(resource('AlarmTopic').Type).toBe('AWS::SNS::Topic');
    expect(outputs.AlarmTopicArn?.Value).toEqual(ALARM_TOPIC);
  });

  it('draws a dashboard of every function, the upload-events queue, both dead-letter queues and the API', () => {
    // Arrange
    const body = (resource('OperationsDashboard').Properties.DashboardBody as JsonObject)[
      'Fn::Sub'
    ] as string;
    const substituted = body.replace(/\$\{([A-Za-z:]+)(\.QueueName)?\}/g, (_, name: string) => `<${name}>`);

    // Act
    const { widgets } = JSON.parse(substituted) as { widgets: { properties: { metrics: string[][] } }[] };
    const named = new Set(widgets.flatMap((widget) => widget.properties.metrics.map((metric) => metric[3])));

    // Assert
    expect(resource('OperationsDashboard').Type).toBe('AWS::CloudWatch::Dashboard');
    for (const fn of FUNCTIONS) expect(named).toContain(`presign-${STAGE}-${fn}`);
    for (const queue of ['UploadEventsQueue', 'UploadValidationDlq', 'WebhookDeadLetterQueue']) {
      expect(named).toContain(`<${queue}>`);
    }
    expect(named).toContain('<HttpApi>');
  });
});
