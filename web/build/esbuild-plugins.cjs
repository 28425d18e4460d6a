/**
 * The esbuild plugins serverless-esbuild applies to every function bundle
 * (serverless.yml: custom.esbuild.plugins points here).
 */
const { pageScriptEsbuildPlugin } = require('./page-script.cjs');
const { zodLocalesEsbuildPlugin } = require('./zod-locales.cjs');

module.exports = [pageScriptEsbuildPlugin(), zodLocalesEsbuildPlugin()];
