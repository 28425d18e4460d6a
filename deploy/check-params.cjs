// A local serverless plugin: before `osls package` (which `osls deploy` runs first) it checks
// every param of serverless.yml that would break the deployed stack, and fails naming each bad
// param and the `--param name=value` that sets it. Without it, a stack packaged with no JWKS or no
// verdict key deploys "fine" and every function but /health fails its cold start.
// `osls offline` (the local stack, which passes its own development settings) is not checked.
const { createPublicKey } = require('node:crypto');
const { z } = require('zod');

/** S3 stores objects of 5 TiB at most: no upload rule may allow more. */
const MAX_OBJECT_BYTES = 5 * 1024 ** 4;
const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'];
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** A param's text: the CLI gives strings, serverless.yml's defaults may be numbers. */
const text = z.preprocess(
  (value) => (value === undefined || value === null ? '' : String(value).trim()),
  z.string(),
);
const required = (what) => text.pipe(z.string().min(1, `is empty (${what})`));
/** A param that may be left empty: empty passes, anything else must match `schema`. */
const optional = (schema) =>
  z.preprocess((value) => {
    const given = value === undefined || value === null ? '' : String(value).trim();
    return given === '' ? undefined : given;
  }, schema.optional());

const wholeNumber = (min, max) =>
  z.string().refine((value) => {
    const number = Number(value);
    return /^\d+$/.test(value) && Number.isSafeInteger(number) && number >= min && number <= max;
  }, `must be a whole number from ${min} to ${max}`);

const httpsUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && !url.username && !url.password;
  } catch {
    return false;
  }
}, 'must be an absolute https: URL without credentials');

const ORIGINS =
  'must be origins like https://app.example.com (scheme, host and port only; http: only to localhost)';

/** `https://host[:port]` (or `http:` to a loopback host, for a web app run locally), nothing after. */
const origin = z.string().refine((value) => {
  try {
    const url = new URL(value);
    const secure =
      url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
    return secure && url.origin === value;
  } catch {
    return false;
  }
}, ORIGINS);

const commaList = (item, message) =>
  z.string().refine((value) => value.split(',').every((entry) => item(entry.trim())), message);

const ed25519PublicKey = z.string().refine((value) => {
  const pem = value.includes('-----BEGIN') ? value : Buffer.from(value, 'base64').toString('utf8');
  try {
    return createPublicKey(pem).asymmetricKeyType === 'ed25519';
  } catch {
    return false;
  }
}, 'must be the validator’s Ed25519 public key (PEM, or its base64)');

const ssmName = z
  .string()
  .regex(
    /^\/[A-Za-z0-9_.\-/]{1,1010}$/,
    'must be an SSM parameter name starting with / (letters, digits, _ . - /)',
  );

/** A param that names an SSM parameter: set, and a name SSM takes. */
const ssmParameter = required('an SSM parameter name').pipe(ssmName);

const uploadRules = z.string().refine((value) => {
  try {
    const rules = JSON.parse(value);
    return (
      rules !== null &&
      typeof rules === 'object' &&
      !Array.isArray(rules) &&
      Object.keys(rules).length > 0 &&
      Object.values(rules).every(
        (bytes) => Number.isSafeInteger(bytes) && bytes > 0 && bytes <= MAX_OBJECT_BYTES,
      )
    );
  } catch {
    return false;
  }
}, `must be a JSON map of content type to maximum bytes (1 to ${MAX_OBJECT_BYTES}), e.g. {"image/png":10485760}`);

/**
 * Every param this plugin checks: its schema and what to pass when it is wrong
 * (`--param name=<hint>`). The table in docs/deploy.md lists the same names.
 */
