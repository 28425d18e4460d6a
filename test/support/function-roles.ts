import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** A resource iam/roles.cjs builds: a function's role, or what it adds to the function itself. */
export interface BuiltResource {
  Type?: string;
  Properties: { Environment?: { Variables: Record<string, unknown> }; [property: string]: unknown };
}

const roles = createRequire(import.meta.url)(join(ROOT, 'iam', 'roles.cjs')) as {
  readDeclarations(text: string): Record<string, unknown>;
  build(
    declarations: Record<string, unknown>,
    settings: Record<string, unknown>,
  ): { resources: Record<string, BuiltResource> };
};

/**
 * What iam/roles.cjs builds from iam/function-policies.json for a stage's
 * `settings`, by logical name: each function's role (`<Fn>Role`) and what it
 * adds to its Lambda function (`<Fn>LambdaFunction`).
 */
export const functionResources = (settings: Record<string, unknown>): Record<string, BuiltResource> =>
  roles.build(
    roles.readDeclarations(readFileSync(join(ROOT, 'iam', 'function-policies.json'), 'utf8')),
    settings,
  ).resources;

/** `createUpload` → `CreateUpload`, as osls names a function's resources. */
export const logicalName = (fn: string): string => `${fn.charAt(0).toUpperCase()}${fn.slice(1)}`;
