/**
 * Section `cold`: per function of serverless.yml, every one of them, the
 * bundle `osls package` builds (bytes, from the unzipped function zips) and
 * the time a FRESH Node process takes to import it and serve a first request,
 * against a baseline bundle that only imports @aws-sdk/client-s3 +
 * @aws-sdk/s3-request-presigner and presigns once (built with esbuild using
 * serverless.yml's custom.esbuild options, plugins included). Each function
 * runs with the environment the packaged template gives it (a stage with
 * webhooks on), made local (see `runnableEnvironment`). Attribution of bundle
 * bytes comes from an esbuild metafile of the same build.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BuildOptions, build, type Metafile, type Plugin } from 'esbuild';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { ulid } from 'ulid';
import { shareKeyFrom } from '../lib/shares/share-secret.js';
import { signShareToken } from '../lib/shares/share-token.js';
import { devVerdictKeys } from '../scripts/dev-keys.js';
import { type FunctionEntry, functionEntries } from '../scripts/function-policies.js';
import type { StackInfo } from '../scripts/stack-settings.js';
import {
  type FunctionInfo,
  functionsOf,
  loadServerlessYml,
  localAdmin,
  providerEnvironment,
  ROOT,
  type ServerlessYml,
} from './serverless-config.js';
import { type Figure, median, round, type SectionResult } from './stats.js';

const SKIP_COPY = new Set(['node_modules', '.local', '.serverless', '.esbuild', '.git']);
const GOAL_RATIO = 1.2;
/** How many of a bundle's largest packages its row names: enough that a regression names its cause. */
const LARGEST_INPUTS = 10;

/** serverless-esbuild's own keys, which it takes out before handing custom.esbuild to esbuild. */
const PLUGIN_ONLY_KEYS = [
  'concurrency',
  'zipConcurrency',
  'exclude',
  'nativeZip',
  'packager',
  'packagePath',
  'watch',
  'keepOutputDirectory',
  'packagerOptions',
  'installExtraArgs',
  'outputFileExtension',
  'outputBuildFolder',
  'outputWorkFolder',
  'nodeExternals',
  'skipBuild',
  'skipRebuild',
  'skipBuildExcludeFns',
  'stripEntryResolveExtensions',
  'disposeContext',
];

/**
 * `custom.esbuild.plugins` as serverless-esbuild loads it: an array as is, or
 * a path (from the service directory) to a module exporting the array, or a
 * function of the serverless instance returning it.
 */
function loadPlugins(given: unknown, dir: string, config: ServerlessYml): Plugin[] | undefined {
  if (given === undefined || given === null) return undefined;
  if (Array.isArray(given)) return given as Plugin[];
  let loaded = createRequire(join(dir, 'package.json'))(join(dir, String(given))) as unknown;
  if (loaded && typeof loaded === 'object' && 'default' in loaded)
    loaded = (loaded as { default: unknown }).default;
  if (typeof loaded === 'function') loaded = loaded({ service: config, config: { servicePath: dir } });
  if (!Array.isArray(loaded))
    throw new Error(`custom.esbuild.plugins (${given}) exports no array of plugins`);
  return loaded as Plugin[];
}

/** serverless.yml's custom.esbuild as the esbuild options serverless-esbuild passes on (`dir`: the service). */
export function esbuildOptions(config: ServerlessYml, dir: string): BuildOptions {
  const given = config.custom.esbuild as Record<string, unknown>;
  const rest = Object.fromEntries(Object.entries(given).filter(([key]) => !PLUGIN_ONLY_KEYS.includes(key)));
  const exclude = (given.exclude as string[] | undefined) ?? ['aws-sdk'];
  const outputFileExtension = given.outputFileExtension as string | undefined;
  const plugins = loadPlugins(given.plugins, dir, config);
  return {
    ...(rest as BuildOptions),
    external: [...((rest.external as string[]) ?? []), ...(exclude.includes('*') ? [] : exclude)],
    ...(plugins ? { plugins } : {}),
    ...(outputFileExtension && outputFileExtension !== '.js'
      ? { outExtension: { '.js': outputFileExtension } }
      : {}),
  };
}

