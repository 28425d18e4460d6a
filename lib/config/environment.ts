import { MALWARE_SCAN_MODES, type MalwareScanMode } from '../core/file-checks.js';
import { MIN_OWNER_SECRET_LENGTH } from '../core/owner.js';
import * as z from '../core/zod.js';

/** Upload URL lifetime bounds, in seconds. */
export const UPLOAD_TTL_DEFAULT = 300;
export const UPLOAD_TTL_MAX = 900;

/** The rate limit's window, in seconds: an hour, the most it may be. */
export const RATE_WINDOW_DEFAULT = 3600;
/** A form's reservation outlives the form by an hour unless configured otherwise (seconds). */
export const RESERVATION_GRACE_DEFAULT = 3600;

/** A whole number of `1..max`, given as text. */
const positiveWhole = (max: number) => z.coerce.number().check(z.int(), z.positive(), z.maximum(max));

/** A whole number of `0..max`, given as text. */
const wholeUpTo = (max: number) => z.coerce.number().check(z.int(), z.nonnegative(), z.maximum(max));

const positiveSeconds = (fallback: number, max: number) => z._default(positiveWhole(max), fallback);

const jsonValue = z.pipe(
  z.string(),
  z.transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.issues.push({ code: 'custom', message: 'is not valid JSON', input: text });
      return z.NEVER;
    }
  }),
);

/** A comma-separated list of non-empty values (`a,b`); empty or unset: none. */
const commaList = z.pipe(
  z.pipe(
    z.string(),
    z.transform((text) => text.split(',').map((item) => item.trim())),
  ),
  z.array(z.string().check(z.minLength(1, 'must not hold an empty item'))),
);

/** A Lambda function's name. */
const functionName = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a Lambda function name'));

/** The `token_use` claims Amazon Cognito issues: `access` and `id` tokens. */
export const TOKEN_USES = ['access', 'id'] as const;

