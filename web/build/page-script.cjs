/**
 * Builds the upload page's script (web/app/main.ts) into the text that is
 * inlined in the page and hashed in its CSP, and exposes that text as the
 * module `virtual:page-script` (a default-exported string) to esbuild (the
 * function bundles and serverless offline, through serverless-esbuild) and to
 * Vite (vitest). The text is built when the importing bundle is built, so the
 * Lambda never reads a file at run time.
 */
const { join } = require('node:path');
const esbuild = require('esbuild');

/** The import specifier that resolves to the built script's text. */
const PAGE_SCRIPT_MODULE = 'virtual:page-script';

const ROOT = join(__dirname, '..', '..');

/** The page script's TypeScript entry point. */
const PAGE_SCRIPT_ENTRY = join(ROOT, 'web', 'app', 'main.ts');

/** Browsers the page supports; the script is lowered to what they all run. */
const PAGE_SCRIPT_TARGET = ['chrome111', 'edge111', 'firefox114', 'safari16.4'];

/**
 * Bundles the page script into one minified classic script (an IIFE, so it
 * leaks no globals). Returns its text, exactly the bytes to serve, and the
 * files it was built from.
 *
 * @returns {Promise<{ text: string; inputs: string[] }>}
 */
async function buildPageScript() {
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [PAGE_SCRIPT_ENTRY],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: PAGE_SCRIPT_TARGET,
    minify: true,
    charset: 'ascii',
    legalComments: 'none',
    sourcemap: false,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  if (!output || result.outputFiles.length !== 1) throw new Error('the page script built to no single file');
  return { text: output.text, inputs: Object.keys(result.metafile.inputs).map((input) => join(ROOT, input)) };
}

const NAMESPACE = 'page-script';

/**
 * The esbuild plugin: `import script from 'virtual:page-script'` gets the
 * built script as a string (esbuild's text loader); the script's sources are
 * watched, so a rebuild (serverless offline's watch) picks up their changes.
 *
 * @returns {import('esbuild').Plugin}
 */
function pageScriptEsbuildPlugin() {
  return {
    name: 'page-script',
    setup(build) {
      // A path relative to the project: no build machine's directory in the source map.
      build.onResolve({ filter: /^virtual:page-script$/ }, () => ({
        path: 'web/app/main.ts',
        namespace: NAMESPACE,
      }));
      build.onLoad({ filter: /.*/, namespace: NAMESPACE }, async () => {
        const { text, inputs } = await buildPageScript();
        return { contents: text, loader: 'text', watchFiles: inputs };
      });
    },
  };
}

const RESOLVED_ID = `\0${PAGE_SCRIPT_MODULE}`;

/**
 * The same module for Vite (vitest): a default-exported string, built by the
 * same function, so tests see exactly the text a function bundle inlines.
 *
 * @returns {import('vitest/config').Plugin}
 */
function pageScriptVitePlugin() {
  return {
    name: 'page-script',
    resolveId(id) {
      return id === PAGE_SCRIPT_MODULE ? RESOLVED_ID : undefined;
    },
    async load(id) {
      if (id !== RESOLVED_ID) return undefined;
      const { text, inputs } = await buildPageScript();
      for (const input of inputs) this.addWatchFile(input);
      return `export default ${JSON.stringify(text)};`;
    },
  };
}

module.exports = {
  PAGE_SCRIPT_MODULE,
  PAGE_SCRIPT_ENTRY,
  PAGE_SCRIPT_TARGET,
  buildPageScript,
  pageScriptEsbuildPlugin,
  pageScriptVitePlugin,
};
