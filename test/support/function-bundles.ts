import { resolve } from 'node:path';
import { build } from 'esbuild';
import { esbuildOptions } from '../../bench/cold-start.js';
import { functionNamed, loadServerlessYml } from '../../bench/serverless-config.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

/**
 * The inputs (paths from the repository's root) that put code in function
 * `name`'s bundle as osls packages it (serverless.yml's custom.esbuild,
 * plugins included, nothing written): a module esbuild read and shook out
 * entirely is not among them.
 */
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
  const bundle = Object.values(result.metafile.outputs).find((output) => output.entryPoint);
  if (!bundle) throw new Error(`esbuild wrote no bundle for ${name}`);
  return Object.entries(bundle.inputs)
    .filter(([, { bytesInOutput }]) => bytesInOutput > 0)
    .map(([input]) => input);
}
