/**
 * `npm run bench [-- --only upload,download,cold,validator,load] [--json] [--markdown] [--quick]`
 *
 * Runs each section in a fresh child process (each configures the lib modules
 * through the environment before importing them), then prints one table, or
 * with --json one object of named figures, or with --markdown a RESULTS.md entry.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { machine, RESULT_MARKER, type SectionResult } from './stats.js';

const SECTIONS = ['upload', 'download', 'cold', 'validator', 'load'] as const;
type Section = (typeof SECTIONS)[number];

function parseArgs(argv: string[]) {
  const value = (flag: string) => {
    const index = argv.findIndex((arg) => arg === flag || arg.startsWith(`${flag}=`));
    if (index < 0) return undefined;
    const arg = argv[index] as string;
    return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[index + 1];
  };
  const only = value('--only')
    ?.split(',')
    .map((name) => name.trim()) ?? [...SECTIONS];
  const unknown = only.filter((name) => !SECTIONS.includes(name as Section));
  if (unknown.length > 0)
    throw new Error(`unknown section(s) ${unknown.join(', ')}; use ${SECTIONS.join(',')}`);
  return {
    only: new Set(only as Section[]),
    json: argv.includes('--json'),
    markdown: argv.includes('--markdown'),
    quick: argv.includes('--quick'),
    /** Also package and measure a copy with `import * as z from 'zod'` (the proposed bundle fix). */
    zodExperiment: argv.includes('--cold-zod-namespace'),
  };
}

/** Runs `bench/section.ts <module> <options>` in a fresh Node (tsx) process and returns its result. */
function runSection(module: string, options: object): Promise<SectionResult> {
  return new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', resolve(import.meta.dirname, 'section.ts'), module, JSON.stringify(options)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING: '1' },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => {
      const line = stdout.split('\n').find((text) => text.startsWith(RESULT_MARKER));
      if (code === 0 && line) done(JSON.parse(line.slice(RESULT_MARKER.length)) as SectionResult);
      else fail(new Error(`section ${module} failed (exit ${code}):\n${stderr.slice(-3000)}`));
    });
  });
}

function table(rows: string[][]): string {
  const widths = rows.reduce<number[]>(
    (w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, [...cell].length)),
    [],
  );
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function markdown(info: Record<string, string | number>, results: SectionResult[], command: string): string {
  const lines = [
    `## ${info.date}`,
    '',
    `Machine: ${info.nproc} CPUs (\`nproc\`), ${info.cpu}, ${info.memoryGiB} GiB RAM, Node ${info.node} (${info.platform}).`,
    `Command: \`${command}\``,
    '',
  ];
  for (const result of results) {
    lines.push(`### ${result.section}`, '', '| case | result | vs baseline | note |', '|---|---|---|---|');
    for (const row of result.rows)
      lines.push(
        `| ${[...row, '', '', '']
          .slice(0, 4)
          .map((c) => c.replace(/\|/g, '\\|'))
          .join(' | ')} |`,
      );
    lines.push('', ...result.notes.map((note) => `- ${note}`), '');
  }
  const figures = Object.assign({}, ...results.map((r) => r.figures));
  lines.push(
    '<details><summary>--json figures</summary>',
    '',
    '```json',
    JSON.stringify(figures, null, 2),
    '```',
    '',
    '</details>',
    '',
  );
  return lines.join('\n');
}

const args = parseArgs(process.argv.slice(2));
const info = machine();
const results: SectionResult[] = [];
const failures: string[] = [];
const plan: [string, object][] = [];
if (args.only.has('upload') || args.only.has('download')) {
  plan.push([
    'url-issuing',
    { upload: args.only.has('upload'), download: args.only.has('download'), quick: args.quick },
  ]);
}
if (args.only.has('cold')) plan.push(['cold-start', { quick: args.quick }]);
if (args.only.has('cold') && args.zodExperiment)
  plan.push(['cold-start', { quick: args.quick, zodNamespace: true }]);
if (args.only.has('validator')) plan.push(['validator', { quick: args.quick }]);
if (args.only.has('load')) plan.push(['load', { quick: args.quick }]);

for (const [module, options] of plan) {
  if (!args.json) process.stderr.write(`bench: ${module}…\n`);
  const started = Date.now();
  try {
    const result = await runSection(module, options);
    result.figures[`${result.section} section seconds`] = Math.round((Date.now() - started) / 100) / 10;
    results.push(result);
  } catch (error) {
    failures.push((error as Error).message);
    process.stderr.write(`${(error as Error).message}\n`);
  }
}

const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
if (args.json) {
  const figures = Object.assign({}, ...results.map((r) => r.figures));
  process.stdout.write(`${JSON.stringify({ machine: info, figures, failures }, null, 2)}\n`);
} else if (args.markdown) {
  process.stdout.write(`${markdown(info, results, command)}\n`);
} else {
  process.stdout.write(
    `${info.date}  ${info.nproc} CPUs ${info.cpu}, ${info.memoryGiB} GiB, Node ${info.node}\n\n${table([
      ['case', 'result', 'vs baseline', 'note'],
      ...results.flatMap((r) => r.rows),
    ])}\n\n${results.flatMap((r) => r.notes.map((n) => `- ${n}`)).join('\n')}\n`,
  );
}
process.exitCode = failures.length > 0 ? 1 : 0;