/** Copies the repo without its heavy or machine-local parts and links node_modules. */
function copyRepo(into: string): void {
  for (const entry of readdirSync(ROOT)) {
    if (SKIP_COPY.has(entry)) continue;
    cpSync(join(ROOT, entry), join(into, entry), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(into, 'node_modules'), 'dir');
}

/** The stage `osls package` builds here; it names the functions (`<service>-<stage>-<function>`). */
const STAGE = 'bench';

/**
 * Settings of the local stack's shell this section leaves out: the stage it measures has no
 * per-owner limits and no malware scan (the params' defaults), whatever the shell sets.
 */
const FIXED_SETTINGS = ['QUOTA_BYTES_PER_OWNER', 'UPLOADS_PER_HOUR_PER_OWNER', 'MALWARE_SCAN'];

/** This process's environment without credentials, the local stack's settings or the ones this section fixes. */
const cleanEnvironment = () =>
  Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) =>
        name === 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED' ||
        (!name.startsWith('AWS_') && !name.startsWith('PRESIGN_LOCAL_') && !FIXED_SETTINGS.includes(name)),
    ),
  );

/**
 * What the stage is packaged with: the params every deploy needs (deploy/check-params.cjs), and
 * webhooks on. The identity provider, origins and verdict key are placeholders `local` replaces;
 * the webhook URL is an https: one (the only kind a deploy takes) the deliverer's run replaces with
 * the receiver's.
 */
const PACKAGE_PARAMS = {
  authIssuer: 'presign-bench',
  authJwksUrl: 'https://issuer.bench.invalid/.well-known/jwks.json',
  authAudience: 'presign-api',
  allowedOrigins: 'http://127.0.0.1:3000',
  webhookUrl: 'https://hooks.bench.invalid/presign',
};

/**
 * `osls package` of the copy in `dir` with {@link PACKAGE_PARAMS} and the
 * validator's public key, with `scratch` as its TMPDIR (serverless-esbuild
 * leaves a directory per function there each time it zips).
 */
function osPackage(dir: string, scratch: string, verdictPublicKey: string): Promise<void> {
  const env = cleanEnvironment();
  return new Promise((done, fail) => {
    const params = { ...PACKAGE_PARAMS, verdictPublicKey };
    const args = [
      'package',
      '--stage',
      STAGE,
      ...Object.entries(params).flatMap(([name, value]) => ['--param', `${name}=${value}`]),
    ];
    const child = spawn(join(dir, 'node_modules/.bin/osls'), args, {
      cwd: dir,
      env: { ...env, TMPDIR: scratch, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGTERM'), 240_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) done();
      else fail(new Error(`osls package exited ${code}:\n${output.slice(-3000)}`));
    });
  });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((file) => statSync(file).isFile());
}

/**
 * The outputs of an esbuild metafile a cold start loads: the entry's and, with
 * code splitting, the chunks it imports statically, transitively. Chunks
 * reached only through a dynamic `import()` are left to the call that needs them.
 * `entryPoint`: the source file (the metafile's paths are relative to the working directory).
 */
export function loadedAtStart(metafile: Metafile, entryPoint: string): string[] {
  const outputs = metafile.outputs;
  const entry = Object.keys(outputs).find((file) => {
    const source = outputs[file]?.entryPoint;
    return source !== undefined && resolve(source) === resolve(entryPoint) && !file.endsWith('.map');
  });
  if (!entry) throw new Error(`the metafile has no output for ${entryPoint}`);
  const loaded = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (loaded.has(file)) continue;
    loaded.add(file);
    for (const { path, kind } of outputs[file]?.imports ?? []) {
      if (kind === 'import-statement' && path in outputs) pending.push(path);
    }
  }
  return [...loaded];
}

/** Bytes of code an esbuild metafile's outputs hold: those `outputFiles` names, or all. */
function outputBytes(metafile: Metafile, outputFiles?: string[]): number {
  return Object.entries(metafile.outputs)
    .filter(([file]) => !file.endsWith('.map') && (!outputFiles || outputFiles.includes(file)))
    .reduce((sum, [, output]) => sum + output.bytes, 0);
}

/**
 * Bytes per package (node_modules/<pkg>, or "(project)") in the outputs of an
 * esbuild metafile (`outputFiles`: only those, e.g. what a cold start loads).
 */
