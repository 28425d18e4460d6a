/** Runs one bench section in this (fresh) process and prints its result after a marker line. */
import { RESULT_MARKER } from './stats.js';

const [name, optionsJson] = process.argv.slice(2);
if (name) {
  const options = JSON.parse(optionsJson ?? '{}') as Record<string, unknown>;
  const module = (await import(`./${name}.ts`)) as { run: (options: unknown) => Promise<unknown> };
  const result = await module.run(options);
  process.stdout.write(`\n${RESULT_MARKER}${JSON.stringify(result)}\n`);
  process.exit(0);
}
