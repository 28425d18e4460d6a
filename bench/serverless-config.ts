/**
 * What the bench reads from serverless.yml: the functions (handler file, HTTP
 * route), serverless-esbuild's options, and the environment a function gets,
 * so sections follow the service definition instead of knowing lib/ internals.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEV_AUDIENCE, DEV_ISSUER, devJwks, devOwnerSecret, devVerdictKeys } from '../scripts/dev-keys.js';
import type { AdminAccess } from '../scripts/provision.js';
import { type RoleSession, roleAssumer } from '../scripts/role-sessions.js';
import { ADMIN_FILE, LOCAL_DIR, type StackInfo } from '../scripts/stack-settings.js';
import { readServerlessConfig } from '../test/support/serverless-config.js';

export const ROOT = resolve(import.meta.dirname, '..');

export interface ServerlessYml {
  /** The service's name: a function is deployed as `<service>-<stage>-<function>`. */
  service: string;
  params?: { default?: Record<string, unknown> };
  provider: { environment?: Record<string, unknown> };
  custom: { esbuild: Record<string, unknown> };
  functions: Record<string, { handler: string; events?: { httpApi?: unknown }[] }>;
}

/** ${...} variables stay strings (resolved below where the bench needs them). */
export const loadServerlessYml = (dir = ROOT): ServerlessYml => readServerlessConfig<ServerlessYml>(dir);

export interface FunctionInfo {
  name: string;
  /** serverless.yml's handler, e.g. `handlers/create-upload.handler`. */
  handler: string;
  /** The handler's source file, when it exists in `dir`. */
  source: string | undefined;
  /** Its HTTP API route (`POST /uploads`), if it has one. */
  route: { method: string; path: string } | undefined;
}

export function functionsOf(config: ServerlessYml, dir = ROOT): FunctionInfo[] {
  return Object.entries(config.functions ?? {}).map(([name, fn]) => {
    const base = join(dir, fn.handler.slice(0, fn.handler.lastIndexOf('.')));
    const source = ['.ts', '.mts', '.js', '.mjs'].map((ext) => base + ext).find((file) => existsSync(file));
    const http = fn.events?.find((event) => event.httpApi !== undefined)?.httpApi;
    const spec = typeof http === 'string' ? http : (http as { method?: string; path?: string } | undefined);
    let route: FunctionInfo['route'];
    if (typeof spec === 'string') {
      const [method = 'GET', path = '/'] = spec.trim().split(/\s+/);
      route = { method: method.toUpperCase(), path };
    } else if (spec?.path) {
      route = { method: (spec.method ?? 'GET').toUpperCase(), path: spec.path };
    }
    return { name, handler: fn.handler, source, route };
  });
}

/** The function named `name`, with its handler file; throws if serverless.yml has no such function. */
export function functionNamed(name: string, config = loadServerlessYml()): FunctionInfo & { source: string } {
  const fn = functionsOf(config).find((candidate) => candidate.name === name);
  if (!fn?.source) throw new Error(`serverless.yml has no function ${name} with a handler file`);
  return fn as FunctionInfo & { source: string };
}

/**
 * Resolves the variables the bench can resolve as osls would (`${env:NAME,
 * 'fallback'}` from `env`, `${param:name}` from params.default); a value with
 * any other variable (`${self:…}`, `${file(…)}`, …) is left out.
 */
