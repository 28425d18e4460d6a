// What a function's bundle loads at its cold start follows what it does: only the functions that
// authenticate callers carry the bearer verifier (jose and the issuer's key set), and only those
// whose role may read an SSM parameter carry the SSM client.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the ${…} here are CloudFormation Fn::Sub placeholders.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { functionsOf, loadServerlessYml } from '../../../bench/serverless-config.js';
import { functionEntries } from '../../../scripts/function-policies.js';
import { functionBundleInputs } from '../../support/function-bundles.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const CONFIG = loadServerlessYml();
const ENTRIES = functionEntries();
const roles = createRequire(import.meta.url)(join(ROOT, 'iam', 'roles.cjs')) as {
  readDeclarations(text: string): Record<string, unknown>;
  build(
    declarations: Record<string, unknown>,
    settings: Record<string, unknown>,
  ): { resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
};
/** Each function's role as iam/roles.cjs builds it for a stage with webhooks on, as JSON text. */
const ROLES = roles.build(
  roles.readDeclarations(readFileSync(join(ROOT, 'iam', 'function-policies.json'), 'utf8')),
  {
    bucketName: 'presign-test-uploads',
    ownerSecretParameter: '/presign/test/owner-secret',
    shareSecretParameter: '/presign/test/share-secret',
    verdictSigningKeyParameter: '/presign/test/verdict-signing-key',
    webhookUrl: 'https://hooks.example.com/presign',
    webhookSecretParameter: '/presign/test/webhook-secret',
    service: 'presign',
    stage: 'test',
    malwareScan: 'none',
  },
).resources;
const readsSsm = (fn: string) =>
  JSON.stringify(ROLES[`${fn.charAt(0).toUpperCase()}${fn.slice(1)}Role`] ?? null).includes(
    'ssm:GetParameter',
  );
const carriesSsmClient = (inputs: string[]) =>
  inputs.some((input) => input.includes('node_modules/@aws-sdk/client-ssm/'));

const carriesJose = (inputs: string[]) => inputs.some((input) => input.includes('node_modules/jose/'));

describe('function bundles', () => {
  it.each(functionsOf(CONFIG).map((fn) => [fn.name, fn.source]))(
    '%s builds the caller runtime exactly when it is given the owner secret',
    (name, source) => {
      // Arrange
      const text = readFileSync(source as string, 'utf8');

      // Act
      const buildsCallers = text.includes("from '../lib/caller-runtime.js'");

      // Assert
      expect(buildsCallers).toBe(ENTRIES[name as string]?.ownerSecret === true);
    },
  );

  it.each(['openShare', 'validateUpload', 'sweepPendingUploads'])(
    '%s authenticates nobody, and its bundle carries no bearer verifier',
    async (name) => {
      // Act
      const inputs = await functionBundleInputs(name);

      // Assert
      expect(carriesJose(inputs)).toBe(false);
      expect(inputs.some((input) => input.endsWith('lib/http/remote-key-set.ts'))).toBe(false);
    },
  );

  it.each(functionsOf(CONFIG).map((fn) => [fn.name, fn.source]))(
    '%s builds its runtime without SSM exactly when its role may read no parameter',
    (name, source) => {
      // Arrange
      const text = readFileSync(source as string, 'utf8');
      const buildsRuntime = /\b(runtime|callerRuntime|runtimeWithoutParameters|loadWebhookSettings)\(/.test(
        text,
      );

      // Act
      const withoutSsm = text.includes('runtimeWithoutParameters(');

      // Assert
      expect(
        ROLES[`${(name as string).charAt(0).toUpperCase()}${(name as string).slice(1)}Role`],
      ).toBeDefined();
      expect(withoutSsm).toBe(buildsRuntime && !readsSsm(name as string));
    },
  );

  it('the sweep reads no parameter, and its bundle carries no SSM client', async () => {
    // Act
    const inputs = await functionBundleInputs('sweepPendingUploads');

    // Assert
    expect(readsSsm('sweepPendingUploads')).toBe(false);
    expect(carriesSsmClient(inputs)).toBe(false);
  });

  it('getFile authenticates its callers, and its bundle carries the verifier', async () => {
    // Act
    const inputs = await functionBundleInputs('getFile');

    // Assert
    expect(carriesJose(inputs)).toBe(true);
  });
});
