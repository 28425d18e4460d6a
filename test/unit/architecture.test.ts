import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const LIB = join(ROOT, 'lib');

/**
 * The layers of lib/, bottom first. A module may import its own folder and
 * the layers below its own, never one above; domains of one layer may use
 * each other, without cycles.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['core'],
  ['config'],
  ['store'],
  ['uploads', 'validation', 'downloads', 'files', 'shares', 'web', 'webhooks', 'limits'],
  ['api', 'http'],
  ['runtime.ts'],
  ['caller-runtime.ts'],
];

const layerOf = (top: string): number => LAYERS.findIndex((layer) => layer.includes(top));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The lib/ modules a file imports, as paths relative to lib/. */
function libImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)].map(
    (match) => match[1] ?? '',
  );
  return specifiers
    .map((specifier) => relative(LIB, resolve(dirname(file), specifier.replace(/\.js$/, '.ts'))))
    .filter((path) => !path.startsWith('..'));
}

const topOf = (pathInLib: string): string => pathInLib.split('/')[0] ?? '';

/** The modules a file loads when it runs (type-only imports left out): relative paths resolved, packages as named. */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(/^(?:import|export)\s+(?!type\s)(?:[^;]*?\sfrom\s+)?'([^']+)'/gms),
    ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
  ].map((match) => match[1] ?? '');
  return specifiers.map((specifier) =>
    specifier.startsWith('.') ? resolve(dirname(file), specifier.replace(/\.js$/, '.ts')) : specifier,
  );
}

/** Every module `entry` loads, itself included, following the project's own files. */
function loadedModules(entry: string, seen = new Set<string>()): Set<string> {
  seen.add(entry);
  for (const target of runtimeImports(entry)) {
    if (!seen.has(target) && target.startsWith(ROOT)) loadedModules(target, seen);
    else seen.add(target);
  }
  return seen;
}

describe('the layout of lib/', () => {
  const files = sourceFiles(LIB);

  it('has every top-level folder in a layer', () => {
    const tops = new Set(files.map((file) => topOf(relative(LIB, file))));
    expect([...tops].filter((top) => layerOf(top) < 0)).toEqual([]);
  });

  it.each(files.map((file) => [relative(ROOT, file), file]))(
    '%s imports no layer above its own',
    (_, file) => {
      const own = topOf(relative(LIB, file));
      const upward = libImports(file).filter((target) => layerOf(topOf(target)) > layerOf(own));
      expect(upward).toEqual([]);
    },
  );

  it('has no import cycle between domain folders', () => {
    const edges = new Map<string, Set<string>>();
    for (const file of files) {
      const own = topOf(relative(LIB, file));
      for (const target of libImports(file).map(topOf)) {
        if (target !== own) edges.set(own, (edges.get(own) ?? new Set()).add(target));
      }
    }
    const reaches = (from: string, to: string, seen = new Set<string>()): boolean =>
      [...(edges.get(from) ?? [])].some(
        (next) => next === to || (!seen.has(next) && reaches(next, to, seen.add(next))),
      );
    const cycles = [...edges.keys()].filter((folder) => reaches(folder, folder));
    expect(cycles).toEqual([]);
  });

  it('keeps S3 commands inside the store', () => {
    const outside = files.filter(
      (file) =>
        topOf(relative(LIB, file)) !== 'store' &&
        /\b\w+Command\b.*from '@aws-sdk\/client-s3'/s.test(readFileSync(file, 'utf8')),
    );
    expect(outside.map((file) => relative(ROOT, file))).toEqual([]);
  });
});

describe('what a function loads', () => {
  const handlers = readdirSync(join(ROOT, 'handlers')).filter((name) => name.endsWith('.ts'));

  // zod's classic API builds the OpenAPI document (lib/api/routes.ts and responses.ts); at run time
  // every schema comes from lib/core/zod.ts, zod/mini, which bundles only what it uses.
  it.each(handlers.filter((name) => name !== 'open-api.ts'))(
    "handlers/%s loads no schema of zod's classic API",
    (name) => {
      const loaded = loadedModules(join(ROOT, 'handlers', name));
      const classic = [...loaded].filter(
        (module) =>
          module === 'zod' || module.endsWith('lib/api/routes.ts') || module.endsWith('lib/api/responses.ts'),
      );
      expect(classic.map((module) => (module.startsWith(ROOT) ? relative(ROOT, module) : module))).toEqual(
        [],
      );
    },
  );

  // Each group of routes has its input schemas in a module of lib/api/inputs/ (their shared
  // paths in paths.ts): a function that loaded another group's would build its schemas too.
  it.each(handlers.filter((name) => name !== 'open-api.ts'))(
    'handlers/%s loads the input schemas of one group of routes at most',
    (name) => {
      const inputs = [...loadedModules(join(ROOT, 'handlers', name))].filter(
        (module) => module.startsWith(join(LIB, 'api', 'inputs')) && !module.endsWith('paths.ts'),
      );
      expect(inputs.length).toBeLessThanOrEqual(1);
    },
  );

  it('sees a classic zod import where there is one', () => {
    const openApi = loadedModules(join(ROOT, 'handlers', 'open-api.ts'));
    expect([...openApi].filter((module) => module === 'zod' || module.endsWith('lib/api/routes.ts'))).toEqual(
      expect.arrayContaining(['zod', join(LIB, 'api', 'routes.ts')]),
    );
  });
});
