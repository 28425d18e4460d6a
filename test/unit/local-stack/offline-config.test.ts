// What `npm start` runs serverless offline with (scripts/offline-config.ts): serverless.yml plus
// each function's own role session and the secrets its declaration grants, as in AWS.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { routes } from '../../../lib/api/routes.js';
import { functionEntries } from '../../../scripts/function-policies.js';
import {
  functionEnvironments,
  type LocalFunctionSettings,
  offlineConfig,
  offlineConfigFile,
} from '../../../scripts/offline-config.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const session = (fn: string) => ({
  accessKeyId: `key-${fn}`,
  secretAccessKey: `secret-${fn}`,
  sessionToken: `token-${fn}`,
  expiration: '2030-01-01T00:00:00.000Z',
});
const SECRETS = {
  ownerSecretParameter: 'local-owner-secret',
  shareSecretParameter: 'local-share-secret',
  verdictSigningKeyParameter: 'local-verdict-signing-key',
  webhookSecretParameter: 'whsec_local',
};
/** The stack's settings: every function with S3 statements has a session, as provisioning gives it. */
function stackSettings(webhooks: boolean): LocalFunctionSettings {
  const withStatements = Object.entries(functionEntries())
    .filter(([, entry]) => (entry.s3 ?? []).length > 0)
    .map(([fn]) => fn);
  return {
    credentials: Object.fromEntries(withStatements.map((fn) => [fn, session(fn)])),
    secrets: SECRETS,
    ...(webhooks
      ? {
          webhooks: {
            url: 'http://127.0.0.1:9/hooks',
            deliverer: 'presign-local-deliverWebhook',
            lambdaEndpoint: 'http://127.0.0.1:8',
          },
        }
      : {}),
  };
}
const secretsIn = (environment: Record<string, string> = {}) =>
  ['OWNER_SECRET', 'SHARE_SECRET', 'VERDICT_SIGNING_KEY', 'WEBHOOK_SECRET'].filter(
    (name) => name in environment,
  );

describe('each function’s local environment', () => {
  it('gives each function the secrets its declaration grants in AWS, and no other', () => {
    // Act
    const environments = functionEnvironments(stackSettings(true));

    // Assert
    const held = Object.fromEntries(
      Object.entries(environments)
        .map(([fn, environment]) => [fn, secretsIn(environment)] as const)
        .filter(([, secrets]) => secrets.length > 0),
    );
    // The routes that take a bearer token turn it into an owner with the owner secret.
    const owners = Object.entries(routes)
      .filter(([, route]) => route.auth === 'bearer')
      .map(([fn]) => fn);
    expect(held).toEqual({
      ...Object.fromEntries(owners.map((fn) => [fn, ['OWNER_SECRET']])),
      createShare: ['OWNER_SECRET', 'SHARE_SECRET'],
      openShare: ['SHARE_SECRET'],
      validateUpload: ['VERDICT_SIGNING_KEY'],
      deliverWebhook: ['WEBHOOK_SECRET'],
    });
    expect(environments.createShare?.SHARE_SECRET).toBe(SECRETS.shareSecretParameter);
    expect(environments.deliverWebhook?.WEBHOOK_SECRET).toBe(SECRETS.webhookSecretParameter);
  });

  it('signs each function with its own session, and the functions without S3 statements with none', () => {
    // Act
    const environments = functionEnvironments(stackSettings(true));

    // Assert
    expect(environments.getFile).toMatchObject({
      AWS_ACCESS_KEY_ID: 'key-getFile',
      AWS_SECRET_ACCESS_KEY: 'secret-getFile',
      AWS_SESSION_TOKEN: 'token-getFile',
      AWS_CREDENTIAL_EXPIRATION: '2030-01-01T00:00:00.000Z',
    });
    for (const fn of ['health', 'webPage', 'openApi', 'deliverWebhook']) {
      expect(environments[fn], fn).not.toHaveProperty('AWS_ACCESS_KEY_ID');
    }
  });

  it('tells the deliverer where to post and the validator whom to hand verdicts to, only with webhooks on', () => {
    // Act
    const on = functionEnvironments(stackSettings(true));
    const off = functionEnvironments(stackSettings(false));

    // Assert
    expect(on.deliverWebhook).toEqual({
      WEBHOOK_URL: 'http://127.0.0.1:9/hooks',
      WEBHOOK_SECRET: 'whsec_local',
    });
    expect(on.validateUpload).toMatchObject({
      WEBHOOK_DELIVERER_FUNCTION: 'presign-local-deliverWebhook',
      LAMBDA_ENDPOINT: 'http://127.0.0.1:8',
    });
    expect(off.deliverWebhook).toEqual({});
    expect(JSON.stringify(off)).not.toMatch(/WEBHOOK|LAMBDA_ENDPOINT/);
  });

  it('tells the functions that invoke the validator its name and the local invoke, and no other function', () => {
    // Act
    const environments = functionEnvironments({
      ...stackSettings(false),
      validator: { name: 'presign-local-validateUpload', lambdaEndpoint: 'http://127.0.0.1:8' },
    });

    // Assert
    const told = Object.entries(environments)
      .filter(([, environment]) => 'VALIDATOR_FUNCTION' in environment || 'LAMBDA_ENDPOINT' in environment)
      .map(([fn]) => fn);
    expect(told).toEqual(['sweepPendingUploads']);
    expect(environments.sweepPendingUploads).toMatchObject({
      VALIDATOR_FUNCTION: 'presign-local-validateUpload',
      LAMBDA_ENDPOINT: 'http://127.0.0.1:8',
    });
  });
});

