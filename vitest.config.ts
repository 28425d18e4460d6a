import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

// Required at run time, not bundled with this config (Vite's config bundler
// mangles the plugin's own require of esbuild).
const { pageScriptVitePlugin } = createRequire(import.meta.url)(
  './web/build/page-script.cjs',
) as typeof import('./web/build/page-script.cjs');

// `virtual:page-script` (the upload page's built script) resolves as it does in
// the function bundles, so tests import the text that is served.
const plugins = [pageScriptVitePlugin()];

// Unit tests run the packages built on the client (packages/*/src) on the client's sources, as
// they run the client itself: no build first, one PresignApiError class. The integration tests
// use the built packages, as an app would.
const clientSources = {
  alias: [
    { find: /^@presign\/client$/, replacement: new URL('./client/src/index.ts', import.meta.url).pathname },
  ],
};

export default defineConfig({
  test: {
    projects: [
      {
        plugins,
        resolve: clientSources,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          setupFiles: ['test/unit/setup-env.ts'],
          environment: 'node',
        },
      },
      {
        plugins,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 240_000,
          // Handlers and lib modules some tests run in process log and emit metrics to this
          // process's stdout: test output shows test results, not a validator's INFO lines.
          env: { POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true' },
          // One real stack is shared by every file: run files one after another.
          fileParallelism: false,
        },
      },
    ],
  },
});
