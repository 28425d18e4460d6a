// npx tsx scripts/decode-stack.ts <unzipped function dir> < stack.txt
//
// Deployed functions run without --enable-source-maps (it would parse the source map at every cold
// start), so a logged stack trace points into the minified bundle. Each function's zip keeps its maps
// beside its code: unzip it, then pipe the logged stack here to read it against the sources.
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { join } from 'node:path';

/** A frame's location in a bundle: `/var/task/handlers/get-file.mjs:1:2345`, or as a file: URL. */
const FRAME = /(?:file:\/\/)?\/var\/task\/([^\s():]+\.m?js):(\d+):(\d+)/g;

const [dir] = process.argv.slice(2);
if (!dir) {
  console.error('usage: npx tsx scripts/decode-stack.ts <unzipped function dir> < stack.txt');
  process.exit(2);
}

const maps = new Map<string, SourceMap | undefined>();

/** The source map beside `file` in the unzipped function, or undefined when it has none. */
function mapOf(file: string): SourceMap | undefined {
  if (!maps.has(file)) {
    let map: SourceMap | undefined;
    try {
      map = new SourceMap(JSON.parse(readFileSync(join(dir as string, `${file}.map`), 'utf8')));
    } catch {
      map = undefined;
    }
    maps.set(file, map);
  }
  return maps.get(file);
}

const stack = readFileSync(0, 'utf8');
process.stdout.write(
  stack.replace(FRAME, (frame, file: string, line: string, column: string) => {
    const entry = mapOf(file)?.findEntry(Number(line) - 1, Number(column) - 1);
    if (!entry || !('originalSource' in entry)) return frame;
    const source = entry.originalSource.replace(/^(\.\.\/)+/, '');
    return `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  }),
);
