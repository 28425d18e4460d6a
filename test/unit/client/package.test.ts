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
    'is shown in its README by %s, word for word',
    (example) => {
      expect(read('client/README.md')).toContain(read(example).trim());
    },
  );

  it('is introduced by docs/client.md, which points to its README', () => {
    expect(read('docs/client.md')).toContain('](../client/README.md)');
  });
});

describe.each(['client', 'packages/react', 'packages/uppy'])('the manifest of %s', (folder) => {
  const manifest = () =>
    JSON.parse(read(`${folder}/package.json`)) as {
      name: string;
      private?: boolean;
      license?: string;
      repository?: { url?: string; directory?: string };
      exports: Record<string, { types?: string; default?: string }>;
      files?: string[];
      scripts?: Record<string, string>;
      dependencies?: Record<string, string>;
    };

  it('is ready to publish: public, MIT, its repository folder, a build before packing', () => {
    const { private: isPrivate, license, repository, scripts, files } = manifest();
    expect(isPrivate).toBeUndefined();
    expect(license).toBe('MIT');
    expect(repository?.directory).toBe(folder);
    expect(scripts?.prepack).toBe('npm run build');
    expect(files).toEqual(['dist', 'src', 'README.md', 'LICENSE']);
    expect(read(`${folder}/LICENSE`)).toMatch(/^MIT License/);
    expect(read(`${folder}/README.md`)).toMatch(/^# @presign\//);
  });

  it('has types, before the code, for every entry point', () => {
    for (const [entry, target] of Object.entries(manifest().exports)) {
      expect(Object.keys(target), entry).toEqual(['types', 'default']);
      expect(target.types, entry).toBe(String(target.default).replace(/\.js$/, '.d.ts'));
    }
  });
});

describe.each(['packages/react', 'packages/uppy'])('%s', (folder) => {
  it('depends on the client at the version of the client, and on its framework as a peer', () => {
    const manifest = JSON.parse(read(`${folder}/package.json`)) as Record<string, Record<string, string>>;
    const client = JSON.parse(read('client/package.json')) as { version: string };
    expect(manifest.dependencies).toEqual({ '@presign/client': client.version });
    expect(Object.keys(manifest.peerDependencies ?? {})).toEqual([
      folder === 'packages/react' ? 'react' : '@uppy/core',
    ]);
  });
});
