import type { Plugin as EsbuildPlugin } from 'esbuild';
import type { Plugin as VitePlugin } from 'vitest/config';

/** The import specifier that resolves to the built script's text. */
export declare const PAGE_SCRIPT_MODULE: 'virtual:page-script';
/** The page script's TypeScript entry point (absolute path). */
export declare const PAGE_SCRIPT_ENTRY: string;
/** Browsers the page supports (esbuild targets). */
export declare const PAGE_SCRIPT_TARGET: string[];
/** Bundles the page script: its text, exactly the bytes to serve, and the files it was built from. */
export declare function buildPageScript(): Promise<{ text: string; inputs: string[] }>;
/** The esbuild plugin that resolves `virtual:page-script` to the built text. */
export declare function pageScriptEsbuildPlugin(): EsbuildPlugin;
/** The Vite (vitest) plugin that resolves `virtual:page-script` to the built text. */
export declare function pageScriptVitePlugin(): VitePlugin;
