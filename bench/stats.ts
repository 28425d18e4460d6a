import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';

/** Prefixes the line on which a section process prints its result. */
export const RESULT_MARKER = '@@bench-result@@';

/** One named figure of a bench section, as `--json` prints it. */
export type Figure = number | string | boolean | null;

/** What each section hands back to bench/run.ts. */
export interface SectionResult {
  section: string;
  /** Named, machine-readable figures (µs, ms, bytes, ratios, goal verdicts). */
  figures: Record<string, Figure>;
  /** Rows of the printed table: [case, value, baseline comparison, note]. */
  rows: string[][];
  /** What was measured and how, printed under the table. */
  notes: string[];
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile (p in 0..100) of unsorted values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export const round = (value: number, digits = 1): number => {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
};

export interface TimedCase {
  name: string;
  op: () => unknown;
}

/**
 * Times every case op by op with `process.hrtime.bigint()`, interleaved: each
 * round runs a block of `batch` ops of every case, in an order rotated per
 * round, so drift (thermal, GC, JIT) spreads over all cases alike. Returns the
 * per-op samples in µs, warm-up excluded.
 */
export async function timeInterleaved(
  cases: readonly TimedCase[],
  { warmup, rounds, batch }: { warmup: number; rounds: number; batch: number },
): Promise<Record<string, number[]>> {
  for (const { op } of cases) for (let i = 0; i < warmup; i++) await op();
  const samples: Record<string, number[]> = Object.fromEntries(cases.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (let c = 0; c < cases.length; c++) {
      const { name, op } = cases[(c + r) % cases.length] as TimedCase;
      const into = samples[name] as number[];
      for (let i = 0; i < batch; i++) {
        const start = process.hrtime.bigint();
        await op();
        into.push(Number(process.hrtime.bigint() - start) / 1000);
      }
    }
  }
  return samples;
}

/** The machine a run was made on: date, CPUs, memory, Node. */
export function machine(): Record<string, string | number> {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? model;
  } catch {
    // Not Linux: os.cpus() has it.
  }
  return {
    date: new Date().toISOString(),
    nproc: availableParallelism(),
    cpu: model,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
  };
}
