// npm run openapi: writes docs/openapi.json, the committed OpenAPI document, from the contract in lib/api,
// and the client's types (client/src/api-types.ts) from that document.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument } from '../lib/api/openapi.js';
import { CLIENT_API_TYPES_FILE, clientApiTypes } from './client-api-types.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const file = resolve(root, 'docs/openapi.json');
const document = buildOpenApiDocument();
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
// Laid out as `npm run lint` expects; the contract test compares content, not layout.
execFileSync('npx', ['--no-install', 'biome', 'format', '--write', file], { cwd: root, stdio: 'inherit' });
console.log(`wrote ${file}`);
const types = resolve(root, CLIENT_API_TYPES_FILE);
writeFileSync(types, await clientApiTypes(JSON.parse(JSON.stringify(document))));
console.log(`wrote ${types}`);
