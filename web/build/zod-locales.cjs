/**
 * Keeps zod's error-message locales other than English out of the function
 * bundles. zod's entry points re-export every locale (`locales`, some 250 KiB
 * minified); esbuild cannot shake that namespace out of a bundle that imports
 * zod's classic `z` object, as Powertools' event schemas do, so each cold
 * start would compile it. Nothing here selects a locale: English, the one
 * zod applies by default and the one lib/core/zod.ts sets, is imported by its
 * own path and stays.
 */

/** How zod's own modules import the index of every locale. */
const LOCALES_INDEX = /^\.\.\/locales\/index\.js$/;

/** The namespace of the module that stands in for that index. */
const NAMESPACE = 'zod-locales';

/** An esbuild plugin that bundles zod's `locales` namespace as empty. */
function zodLocalesEsbuildPlugin() {
  return {
    name: 'zod-english-only',
    setup(build) {
      build.onResolve({ filter: LOCALES_INDEX }, ({ importer }) =>
        /[\\/]node_modules[\\/]zod[\\/]/.test(importer)
          ? { path: 'locales', namespace: NAMESPACE }
          : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: NAMESPACE }, () => ({ contents: 'export {};', loader: 'js' }));
    },
  };
}

module.exports = { zodLocalesEsbuildPlugin };
