// npm run openapi: writes docs/openapi.json, the committed OpenAPI document, from the contract in lib/api.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// lib/api takes the TTL bounds from lib/downloads and lib/shares, whose modules parse the
// function configuration when imported. None of it reaches the document: placeholders do, and
// no SSM parameter is read.
const placeholders = {
  UPLOADS_BUCKET: 'openapi-document',
  AUTH_ISSUER: 'openapi-document',
  AUTH_AUDIENCE: 'openapi-document',
  AUTH_JWKS: '{"keys":[{}]}',
};
for (const [name, value] of Object.entries(placeholders)) process.env[name] ||= value;
delete process.env.SHARE_SECRET_PARAMETER;

const { buildOpenApiDocument } = await import('../lib/api/openapi.js');

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const file = resolve(root, 'docs/openapi.json');
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
// Laid out as `npm run lint` expects; the contract test compares content, not layout.
execFileSync('npx', ['--no-install', 'biome', 'format', '--write', file], { cwd: root, stdio: 'inherit' });
console.log(`wrote ${file}`);