const environmentSchema = z.object({
  AWS_REGION: z._default(z.string().check(z.minLength(1)), 'us-east-1'),
  UPLOADS_BUCKET: z.string().check(z.minLength(3)),
  /** Set only off AWS (the local Ceph RGW); unset in AWS. */
  S3_ENDPOINT: z.optional(z.url()),
  AUTH_ISSUER: z.string().check(z.minLength(1)),
  /** Accepted `aud` values, comma-separated (OIDC, Auth0, Cognito ID tokens). */
  AUTH_AUDIENCE: z.optional(commaList),
  /** Accepted `client_id` values, comma-separated (Amazon Cognito access tokens). */
  AUTH_CLIENT_IDS: z.optional(commaList),
  /** Accepted `azp` values, comma-separated (Clerk session tokens: the frontend's origins). */
  AUTH_AUTHORIZED_PARTIES: z.optional(commaList),
  /** The `token_use` every token must carry (Amazon Cognito); unset: not checked. */
  AUTH_TOKEN_USE: z.optional(z.enum(TOKEN_USES)),
  /** Where the issuer publishes its JWKS (AWS: the identity provider's URL). */
  AUTH_JWKS_URL: z.optional(z.url()),
  /** The JWKS itself, inline JSON (an alternative to AUTH_JWKS_URL). */
  AUTH_JWKS: z.optional(
    z.pipe(jsonValue, z.object({ keys: z.array(z.record(z.string(), z.unknown())).check(z.minLength(1)) })),
  ),
  UPLOAD_URL_TTL_SECONDS: positiveSeconds(UPLOAD_TTL_DEFAULT, UPLOAD_TTL_MAX),
  /** Key for share-link HMACs (locally generated; in AWS resolved from SSM at cold start). */
  SHARE_SECRET: z.optional(z.string().check(z.minLength(32))),
  /** SSM SecureString parameter holding the share secret, used when SHARE_SECRET is unset. */
  SHARE_SECRET_PARAMETER: z.optional(z.string().check(z.minLength(1))),
  /** Key for owner segments, the HMAC of each JWT `sub` in object keys (locally generated; in AWS from SSM). */
  OWNER_SECRET: z.optional(z.string().check(z.minLength(MIN_OWNER_SECRET_LENGTH))),
  /** SSM SecureString parameter holding the owner secret, used when OWNER_SECRET is unset. */
  OWNER_SECRET_PARAMETER: z.optional(z.string().check(z.minLength(1))),
  /** Public base URL of the API for share links; derived from the request when unset. */
  PUBLIC_API_URL: z.optional(z.url()),
  /** JSON map of content type to maximum bytes; replaces the default rules. */
  UPLOAD_RULES: z.optional(jsonValue),
  /** The state bucket: small records changed by compare-and-swap (share epochs), never versioned. */
  STATE_BUCKET: z.string().check(z.minLength(3)),
  /** The validator's Ed25519 public key (PEM, or its base64): every verdict is checked against it. */
  VERDICT_PUBLIC_KEY: z.string().check(z.minLength(40)),
  /** The validator's Ed25519 private key (PEM, or its base64): locally, the validator only. */
  VERDICT_SIGNING_KEY: z.optional(z.string().check(z.minLength(40))),
  /** SSM SecureString holding the validator's private key, used when VERDICT_SIGNING_KEY is unset. */
  VERDICT_SIGNING_KEY_PARAMETER: z.optional(z.string().check(z.minLength(1))),
  /** The webhook receiver's URL, in the deliverer only; unset: no webhook is sent. */
  WEBHOOK_URL: z.optional(z.string()),
  /** The Standard Webhooks key (`whsec_…`) the deliverer signs with (locally; in AWS from SSM). */
  WEBHOOK_SECRET: z.optional(z.string()),
  /** SSM SecureString holding the webhook key, used when WEBHOOK_SECRET is unset. */
  WEBHOOK_SECRET_PARAMETER: z.optional(z.string().check(z.minLength(1))),
  /** The deliverer function the validator hands each verdict's webhook to; unset: none is handed off. */
  WEBHOOK_DELIVERER_FUNCTION: z.optional(functionName),
  /** Bytes of pending and passed files plus open reservations one owner may hold; unset: no quota. */
  QUOTA_BYTES_PER_OWNER: z.optional(positiveWhole(Number.MAX_SAFE_INTEGER)),
  /** Uploads (forms and multipart starts) one owner may be issued per hour; unset: no rate. */
  UPLOADS_PER_HOUR_PER_OWNER: z.optional(positiveWhole(1_000_000)),
  /** The window of UPLOADS_PER_HOUR_PER_OWNER in seconds: an hour; shorter only for tests. */
  UPLOAD_RATE_WINDOW_SECONDS: positiveSeconds(RATE_WINDOW_DEFAULT, RATE_WINDOW_DEFAULT),
  /** How long a form's reservation outlives the form, for bytes still arriving (seconds). */
  RESERVATION_GRACE_SECONDS: z._default(wholeUpTo(86_400), RESERVATION_GRACE_DEFAULT),
  /**
   * `guardduty`: a file is served only once Amazon GuardDuty Malware Protection for S3 also
   * tagged its version NO_THREATS_FOUND; `none` (default): the content check alone decides.
   */
  MALWARE_SCAN: z._default(z.enum(MALWARE_SCAN_MODES as [MalwareScanMode, ...MalwareScanMode[]]), 'none'),
  /** The validator's function name: the pending-uploads sweep hands the files it finds to it. */
  VALIDATOR_FUNCTION: z.optional(functionName),
  /**
   * How long after an upload is issued the sweep looks at it, if it is not judged by then (5
   * minutes unless set: the local stack's tests shorten it).
   */
  PENDING_SWEEP_AFTER_SECONDS: z._default(wholeUpTo(86_400), 300),
  /** Set only off AWS: where the Lambda API is (the local stack's asynchronous invocation). */
  LAMBDA_ENDPOINT: z.optional(z.url()),
  /** Set to `true` by `serverless offline`; unset in AWS. */
  IS_OFFLINE: z.pipe(
    z.optional(z.string()),
    z.transform((value) => value === 'true'),
  ),
});