describe('the configuration serverless offline runs with', () => {
  it('is serverless.yml with the local environment, the offline plugin on the stack’s ports, and a longer timeout', async () => {
    // Act
    const wiring = { UPLOADS_BUCKET: 'presign-local-uploads', S3_ENDPOINT: 'http://127.0.0.1:7481' };
    const config = await offlineConfig(
      { ...stackSettings(false), wiring },
      { httpPort: 4100, lambdaPort: 4102 },
    );

    // Assert
    expect(config.plugins).toEqual([
      './deploy/check-params.cjs',
      './deploy/operations.cjs',
      'serverless-esbuild',
      'serverless-offline',
    ]);
    expect(config.custom?.['serverless-offline']).toMatchObject({ httpPort: 4100, lambdaPort: 4102 });
    expect(config.provider.timeout).toBe(30);
    expect(config.provider.environment).toMatchObject(wiring);
    expect(config.provider.environment).toMatchObject({ UPLOAD_RATE_WINDOW_SECONDS: '3600' });
    expect(config.functions.createUpload).toMatchObject({
      handler: 'handlers/create-upload.handler',
      environment: { AWS_ACCESS_KEY_ID: 'key-createUpload', OWNER_SECRET: SECRETS.ownerSecretParameter },
    });
    expect(config.functions.completeUpload?.timeout).toBe(29);
  });

  it('goes to a file of its own for each stack directory, beside serverless.yml', () => {
    // Act
    const first = offlineConfigFile(join(ROOT, '.local'));
    const second = offlineConfigFile(join(ROOT, '.local-malware'));

    // Assert
    expect(first).toBe('serverless.offline-local.json');
    expect(second).not.toBe(first);
    expect(second).toMatch(/^serverless\.offline-[A-Za-z0-9-]+\.json$/);
    expect(readFileSync(join(ROOT, '.gitignore'), 'utf8')).toContain('serverless.offline-*.json');
  });

  it('leaves serverless.yml free of the local stack: no script, no local setting, no offline plugin', () => {
    // Act
    const template = readFileSync(join(ROOT, 'serverless.yml'), 'utf8');

    // Assert
    expect(template).not.toMatch(/scripts\//);
    expect(template).not.toMatch(/PRESIGN_LOCAL_/);
    expect(template).not.toMatch(/serverless-offline/);
  });
});
