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
