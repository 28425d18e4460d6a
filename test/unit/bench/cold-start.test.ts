// The cold section's part that needs no stack: every function of serverless.yml gets a first
// request, and the environment its deployment gives it (provider.environment and what iam/roles.cjs
// adds, webhooks on) can be made local and builds the function's runtime, secrets included.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the ${…} here are CloudFormation Fn::Sub placeholders.
import { resolve } from 'node:path';
import type { Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';
import {
  type FirstRequestContext,
  firstEvent,
  loadedAtStart,
  runnableEnvironment,
  SECRET_VARIABLES,
  unknownFileShareToken,
} from '../../../bench/cold-start.js';
import { functionsOf, loadServerlessYml } from '../../../bench/serverless-config.js';
import { type RouteContract, routes } from '../../../lib/api/routes.js';
import { createCallerRuntime } from '../../../lib/caller-runtime.js';
import { createRuntime } from '../../../lib/runtime.js';
import { shareKeyFrom } from '../../../lib/shares/share-secret.js';
import { verifyShareToken } from '../../../lib/shares/share-token.js';
import { parseWebhookMessage } from '../../../lib/webhooks/file-validated-event.js';
import { loadWebhookSettings } from '../../../lib/webhooks/webhook-settings.js';
import { functionEntries } from '../../../scripts/function-policies.js';
import { functionResources, logicalName } from '../../support/function-roles.js';
import { testJwks } from '../../support/tokens.js';
import { TEST_VERDICT_KEYS } from '../../support/verdict-keys.js';

const FUNCTIONS = functionsOf(loadServerlessYml());
const ENTRIES = functionEntries();
/** A stage's settings with webhooks on, as the cold section packages it. */
const SETTINGS = {
  bucketName: 'presign-bench-uploads',
  ownerSecretParameter: '/presign/bench/owner-secret',
  shareSecretParameter: '/presign/bench/share-secret',
  verdictSigningKeyParameter: '/presign/bench/verdict-signing-key',
  webhookUrl: 'http://127.0.0.1:4000/hooks',
  webhookSecretParameter: '/presign/bench/webhook-secret',
  service: 'presign',
  stage: 'bench',
  malwareScan: 'none',
};
const LOCAL = {
  UPLOADS_BUCKET: 'presign-local-uploads',
  STATE_BUCKET: 'presign-local-state',
  VERDICT_PUBLIC_KEY: TEST_VERDICT_KEYS.publicKey,
  S3_ENDPOINT: 'http://127.0.0.1:7481',
  AUTH_ISSUER: 'presign-bench',
  AUTH_AUDIENCE: 'presign-api',
  AUTH_JWKS: JSON.stringify(testJwks),
};
const SECRETS = {
  OWNER_SECRET: 'cold-start-owner-secret-0123456789abcdef0123456789',
  SHARE_SECRET: 'cold-start-share-secret-0123456789abcdef0123456789',
  VERDICT_SIGNING_KEY: TEST_VERDICT_KEYS.privateKey,
  WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
};
const NOW = new Date('2026-11-23T10:00:00Z');
const CONTEXT: FirstRequestContext = {
  authorization: 'Bearer token',
  bucket: 'presign-local-uploads',
  shareToken: unknownFileShareToken(SECRETS.SHARE_SECRET, NOW),
};
const ROUTES: Record<string, RouteContract> = routes;

const RESOURCES = functionResources(SETTINGS);

/** A function's variables as the packaged template holds them: the buckets' Refs, and iam/roles.cjs's additions. */
function deployedVariables(fn: string): Record<string, unknown> {
  return {
    UPLOADS_BUCKET: { Ref: 'UploadsBucket' },
    STATE_BUCKET: { Ref: 'StateBucket' },
    S3_ENDPOINT: '',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    ...RESOURCES[`${logicalName(fn)}LambdaFunction`]?.Properties.Environment?.Variables,
  };
}

describe('the cold section', () => {
  it('measures every function of serverless.yml, the webhook deliverer included', () => {
    // Assert
    expect(FUNCTIONS.map((fn) => fn.name)).toContain('deliverWebhook');
    expect(FUNCTIONS.filter((fn) => !fn.source)).toEqual([]);
  });

  it.each(FUNCTIONS.map((fn) => [fn.name, fn]))('has a first request for %s', (name, fn) => {
    // Act
    const event = firstEvent(fn, ENTRIES[name], CONTEXT);

    // Assert
    expect(event).toBeTypeOf('object');
    if (ENTRIES[name]?.deliversWebhooks) expect(() => parseWebhookMessage(event)).not.toThrow();
  });

  it('refuses a function it has no first request for', () => {
    // Arrange
    const fn = { name: 'drainQueue', handler: 'handlers/drain-queue.handler', source: 'x', route: undefined };

    // Act / Assert
    expect(() => firstEvent(fn, {}, CONTEXT)).toThrow(/no first event for drainQueue/);
  });

  it.each(FUNCTIONS.filter((fn) => fn.route).map((fn) => [fn.name, fn]))(
    "gives %s a first request its route's input checks take, so it goes on to its work",
    (name, fn) => {
      // Arrange
      const route = ROUTES[name];
      const event = firstEvent(fn, ENTRIES[name], CONTEXT) as {
        pathParameters?: Record<string, string>;
        body?: string;
      };

      // Act
      const parsed = route?.input?.safeParse({
        path: event.pathParameters ?? {},
        query: {},
        body:
          event.body === undefined ? (route.body === 'optional' ? {} : undefined) : JSON.parse(event.body),
      });

      // Assert
      expect(route).toBeDefined();
      if (route?.body === 'required') expect(event.body).toBeDefined();
      if (route?.input) expect(parsed?.error).toBeUndefined();
    },
  );

  it("signs the share link's first request with the share secret, for a file that is not there", () => {
    // Act
    const check = verifyShareToken(
      shareKeyFrom({ SHARE_SECRET: SECRETS.SHARE_SECRET }),
      CONTEXT.shareToken,
      NOW.getTime() / 1000,
    );
    const forged = verifyShareToken(
      shareKeyFrom({ SHARE_SECRET: 'another-share-secret-0123456789abcdef0123456789' }),
      CONTEXT.shareToken,
      NOW.getTime() / 1000,
    );

    // Assert
    expect(check.ok).toBe(true);
    expect(forged).toEqual({ ok: false, reason: 'forged' });
  });

  it.each(FUNCTIONS.map((fn) => [fn.name]))(
    "runs %s with its deployment's variables made local, its secrets given as values",
    async (name) => {
      // Arrange
      const deployed = deployedVariables(name);

      // Act
      const env = runnableEnvironment(name, deployed, LOCAL, SECRETS);
      const noSsm = () => Promise.reject(new Error('no SSM in the bench'));
      // The functions given the owner secret authenticate callers: they build the verifier too.
      await (ENTRIES[name]?.ownerSecret ? createCallerRuntime : createRuntime)(env, { readParameter: noSsm });

      // Assert
      expect(Object.keys(env).filter((variable) => variable.endsWith('_PARAMETER'))).toEqual([]);
      for (const secret of SECRET_VARIABLES)
        expect(env[secret] !== undefined).toBe(`${secret}_PARAMETER` in deployed);
      expect(env.UPLOADS_BUCKET).toBe(LOCAL.UPLOADS_BUCKET);
      if (ENTRIES[name]?.deliversWebhooks) {
        expect((await loadWebhookSettings(env, noSsm)).url.href).toBe(SETTINGS.webhookUrl);
      }
    },
  );

  it('refuses a secret parameter it has no local value for, naming it', () => {
    // Act / Assert
    expect(() =>
      runnableEnvironment('fn', { API_KEY_PARAMETER: '/presign/bench/api-key' }, LOCAL, SECRETS),
    ).toThrow(/no local value for API_KEY \(deployed as API_KEY_PARAMETER\)/);
  });

  it('refuses a CloudFormation reference it has no local value for, naming it', () => {
    // Act / Assert
    expect(() => runnableEnvironment('fn', { QUEUE_URL: { Ref: 'Queue' } }, LOCAL, SECRETS)).toThrow(
      /fn: QUEUE_URL is \{"Ref":"Queue"\}/,
    );
  });
});

describe('loadedAtStart', () => {
  /** An esbuild metafile of one split build: the handler, a chunk it imports, one it imports only when called. */
  const metafile = (): Metafile => ({
    inputs: {},
    outputs: {
      'out/get-file.mjs': {
        bytes: 100,
        entryPoint: 'handlers/get-file.ts',
        inputs: {},
        exports: ['handler'],
        imports: [
          { path: 'out/chunk-SHARED00.mjs', kind: 'import-statement' },
          { path: 'out/ssm-LAZY0000.mjs', kind: 'dynamic-import' },
          { path: 'node:crypto', kind: 'import-statement', external: true },
        ],
      },
      'out/get-file.mjs.map': { bytes: 400, inputs: {}, exports: [], imports: [] },
      'out/chunk-SHARED00.mjs': {
        bytes: 50,
        inputs: {},
        exports: [],
        imports: [{ path: 'out/chunk-DEEP0000.mjs', kind: 'import-statement' }],
      },
      'out/chunk-DEEP0000.mjs': { bytes: 20, inputs: {}, exports: [], imports: [] },
      'out/ssm-LAZY0000.mjs': {
        bytes: 300,
        entryPoint: 'node_modules/@aws-sdk/client-ssm/dist-es/index.js',
        inputs: {},
        exports: [],
        imports: [{ path: 'out/chunk-SHARED00.mjs', kind: 'import-statement' }],
      },
    },
  });

  it('follows static imports from the entry, transitively, and leaves dynamic imports out', () => {
    // Act
    const loaded = loadedAtStart(metafile(), resolve('handlers/get-file.ts'));

    // Assert
    expect(loaded.sort()).toEqual(['out/chunk-DEEP0000.mjs', 'out/chunk-SHARED00.mjs', 'out/get-file.mjs']);
  });

  it('throws for a source the build has no output for', () => {
    // Act + Assert
    expect(() => loadedAtStart(metafile(), resolve('handlers/health.ts'))).toThrow(
      /no output for .*handlers\/health\.ts/,
    );
  });
});
