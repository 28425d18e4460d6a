/**
 * The esbuild plugins serverless-esbuild applies to every function bundle
 * (serverless.yml: custom.esbuild.plugins points here).
 */
const { pageScriptEsbuildPlugin } = require('./page-script.cjs');

module.exports = [pageScriptEsbuildPlugin()];
