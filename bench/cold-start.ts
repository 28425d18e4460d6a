/**
 * Section `cold`: per function, the bundle `osls package` builds (bytes, from
 * the unzipped function zips) and the time a FRESH Node process takes to
 * import it and serve a first request, against a baseline bundle that only
 * imports @aws-sdk/client-s3 and presigns once (built with esbuild using
 * serverless.yml's custom.esbuild options). Attribution of bundle bytes comes
 * from an esbuild metafile of the same build.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import yaml from 'js-yaml';
import { ulid } from 'ulid';
import { type Figure, median, round, type SectionResult } from './stats.js';

const ROOT = resolve(import.meta.dirname, '..');
const SKIP_COPY = new Set(['node_modules', '.local', '.serverless', '.esbuild', '.git']);
const GOAL_RATIO = 1.2;

interface ServerlessYml {
  provider: { environment?: Record<string, unknown> };
  custom: { esbuild: Record<string, unknown> };
  functions: Record<string, { handler: string }>;
}

/** serverless.yml's custom.esbuild as plain esbuild options (what serverless-esbuild passes on). */
export function esbuildOptions(config: ServerlessYml): BuildOptions {
  const {
    exclude,
    outputFileExtension,
    packager,
    packagerOptions,
    nativeZip,
    concurrency,
    zipConcurrency,
    ...rest
  } = config.custom.esbuild as Record<string, unknown>;
  void [packager, packagerOptions, nativeZip, concurrency, zipConcurrency];
  return {
    ...(rest as BuildOptions),
    external: [...((rest.external as string[]) ?? []), ...((exclude as string[]) ?? ['aws-sdk'])],
    ...(outputFileExtension && outputFileExtension !== '.js'
      ? { outExtension: { '.js': outputFileExtension as string } }
      : {}),
  };
}

const loadServerlessYml = (dir: string): ServerlessYml =>
  // Only the plain keys are read: ${...} variables stay strings.
  yaml.load(readFileSync(join(dir, 'serverless.yml'), 'utf8')) as ServerlessYml;

function handlerSource(dir: string, handler: string): string | undefined {
  const base = join(dir, handler.slice(0, handler.lastIndexOf('.')));
  return ['.ts', '.js', '.mjs'].map((ext) => base + ext).find((file) => existsSync(file));
}

