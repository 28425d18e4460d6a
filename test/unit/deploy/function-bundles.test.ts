// What a function's bundle loads at its cold start follows what it does: only the functions that
// authenticate callers carry the bearer verifier (jose and the issuer's key set).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { esbuildOptions } from '../../../bench/cold-start.js';
import { functionNamed, functionsOf, loadServerlessYml } from '../../../bench/serverless-config.js';
import { functionEntries } from '../../../scripts/function-policies.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const CONFIG = loadServerlessYml();
const ENTRIES = functionEntries();

/** The inputs of `name`'s bundle as osls packages it (serverless.yml's custom.esbuild). */
async function bundleInputs(name: string): Promise<string[]> {
  const result = await build({
    ...esbuildOptions(CONFIG, ROOT),
    absWorkingDir: ROOT,
    entryPoints: [functionNamed(name, CONFIG).source],
    outdir: join(ROOT, '.local', 'function-bundles-test'),
    sourcemap: false,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs);
}

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
      const inputs = await bundleInputs(name);

      // Assert
      expect(carriesJose(inputs)).toBe(false);
      expect(inputs.some((input) => input.endsWith('lib/http/remote-key-set.ts'))).toBe(false);
    },
  );

  it('getFile authenticates its callers, and its bundle carries the verifier', async () => {
    // Act
    const inputs = await bundleInputs('getFile');

    // Assert
    expect(carriesJose(inputs)).toBe(true);
  });
});
