// npm run openapi: writes docs/openapi.json, the committed OpenAPI document, from the contract in lib/api.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument } from '../lib/api/openapi.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const file = resolve(root, 'docs/openapi.json');
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
// Laid out as `npm run lint` expects; the contract test compares content, not layout.
execFileSync('npx', ['--no-install', 'biome', 'format', '--write', file], { cwd: root, stdio: 'inherit' });
console.log(`wrote ${file}`);