/** Copies the repo without its heavy or machine-local parts and links node_modules. */
function copyRepo(into: string): void {
  for (const entry of readdirSync(ROOT)) {
    if (SKIP_COPY.has(entry)) continue;
    cpSync(join(ROOT, entry), join(into, entry), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(into, 'node_modules'), 'dir');
}

/** Drops functions whose handler file does not exist (yet) from the copy's serverless.yml. */
function dropMissingFunctions(dir: string): string[] {
  const config = loadServerlessYml(dir);
  const missing = Object.entries(config.functions)
    .filter(([, fn]) => !handlerSource(dir, fn.handler))
    .map(([name]) => name);
  if (missing.length === 0) return [];
  const lines = readFileSync(join(dir, 'serverless.yml'), 'utf8').split('\n');
  const kept: string[] = [];
  let skipping = false;
  for (const line of lines) {
    const fn = /^ {2}([A-Za-z0-9_-]+):\s*$/.exec(line)?.[1];
    if (fn !== undefined || /^\S/.test(line)) skipping = fn !== undefined && missing.includes(fn);
    if (!skipping) kept.push(line);
  }
  writeFileSync(join(dir, 'serverless.yml'), kept.join('\n'));
  return missing;
}

function osPackage(dir: string): Promise<void> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith('AWS_') && !name.startsWith('PRESIGN_LOCAL_'),
    ),
  );
  return new Promise((done, fail) => {
    const child = spawn(join(dir, 'node_modules/.bin/osls'), ['package', '--stage', 'bench'], {
      cwd: dir,
      env: { ...env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
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

/** Bytes per package (node_modules/<pkg>, or "(project)") in one output of an esbuild metafile. */
function bytesByPackage(metafile: Metafile): Map<string, number> {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
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

function probe(bundle: string, event: unknown, env: NodeJS.ProcessEnv): Probe {
  const result = spawnSync(
    process.execPath,
    [join(import.meta.dirname, 'cold-probe.mjs'), bundle, JSON.stringify(event)],
    {
      env,
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  const line = result.stdout.split('\n').find((text) => text.startsWith('@@cold@@'));
  if (!line) throw new Error(`cold probe of ${bundle} failed: ${result.stderr.slice(-2000)}`);
  return JSON.parse(line.slice('@@cold@@'.length)) as Probe;
}

function apiEvent(
  method: string,
  path: string,
  routeKey: string,
  { headers, ...extra }: { headers?: Record<string, string>; [field: string]: unknown } = {},
) {
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

/** A first request each function serves (S3 calls, if any, go to the local RGW). */
function firstEvents(authorization: string, bucket: string): Record<string, unknown> {
  const fileId = ulid();
  const auth = { headers: { authorization } };
  return {
    health: apiEvent('GET', '/health', 'GET /health'),
    webPage: apiEvent('GET', '/', 'GET /'),
    createUpload: apiEvent('POST', '/uploads', 'POST /uploads', {
      ...auth,
      body: JSON.stringify({ filename: 'cat.png', contentType: 'image/png', size: 1234 }),
    }),
    getFile: apiEvent('GET', `/files/${fileId}`, 'GET /files/{fileId}', {
      ...auth,
      pathParameters: { fileId },
    }),
    createDownloadUrl: apiEvent(
      'POST',
      `/files/${fileId}/download-url`,
      'POST /files/{fileId}/download-url',
      {
        ...auth,
        pathParameters: { fileId },
      },
    ),
    createShare: apiEvent('POST', `/files/${fileId}/shares`, 'POST /files/{fileId}/shares', {
      ...auth,
      pathParameters: { fileId },
    }),
    openShare: apiEvent('GET', '/s/not-a-token', 'GET /s/{token}', {
      pathParameters: { token: 'not-a-token' },
    }),
    revokeShares: apiEvent('DELETE', `/files/${fileId}/shares`, 'DELETE /files/{fileId}/shares', {
      ...auth,
      pathParameters: { fileId },
    }),
    validateUpload: {
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
    },
  };
}

export interface ColdOptions {
  samples?: number;
  quick?: boolean;
  /** Experiment: package a copy whose sources say `import * as z from 'zod'` (see the report). */
  zodNamespace?: boolean;
}

/** Rewrites `import { z } from 'zod'` to a namespace import in the copy's lib/ and handlers/. */
function useZodNamespace(dir: string): number {
  let changed = 0;
  for (const folder of ['lib', 'handlers']) {
    for (const file of filesUnder(join(dir, folder)).filter((name) => name.endsWith('.ts'))) {
      const text = readFileSync(file, 'utf8');
      const next = text.replace(/^import \{ z \} from 'zod';$/m, "import * as z from 'zod';");
      if (next !== text) {
        writeFileSync(file, next);
        changed++;
      }
    }
  }
  return changed;
}

export async function run({ samples = 7, quick, zodNamespace }: ColdOptions): Promise<SectionResult> {
  const work = mkdtempSync(join(tmpdir(), 'presign-bench-cold-'));
  const notes: string[] = [];
  try {
    const repo = join(work, 'repo');
    mkdirSync(repo);
    copyRepo(repo);
    if (zodNamespace) {
      notes.push(
        `EXPERIMENT: ${useZodNamespace(repo)} files of the packaged copy rewritten to \`import * as z from 'zod'\`.`,
      );
    }
    const dropped = dropMissingFunctions(repo);
    if (dropped.length > 0)
      notes.push(`Not packaged (handler file missing in the tree): ${dropped.join(', ')}.`);
    const started = Date.now();
    await osPackage(repo);
    notes.push(
      `osls package (copy of the repo in ${work}, AWS_* unset) took ${round((Date.now() - started) / 1000)} s.`,
    );

    // The bundles osls built, unzipped.
    const bundles: Record<string, { bundle: string; bytes: number; zipBytes: number; mapBytes: number }> = {};
    for (const zip of readdirSync(join(repo, '.serverless')).filter((name) => name.endsWith('.zip'))) {
      const fn = basename(zip, '.zip');
      const into = join(work, 'unzipped', fn);
      mkdirSync(into, { recursive: true });
      const unzip = spawnSync('unzip', ['-q', '-o', join(repo, '.serverless', zip), '-d', into]);
      if (unzip.status !== 0) throw new Error(`unzip ${zip}: ${unzip.stderr}`);
      const files = filesUnder(into);
      const code = files.filter((file) => /\.m?js$/.test(file));
      const bundle = code.find((file) => file.endsWith('.mjs')) ?? code[0];
      if (!bundle) throw new Error(`no bundle in ${zip}`);
      bundles[fn] = {
        bundle,
        bytes: code.reduce((sum, file) => sum + statSync(file).size, 0),
        mapBytes: files
          .filter((file) => file.endsWith('.map'))
          .reduce((sum, file) => sum + statSync(file).size, 0),
        zipBytes: statSync(join(repo, '.serverless', zip)).size,
      };
    }

    // The baseline, built with the same esbuild options, plus metafiles of our handlers for attribution.
    const config = loadServerlessYml(repo);
    const options = esbuildOptions(config);
    const baselineDir = join(work, 'baseline');
    const baseline = await build({
      ...options,
      entryPoints: [join(import.meta.dirname, 'cold-baseline.ts')],
      outdir: baselineDir,
      metafile: true,
      logLevel: 'silent',
    });
    const baselineBundle = filesUnder(baselineDir).find((file) => file.endsWith('.mjs')) as string;
    bundles['baseline (client-s3 + presign)'] = {
      bundle: baselineBundle,
      bytes: statSync(baselineBundle).size,
      mapBytes: filesUnder(baselineDir)
        .filter((f) => f.endsWith('.map'))
        .reduce((s, f) => s + statSync(f).size, 0),
      zipBytes: 0,
    };
    const attribution: Record<string, Map<string, number>> = {
      'baseline (client-s3 + presign)': bytesByPackage(baseline.metafile),
    };
    for (const [fn, { handler }] of Object.entries(config.functions)) {
      const source = handlerSource(repo, handler);
      if (!source || !bundles[fn]) continue;
      const built = await build({
        ...options,
        entryPoints: [source],
        outdir: join(work, 'meta', fn),
        metafile: true,
        logLevel: 'silent',
      });
      attribution[fn] = bytesByPackage(built.metafile);
    }

    // Fresh processes: every function and the baseline, round-robin, `samples` each.
    const stack = existsSync(join(ROOT, '.local/stack.json'))
      ? (JSON.parse(readFileSync(join(ROOT, '.local/stack.json'), 'utf8')) as {
          s3Endpoint: string;
          bucket: string;
        })
      : { s3Endpoint: 'http://127.0.0.1:9', bucket: 'presign-bench-uploads' };
    const admin = existsSync(join(ROOT, '.local/ceph/admin.json'))
      ? (JSON.parse(readFileSync(join(ROOT, '.local/ceph/admin.json'), 'utf8')) as {
          accessKeyId: string;
          secretAccessKey: string;
        })
      : { accessKeyId: 'AKIABENCH', secretAccessKey: 'bench-secret' };
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'cold', alg: 'ES256', use: 'sig' }] };
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'cold' })
      .setSubject('auth0|cold-start')
      .setIssuer('presign-bench')
      .setAudience('presign-api')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);
    const given = config.provider.environment?.NODE_OPTIONS;
    const nodeOptions = typeof given === 'string' && !given.includes('${') ? given : '';
    const baseEnv = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')),
    );
    const env: NodeJS.ProcessEnv = {
      ...baseEnv,
      // What the functions run with (provider.environment), for the baseline too.
      NODE_OPTIONS: nodeOptions,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: admin.accessKeyId,
      AWS_SECRET_ACCESS_KEY: admin.secretAccessKey,
      S3_ENDPOINT: stack.s3Endpoint,
      UPLOADS_BUCKET: stack.bucket,
      AUTH_ISSUER: 'presign-bench',
      AUTH_AUDIENCE: 'presign-api',
      AUTH_JWKS: JSON.stringify(jwks),
      SHARE_SECRET: 'cold-start-share-secret-0123456789abcdef0123456789',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      AWS_LAMBDA_FUNCTION_NAME: 'presign-bench-cold',
    };
    const events = firstEvents(`Bearer ${token}`, stack.bucket);
    const names = Object.keys(bundles);
    const runs: Record<string, Probe[]> = Object.fromEntries(names.map((name) => [name, []]));
    const count = quick ? Math.min(samples, 3) : samples;
    for (const name of names) probe((bundles[name] as { bundle: string }).bundle, events[name] ?? {}, env); // warm the page cache
    for (let i = 0; i < count; i++) {
      for (const name of i % 2 ? [...names].reverse() : names) {
        runs[name]?.push(probe((bundles[name] as { bundle: string }).bundle, events[name] ?? {}, env));
      }
    }

    const baseName = 'baseline (client-s3 + presign)';
    const coldMs = (name: string) => median((runs[name] ?? []).map((r) => r.importMs + r.firstRequestMs));
    const base = coldMs(baseName);
    const figures: Record<string, Figure> = {};
    const rows: string[][] = [];
    let allHold = true;
    const prefix = zodNamespace ? 'experiment zod-namespace: ' : '';
    for (const name of names) {
      const b = bundles[name] as { bytes: number; zipBytes: number; mapBytes: number };
      const r = runs[name] ?? [];
      const importMs = median(r.map((x) => x.importMs));
      const firstMs = median(r.map((x) => x.firstRequestMs));
      const totalMs = median(r.map((x) => x.totalMs));
      const ratio = coldMs(name) / base;
      figures[`${prefix}${name} bundle bytes`] = b.bytes;
      figures[`${prefix}${name} sourcemap bytes`] = b.mapBytes;
      if (b.zipBytes) figures[`${prefix}${name} zip bytes`] = b.zipBytes;
      figures[`${prefix}${name} import ms`] = round(importMs, 2);
      figures[`${prefix}${name} first request ms`] = round(firstMs, 2);
      figures[`${prefix}${name} process start to response ms`] = round(totalMs, 2);
      figures[`${prefix}${name} first status`] = String(r[0]?.status ?? '');
      if (name !== baseName) {
        figures[`${prefix}${name} cold ratio vs baseline`] = round(ratio, 3);
        figures[`${prefix}${name} import-only ratio vs baseline import`] = round(
          importMs / median((runs[baseName] ?? []).map((x) => x.importMs)),
          3,
        );
        allHold &&= ratio <= GOAL_RATIO;
      }
      const top = [...(attribution[name] ?? new Map()).entries()]
        .sort((a, b2) => b2[1] - a[1])
        .slice(0, 4)
        .map(([pkg, bytes]) => `${pkg} ${round(bytes / 1024)}K`)
        .join(', ');
      rows.push([
        name,
        `${round(b.bytes / 1024)} KiB js, import ${round(importMs, 1)} ms + first ${round(firstMs, 1)} ms (${r[0]?.status})`,
        name === baseName
          ? 'baseline'
          : `${round(ratio, 2)}× baseline${ratio <= GOAL_RATIO ? '' : ' (over 1.2×)'}`,
        top,
      ]);
    }
    figures[`${prefix}goal cold start ≤ ${GOAL_RATIO}× baseline (every function)`] = allHold;
    rows.push([`GOAL every function ≤ ${GOAL_RATIO}× baseline`, allHold ? 'HOLDS' : 'MISSED', '']);
    notes.push(
      `Cold = import of the unzipped bundle + first request, in a fresh \`node\` (NODE_OPTIONS=${JSON.stringify(nodeOptions)} as serverless.yml's provider.environment sets it, for the baseline too) per sample (${count} samples each, round-robin, median; one unmeasured run each first to warm the file cache). "process start to response" adds Node's own boot.`,
      'First requests: a real API Gateway event with a valid ES256 JWT; functions that call S3 (HEAD/tagging of an unknown file → 404, validator → vanished) go to the local Ceph RGW with the admin keys, so their first request includes one loopback round trip; the baseline presigns without network.',
      'Bundle bytes are the .js/.mjs files in the function zip (source maps counted apart); the last column is the largest packages in an esbuild metafile of the same build.',
    );
    return { section: zodNamespace ? 'cold (zod namespace import)' : 'cold', figures, rows, notes };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
