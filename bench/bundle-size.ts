/**
 * Section `bundle`: what `@presign/client` adds to a web app, minified and
 * gzipped, against a budget (7 KiB: the client measured 5.4 KiB when the
 * budget was set, room for a few more calls, not for a dependency); and what
 * `@presign/react` and `@presign/uppy` add on top of it (the client, React and
 * Uppy left out, as an app has them already). Bundled by esbuild from the packages' sources for browsers, as a
 * bundler builds an app; no stack needed.
 */
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { round, type SectionResult } from './stats.js';

/** The budget for the whole client (every export), minified and gzipped. */
export const CLIENT_BUDGET_BYTES = 7 * 1024;

const ROOT = resolve(import.meta.dirname, '..');

interface Measured {
  minified: number;
  gzipped: number;
}

/** Bundles `contents` (an app's entry) for browsers, minified, and measures it raw and gzipped. */
export async function measureBundle(contents: string, external: string[] = []): Promise<Measured> {
  const result = await build({
    stdin: { contents, resolveDir: ROOT, loader: 'ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    external,
    // The client from its sources too, unless it is left out.
    alias: external.includes('@presign/client')
      ? {}
      : { '@presign/client': resolve(ROOT, 'client/src/index.ts') },
    jsx: 'automatic',
  });
  const code = result.outputFiles?.[0]?.contents ?? new Uint8Array();
  return { minified: code.length, gzipped: gzipSync(code, { level: 9 }).length };
}

const kib = (bytes: number) => `${round(bytes / 1024, 1)} KiB`;

export async function run(): Promise<SectionResult> {
  const client = `export * from '@presign/client';`;
  const cases: { name: string; entry: string; external?: string[] }[] = [
    { name: '@presign/client, every export', entry: client },
    {
      name: '@presign/client, createClient only',
      entry: `export { createClient } from '@presign/client';`,
    },
    {
      name: '@presign/react on top of the client (React left out)',
      entry: `export * from './packages/react/src/index.ts';`,
      external: ['react', 'react/jsx-runtime', '@presign/client'],
    },
    {
      name: '@presign/uppy on top of the client (Uppy left out)',
      entry: `export * from './packages/uppy/src/index.ts';`,
      external: ['@uppy/core', '@presign/client'],
    },
  ];
  const measured = [];
  for (const c of cases) measured.push({ ...c, ...(await measureBundle(c.entry, c.external)) });
  const whole = measured[0] as (typeof measured)[number];
  const holds = whole.gzipped <= CLIENT_BUDGET_BYTES;
  const figures: SectionResult['figures'] = {};
  for (const m of measured) {
    figures[`bundle ${m.name} minified bytes`] = m.minified;
    figures[`bundle ${m.name} gzipped bytes`] = m.gzipped;
  }
  figures[`goal bundle @presign/client ≤ ${kib(CLIENT_BUDGET_BYTES)} min+gz`] = holds;
  return {
    section: 'bundle',
    figures,
    rows: [
      ...measured.map((m) => [m.name, `${kib(m.gzipped)} min+gz`, `${kib(m.minified)} minified`, '']),
      [
        `GOAL @presign/client ≤ ${kib(CLIENT_BUDGET_BYTES)} minified and gzipped`,
        holds ? 'HOLDS' : 'MISSED',
        `${kib(whole.gzipped)}`,
        `${round((100 * whole.gzipped) / CLIENT_BUDGET_BYTES, 0)}% of the budget`,
      ],
    ],
    notes: [
      "Each entry bundled by esbuild (ESM, browser, es2022, minified) from the packages' sources, then gzipped at level 9 (Node zlib); the React and Uppy packages' rows leave out the client, React (react, react/jsx-runtime) and @uppy/core: what each adds to an app that has them. The same in --quick: it takes a second.",
    ],
  };
}
