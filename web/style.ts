/** The page's stylesheet, inlined and allowed by its hash in the CSP. */
export const PAGE_STYLE = `
:root { color-scheme: light dark; font-family: system-ui, sans-serif; line-height: 1.5; }
body { margin: 0; padding: 1rem; }
main { max-width: 46rem; margin: 0 auto; }
h1 { font-size: 1.6rem; margin: 0 0 1rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 0.5rem; }
.field { margin-bottom: 1rem; }
label { display: block; font-weight: 600; }
input[type="password"], input[type="file"] { box-sizing: border-box; width: 100%; padding: 0.4rem; font: inherit; }
.drop-zone { margin-bottom: 1rem; padding: 1rem; border: 2px dashed rgb(128 128 128 / 0.6); border-radius: 6px; }
.drop-zone[data-dragging="true"] { border-color: #1a73e8; background: rgb(26 115 232 / 0.08); }
.hint { margin: 0.25rem 0 0; font-size: 0.9rem; opacity: 0.85; }
code { font-size: 0.95em; padding: 0 0.2em; border: 1px solid rgb(128 128 128 / 0.4); border-radius: 3px; }
button { font: inherit; padding: 0.35rem 1rem; cursor: pointer; }
button:disabled { cursor: not-allowed; }
:focus-visible { outline: 3px solid #1a73e8; outline-offset: 2px; }
progress { width: 100%; height: 1rem; }
#error:not(:empty) { padding: 0.5rem 0.75rem; border-left: 4px solid #c5221f; background: rgb(197 34 31 / 0.1); }
.rows { list-style: none; padding: 0; margin: 0; }
.rows > li { padding: 0.6rem 0; border-bottom: 1px solid rgb(128 128 128 / 0.3); overflow-wrap: anywhere; }
.row-name { font-weight: 600; }
.row-actions { display: flex; flex-wrap: wrap; gap: 0.4rem; margin-top: 0.3rem; }
[data-status="passed"] { color: #188038; font-weight: 700; }
[data-status="failed"], [data-status="refused"], [data-status="error"] { color: #c5221f; font-weight: 700; }
[data-status="pending"], [data-status="validating"] { font-weight: 700; }
@media (prefers-color-scheme: dark) {
  [data-status="passed"] { color: #81c995; }
  [data-status="failed"], [data-status="refused"], [data-status="error"], #error:not(:empty) { color: #f28b82; }
}
`;
