import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The three packages as people install them: `npm pack` each (its prepack
 * builds it), the tarballs installed into a scratch project with npm, offline,
 * and a small consumer type-checked with the repository's TypeScript under
 * `moduleResolution` `node16` and `bundler`, compiled, and run with Node. The
 * peers (React, Uppy) and the types they need are linked from this
 * repository's node_modules: nothing is fetched.
 */
const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const PACKAGES = ['client', 'packages/uppy', 'packages/react'];
const PEERS = ['react', 'react-dom', '@types/react', '@types/react-dom', '@uppy/core'];

let scratch: string;
const packed: Record<string, { filename: string; files: string[] }> = {};

/** Runs a command and returns its output; a failure's message carries what it printed. */
function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

const CONSUMER = `
import { createClient, partSizeFor, PresignApiError, MIN_PART_SIZE } from '@presign/client';
import { fileResumeStore } from '@presign/client/node';
import { PresignUpload, RejectedFileError } from '@presign/uppy';
import { createUploadQueue, DropZone, useUpload, type UploadItem } from '@presign/react';
import Uppy from '@uppy/core';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';

const client = createClient({ apiUrl: 'https://api.example.com', getToken: () => 'token' });
// Never called: it fails to compile unless the package's types say apiUrl is a string.
// @ts-expect-error
export const wrong = () => createClient({ apiUrl: 1, getToken: () => 'token' });
const partSize: number = partSizeFor(500 * 1024 ** 3);
const error = new PresignApiError(404, 'not_found', 'no such file');
const uppy = new Uppy().use(PresignUpload, { client, limit: 1 });
const queue = createUploadQueue({ client });
const item: UploadItem | undefined = queue.items()[0];
function App() {
  return createElement(DropZone, { upload: useUpload({ client }) });
}
console.log(
  JSON.stringify({
    upload: typeof client.upload,
    partSize,
    minPartSize: MIN_PART_SIZE,
    code: error.code,
    store: typeof fileResumeStore('.uploads').get,
    plugin: uppy.getPlugin('PresignUpload')?.id,
    rejected: new RejectedFileError('f', 'malware').message,
    item: item ?? null,
    html: renderToString(createElement(App)).includes('<legend>Drop files here</legend>'),
  }),
);
`;

const tsconfig = (resolution: 'node16' | 'bundler') => ({
  compilerOptions: {
    target: 'ES2022',
    module: resolution === 'node16' ? 'node16' : 'esnext',
    moduleResolution: resolution,
    lib: ['ES2023', 'DOM'],
    types: [],
    strict: true,
    outDir: `out-${resolution}`,
  },
  files: ['consumer.ts'],
});

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'presign-pack-'));
  const tarballs = join(scratch, 'tarballs');
  mkdirSync(tarballs);
  for (const folder of PACKAGES) {
    const [result] = JSON.parse(
      run('npm', ['pack', '--json', '--pack-destination', tarballs], resolve(ROOT, folder)),
    ) as { filename: string; files: { path: string }[] }[];
    if (!result) throw new Error(`npm pack in ${folder} reported nothing`);
    packed[folder] = { filename: result.filename, files: result.files.map((file) => file.path).sort() };
  }
  const project = join(scratch, 'project');
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  run(
    'npm',
    [
      'install',
      '--offline',
      '--no-audit',
      '--no-fund',
      '--no-save',
      '--legacy-peer-deps',
      ...PACKAGES.map((folder) => join(tarballs, packed[folder]?.filename ?? '')),
    ],
    project,
  );
  // After the install, which would remove what it did not install.
  mkdirSync(join(project, 'node_modules', '@types'), { recursive: true });
  mkdirSync(join(project, 'node_modules', '@uppy'), { recursive: true });
  for (const peer of PEERS)
    symlinkSync(resolve(ROOT, 'node_modules', peer), join(project, 'node_modules', peer));
  writeFileSync(join(project, 'consumer.ts'), CONSUMER);
  for (const resolution of ['node16', 'bundler'] as const)
    writeFileSync(join(project, `tsconfig.${resolution}.json`), JSON.stringify(tsconfig(resolution)));
}, 300_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('the packed packages', () => {
  it.each(PACKAGES)('%s packs its built code, types, README and LICENSE, and no tests', (folder) => {
    const files = packed[folder]?.files ?? [];
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'package.json']));
    expect(files.filter((file) => !/^(dist|src)\//.test(file))).toEqual([
      'LICENSE',
      'README.md',
      'package.json',
    ]);
  });

  it.each(['node16', 'bundler'] as const)(
    'type-check, compile and run in a project of their own under moduleResolution %s',
    (resolution) => {
      // Arrange
      const project = join(scratch, 'project');
      const tsc = resolve(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

      // Act
      run(process.execPath, [tsc, '-p', `tsconfig.${resolution}.json`], project);
      const output = run(process.execPath, [join(`out-${resolution}`, 'consumer.js')], project);

      // Assert
      expect(JSON.parse(output)).toEqual({
        upload: 'function',
        partSize: 52 * 1024 * 1024,
        minPartSize: 5 * 1024 * 1024,
        code: 'not_found',
        store: 'function',
        plugin: 'PresignUpload',
        rejected: 'the file was refused: malware',
        item: null,
        html: true,
      });
    },
    // The compiler, twice, on a loaded machine: no time is asserted, the test only must not hang.
    180_000,
  );
});
