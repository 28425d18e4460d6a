// deploy/check-params.cjs, the plugin that checks every param before `osls package`: each
// setting that would break the deployed stack fails the package, naming the param and the
// `--param` that sets it. The checks one by one, then `osls package` itself with no JWKS, no
// verdict key, bad origins, a malformed limit and an http: webhook URL (a good package run is
// cloudformation.test.ts's).
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY_PARAMS, packageCopy, paramArgs } from '../../support/package-copy.js';
import { readServerlessConfig } from '../../support/serverless-config.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const plugin = createRequire(import.meta.url)(join(ROOT, 'deploy', 'check-params.cjs')) as {
  checkParams(values: Record<string, unknown>): string[];
  PARAMS: Record<string, { hint: string }>;
};
/** `osls package` of stage prod with exactly `params`. */
const packageArgsOnly = (params: Record<string, string>) => [
  'package',
  '--stage',
  'prod',
  '--region',
  'eu-west-1',
  ...paramArgs(params),
];
const defaults = readServerlessConfig<{ params: { default: Record<string, unknown> } }>().params.default;

/** serverless.yml's defaults with the deploy params and `changes` over them, as osls resolves them. */
const paramsWith = (changes: Record<string, unknown> = {}) => ({
  ...defaults,
  bucketName: 'presign-prod-uploads',
  shareSecretParameter: '/presign/prod/share-secret',
  ownerSecretParameter: '/presign/prod/owner-secret',
  verdictSigningKeyParameter: '/presign/prod/verdict-signing-key',
  webhookSecretParameter: '/presign/prod/webhook-secret',
  ...DEPLOY_PARAMS,
  ...changes,
});

