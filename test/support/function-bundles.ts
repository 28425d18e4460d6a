import { resolve } from 'node:path';
import { build } from 'esbuild';
import { esbuildOptions } from '../../bench/cold-start.js';
import { functionNamed, loadServerlessYml } from '../../bench/serverless-config.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** The inputs (paths from the repository's root) of function `name`'s bundle as osls packages it: serverless.yml's custom.esbuild, plugins included, nothing written. */
export async function functionBundleInputs(name: string): Promise<string[]> {
  const config = loadServerlessYml();
  const result = await build({
    ...esbuildOptions(config, ROOT),
    absWorkingDir: ROOT,
    entryPoints: [functionNamed(name, config).source],
    outdir: resolve(ROOT, '.serverless', 'function-bundles-test'),
    sourcemap: false,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs);
}