export function resolveValue(
  value: unknown,
  config: ServerlessYml,
  env: Record<string, string | undefined>,
  depth = 0,
): string | undefined {
  if (value === null || value === undefined || typeof value === 'object') return undefined;
  const text = String(value);
  let unresolved = false;
  const resolved = text.replace(/\$\{([^{}]+)\}/g, (_, expression: string) => {
    const [source = '', ...fallbacks] = expression.split(',').map((part) => part.trim());
    let result: string | undefined;
    if (source.startsWith('env:')) result = env[source.slice(4)];
    else if (source.startsWith('param:') && depth < 5)
      result = resolveValue(config.params?.default?.[source.slice(6)], config, env, depth + 1);
    if (result === undefined && fallbacks[0] !== undefined) {
      const literal = /^(['"])(.*)\1$/.exec(fallbacks[0]);
      if (literal) result = literal[2];
    }
    if (result === undefined) unresolved = true;
    return result ?? '';
  });
  return unresolved ? undefined : resolved;
}

/** provider.environment with what the bench can resolve (see resolveValue). */
export function providerEnvironment(
  config: ServerlessYml,
  env: Record<string, string | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.provider.environment ?? {})) {
    const resolved = resolveValue(value, config, env);
    if (resolved !== undefined) out[name] = resolved;
  }
  return out;
}

/**
 * The environment the local stack gives function `fn` (serverless.yml's
 * provider.environment as `npm start` resolves it, plus the role session's
 * credentials and what serverless offline adds), for running its handler in
 * this process against the running stack. Set it before importing the handler.
 */
export async function localFunctionEnvironment(
  fn: string,
  stack: StackInfo,
  session: RoleSession,
  extra: Record<string, string> = {},
): Promise<Record<string, string>> {
  const config = loadServerlessYml();
  const local: Record<string, string> = {
    UPLOADS_BUCKET: stack.bucket,
    STATE_BUCKET: stack.stateBucket,
    VERDICT_PUBLIC_KEY: devVerdictKeys().publicKey,
    ...(fn === 'validateUpload' ? { VERDICT_SIGNING_KEY: devVerdictKeys().privateKey } : {}),
    // The stack's owner secret: the owners (and keys) an in-process handler makes are the stack's.
    OWNER_SECRET: devOwnerSecret(),
    S3_ENDPOINT: stack.s3Endpoint,
    AUTH_ISSUER: DEV_ISSUER,
    AUTH_AUDIENCE: DEV_AUDIENCE,
    AUTH_JWKS: JSON.stringify(await devJwks()),
  };
  // What `npm start` passed its functions as params (stack.json), not this shell's: the function
  // in process runs with the limits and malware check of the same function in the stack.
  const stackSettings = {
    QUOTA_BYTES_PER_OWNER: String(stack.limits?.quotaBytesPerOwner ?? ''),
    UPLOADS_PER_HOUR_PER_OWNER: String(stack.limits?.uploadsPerHourPerOwner ?? ''),
    MALWARE_SCAN: stack.malwareScan ?? 'none',
  };
  const secretFile = join(LOCAL_DIR, 'share-secret');
  return {
    ...providerEnvironment(config, { ...process.env, ...local }),
    ...stackSettings,
    ...local,
    ...(existsSync(secretFile) ? { SHARE_SECRET: readFileSync(secretFile, 'utf8').trim() } : {}),
    AWS_REGION: stack.region,
    AWS_ACCESS_KEY_ID: session.accessKeyId,
    AWS_SECRET_ACCESS_KEY: session.secretAccessKey,
    AWS_SESSION_TOKEN: session.sessionToken,
    AWS_CREDENTIAL_EXPIRATION: session.expiration.toISOString(),
    AWS_LAMBDA_FUNCTION_NAME: `presign-local-${fn}`,
    IS_OFFLINE: 'true',
    ...extra,
  };
}

/** The local RGW's admin access (the bucket owner), as `npm start` wrote it. */
export const localAdmin = (): AdminAccess => JSON.parse(readFileSync(ADMIN_FILE, 'utf8')) as AdminAccess;

/** A session of function `fn`'s local role (`presign-local-<fn>`): the credentials it signs with on the stack. */
export function assumeLocalRole(fn: string, seconds = 3600): Promise<RoleSession> {
  return roleAssumer(localAdmin())(`arn:aws:iam:::role/presign-local-${fn}`, `bench-${fn}`, seconds);
}
