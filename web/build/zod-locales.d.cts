import type { Plugin as EsbuildPlugin } from 'esbuild';

/** An esbuild plugin that bundles zod's `locales` namespace as empty: English, imported by its own path, stays. */
export declare function zodLocalesEsbuildPlugin(): EsbuildPlugin;
