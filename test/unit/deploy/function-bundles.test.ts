// What a function's bundle loads at its cold start follows what it does: only the functions that
// authenticate callers carry the bearer verifier (jose and the issuer's key set).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { functionsOf, loadServerlessYml } from '../../../bench/serverless-config.js';
import { functionEntries } from '../../../scripts/function-policies.js';
import { functionBundleInputs } from '../../support/function-bundles.js';

const CONFIG = loadServerlessYml();
const ENTRIES = functionEntries();

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

  it('getFile authenticates its callers, and its bundle carries the verifier', async () => {
    // Act
    const inputs = await functionBundleInputs('getFile');

    // Assert
    expect(carriesJose(inputs)).toBe(true);
  });
});