function bytesByPackage(metafile: Metafile, outputFiles?: string[]): Map<string, number> {
  const totals = new Map<string, number>();
  for (const [file, output] of Object.entries(metafile.outputs)) {
    if (outputFiles && !outputFiles.includes(file)) continue;
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(
        input.replace(/.*node_modules\//, 'node_modules/'),
      );
      const name = match?.[1] ?? '(project)';
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  }
  return totals;
}

interface Probe {
  importMs: number;
  firstRequestMs: number;
  totalMs: number;
  status: string;
}

/** How long one probe may take: a fresh `node` that imports a bundle and serves one request. */
const PROBE_TIMEOUT_MS = 60_000;

/**
 * Runs bench/cold-probe.mjs on `bundle` in a fresh `node`, without blocking this process (the
 * deliverer's first request is answered by a receiver here).
 */
function probe(bundle: string, event: unknown, env: NodeJS.ProcessEnv): Promise<Probe> {
  return new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, 'cold-probe.mjs'), bundle, JSON.stringify(event)],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((text) => text.startsWith('@@cold@@'));
      if (line) return done(JSON.parse(line.slice('@@cold@@'.length)) as Probe);
      const how = signal === 'SIGKILL' ? `no answer within ${PROBE_TIMEOUT_MS / 1000} s` : `exit ${code}`;
      fail(new Error(`cold probe of ${bundle} failed (${how}): ${stderr.slice(-2000)}`));
    });
  });
}

/**
 * The peers a deployed function talks to besides AWS, on loopback: the
 * identity provider's JWKS URL (`GET /jwks`, the key set `jwks` gives), which
 * every API function's key set fetches on its first request as in AWS, and
 * a webhook receiver for the deliverer's first request (`POST /hooks`: a 204,
 * as a receiver that got the event answers).
 */
async function loopbackPeers(jwks: object): Promise<{
  jwksUrl: string;
  webhookUrl: string;
  received: () => { webhooks: number; jwks: number };
  close: () => Promise<void>;
}> {
  const received = { webhooks: 0, jwks: 0 };
  const keySet = JSON.stringify(jwks);
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      if (request.method === 'GET' && request.url === '/jwks') {
        received.jwks++;
        response.writeHead(200, { 'content-type': 'application/json' }).end(keySet);
        return;
      }
      received.webhooks++;
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    jwksUrl: `http://127.0.0.1:${port}/jwks`,
    webhookUrl: `http://127.0.0.1:${port}/hooks`,
    received: () => ({ ...received }),
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** The variables that hold a function's secrets; in AWS each is read from SSM by its `<name>_PARAMETER`. */
export const SECRET_VARIABLES = ['OWNER_SECRET', 'SHARE_SECRET', 'VERDICT_SIGNING_KEY', 'WEBHOOK_SECRET'];

/**
 * A function's environment as deployed (`deployed`: the variables of its
 * AWS::Lambda::Function in the packaged template), made to run here as the
 * local stack runs functions: each variable of `local` replaces the
 * deployment's (the buckets' Refs, the S3 endpoint, the JWT issuer and keys,
 * the verdict key), and each secret's SSM parameter (`X_PARAMETER`) becomes
 * the secret `X` itself from `secrets` (no SSM here). Only what the template
 * gives the function is set, so a function lacks what its deployment lacks.
 * Throws naming a variable this cannot fill: a secret without a local value,
 * or a CloudFormation reference `local` does not replace.
 */
export function runnableEnvironment(
  fn: string,
  deployed: Record<string, unknown>,
  local: Record<string, string>,
  secrets: Record<string, string>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(deployed)) {
    if (name in local) continue;
    const secret = /^(.+)_PARAMETER$/.exec(name)?.[1];
    if (secret !== undefined) {
      const given = secrets[secret];
      if (given === undefined)
        throw new Error(`${fn}: the bench has no local value for ${secret} (deployed as ${name})`);
      env[secret] = given;
    } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      env[name] = String(value);
    } else {
      throw new Error(
        `${fn}: ${name} is ${JSON.stringify(value)} in the template; the bench has no local value`,
      );
    }
  }
  return { ...env, ...local };
}