describe('the checks', () => {
  it('pass serverless.yml’s defaults with an identity provider, origins and a verdict key', () => {
    expect(plugin.checkParams(paramsWith())).toEqual([]);
  });

  it.each([
    ['no JWKS URL', { authJwksUrl: '' }, 'authJwksUrl', 'is empty'],
    [
      'a JWKS URL over plain http',
      { authJwksUrl: 'http://issuer.example.com/jwks.json' },
      'authJwksUrl',
      'https:',
    ],
    ['no issuer', { authIssuer: '' }, 'authIssuer', 'is empty'],
    ['no verdict key', { verdictPublicKey: '' }, 'verdictPublicKey', 'is empty'],
    ['a verdict key that is no key', { verdictPublicKey: 'bm90IGEga2V5' }, 'verdictPublicKey', 'Ed25519'],
    ['no origins', { allowedOrigins: '' }, 'allowedOrigins', 'is empty'],
    [
      'an origin with a path',
      { allowedOrigins: 'https://app.example.com/upload' },
      'allowedOrigins',
      'origins',
    ],
    ['a wildcard origin', { allowedOrigins: '*' }, 'allowedOrigins', 'origins'],
    ['a plain http origin', { allowedOrigins: 'http://app.example.com' }, 'allowedOrigins', 'origins'],
    [
      'an empty origin in the list',
      { allowedOrigins: 'https://app.example.com,' },
      'allowedOrigins',
      'origins',
    ],
    ['a quota in other units', { quotaBytesPerOwner: '10GB' }, 'quotaBytesPerOwner', 'whole number'],
    ['a negative upload rate', { uploadsPerHourPerOwner: '-5' }, 'uploadsPerHourPerOwner', 'whole number'],
    ['a fractional throttle', { apiThrottlingBurstLimit: '1.5' }, 'apiThrottlingBurstLimit', 'whole number'],
    [
      'no reserved concurrency',
      { validatorReservedConcurrency: '0' },
      'validatorReservedConcurrency',
      'whole number',
    ],
    ['a TTL over 900 s', { uploadUrlTtlSeconds: '3600' }, 'uploadUrlTtlSeconds', 'from 1 to 900'],
    ['upload rules that are no JSON', { uploadRules: '{image/png:1}' }, 'uploadRules', 'JSON map'],
    ['an upload rule over 5 TiB', { uploadRules: '{"video/mp4":6e12}' }, 'uploadRules', 'JSON map'],
    ['a webhook URL over plain http', { webhookUrl: 'http://hooks.example.com/' }, 'webhookUrl', 'https:'],
    [
      'a webhook URL with credentials',
      { webhookUrl: 'https://u:p@hooks.example.com/' },
      'webhookUrl',
      'credentials',
    ],
    [
      'a public API URL over plain http',
      { publicApiUrl: 'http://files.example.com' },
      'publicApiUrl',
      'https:',
    ],
    ['a token_use Cognito never issues', { authTokenUse: 'refresh' }, 'authTokenUse', 'access, id'],
    [
      'a Clerk party that is no origin',
      { authAuthorizedParties: 'app.example.com' },
      'authAuthorizedParties',
      'origins',
    ],
    ['an uppercase bucket name', { bucketName: 'Presign-Uploads' }, 'bucketName', 'S3 bucket name'],
    [
      'a secret parameter without its /',
      { ownerSecretParameter: 'presign/owner' },
      'ownerSecretParameter',
      'starting with /',
    ],
    ['an unknown log level', { logLevel: 'VERBOSE' }, 'logLevel', 'one of'],
    ['an unknown malware scan', { malwareScan: 'clamav' }, 'malwareScan', 'none or guardduty'],
    [
      'an alarm topic that is no SNS ARN',
      { alarmTopicArn: 'presign-alarms' },
      'alarmTopicArn',
      'SNS topic ARN',
    ],
    [
      'nothing binding tokens to this API',
      { authAudience: '', authClientIds: '', authAuthorizedParties: '' },
      'authAudience',
      'nothing would bind a token',
    ],
    [
      'batches over 10 without a window',
      { validatorBatchSize: '100', validatorBatchingWindowSeconds: '0' },
      'validatorBatchSize',
      'batching window',
    ],
  ])('refuse %s, naming the param and the --param that sets it', (_, changes, param, problem) => {
    // Act
    const problems = plugin.checkParams(paramsWith(changes));

    // Assert
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^param ${param} `));
    expect(problems[0]).toContain(problem);
    expect(problems[0]).toContain(`--param "${param}=${plugin.PARAMS[param]?.hint}"`);
  });

  it.each([
    [
      'a Cognito access-token recipe',
      { authAudience: '', authClientIds: 'client-a,client-b', authTokenUse: 'access' },
    ],
    ['a Clerk recipe', { authAudience: '', authAuthorizedParties: 'https://app.example.com' }],
    [
      'origins on loopback for a web app run locally',
      { allowedOrigins: 'http://localhost:5173,http://127.0.0.1:3000' },
    ],
    ['limits and upload rules', { quotaBytesPerOwner: '10737418240', uploadRules: '{"image/png":10485760}' }],
    ['an alarm topic', { alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:presign-alarms' }],
    ['numbers as YAML gives them', { validatorBatchSize: 10, failedUploadExpiryDays: 1 }],
  ])('accept %s', (_, changes) => {
    expect(plugin.checkParams(paramsWith(changes))).toEqual([]);
  });

  it('list every problem at once', () => {
    const problems = plugin.checkParams(
      paramsWith({ authJwksUrl: '', verdictPublicKey: '', allowedOrigins: '' }),
    );
    expect(problems.map((problem) => problem.split(' ')[1])).toEqual([
      'authJwksUrl',
      'allowedOrigins',
      'verdictPublicKey',
    ]);
  });
});

describe('the params, kept in one table', () => {
  it('are all checked, and serverless.yml reads none from the packaging shell', () => {
    expect(Object.keys(plugin.PARAMS).sort()).toEqual(
      Object.keys(defaults)
        .filter((name) => name !== 'partnerReaders') // checked by iam/partner-readers.cjs
        .sort(),
    );
    expect(readFileSync(join(ROOT, 'serverless.yml'), 'utf8')).not.toMatch(
      /\$\{env:(?!HTTP_PORT|LAMBDA_PORT)/,
    );
  });

  it('are each a row of docs/deploy.md’s param table', () => {
    const table = readFileSync(join(ROOT, 'docs', 'deploy.md'), 'utf8');
    const rows = [...table.matchAll(/^\| `([A-Za-z]+)` *\|/gm)].map((match) => match[1]);
    expect(rows.sort()).toEqual(Object.keys(defaults).sort());
  });
});

describe('osls package', () => {
  let copy: ReturnType<typeof packageCopy>;

  beforeAll(() => {
    copy = packageCopy('presign-check-params-');
  });
  afterAll(() => copy?.remove());

  /** What `osls package` printed with the deploy params but `unset`, and `given` over them; it must fail. */
  async function failureWithout(unset: string[], given: Record<string, string> = {}) {
    const params = Object.fromEntries(
      Object.entries(DEPLOY_PARAMS).filter(([name]) => !unset.includes(name)),
    );
    const outcome = await copy.osls(packageArgsOnly({ ...params, ...given })).then(
      () => undefined,
      (error: { code?: number; stdout?: string; stderr?: string }) => error,
    );
    expect(outcome?.code).toBe(1);
    return `${outcome?.stdout}${outcome?.stderr}`;
  }

  it('fails with no JWKS, no verdict key, bad origins, a malformed limit and an http: webhook URL, naming each param and how to set it, before building anything', async () => {
    // Act: one run with five broken settings at once (each alone: 'the checks' above)
    const output = await failureWithout(['authJwksUrl', 'verdictPublicKey'], {
      allowedOrigins: 'app.example.com',
      quotaBytesPerOwner: '10GB',
      webhookUrl: 'http://hooks.example.com/',
    });

    // Assert
    for (const message of [
      'param authJwksUrl is empty',
      'param verdictPublicKey is empty',
      'param allowedOrigins must be origins',
      'param quotaBytesPerOwner must be a whole number',
      'param webhookUrl must be an absolute https: URL',
    ]) {
      const param = message.split(' ')[1];
      expect(output).toContain(message);
      expect(output).toContain(`Set it with --param "${param}=`);
    }
    expect(readdirSync(copy.workDir)).not.toContain('.serverless');
  }, 150_000);

  it('fails a stage packaged with serverless.yml’s defaults alone, listing every param to set', async () => {
    // Act
    const output = await failureWithout(Object.keys(DEPLOY_PARAMS));

    // Assert
    for (const param of ['authIssuer', 'authJwksUrl', 'allowedOrigins', 'verdictPublicKey', 'authAudience']) {
      expect(output).toContain(`param ${param} `);
    }
  }, 150_000);
});
