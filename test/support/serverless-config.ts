import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import yaml from 'js-yaml';

/** One function of serverless.yml, as far as tests and the bench read it. */
export interface ServerlessFunction {
  handler: string;
  events?: { httpApi?: string | { method: string; path: string } }[];
}

export interface ServerlessConfig {
  functions: Record<string, ServerlessFunction>;
  custom: { esbuild: Record<string, unknown> };
}

/** CloudFormation's short-form tags (`!Ref`, `!GetAtt`, `!Sub`, `!Split`…), read as their long form. */
const CLOUDFORMATION_TAGS = [
  'Ref',
  'GetAtt',
  'Sub',
  'Split',
  'Join',
  'Select',
  'If',
  'Equals',
  'Not',
].flatMap((name) => {
  const key = name === 'Ref' ? 'Ref' : `Fn::${name}`;
  return (['scalar', 'sequence', 'mapping'] as const).map(
    (kind) => new yaml.Type(`!${name}`, { kind, construct: (data: unknown) => ({ [key]: data }) }),
  );
});
const SCHEMA = yaml.DEFAULT_SCHEMA.extend(CLOUDFORMATION_TAGS);

/**
 * serverless.yml as written (variables unresolved), with its CloudFormation
 * tags understood; `dir` is the repository (default: this one).
 */
export function readServerlessConfig<T = ServerlessConfig>(
  dir = resolve(import.meta.dirname, '..', '..'),
): T {
  return yaml.load(readFileSync(join(dir, 'serverless.yml'), 'utf8'), { schema: SCHEMA }) as T;
}