/** Each function's environment variables in the template `osls package` wrote into `dir`, by function name. */
function deployedEnvironments(dir: string, config: ServerlessYml): Record<string, Record<string, unknown>> {
  const template = JSON.parse(
    readFileSync(join(dir, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as {
    Resources: Record<
      string,
      {
        Type: string;
        Properties: { FunctionName?: string; Environment?: { Variables?: Record<string, unknown> } };
      }
    >;
  };
  const byName = new Map(
    Object.values(template.Resources)
      .filter((resource) => resource.Type === 'AWS::Lambda::Function')
      .map(({ Properties: p }) => [p.FunctionName, p.Environment?.Variables ?? {}]),
  );
  return Object.fromEntries(
    Object.keys(config.functions).map((name) => {
      const variables = byName.get(`${config.service}-${STAGE}-${name}`);
      if (!variables) throw new Error(`the packaged template has no function ${name}`);
      return [name, variables];
    }),
  );
}

function apiEvent(method: string, path: string, routeKey: string, init: Record<string, unknown>) {
  const { headers, ...extra } = init as { headers?: Record<string, string> };
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    headers: { host: '127.0.0.1:3000', 'content-type': 'application/json', ...headers },
    requestContext: {
      accountId: '123456789012',
      apiId: 'cold',
      domainName: '127.0.0.1',
      domainPrefix: 'cold',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      requestId: 'cold-request',
      routeKey,
      stage: '$default',
      time: '23/Nov/2026:10:00:00 +0000',
      timeEpoch: Date.now(),
    },
    isBase64Encoded: false,
    ...extra,
  };
}

/**
 * Request bodies that get each route past its input checks to its work (for a
 * new file id, its first S3 read); routes whose body is optional get none.
 */
const BODIES: Record<string, unknown> = {
  'POST /uploads': { filename: 'cat.png', contentType: 'image/png', size: 1234 },
  'POST /uploads/multipart': { filename: 'film.mp4', contentType: 'video/mp4', size: 1234 },
  'POST /uploads/{fileId}/parts': { parts: [{ partNumber: 1 }] },
  'POST /uploads/{fileId}/complete': { parts: [{ partNumber: 1, etag: '0123456789abcdef0123456789abcdef' }] },
};

/** What a first request is sent with: a bearer token, the uploads bucket, a share token that verifies. */
export interface FirstRequestContext {
  readonly authorization: string;
  readonly bucket: string;
  /** A share link's token signed with the function's share secret, for a file that is not there. */
  readonly shareToken: string;
}

/**
 * A share token that `GET /s/{token}` verifies under `shareSecret` (as
 * SHARE_SECRET gives it) for a file no one uploaded, so the first request
 * goes on to S3 and answers 404, as a link to a deleted file does.
 */
export function unknownFileShareToken(shareSecret: string, now: Date): string {
  return signShareToken(shareKeyFrom({ SHARE_SECRET: shareSecret }), {
    segment: randomBytes(16).toString('hex'),
    fileId: ulid(),
    versionId: 'cold-start',
    expiresAt: Math.floor(now.getTime() / 1000) + 600,
    epoch: 0,
  });
}

/**
 * The first request a function serves: for an HTTP API route, a real API
 * Gateway event for it (path parameters filled in: a new file id, or a share
 * token that verifies for a file that is not there), with a valid bearer
 * token and the body that gets it to its work; for the function the bucket
 * invokes (the validator), an S3 ObjectCreated event for an object that is
 * not there; for the webhook deliverer, a `file.validated` message as the
 * validator hands it over. Throws for a function that is none of these, so a
 * new kind of function fails the section until it is given a first event.
 */
export function firstEvent(
  fn: FunctionInfo,
  entry: FunctionEntry | undefined,
  { authorization, bucket, shareToken }: FirstRequestContext,
): unknown {
  const fileId = ulid();
  if (fn.route) {
    const { method, path: template } = fn.route;
    const pathParameters: Record<string, string> = {};
    const path = template.replace(/\{(\w+)\+?\}/g, (_, name: string) => {
      pathParameters[name] = name === 'fileId' ? fileId : name === 'token' ? shareToken : 'cold';
      return pathParameters[name] as string;
    });
    const routeKey = `${method} ${template}`;
    const body = BODIES[routeKey];
    return apiEvent(method, path, routeKey, {
      headers: { authorization },
      ...(Object.keys(pathParameters).length > 0 ? { pathParameters } : {}),
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  }
  if (entry?.invokedByBucket) {
    return {
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          awsRegion: 'us-east-1',
          eventName: 'ObjectCreated:Post',
          s3: {
            bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
            object: {
              key: `uploads/${'0'.repeat(32)}/${fileId}`,
              size: 10,
              eTag: '0123456789abcdef0123456789abcdef',
            },
          },
        },
      ],
    };
  }
  if (entry?.deliversWebhooks) {
    return {
      id: `msg_${randomBytes(24).toString('base64url')}`,
      event: {
        type: 'file.validated',
        timestamp: new Date().toISOString(),
        data: {
          fileId,
          status: 'passed',
          reason: null,
          detectedType: 'image/png',
          size: 1234,
          contentType: 'image/png',
          filename: 'cat.png',
          clientMetadata: null,
        },
      },
    };
  }
  if (entry?.invokesValidator) {
    // The pending-uploads sweep: EventBridge's scheduled event.
    return {
      version: '0',
      id: randomBytes(16).toString('hex'),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: ['arn:aws:events:us-east-1:123456789012:rule/sweep-pending-uploads'],
      detail: {},
    };
  }
  throw new Error(
    `the cold section has no first event for ${fn.name} (no HTTP route, not invoked by the bucket, not the webhook deliverer, not the sweep): give it one in bench/cold-start.ts`,
  );
}

export interface ColdOptions {
  stack: StackInfo;
  samples?: number;
  quick?: boolean;
}

export async function run({ stack, samples = 7, quick }: ColdOptions): Promise<SectionResult> {
  const work = mkdtempSync(join(tmpdir(), 'presign-bench-cold-'));
  const notes: string[] = [];
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'cold', alg: 'ES256', use: 'sig' }] };
  const peers = await loopbackPeers(jwks);
  try {
    const repo = join(work, 'repo');
    mkdirSync(repo);
    copyRepo(repo);
    const config = loadServerlessYml(repo);
    const functions = functionsOf(config, repo);
    const missing = functions.filter((fn) => !fn.source).map((fn) => fn.handler);
    if (missing.length > 0)
      throw new Error(`serverless.yml names handlers with no file: ${missing.join(', ')}`);
    const started = Date.now();
    const scratch = join(work, 'tmp');
    mkdirSync(scratch);
    await osPackage(repo, scratch, devVerdictKeys().publicKey);
    notes.push(
      `osls package --stage ${STAGE} --param webhookUrl=https://hooks.bench.invalid/presign (the deliverer runs with a loopback receiver's URL instead; copy of the repo in ${work}, AWS_* unset) took ${round((Date.now() - started) / 1000)} s.`,
    );

    // The bundles osls built, unzipped: one per function of serverless.yml, each function's own zip.
    // `bytes`: the code a cold start loads (set from the metafile below); `codeBytes`: all the zip's code.
    const bundles: Record<
      string,
      { bundle: string; bytes: number; codeBytes: number; zipBytes: number; mapBytes: number }
    > = {};
    const outputExtension = (config.custom.esbuild.outputFileExtension as string | undefined) ?? '.js';
    for (const { name: fn, handler } of functions) {
      const zip = join(repo, '.serverless', `${fn}.zip`);
      const into = join(work, 'unzipped', fn);
      mkdirSync(into, { recursive: true });
      const unzip = spawnSync('unzip', ['-q', '-o', zip, '-d', into], { encoding: 'utf8' });
      if (unzip.error) throw new Error(`unzip ${zip}: ${unzip.error.message} (the cold section needs unzip)`);
      if (unzip.status !== 0) throw new Error(`unzip ${zip}: ${unzip.stderr}`);
      const files = filesUnder(into);
      const code = files.filter((file) => /\.m?js$/.test(file));
      // The handler's own file (with code splitting, the zip would hold chunks too).
      const bundle = join(into, `${handler.slice(0, handler.lastIndexOf('.'))}${outputExtension}`);
      if (!code.includes(bundle)) throw new Error(`no bundle ${bundle} in ${zip}`);
      const codeBytes = code.reduce((sum, file) => sum + statSync(file).size, 0);
      bundles[fn] = {
        bundle,
        bytes: codeBytes,
        codeBytes,
        mapBytes: files
          .filter((file) => file.endsWith('.map'))
          .reduce((sum, file) => sum + statSync(file).size, 0),
        zipBytes: statSync(zip).size,
      };
    }

    // The baseline, built with the same esbuild options, plus metafiles of our handlers for attribution.
    const options = esbuildOptions(config, repo);
    // What each cold start loads, and what is in it: from a metafile of the same build.
    const attribution: Record<string, Map<string, number>> = {};
    const account = (name: string, metafile: Metafile, entryPoint: string) => {
      const loaded = loadedAtStart(metafile, entryPoint);
      const bundle = bundles[name] as { bytes: number; lazyBytes?: number };
      bundle.bytes = outputBytes(metafile, loaded);
      bundle.lazyBytes = outputBytes(metafile) - bundle.bytes;
      attribution[name] = bytesByPackage(metafile, loaded);
    };
    /** Builds bench/<file>.ts as a bundle of its own to probe beside the functions, as `name`. */
    const buildReference = async (file: string, name: string) => {
      const dir = join(work, file);
      const entryPoint = join(import.meta.dirname, `${file}.ts`);
      const built = await build({
        ...options,
        entryPoints: [entryPoint],
        outdir: dir,
        metafile: true,
        logLevel: 'silent',
      });
      const files = filesUnder(dir);
      bundles[name] = {
        bundle: join(dir, `${file}${outputExtension}`),
        bytes: 0,
        codeBytes: files.filter((f) => /\.m?js$/.test(f)).reduce((sum, f) => sum + statSync(f).size, 0),
        mapBytes: files.filter((f) => f.endsWith('.map')).reduce((sum, f) => sum + statSync(f).size, 0),
        zipBytes: 0,
      };
      account(name, built.metafile, entryPoint);
    };
    const baseName = 'baseline (client-s3 + presign)';
    await buildReference('cold-baseline', baseName);
    // A reference, not the goal's baseline: the same bundle whose first request also reads S3 once.
    const readName = 'reference (baseline + one S3 read)';
    await buildReference('cold-baseline-read', readName);
    for (const { name, source } of functions) {
      const built = await build({
        ...options,
        entryPoints: [source as string],
        outdir: join(work, 'meta', name),
        metafile: true,
        logLevel: 'silent',
      });
      account(name, built.metafile, source as string);
    }

    // Fresh processes: every function and the baseline, round-robin, `samples` each.
    const admin = localAdmin();
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'cold' })
      .setSubject('auth0|cold-start')
      .setIssuer('presign-bench')
      .setAudience('presign-api')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);
    const local = {
      UPLOADS_BUCKET: stack.bucket,
      STATE_BUCKET: stack.stateBucket,
      VERDICT_PUBLIC_KEY: devVerdictKeys().publicKey,
      S3_ENDPOINT: stack.s3Endpoint,
      AUTH_ISSUER: 'presign-bench',
      AUTH_AUDIENCE: 'presign-api',
      // As in AWS, where authJwksUrl is required: the key set is fetched from its URL, here the
      // bench's own on loopback instead of the placeholder the stage was packaged with.
      AUTH_JWKS_URL: peers.jwksUrl,
    };
    // The secrets each function's deployment reads from SSM, given as the local stack gives them.
    const secrets = {
      OWNER_SECRET: 'cold-start-owner-secret-0123456789abcdef0123456789',
      SHARE_SECRET: 'cold-start-share-secret-0123456789abcdef0123456789',
      VERDICT_SIGNING_KEY: devVerdictKeys().privateKey,
      WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
    };
    const lambda = {
      ...cleanEnvironment(),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: admin.accessKeyId,
      AWS_SECRET_ACCESS_KEY: admin.secretAccessKey,
      AWS_LAMBDA_FUNCTION_NAME: 'presign-bench-cold',
      // Lambda's nodejs22.x never prints the SDK's Node-version warning; neither do the probes.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const deployed = deployedEnvironments(repo, config);
    // The deliverer posts to the receiver here, not to the placeholder it was packaged with.
    for (const variables of Object.values(deployed)) {
      if ('WEBHOOK_URL' in variables) variables.WEBHOOK_URL = peers.webhookUrl;
    }
    const envs: Record<string, NodeJS.ProcessEnv> = Object.fromEntries(
      functions.map(({ name }) => [
        name,
        { ...lambda, ...runnableEnvironment(name, deployed[name] ?? {}, local, secrets) },
      ]),
    );
    // The baseline runs with what every function gets (provider.environment, NODE_OPTIONS included).
    envs[baseName] = {
      ...lambda,
      ...providerEnvironment(config, { ...cleanEnvironment(), ...local }),
      ...local,
    };
    envs[readName] = envs[baseName];
    const nodeOptions = envs[baseName]?.NODE_OPTIONS ?? '';
    const entries = functionEntries();
    const firstRequestContext: FirstRequestContext = {
      authorization: `Bearer ${token}`,
      bucket: stack.bucket,
      shareToken: unknownFileShareToken(secrets.SHARE_SECRET, new Date()),
    };
    const events: Record<string, unknown> = Object.fromEntries(
      functions.map((fn) => [fn.name, firstEvent(fn, entries[fn.name], firstRequestContext)]),
    );
    events[baseName] = {};
    events[readName] = {};
    const names = [...functions.map((fn) => fn.name).sort(), baseName, readName];
    const sample = (name: string) =>
      probe((bundles[name] as { bundle: string }).bundle, events[name], envs[name] as NodeJS.ProcessEnv);
    // One unmeasured run each warms the page cache, and shows every function starts and answers.
    const failed: string[] = [];
    for (const name of names) {
      const result = await sample(name).catch((error: Error) => ({ status: `failed: ${error.message}` }));
      // A 4xx other than 404 is input refused: that function's first request never reached its work.
      if (/^(threw|failed)|^5\d\d$|^4(?!04)\d\d$/.test(String(result.status)))
        failed.push(`${name}: ${result.status}`);
    }
    if (failed.length > 0)
      throw new Error(`a function's cold start or first request failed:\n${failed.join('\n')}`);
    const runs: Record<string, Probe[]> = Object.fromEntries(names.map((name) => [name, []]));
    const count = quick ? Math.min(samples, 3) : samples;
    for (let i = 0; i < count; i++) {
      for (const name of i % 2 ? [...names].reverse() : names) runs[name]?.push(await sample(name));
    }

    const coldMs = (name: string) => median((runs[name] ?? []).map((r) => r.importMs + r.firstRequestMs));
    const base = coldMs(baseName);
    const readBase = coldMs(readName);
    const figures: Record<string, Figure> = {};
    const rows: string[][] = [];
    const over: string[] = [];
    let worst = 0;
    for (const name of names) {
      const b = bundles[name] as {
        bytes: number;
        lazyBytes?: number;
        codeBytes: number;
        zipBytes: number;
        mapBytes: number;
      };
      const r = runs[name] ?? [];
      const importMs = median(r.map((x) => x.importMs));
      const firstMs = median(r.map((x) => x.firstRequestMs));
      const totalMs = median(r.map((x) => x.totalMs));
      const ratio = coldMs(name) / base;
      figures[`${name} bundle bytes`] = b.bytes;
      figures[`${name} lazy chunk bytes`] = b.lazyBytes ?? 0;
      figures[`${name} code bytes in package`] = b.codeBytes;
      figures[`${name} sourcemap bytes`] = b.mapBytes;
      if (b.zipBytes) figures[`${name} zip bytes`] = b.zipBytes;
      figures[`${name} import ms`] = round(importMs, 2);
      figures[`${name} first request ms`] = round(firstMs, 2);
      figures[`${name} process start to response ms`] = round(totalMs, 2);
      figures[`${name} first status`] = String(r[0]?.status ?? '');
      const isFunction = name !== baseName && name !== readName;
      if (name !== baseName) figures[`${name} cold ratio vs baseline`] = round(ratio, 3);
      if (isFunction) {
        figures[`${name} cold ratio vs reference (one S3 read)`] = round(coldMs(name) / readBase, 3);
        figures[`${name} import-only ratio vs baseline import`] = round(
          importMs / median((runs[baseName] ?? []).map((x) => x.importMs)),
          3,
        );
        if (ratio > GOAL_RATIO) over.push(`${name} ${round(ratio, 2)}×`);
        worst = Math.max(worst, ratio);
      }
      const top = [...(attribution[name] ?? new Map()).entries()]
        .sort((a, b2) => b2[1] - a[1])
        .slice(0, LARGEST_INPUTS)
        .map(([pkg, bytes]) => `${pkg} ${round(bytes / 1024)}K`)
        .join(', ');
      rows.push([
        name,
        `${round(b.bytes / 1024)} KiB js${b.lazyBytes ? ` (+${round(b.lazyBytes / 1024)} KiB lazy)` : ''}, import ${round(importMs, 1)} ms + first ${round(firstMs, 1)} ms (${r[0]?.status})`,
        name === baseName
          ? 'baseline'
          : name === readName
            ? `${round(ratio, 2)}× baseline (a reference, not a function)`
            : `${round(ratio, 2)}× baseline${ratio <= GOAL_RATIO ? '' : ` (over ${GOAL_RATIO}×)`}; ${round(coldMs(name) / readBase, 2)}× the reference`,
        top,
      ]);
    }
    const allHold = over.length === 0;
    figures['cold worst ratio vs baseline'] = round(worst, 3);
    figures[`goal cold start ≤ ${GOAL_RATIO}× baseline (every function)`] = allHold;
    rows.push([
      `GOAL every function ≤ ${GOAL_RATIO}× baseline`,
      allHold ? 'HOLDS' : 'MISSED',
      `worst ${round(worst, 2)}×`,
      allHold ? '' : `over: ${over.join(', ')}`,
    ]);
    notes.push(
      `Cold = import of the unzipped bundle + first request, in a fresh \`node\` (NODE_OPTIONS=${JSON.stringify(nodeOptions)} as serverless.yml's provider.environment sets it, for the baseline too) per sample (${count} samples each, round-robin, median; one unmeasured run each first to warm the file cache). "process start to response" adds Node's own boot.`,
      `Functions: every function of serverless.yml (${names.length - 2}), each as osls packages it (custom.esbuild${config.custom.esbuild.plugins ? `, plugins ${String(config.custom.esbuild.plugins)}` : ''}); the baseline is bench/cold-baseline.ts built with the same esbuild options. The reference is bench/cold-baseline-read.ts, the same bundle whose first request also sends one GetObject of a missing key to the stack's RGW (a 404): what the first S3 read of a fresh client adds, which most API functions' first requests pay and the baseline's never does. It is reported beside the goal, which stays against the baseline.`,
      `Environment: each function's variables in the packaged template of a stage with webhooks on and limits unset (provider.environment and what iam/roles.cjs adds per function), made local: the buckets, S3 endpoint, JWT issuer and keys are the local ones, and each secret the deployment reads from SSM at cold start (its *_PARAMETER) is given as the value itself, as the local stack does, so no SSM call is timed. The baseline gets provider.environment.`,
      `First requests: for an HTTP route, a real API Gateway event for it with a valid ES256 JWT and what gets it past its input checks to its work (path parameters: a new file id, or a share token signed with the function's share secret for a file no one uploaded; the body each POST with a required body takes: a new upload, a multipart upload of one part, part 1's URL, a completion naming part 1), so each answers as it would for a real caller and any 4xx but 404 fails the section; for the S3-triggered validator, an ObjectCreated event for an object that is not there; for the webhook deliverer, a file.validated message, which it signs and POSTs to a receiver on loopback in the bench's process (answering 204; ${peers.received().webhooks} taken). Every API function is given its JWKS as in AWS, by URL (AUTH_JWKS_URL, a server on loopback in the bench's process: ${peers.received().jwks} fetches served), so its cold start includes the fetch (started at import, while the function would read its secrets from SSM in AWS, and waited for by the first request's token); in AWS that fetch goes to the identity provider. Functions that call S3 go to the local stack's Ceph RGW with the admin keys, so their first request includes a loopback round trip; the baseline presigns without network.`,
      `Bundle bytes ("KiB js") are the code a cold start loads: the handler's file and, were custom.esbuild to split code, the chunks it imports statically, from an esbuild metafile of the same build; "lazy" would be chunks its dynamic imports load only when called (none without splitting: a dynamic import of a bundled package is compiled with the handler, and run only when called). "code bytes in package" is every .js/.mjs file in the zip; source maps are counted apart. The last column is the ${LARGEST_INPUTS} largest packages of what a cold start loads.`,
    );
    return { section: 'cold', figures, rows, notes };
  } finally {
    await peers.close();
    rmSync(work, { recursive: true, force: true });
  }
}
