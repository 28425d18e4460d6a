import { formatBytes } from './format.js';

/** Content type (lower case) to the largest size accepted, in bytes. */
export type UploadRules = ReadonlyMap<string, number>;

/** Reads the rules from the JSON data block the page carries; throws when it is not a type-to-bytes map. */
export function parseRules(json: string): UploadRules {
  const data: unknown = JSON.parse(json);
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new Error('upload page: the upload rules are not an object');
  const rules = new Map<string, number>();
  for (const [type, max] of Object.entries(data)) {
    if (typeof max !== 'number') throw new Error(`upload page: the limit for ${type} is not a number`);
    rules.set(type, max);
  }
  return rules;
}

/** The rules for people: `image/png up to 10 MiB, application/pdf up to 20 MiB`. */
export const describeRules = (rules: UploadRules): string =>
  Array.from(rules, ([type, max]) => `${type} up to ${formatBytes(max)}`).join(', ');

/** Why this file may not be uploaded, or undefined when the rules allow it. */
export function refusal(file: File, rules: UploadRules, allowed: string): string | undefined {
  const type = (file.type || '').toLowerCase();
  if (!type) return `Refused: the type of "${file.name}" is unknown. Accepted: ${allowed}.`;
  const max = rules.get(type);
  if (max === undefined)
    return `Refused: "${file.name}" is ${type}, which is not accepted. Accepted: ${allowed}.`;
  if (file.size === 0) return `Refused: "${file.name}" is empty.`;
  if (file.size > max) {
    return `Refused: "${file.name}" is ${formatBytes(file.size)}, over the ${formatBytes(max)} limit for ${type}.`;
  }
  return undefined;
}
