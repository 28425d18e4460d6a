/**
 * Section `load`: a fixed number of POST /uploads at a fixed concurrency
 * through `serverless offline` on loopback: throughput, latency, errors.
 */
import { devToken } from '../scripts/dev-keys.js';
import type { StackInfo } from '../scripts/stack-settings.js';
import { type Figure, percentile, round, type SectionResult } from './stats.js';

export interface LoadOptions {
  stack: StackInfo;
  requests?: number;
  concurrency?: number;
  quick?: boolean;
}

/** Waits up to a minute for `apiUrl`/health: a reused stack may be restarting (credential renewal). */
export async function waitForApi(apiUrl: string): Promise<void> {
  for (let attempt = 0; attempt < 30; attempt++) {
    const ok = await fetch(`${apiUrl}/health`, { signal: AbortSignal.timeout(5000) })
      .then((response) => response.ok)
      .catch(() => false);
    if (ok) return;
    await new Promise((done) => setTimeout(done, 2000));
  }
  throw new Error(`${apiUrl}/health is not answering`);
}

export async function run({
  stack,
  requests = 2000,
  concurrency = 50,
  quick,
}: LoadOptions): Promise<SectionResult> {
  const { apiUrl } = stack;
  const { hostname } = new URL(apiUrl);
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(hostname)) {
    throw new Error(`refusing to load ${apiUrl}: loopback only`);
  }
  await waitForApi(apiUrl);
  const total = quick ? Math.min(requests, 400) : requests;
  const authorization = `Bearer ${await devToken('bench|load', 3600)}`;
  const body = JSON.stringify({ filename: 'load.png', contentType: 'image/png', size: 4096 });
  const post = async () => {
    const start = process.hrtime.bigint();
    try {
      const response = await fetch(`${apiUrl}/uploads`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(30_000),
      });
      const text = await response.text();
      const ok = response.status === 201 && text.includes('"fields"');
      return {
        ms: Number(process.hrtime.bigint() - start) / 1e6,
        error: ok ? undefined : `HTTP ${response.status}`,
      };
    } catch (error) {
      return { ms: Number(process.hrtime.bigint() - start) / 1e6, error: (error as Error).name };
    }
  };

  // Warm-up: every offline worker loads the function once.
  await Promise.all(Array.from({ length: concurrency }, post));

  const latencies: number[] = [];
  const errors = new Map<string, number>();
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const { ms, error } = await post();
        latencies.push(ms);
        if (error) errors.set(error, (errors.get(error) ?? 0) + 1);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const errorCount = [...errors.values()].reduce((a, b) => a + b, 0);
  const figures: Record<string, Figure> = {
    'load requests': latencies.length,
    'load concurrency': concurrency,
    'load seconds': round(seconds, 2),
    'load throughput req/s': round(latencies.length / seconds, 1),
    'load p50 ms': round(percentile(latencies, 50), 2),
    'load p99 ms': round(percentile(latencies, 99), 2),
    'load max ms': round(Math.max(...latencies), 2),
    'load errors': errorCount,
    'goal load no error': errorCount === 0,
  };
  return {
    section: 'load',
    figures,
    rows: [
      [
        `load POST /uploads ×${latencies.length} @${concurrency}`,
        `${figures['load throughput req/s']} req/s`,
        `p50 ${figures['load p50 ms']} ms, p99 ${figures['load p99 ms']} ms`,
        errorCount === 0 ? 'no errors' : [...errors].map(([name, n]) => `${name}×${n}`).join(', '),
      ],
      ['GOAL load: no error', errorCount === 0 ? 'HOLDS' : 'MISSED', ''],
    ],
    notes: [
      `${apiUrl} (serverless offline, loopback), ${latencies.length} requests by ${concurrency} concurrent clients (fetch, keep-alive) after ${concurrency} warm-up requests; a request counts as an error unless it is a 201 with upload fields.`,
    ],
  };
}