export type Environment = z.infer<typeof environmentSchema>;

/**
 * The serverless.yml param each variable comes from: what a deployer sets
 * (`--param name=value`), so a configuration error names that, not only the
 * variable. Variables not here are set by the stack itself.
 */
export const PARAM_OF_VARIABLE: Readonly<Record<string, string>> = {
  AUTH_ISSUER: 'authIssuer',
  AUTH_AUDIENCE: 'authAudience',
  AUTH_CLIENT_IDS: 'authClientIds',
  AUTH_AUTHORIZED_PARTIES: 'authAuthorizedParties',
  AUTH_TOKEN_USE: 'authTokenUse',
  AUTH_JWKS_URL: 'authJwksUrl',
  VERDICT_PUBLIC_KEY: 'verdictPublicKey',
  UPLOAD_URL_TTL_SECONDS: 'uploadUrlTtlSeconds',
  PUBLIC_API_URL: 'publicApiUrl',
  UPLOAD_RULES: 'uploadRules',
  QUOTA_BYTES_PER_OWNER: 'quotaBytesPerOwner',
  UPLOADS_PER_HOUR_PER_OWNER: 'uploadsPerHourPerOwner',
  MALWARE_SCAN: 'malwareScan',
  SHARE_SECRET_PARAMETER: 'shareSecretParameter',
  OWNER_SECRET_PARAMETER: 'ownerSecretParameter',
  VERDICT_SIGNING_KEY_PARAMETER: 'verdictSigningKeyParameter',
  WEBHOOK_URL: 'webhookUrl',
  WEBHOOK_SECRET_PARAMETER: 'webhookSecretParameter',
};

/**
 * How a configuration error names `variable`: with the param that sets it and
 * how (`AUTH_JWKS_URL (param authJwksUrl: --param authJwksUrl=…)`), or alone
 * when the stack sets it.
 */
export function describeSetting(variable: string): string {
  const param = PARAM_OF_VARIABLE[variable];
  return param ? `${variable} (param ${param}: --param ${param}=…)` : variable;
}

/** A zod issue in a deployer's words: "is missing" rather than "expected string, received undefined". */
function problem(issue: z.core.$ZodIssue, given: Record<string, unknown>): string {
  const variable = String(issue.path[0] ?? '');
  const rest = issue.path.slice(1).join('.');
  const message = given[variable] === undefined ? 'is missing' : issue.message;
  return `${describeSetting(variable)}${rest ? ` ${rest}` : ''} ${message}`;
}

/**
 * Parses the process environment once. A missing or malformed variable throws
 * with its name, so a misconfigured function fails its cold start, not a request.
 */
export function loadEnvironment(env: NodeJS.ProcessEnv): Readonly<Environment> {
  // serverless.yml renders unset optional settings as empty strings.
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  // Parsed once per container: zod's compiled fast path for objects would be built to run once.
  const parsed = environmentSchema.safeParse(given, { jitless: true });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => problem(issue, given));
    throw new Error(`invalid configuration: ${problems.join('; ')}`);
  }
  if (!parsed.data.AUTH_JWKS_URL && !parsed.data.AUTH_JWKS) {
    throw new Error(`invalid configuration: set ${describeSetting('AUTH_JWKS_URL')} or AUTH_JWKS`);
  }
  const { AUTH_AUDIENCE, AUTH_CLIENT_IDS, AUTH_AUTHORIZED_PARTIES } = parsed.data;
  if (!AUTH_AUDIENCE && !AUTH_CLIENT_IDS && !AUTH_AUTHORIZED_PARTIES) {
    throw new Error(
      `invalid configuration: bind tokens to this API with ${describeSetting('AUTH_AUDIENCE')}, ${describeSetting('AUTH_CLIENT_IDS')} or ${describeSetting('AUTH_AUTHORIZED_PARTIES')}`,
    );
  }
  return Object.freeze(parsed.data);
}
