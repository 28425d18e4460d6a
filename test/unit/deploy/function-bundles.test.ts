// What a function's bundle loads at its cold start follows what it does: only the functions that
// authenticate callers carry the bearer verifier (jose and the issuer's key set), and only those
// whose role may read an SSM parameter carry the SSM client.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { functionsOf, loadServerlessYml } from '../../../bench/serverless-config.js';
import { functionEntries } from '../../../scripts/function-policies.js';
import { functionBundleInputs } from '../../support/function-bundles.js';
import { functionResources, logicalName } from '../../support/function-roles.js';

const CONFIG = loadServerlessYml();
const ENTRIES = functionEntries();
/** Each function's role as iam/roles.cjs builds it for a stage with webhooks on. */
const RESOURCES = functionResources({
  bucketName: 'presign-test-uploads',
  ownerSecretParameter: '/presign/test/owner-secret',
  shareSecretParameter: '/presign/test/share-secret',
  verdictSigningKeyParameter: '/presign/test/verdict-signing-key',
  webhookUrl: 'https://hooks.example.com/presign',
  webhookSecretParameter: '/presign/test/webhook-secret',
  service: 'presign',
  stage: 'test',
  malwareScan: 'none',
});
const roleOf = (fn: string) => RESOURCES[`${logicalName(fn)}Role`];
const readsSsm = (fn: string) => JSON.stringify(roleOf(fn) ?? null).includes('ssm:GetParameter');
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
      expect(roleOf(name as string)).toBeDefined();
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
