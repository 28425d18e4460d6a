import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../../lib/api/openapi.js';
import { CLIENT_API_TYPES_FILE, clientApiTypes } from '../../../scripts/client-api-types.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const read = (path: string) => readFileSync(resolve(ROOT, path), 'utf8');

describe('the client package', () => {
  it('has the types the OpenAPI document generates (run `npm run openapi` when this fails)', async () => {
    expect(read(CLIENT_API_TYPES_FILE)).toBe(await clientApiTypes(buildOpenApiDocument()));
  });

  it('imports nothing at run time: its browser bundle holds only its own modules', async () => {
    // Act
    const result = await build({
      entryPoints: [resolve(ROOT, 'client/src/index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });

    // Assert
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((input) => !input.startsWith('client/src/'))).toEqual([]);
    expect(inputs).not.toContain('client/src/node.ts');
  });

  it('declares no dependency', () => {
    const manifest = JSON.parse(read('client/package.json')) as Record<string, unknown>;
    expect(manifest.dependencies).toBeUndefined();
    expect(manifest.peerDependencies).toBeUndefined();
    expect(manifest.type).toBe('module');
  });

  it.each(['client/examples/browser-upload.ts', 'client/examples/node-upload.mjs'])(
    'is shown in docs/client.md by %s, word for word',
    (example) => {
      expect(read('docs/client.md')).toContain(read(example).trim());
    },
  );
});
