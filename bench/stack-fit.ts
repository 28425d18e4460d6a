/**
 * Which local stack the bench may run against, from the settings the stack
 * records in its stack.json. The sections that drive the stack's API
 * (upload, download, requests, verdicts, load, multipart) measure the default deployment and send
 * one owner's hundreds of uploads, or GiB ones, through it: they need a stack
 * with no per-owner limits (a rate of 250 an hour refuses them; a quota turns
 * every request into a reservation, which the limits section measures
 * instead). Those and the validator need no malware scan (the default).
 * `cold` and `limits` configure the functions they run themselves and use
 * only the stack's RGW: any stack does. Webhooks are never in the way: the
 * validator hands them to the deliverer and moves on.
 */
import type { StackInfo } from '../scripts/stack-settings.js';
import { portsBeside } from '../scripts/stack-settings.js';

export const SECTIONS = [
  'upload',
  'download',
  'cold',
  'validator',
  'requests',
  'verdicts',
  'load',
  'multipart',
  'limits',
  'bundle',
] as const;
export type Section = (typeof SECTIONS)[number];

const NEED_LIMITS_UNSET: readonly Section[] = [
  'upload',
  'download',
  'requests',
  'verdicts',
  'load',
  'multipart',
];
const NEED_NO_MALWARE_SCAN: readonly Section[] = [
  'upload',
  'download',
  'validator',
  'requests',
  'verdicts',
  'load',
  'multipart',
];

/** The per-owner limits a stack runs with, as the variables `npm start` took them from (none: empty). */
function limitsSet(info: StackInfo): string[] {
  // A stack.json written before limits existed has none: its functions run without.
  const { quotaBytesPerOwner: quota = null, uploadsPerHourPerOwner: rate = null } = info.limits ?? {};
  return [
    quota === null ? '' : `QUOTA_BYTES_PER_OWNER=${quota}`,
    rate === null ? '' : `UPLOADS_PER_HOUR_PER_OWNER=${rate}`,
  ].filter(Boolean);
}

/** The stack's settings in one line, as `npm start` took them from its environment. */
export function describeStack(info: StackInfo): string {
  const limits = limitsSet(info);
  const webhooks = info.webhookUrl ? `webhooks to ${info.webhookUrl}` : 'no webhooks';
  return `${limits.length > 0 ? limits.join(' ') : 'no limits'}, ${webhooks}, MALWARE_SCAN=${info.malwareScan ?? 'none'}`;
}

/**
 * Why the stack described by `info` cannot serve `sections` (one clause per
 * setting in the way, naming the sections it stops), or `undefined` when it can.
 */
export function misfit(info: StackInfo, sections: Iterable<Section>): string | undefined {
  const planned = [...sections];
  const problems: string[] = [];
  const limited = planned.filter((section) => NEED_LIMITS_UNSET.includes(section));
  const limits = limitsSet(info);
  if (limited.length > 0 && limits.length > 0)
    problems.push(`${limits.join(' and ')} (${limited.join(', ')} need limits unset)`);
  const scanned = planned.filter((section) => NEED_NO_MALWARE_SCAN.includes(section));
  const scan = info.malwareScan ?? 'none';
  if (scanned.length > 0 && scan !== 'none')
    problems.push(`MALWARE_SCAN=${scan} (${scanned.join(', ')} need none)`);
  return problems.length > 0 ? problems.join('; ') : undefined;
}

/** Where a stack of the bench's own keeps its state, beside a running stack that does not fit. */
export const BENCH_STACK_DIR = '.local/bench';

/**
 * The environment of a stack the bench starts: every setting that decides
 * whether a section can run given explicitly, so a shell that exports limits
 * or webhooks for `npm start` does not hand them to the bench's stack.
 */
export const BENCH_STACK_SETTINGS: Readonly<Record<string, string>> = {
  QUOTA_BYTES_PER_OWNER: '',
  UPLOADS_PER_HOUR_PER_OWNER: '',
  MALWARE_SCAN: 'none',
  WEBHOOK_URL: '',
  WEBHOOK_SECRET: '',
};

/**
 * Ports for a stack of the bench's own next to the one on the configured
 * ports, clear of the second stack the malware tests start (+20, +10).
 */
export const benchStackPorts = (
  settings?: Parameters<typeof portsBeside>[1],
  monitor?: number,
): Record<string, string> => portsBeside({ api: 40, rgw: 20 }, settings, monitor);
