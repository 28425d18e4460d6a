/**
 * The upload page's script (web/app/main.ts) as built by esbuild: minified,
 * one classic IIFE, the exact text inlined in the page and hashed in its CSP.
 * Resolved at bundle time by web/build/page-script.cjs (esbuild and vitest).
 */
declare module 'virtual:page-script' {
  const script: string;
  export default script;
}
