// The function bundles leave zod's non-English locales out, and zod still speaks English in them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { zodLocalesEsbuildPlugin } from '../../../web/build/zod-locales.cjs';
import { functionBundleInputs } from '../../support/function-bundles.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const OUT = mkdtempSync(join(tmpdir(), 'presign-zod-locales-'));
afterAll(() => rmSync(OUT, { recursive: true, force: true }));

/** The zod locale modules a metafile's inputs hold, by file name. */
const localesIn = (inputs: string[]) =>
  inputs
    .filter((input) => /node_modules\/zod\/v4\/locales\//.test(input))
    .map((input) => input.split('/').pop());

/** An entry that imports zod as Powertools' event schemas do, and reports a failed parse's message. */
const CLASSIC_ZOD_ENTRY = `
  import { S3Schema } from '@aws-lambda-powertools/parser/schemas/s3';
  import { z } from 'zod';
  export const locales = Object.keys(z.locales);
  export const message = S3Schema.safeParse({ Records: 'none' }).error?.issues[0]?.message;
`;

async function bundleClassicZod(plugins: ReturnType<typeof zodLocalesEsbuildPlugin>[], name: string) {
  const outfile = join(OUT, `${name}.mjs`);
  const result = await build({
    stdin: { contents: CLASSIC_ZOD_ENTRY, resolveDir: ROOT, loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    mainFields: ['module', 'main'],
    outfile,
    metafile: true,
    logLevel: 'silent',
    plugins,
  });
  const module = (await import(pathToFileURL(outfile).href)) as { locales: string[]; message?: string };
  return { inputs: result.metafile.inputs, ...module };
}

describe('zod locales in function bundles', () => {
  it('leave zod classic with English alone, its messages unchanged', async () => {
    const [without, withPlugin] = await Promise.all([
      bundleClassicZod([], 'without'),
      bundleClassicZod([zodLocalesEsbuildPlugin()], 'with'),
    ]);
    expect(localesIn(Object.keys(without.inputs))).toContain('fr.js');
    expect(without.locales).toContain('fr');
    expect(localesIn(Object.keys(withPlugin.inputs))).toEqual(['en.js']);
    expect(withPlugin.locales).toEqual([]);
    expect(withPlugin.message).toBe(without.message);
    expect(withPlugin.message).toMatch(/^Invalid input: expected array/);
  });

  it('are left out of the validator as osls packages it (serverless.yml custom.esbuild)', async () => {
    const inputs = await functionBundleInputs('validateUpload');
    expect(inputs.some((input) => input.includes('@aws-lambda-powertools/parser'))).toBe(true);
    expect(localesIn(inputs)).toEqual(['en.js']);
  });
});