const PARAMS = {
  authIssuer: {
    schema: required('the `iss` of your identity provider’s tokens').pipe(
      z.string().regex(/^\S+$/, 'must not contain spaces'),
    ),
    hint: 'https://issuer.example.com/',
  },
  authJwksUrl: {
    schema: required('your identity provider’s JWKS URL').pipe(httpsUrl),
    hint: 'https://issuer.example.com/.well-known/jwks.json',
  },
  authAudience: { schema: optional(commaList(Boolean, 'must not hold an empty item')), hint: 'presign-api' },
  authClientIds: {
    schema: optional(commaList(Boolean, 'must not hold an empty item')),
    hint: '<app client id>',
  },
  authAuthorizedParties: {
    schema: optional(commaList((entry) => origin.safeParse(entry).success, ORIGINS)),
    hint: 'https://app.example.com',
  },
  authTokenUse: { schema: optional(z.enum(['access', 'id'], 'must be access, id or empty')), hint: 'access' },
  allowedOrigins: {
    schema: required('the web app’s origins').pipe(
      commaList((entry) => origin.safeParse(entry).success, ORIGINS),
    ),
    hint: 'https://app.example.com',
  },
  bucketName: {
    schema: required('a bucket name').pipe(
      z
        .string()
        .regex(
          /^(?!xn--)(?!.*-s3alias$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
          'must be an S3 bucket name: 3 to 63 lowercase letters, digits, dots and hyphens',
        ),
    ),
    hint: 'acme-presign-prod-uploads',
  },
  shareSecretParameter: {
    schema: ssmParameter,
    hint: '/presign/prod/share-secret',
  },
  ownerSecretParameter: {
    schema: ssmParameter,
    hint: '/presign/prod/owner-secret',
  },
  verdictSigningKeyParameter: {
    schema: ssmParameter,
    hint: '/presign/prod/verdict-signing-key',
  },
  verdictPublicKey: {
    schema: required('the validator’s public key (docs/deploy.md, step 3)').pipe(ed25519PublicKey),
    hint: '$VERDICT_PUBLIC_KEY',
  },
  uploadUrlTtlSeconds: { schema: text.pipe(wholeNumber(1, 900)), hint: '300' },
  publicApiUrl: { schema: optional(httpsUrl), hint: 'https://files.example.com' },
  uploadRules: { schema: optional(uploadRules), hint: '{"image/png":10485760}' },
  failedUploadExpiryDays: { schema: text.pipe(wholeNumber(1, 3650)), hint: '1' },
  logLevel: {
    schema: text.pipe(z.enum(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(', ')}`)),
    hint: 'INFO',
  },
  accessLogExpiryDays: { schema: text.pipe(wholeNumber(1, 36500)), hint: '365' },
  webhookUrl: { schema: optional(httpsUrl), hint: 'https://hooks.example.com/presign' },
  webhookSecretParameter: {
    schema: ssmParameter,
    hint: '/presign/prod/webhook-secret',
  },
  quotaBytesPerOwner: { schema: optional(wholeNumber(1, Number.MAX_SAFE_INTEGER)), hint: '10737418240' },
  uploadsPerHourPerOwner: { schema: optional(wholeNumber(1, 1_000_000)), hint: '500' },
  apiThrottlingRateLimit: { schema: text.pipe(wholeNumber(1, 1_000_000)), hint: '100' },
  apiThrottlingBurstLimit: { schema: text.pipe(wholeNumber(1, 1_000_000)), hint: '200' },
  validatorReservedConcurrency: { schema: text.pipe(wholeNumber(1, 10_000)), hint: '20' },
  validatorBatchSize: { schema: text.pipe(wholeNumber(1, 10_000)), hint: '10' },
  validatorBatchingWindowSeconds: { schema: text.pipe(wholeNumber(0, 300)), hint: '0' },
  malwareScan: {
    schema: text.pipe(z.enum(['none', 'guardduty'], 'must be none or guardduty')),
    hint: 'none',
  },
  alarmTopicArn: {
    schema: optional(
      z
        .string()
        .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, 'must be an SNS topic ARN'),
    ),
    hint: 'arn:aws:sns:eu-west-1:123456789012:presign-alarms',
  },
  validatorBehindSeconds: { schema: text.pipe(wholeNumber(60, 1_209_600)), hint: '300' },
};

/** What only several params together can get wrong: [the param to name, the problem] pairs. */
function crossChecks(values) {
  const problems = [];
  const bound = ['authAudience', 'authClientIds', 'authAuthorizedParties'].some((name) =>
    String(values[name] ?? '').trim(),
  );
  if (!bound) {
    problems.push([
      'authAudience',
      'is empty, and so are authClientIds and authAuthorizedParties: nothing would bind a token to this API (set one of the three: docs/identity-providers.md)',
    ]);
  }
  if (Number(values.validatorBatchSize) > 10 && Number(values.validatorBatchingWindowSeconds) < 1) {
    problems.push([
      'validatorBatchSize',
      'is over 10 with validatorBatchingWindowSeconds 0: SQS requires a batching window of at least 1 s for batches over 10',
    ]);
  }
  return problems;
}

/**
 * The params `osls` resolves: `--param name=value` first, then `params.<stage>`,
 * then `params.default` (as its param variable source does).
 */
function effectiveParams(serverless, stage) {
  const configured = serverless.configurationInput?.params ?? {};
  const values = { ...(configured.default ?? {}), ...(configured[stage] ?? {}) };
  for (const item of serverless.processedInput?.options?.param ?? []) {
    const match = /^(?<name>[^=]+)=(?<value>.+)$/.exec(item);
    if (match?.groups) values[match.groups.name] = match.groups.value.trimEnd();
  }
  return values;
}

/**
 * Checks `values` (params by name): the problems found, each as the message a
 * deployer reads, naming the param and how to set it. Empty: all is well.
 */
function checkParams(values) {
  const problems = [];
  for (const [name, { schema }] of Object.entries(PARAMS)) {
    const result = schema.safeParse(values[name]);
    if (!result.success) problems.push([name, result.error.issues[0]?.message ?? 'is invalid']);
  }
  problems.push(...crossChecks(values));
  return problems.map(
    ([name, problem]) => `param ${name} ${problem}. Set it with --param "${name}=${PARAMS[name].hint}"`,
  );
}

class CheckParams {
  constructor(serverless, options) {
    this.hooks = {
      'before:package:initialize': () => {
        const stage = options.stage ?? serverless.service.provider.stage;
        const problems = checkParams(effectiveParams(serverless, stage));
        if (problems.length) {
          throw new serverless.classes.Error(
            `This stack would not work as deployed (docs/deploy.md lists every param):\n  ${problems.join('\n  ')}`,
          );
        }
      },
    };
  }
}

module.exports = CheckParams;
module.exports.checkParams = checkParams;
module.exports.PARAMS = PARAMS;
