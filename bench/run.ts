/**
 * `npm run bench [-- --only upload,download,cold,validator,requests,verdicts,load,multipart,limits,bundle] [--json] [--markdown] [--quick]`
 *
 * Runs each section in a fresh child process (each configures the function it
 * drives through the environment before importing its handler), then prints
 * one table, or with --json one object of named figures, or with --markdown a
 * RESULTS.md entry. Sections that need the local stack get it from
 * scripts/local-stack.ts: the running one is reused when its settings let
 * every planned section run (bench/stack-fit.ts), else the bench starts one
 * of its own for the run (beside the running one, on other ports, when there
 * is one), says why, and stops it after (as the integration tests do).
 * Exits non-zero when any section failed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { ensureLocalStack, healthy, type LocalStack, readStackInfo } from '../scripts/local-stack.js';
import {
  BENCH_STACK_DIR,
  BENCH_STACK_SETTINGS,
  benchStackPorts,
  describeStack,
  misfit,
  SECTIONS,
  type Section,
} from './stack-fit.js';
import { machine, RESULT_MARKER, type SectionResult } from './stats.js';

// The SDK warns every process on Node < 22 that future releases will need 22
// (Lambda runs nodejs22.x): not part of any figure. Inherited by the sections
// and by a stack started for the run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

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
  };
}

/**
 * Runs `bench/section.ts <module> <options>` in a fresh Node (tsx) process and returns its result;
 * `localDir` is the state directory of the stack it drives (its admin keys, share secret, Ceph).
 */
function runSection(module: string, options: object, localDir?: string): Promise<SectionResult> {
  return new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', resolve(import.meta.dirname, 'section.ts'), module, JSON.stringify(options)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: localDir ? { ...process.env, PRESIGN_LOCAL_DIR: localDir } : process.env,
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
        .map((cell, i) => (cell ?? '').padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The goal rows of every section, for the summary at the top of an entry. */
const goalRows = (results: SectionResult[]) =>
  results.flatMap((r) => r.rows.filter(([name]) => name?.startsWith('GOAL ')));

/** The first line of each failure, for the end of the printed results. */
const failureLines = (failures: string[]) => failures.map((failure) => `FAILED ${failure.split('\n')[0]}`);

function markdown(
  info: Record<string, string | number>,
  results: SectionResult[],
  failures: string[],
  command: string,
): string {
  const lines = [
    `## ${info.date}`,
    '',
    `Machine: ${info.nproc} CPUs (\`nproc\`), ${info.cpu}, ${info.memoryGiB} GiB RAM, Node ${info.node} (${info.platform}).`,
    `Code: ${info.commit}. Command: \`${command}\``,
    ...(info.stack ? [`Stack: ${info.stack}.`] : []),
    ...failureLines(failures).map((line) => `**${line}**`),
    '',
  ];
  const goals = goalRows(results);
  if (goals.length > 0) {
    lines.push('| goal | verdict | figure | note |', '|---|---|---|---|');
    for (const row of goals)
      lines.push(
        `| ${[row[0]?.replace(/^GOAL /, ''), ...row.slice(1), '', '', '']
          .slice(0, 4)
          .map((c) => (c ?? '').replace(/\|/g, '\\|'))
          .join(' | ')} |`,
      );
    lines.push('');
  }
  for (const result of results) {
    lines.push(`### ${result.section}`, '', '| case | result | compared with | note |', '|---|---|---|---|');
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

/** The commit measured (short hash, "+ changes" when the tree differs from it). */
function commit(): string {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: import.meta.dirname, encoding: 'utf8' });
  const hash = git('rev-parse', '--short', 'HEAD').stdout.trim() || 'unknown commit';
  const dirty = git('status', '--porcelain').stdout.trim() !== '';
  return `\`${hash}\`${dirty ? ' + uncommitted changes' : ''}`;
}

interface Step {
  section: Section;
  module: string;
  options: Record<string, unknown>;
  /** Whether it runs against the local stack (started for the run when none fits). */
  needsStack: boolean;
}

/** The stack a run drives, and the state directory it keeps (when not the usual one). */
interface BenchStack {
  stack: LocalStack;
  localDir: string | undefined;
}

const log = (line: string) => process.stderr.write(`bench: local stack: ${line}\n`);

/**
 * The stack for the run: the running one when its settings let every planned
 * section run; otherwise one of the bench's own, started with settings that
 * let them all run (in BENCH_STACK_DIR, on other ports, beside a running
 * stack that does not fit, which is left alone; one line says why). Throws
 * when the stack it would use does not fit after all (one left running in
 * BENCH_STACK_DIR, say), naming the settings in the way.
 */
async function benchStack(sections: Section[]): Promise<BenchStack> {
  const running = readStackInfo();
  let localDir: string | undefined;
  let environment: Record<string, string> = { ...BENCH_STACK_SETTINGS };
  if (running && (await healthy(running))) {
    const why = misfit(running, sections);
    if (why !== undefined) {
      localDir = BENCH_STACK_DIR;
      environment = { ...environment, ...benchStackPorts() };
      log(
        `not reusing the stack at ${running.apiUrl}, which runs with ${why}: starting one of the bench's own in ${BENCH_STACK_DIR} (API on port ${environment.HTTP_PORT}) without them`,
      );
    }
  }
  const stack = await ensureLocalStack({ log, environment, ...(localDir ? { localDir } : {}) });
  const why = misfit(stack.info, sections);
  if (why !== undefined) {
    await stack.stop();
    throw new Error(`the stack at ${stack.info.apiUrl} runs with ${why}: stop it first`);
  }
  return { stack, localDir };
}

const args = parseArgs(process.argv.slice(2));
const info: Record<string, string | number> = { ...machine(), commit: commit() };
const results: SectionResult[] = [];
const failures: string[] = [];
const plan: Step[] = [];
for (const kind of ['upload', 'download'] as const) {
  if (args.only.has(kind))
    plan.push({ section: kind, module: 'url-issuing', options: { kind }, needsStack: true });
}
// Cold: functions that call S3 make their first call to the stack's RGW, as they would to S3.
for (const [section, module] of [
  ['cold', 'cold-start'],
  ['validator', 'validator'],
  ['requests', 'requests'],
  ['verdicts', 'verdicts'],
  ['load', 'load'],
  ['multipart', 'multipart'],
  ['limits', 'limits'],
] as const) {
  if (args.only.has(section)) plan.push({ section, module, options: {}, needsStack: true });
}
// Bundle: the client's browser bundle, built and measured here; no stack.
if (args.only.has('bundle'))
  plan.push({ section: 'bundle', module: 'bundle-size', options: {}, needsStack: false });
const stackSections = plan.filter((step) => step.needsStack).map((step) => step.section);

let stack: LocalStack | undefined;
let starting: Promise<BenchStack> | undefined;
let interrupted = false;
const stopStack = async () => {
  const running = stack;
  stack = undefined;
  await running?.stop();
};
// Ctrl-C reaches a stack started for the run too (same process group): wait for it to stop.
process.once('SIGINT', () => {
  interrupted = true;
  void stopStack().finally(() => process.exit(130));
});
try {
  for (const { module, options, needsStack } of plan) {
    if (interrupted) break;
    if (!args.json) process.stderr.write(`bench: ${module}${options.kind ? ` (${options.kind})` : ''}…\n`);
    const started = Date.now();
    try {
      // Chosen once: a stack that failed to start fails every section that needs it, with its reason.
      if (needsStack && !starting)
        starting = benchStack(stackSections).then((chosen) => {
          stack = chosen.stack;
          info.stack = `${chosen.stack.started ? 'started for the run' : 'the running one, reused'}, ${chosen.stack.info.apiUrl}${chosen.localDir ? ` (${chosen.localDir})` : ''}: ${describeStack(chosen.stack.info)}`;
          return chosen;
        });
      const chosen = needsStack ? await starting : undefined;
      const result = await runSection(
        module,
        { ...options, quick: args.quick, ...(chosen ? { stack: chosen.stack.info } : {}) },
        chosen?.localDir,
      );
      result.figures[`${result.section} section seconds`] = Math.round((Date.now() - started) / 100) / 10;
      results.push(result);
    } catch (error) {
      failures.push(`${module}${options.kind ? ` (${options.kind})` : ''}: ${(error as Error).message}`);
      process.stderr.write(`${(error as Error).message}\n`);
    }
  }
} finally {
  await stopStack();
}

const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
if (args.json) {
  const figures = Object.assign({}, ...results.map((r) => r.figures));
  process.stdout.write(`${JSON.stringify({ machine: info, figures, failures }, null, 2)}\n`);
} else if (args.markdown) {
  process.stdout.write(`${markdown(info, results, failures, command)}\n`);
} else {
  process.stdout.write(
    `${info.date}  ${info.nproc} CPUs ${info.cpu}, ${info.memoryGiB} GiB, Node ${info.node}\n${info.stack ? `Stack: ${info.stack}\n` : ''}\n${table(
      [['case', 'result', 'compared with', 'note'], ...results.flatMap((r) => r.rows)],
    )}\n\n${[...results.flatMap((r) => r.notes.map((n) => `- ${n}`)), ...failureLines(failures)].join('\n')}\n`,
  );
}
process.exitCode = failures.length > 0 ? 1 : 0;
